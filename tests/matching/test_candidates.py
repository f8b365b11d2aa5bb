"""Round candidates are exact: every participant's k best partners, against brute force."""

from __future__ import annotations

import math
import os
import re
import signal
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from threadpoolctl import ThreadpoolController

from matching import (
    Enterprise,
    EnterpriseModel,
    Weights,
    build_population,
    candidate_pairs,
    explain_match,
    propose_round,
    score_components,
)
from matching import candidates as candidates_module
from matching.candidates import _Classes, _group_order, _Scorer, _stable_order

from .helpers import brute_scores, brute_top_k, populations, random_enterprises


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    n=st.integers(1, 150),
    m=st.integers(1, 150),
    k=st.integers(1, 25),
    coarse=st.booleans(),
    most_sectors=st.sampled_from([0, 1, 4]),
    templates=st.sampled_from([None, None, 1, 3, 12]),
)
def test_candidates_are_the_brute_force_top_k(
    model, seed, n, m, k, coarse, most_sectors, templates
) -> None:
    ne_list, _, ne, east = populations(
        model, seed, n, m, coarse=coarse, most_sectors=most_sectors, templates=templates
    )
    rows, cols, scores = candidate_pairs(model, ne, east, k=k)

    expected = brute_scores(model, ne_list, east)
    assert set(zip(rows.tolist(), cols.tolist(), strict=True)) == brute_top_k(expected, k)
    # Sorted by (row, col), each pair once, with exactly the search's scores.
    keys = rows * len(east) + cols
    assert (np.diff(keys) > 0).all()
    assert scores.tolist() == expected[rows, cols].tolist()


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    n=st.integers(1, 120),
    m=st.integers(1, 120),
    k=st.integers(1, 12),
    threads=st.integers(2, 5),
    block_cells=st.sampled_from([1, 200, 1_000]),
    templates=st.sampled_from([None, 1, 3]),
)
def test_threads_and_blocks_change_nothing(
    model, seed, n, m, k, threads, block_cells, templates
) -> None:
    # Small blocks give every thread several blocks (and bins merged across threads); equal
    # profiles (templates) give classes and ties. The brute-force top k is the oracle.
    ne_list, _, ne, east = populations(model, seed, n, m, templates=templates)
    with mock.patch.object(candidates_module, "_BLOCK_CELLS", block_cells):
        one = candidate_pairs(model, ne, east, k=k, threads=1)
        many = candidate_pairs(model, ne, east, k=k, threads=threads)
    expected = brute_scores(model, ne_list, east)
    for rows, cols, scores in (one, many):
        assert set(zip(rows.tolist(), cols.tolist(), strict=True)) == brute_top_k(expected, k)
        assert scores.tolist() == expected[rows, cols].tolist()
    for a, b in zip(one, many, strict=True):
        assert a.tolist() == b.tolist()


#: `_SPARSE_COST` settings: every feature's terms added one by one, the default split, and every
#: feature in the product.
SPLITS = [0, candidates_module._SPARSE_COST, 10**12]


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    n=st.integers(1, 80),
    m=st.integers(1, 80),
    sparse_cost=st.sampled_from(SPLITS),
    most_sectors=st.sampled_from([1, 4, 8]),
    templates=st.sampled_from([None, 3]),
    scale=st.sampled_from([1.0, 1e-20]),
)
def test_screened_scores_are_within_the_margin(
    model, seed, n, m, sparse_cost, most_sectors, templates, scale
) -> None:
    # The floors are lowered by the margin on the strength of this bound: a screened score is
    # within a relative (1 - margin) / 4 of the exact one, and 0 exactly where the fit is 0,
    # whichever features the product screens and whichever are added term by term (a pair
    # sharing several sparse features adds several terms to one cell). Tiny intensities
    # (scale) push the screen into float64.
    _, _, ne, east = populations(
        model, seed, n, m, most_sectors=most_sectors, templates=templates, scale=scale
    )
    with mock.patch.object(candidates_module, "_SPARSE_COST", sparse_cost):
        scorer = _Scorer.build(model, ne, east)
    n_rows, n_cols = len(scorer.rows.reps), len(scorer.cols.reps)
    screened = scorer.screen(0, n_rows, np.empty((n_rows, n_cols), dtype=scorer.left.dtype))
    rows = np.repeat(scorer.rows.reps, n_cols)
    cols = np.tile(scorer.cols.reps, n_rows)
    exact = scorer.exact(rows, cols).reshape(n_rows, n_cols)
    gamma = (1.0 - float(scorer.margin)) / 4
    assert ((screened == 0) == (exact == 0)).all()
    assert (np.abs(screened.astype(np.float64) - exact) <= gamma * exact).all()


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    n=st.integers(1, 120),
    m=st.integers(1, 120),
    k=st.integers(1, 12),
    sparse_cost=st.sampled_from(SPLITS),
    most_sectors=st.sampled_from([1, 4, 8]),
    templates=st.sampled_from([None, 3]),
)
def test_sparse_and_dense_features_give_the_same_candidates(
    model, seed, n, m, k, sparse_cost, most_sectors, templates
) -> None:
    ne_list, _, ne, east = populations(
        model, seed, n, m, most_sectors=most_sectors, templates=templates
    )
    with mock.patch.object(candidates_module, "_SPARSE_COST", sparse_cost):
        rows, cols, scores = candidate_pairs(model, ne, east, k=k)
    expected = brute_scores(model, ne_list, east)
    assert set(zip(rows.tolist(), cols.tolist(), strict=True)) == brute_top_k(expected, k)
    assert scores.tolist() == expected[rows, cols].tolist()


def test_threads_must_be_a_positive_integer(model) -> None:
    _, _, ne, east = populations(model, 3, 5, 5)
    with pytest.raises(ValueError, match="`threads` must be a positive integer, got 0"):
        candidate_pairs(model, ne, east, k=2, threads=0)


@settings(max_examples=200, deadline=None)
@given(
    data=st.lists(
        st.tuples(
            st.integers(0, 4),
            st.sampled_from([0.0, 1e-300, 0.25, 1.0 / 3.0, 1.0, 1.0 + 2.0**-52, 7.5, 1e300]),
        ),
        max_size=60,
    ),
    group_scale=st.sampled_from([1, 1_000, 10**12]),
    seed=st.integers(0, 2**32 - 1),
)
def test_group_order_is_lexsorts(data, group_scale, seed) -> None:
    # Equal and nearly equal scores (one ulp apart), zeros and extreme magnitudes, with the
    # (group, other) pairs distinct as `_best` has them.
    groups = np.array([g for g, _ in data], dtype=np.int64) * group_scale
    scores = np.array([s for _, s in data], dtype=np.float64)
    others = np.random.default_rng(seed).permutation(len(data)).astype(np.int64)
    expected = np.lexsort((others, -scores, groups))
    assert _group_order(groups, others, scores).tolist() == expected.tolist()


@settings(max_examples=100, deadline=None)
@given(
    keys=st.lists(st.integers(0, 50), max_size=80),
    bound=st.sampled_from([51, 2**40, 2**62]),
)
def test_stable_order_is_a_stable_argsort(keys, bound) -> None:
    # Repeated keys (a pair among the best of its row and of its column) keep their order; a
    # bound too large to leave room for the indices takes the argsort itself.
    array = np.array(keys, dtype=np.int64)
    expected = np.argsort(array, kind="stable")
    assert _stable_order(array, bound).tolist() == expected.tolist()


@pytest.mark.parametrize(
    ("region_weight", "scale"),
    [
        (0.0, 1.0),  # no region term: many pairs score zero and are never candidates
        (0.1, 1e-12),  # tiny intensities: flat pairs cannot be told apart in float32
        (1e4, 1.0),  # the region term dominates
    ],
)
def test_candidates_are_exact_at_extreme_scales(shipped_network, region_weight, scale) -> None:
    net = shipped_network
    model = EnterpriseModel.build(
        net, score_components(net), Weights.resolve(net.taxonomy), region_weight=region_weight
    )
    rng = np.random.default_rng(7)
    ne_list = random_enterprises(net, "northeast", 120, rng, "n", scale=scale)
    east_list = random_enterprises(net, "east", 90, rng, "e", scale=scale)
    ne = build_population(ne_list, net, "northeast")
    east = build_population(east_list, net, "east")
    for k in (1, 5, 30):
        rows, cols, scores = candidate_pairs(model, ne, east, k=k)
        expected = brute_scores(model, ne_list, east)
        assert set(zip(rows.tolist(), cols.tolist(), strict=True)) == brute_top_k(expected, k)
        assert scores.tolist() == expected[rows, cols].tolist()


def test_profile_classes_hold_equal_profiles_only() -> None:
    # The grouping hashes rows with a projection seeded with 0; rows 1 and 3 collide on it.
    weights = np.random.default_rng(0).random(2)
    features = np.array([[0.0, 0.0], [np.pi / weights[0], 0.0], [0.0, 0.0], [0.0, 0.0]])
    region = np.array([1, 0, 1, 0])
    assert len(set((features @ weights + region * np.pi).tolist())) == 2
    classes = _Classes.group(features, region)
    # Classes go region by region, then by their first row: {1}, {3} (region 0), {0, 2}.
    assert classes.of.tolist() == [2, 0, 2, 1]
    assert classes.reps.tolist() == [1, 3, 0]
    owner, rows = classes.first(np.array([2, 1, 2]), 1)
    assert owner.tolist() == [0, 1, 2] and rows.tolist() == [0, 3, 0]
    owner, rows = classes.first(np.array([2]), None)
    assert rows.tolist() == [0, 2]


def test_candidate_scores_add_up_like_explanations(model) -> None:
    ne_list, east_list, ne, east = populations(model, 11, 60, 60, coarse=False)
    rows, cols, scores = candidate_pairs(model, ne, east, k=5)
    by_id = {e.id: e for e in ne_list + east_list}
    for row, col, score in list(zip(rows.tolist(), cols.tolist(), scores.tolist(), strict=True))[
        ::7
    ]:
        a = by_id[ne.ids[row].decode()]
        b = by_id[east.ids[col].decode()]
        assert score == pytest.approx(explain_match(model, a, b).score, abs=1e-12)


def test_k_beyond_the_population_keeps_every_positive_pair(model) -> None:
    ne_list, _, ne, east = populations(model, 3, 12, 9)
    rows, cols, _ = candidate_pairs(model, ne, east, k=50)
    expected = brute_scores(model, ne_list, east)
    assert set(zip(rows.tolist(), cols.tolist(), strict=True)) == {
        (int(i), int(j)) for i, j in zip(*np.nonzero(expected > 0), strict=True)
    }


def test_an_empty_side_has_no_candidates(model) -> None:
    _, _, ne, east = populations(model, 3, 5, 5)
    empty = build_population([], model.network, "east")
    rows, cols, scores = candidate_pairs(model, ne, empty, k=3)
    assert len(rows) == len(cols) == len(scores) == 0
    assert propose_round(model, ne, empty).meetings == ()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda m, ne, ea: candidate_pairs(m, ne, ea, k=0),
            "`k` must be a positive integer, got 0",
        ),
        (lambda m, ne, ea: candidate_pairs(m, ne, ea, k=2.0), "`k` must be a positive integer"),
        (lambda m, ne, ea: candidate_pairs(m, ea, ne, k=2), "`northeast` must be the northeast"),
        (lambda m, ne, ea: propose_round(m, ne, ea, b=-1), "`b` must be a non-negative integer"),
        (lambda m, ne, ea: propose_round(m, ne, ea, b=True), "`b` must be a non-negative"),
        (lambda m, ne, ea: propose_round(m, ne, ea, candidates=0), "`candidates` must be a pos"),
        (lambda m, ne, ea: propose_round(m, ne, ea, min_score=math.nan), "`min_score` must be fin"),
        (lambda m, ne, ea: propose_round(m, ne, ea, min_score="0"), "`min_score` must be a num"),
        (
            lambda m, ne, ea: propose_round(m, ne, ea, b_overrides={"nobody": 1}),
            "`b_overrides`: 'nobody' is not a participant",
        ),
        (
            lambda m, ne, ea: propose_round(m, ne, ea, b_overrides={"a": -2}),
            "`b_overrides['a']` must be a non-negative integer, got -2",
        ),
        (
            lambda m, ne, ea: propose_round(m, ne, ea, forbidden=[("a", "nobody")]),
            "`forbidden`: pair (a, nobody): 'nobody' is not an eastern participant",
        ),
        (
            lambda m, ne, ea: propose_round(m, ne, ea, forbidden=["ax"]),
            "`forbidden`: each pair is (northeast id, east id), got 'ax'",
        ),
    ],
)
def test_bad_arguments_are_named(model, call, message) -> None:
    net = model.network
    ne = build_population([Enterprise("a", "harbin", {"grain": 1.0}, {})], net, "northeast")
    east = build_population([Enterprise("x", "shanghai", {}, {"grain": 1.0})], net, "east")
    with pytest.raises(ValueError, match=re.escape(message)):
        call(model, ne, east)


def test_negative_intensities_are_refused(model) -> None:
    net = model.network
    ne = build_population([Enterprise("a", "harbin", {"grain": -1.0}, {})], net, "northeast")
    east = build_population([Enterprise("x", "shanghai", {}, {"grain": 1.0})], net, "east")
    with pytest.raises(ValueError, match="`northeast`: intensities must be positive and finite"):
        candidate_pairs(model, ne, east, k=1)


# Meetings ----------------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_screening_threads_work_in_a_forked_child(model) -> None:
    # The app's workers are forked: the pool's threads do not survive a fork, and a child that
    # kept the parent's pool would wait forever on threads that are gone.
    _, _, ne, east = populations(model, 5, 30, 30)
    with mock.patch.object(candidates_module, "_BLOCK_CELLS", 1):
        expected = candidate_pairs(model, ne, east, k=2, threads=2)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports through its exit status
            signal.alarm(30)
            found = candidate_pairs(model, ne, east, k=2, threads=2)
            same = all(a.tolist() == b.tolist() for a, b in zip(found, expected, strict=True))
            os._exit(0 if same else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def _blas_threads(controller: ThreadpoolController) -> list[int]:
    """The threads of each BLAS library the process has loaded."""
    return [lib["num_threads"] for lib in controller.select(user_api="blas").info()]


def test_blas_is_on_one_thread_while_screens_run_and_as_before_after_the_last() -> None:
    # Two rounds screening at once in two threads: the first to end must not give BLAS its
    # threads back under the other, and the last must leave it as it found it.
    controller = ThreadpoolController()
    libraries = len(_blas_threads(controller))
    assert libraries, "numpy's BLAS is not found"
    with controller.limit(limits=2, user_api="blas"):
        first, second = (candidates_module._blas_on_one_thread() for _ in range(2))
        with first:
            assert _blas_threads(controller) == [1] * libraries
            second.__enter__()
        assert _blas_threads(controller) == [1] * libraries
        second.__exit__(None, None, None)
        assert _blas_threads(controller) == [2] * libraries


def test_a_threaded_screen_holds_blas_to_one_thread(model) -> None:
    _, _, ne, east = populations(model, 7, 40, 40)
    seen: list[list[int]] = []
    screen = candidates_module._screen_rows
    controller = ThreadpoolController()

    def spying(*args: object, **kwargs: object) -> object:
        seen.append(_blas_threads(controller))
        return screen(*args, **kwargs)

    with (
        controller.limit(limits=2, user_api="blas"),
        mock.patch.object(candidates_module, "_BLOCK_CELLS", 1),
        mock.patch.object(candidates_module, "_screen_rows", spying),
    ):
        candidate_pairs(model, ne, east, k=2, threads=2)
        after = _blas_threads(controller)
    assert len(seen) == 2 and all(threads and set(threads) == {1} for threads in seen)
    assert set(after) == {2}


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "3"}, 1),
        ({"OMP_NUM_THREADS": "3"}, 3),
        ({"OMP_NUM_THREADS": "x"}, min(os.cpu_count() or 1, 4)),
        ({"OPENBLAS_NUM_THREADS": "1"}, min(os.cpu_count() or 1, 4)),
        ({}, min(os.cpu_count() or 1, 4)),
    ],
)
def test_default_threads_follow_the_process_limit(environ, expected) -> None:
    # The app's work children limit numerical threads to 1 so as to keep to one core; a limit
    # on BLAS alone leaves the screen its threads.
    cleared = {name: "" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    with mock.patch.dict(os.environ, {**cleared, **environ}):
        assert candidates_module._default_threads() == expected
