"""Time slots: no enterprise twice in a slot, as few slots as the busiest enterprise (König)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import assign_slots

from .helpers import check_slots
from .oracles import reference_slots


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), max_size=120),
)
def test_slots_colour_any_bipartite_multigraph_with_max_degree_colours(edges) -> None:
    rows = np.array([e[0] for e in edges], dtype=np.int64)
    cols = np.array([e[1] for e in edges], dtype=np.int64)
    slots = assign_slots(rows, cols)
    pairs = [(f"n{a}", f"e{x}") for a, x in edges]
    check_slots(pairs, slots.tolist(), int(slots.max(initial=-1)) + 1)
    if len(slots):
        sizes = np.bincount(slots)
        assert (np.diff(sizes) <= 0).all()


def test_slots_need_a_path_swap_on_an_even_cycle() -> None:
    # Colouring in this order, the last meeting finds colour 1 taken at its eastern end: without
    # swapping colours along the path e2-n1-e1 it would need a third slot; the degree is two.
    rows = np.array([0, 1, 1, 0])
    cols = np.array([0, 1, 2, 2])
    slots = assign_slots(rows, cols)
    pairs = [(f"n{a}", f"e{x}") for a, x in zip(rows.tolist(), cols.tolist(), strict=True)]
    check_slots(pairs, slots.tolist(), 2)


@pytest.mark.parametrize(
    ("rows", "cols", "message"),
    [
        ([0, 1], [0], "`rows` and `cols` must have the same length, got 2 and 1"),
        ([0.5], [0], "`rows` must be a 1-d array of integers"),
        ([[0]], [0], "`rows` must be a 1-d array of integers"),
        ([0], [-1], "`cols` must be non-negative, got -1"),
    ],
)
def test_slot_arguments_are_checked(rows, cols, message) -> None:
    with pytest.raises(ValueError, match=message):
        assign_slots(rows, cols)


def test_slots_after_a_swap_follow_the_swapped_colours() -> None:
    # The fifth meeting (n0, e3) swaps two colours along e3-n1-e1, and the sixth (n3, e1) swaps
    # them back along e1-n1-e3-n0-e2, through the meetings the first swap recoloured: a swap that
    # left each end's colour table as it was would send the second walk astray.
    rows, cols = [0, 1, 1, 3, 0, 3], [2, 1, 3, 0, 3, 1]
    assert reference_slots(rows, cols) == [0, 1, 0, 1, 1, 0]
    assert assign_slots(np.array(rows), np.array(cols)).tolist() == [0, 1, 0, 1, 1, 0]


@settings(max_examples=500, deadline=None)
@given(
    st.integers(1, 16),
    st.integers(1, 16),
    st.lists(st.tuples(st.integers(0, 15), st.integers(0, 15)), max_size=80),
)
def test_slots_are_those_of_the_plain_colouring(n_rows: int, n_cols: int, edges) -> None:
    # The flat lists, the lowest-bit table and the one-walk path swap are only speed: the slots
    # are exactly those of the rules written plainly. Few ends make high degrees (beyond the
    # table's 12 colours) and long swap paths.
    rows = [e[0] % n_rows for e in edges]
    cols = [e[1] % n_cols for e in edges]
    slots = assign_slots(np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64))
    assert slots.tolist() == reference_slots(rows, cols)


@pytest.mark.parametrize("seed", range(3))
def test_slots_of_larger_graphs_are_those_of_the_plain_colouring(seed: int) -> None:
    # Hundreds of meetings, on sides of different sizes: degrees beyond the lowest-bit table, and
    # swaps chained along long paths, which small examples seldom reach.
    rng = np.random.default_rng(seed)
    for n_rows, n_cols, n_meetings in ((6, 8, 300), (7, 10, 40), (30, 45, 600)):
        for _ in range(20):
            rows = rng.integers(0, n_rows, n_meetings)
            cols = rng.integers(0, n_cols, n_meetings)
            expected = reference_slots(rows.tolist(), cols.tolist())
            assert assign_slots(rows, cols).tolist() == expected
