"""Candidates of a matchmaking round: every participant's k best partners, both ways, exactly.

A pair's exact score is ``(q_i . f_j) * m(r_i, r_j)``: the northeast query vector dotted with the
eastern features (the pair's fit), times the link of their regions (`EnterpriseModel`). We screen
all pairs in float32, one BLAS product per block of rows and row region (the region's links are
folded into the column factor) over the features many pairs share, the terms of the sparse
features (few pairs have them on both sides) added one by one after it, and keep only the pairs
that can be in some top k. Runs of
blocks screen side by side in threads (numpy's products, reductions and sorts release the GIL).
Lower bounds on each row's and column's k-th best score come from maxima of disjoint groups: if
k groups each have a maximum of at least t, k scores reach t. Every term is non-negative, so a
float32 score is within a relative ``(d + 5) * 2**-24`` of the exact one (d features); the bounds
are lowered by a few times that, and no true top-k pair is screened out. A pair with no fit
screens to exactly 0 and is never a candidate; where a positive fit could underflow float32 (an
extreme weight or link), the screen runs in float64 instead. The survivors are rescored exactly in
float64, summed in the order of ``Population.features @ query``, and ranked with equal scores in
id order.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from threadpoolctl import ThreadpoolController

from matching._types import BoolArray, FloatArray, IntArray
from matching._validate import check_count
from matching.enterprises import EnterpriseModel, Population

__all__ = ["candidate_pairs", "check_population", "pair_scores"]

#: Screen about this many pairs at a time: 32 MB of float32 scores per block.
_BLOCK_CELLS = 8_000_000
#: A feature's terms are added one by one, not by the product, when fewer than one in this many
#: pairs have one: an added term costs about as much as this many cells of the product.
_SPARSE_COST = 400
#: Groups per row, and bins per column, as a multiple of k: more groups, tighter bounds.
_GROUPS_PER_K = 4
#: Columns per group of a row's floor, at most: fewer, more groups and tighter floors, but a
#: longer partition of their maxima.
_COLUMNS_PER_GROUP = 25
#: A screen of this precision can hold every positive fit when the smallest product of a query
#: coefficient and a feature stays this far above its smallest normal number.
_UNDERFLOW_MARGIN = 2.0**20

#: Threads of a screen by default: the cores, but no more than this (beyond a few, the blocks'
#: memory traffic, not the cores, bounds the speed).
_MAX_DEFAULT_THREADS = 4
#: The variable by which a process limits the threads of its numerical code: a screen keeps to
#: it (the app's work children set it to 1, to keep to one core). OPENBLAS_NUM_THREADS limits
#: BLAS only, and a screen on several threads holds BLAS to one anyway (`_blas_on_one_thread`).
_THREAD_LIMIT = "OMP_NUM_THREADS"

ScreenArray = NDArray[np.floating]
#: Pairs screened in: row classes, column classes and their screened scores.
_Screened = tuple[IntArray, IntArray, ScreenArray]

_T = TypeVar("_T")
#: The threads that screen blocks side by side, started on first use (`_map`).
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()
#: Blocks holding BLAS to one thread (`_blas_on_one_thread`), and what restores its limit.
_blas_users = 0
_blas_limiter: Any = None
_blas_lock = threading.Lock()


def _forget_pool() -> None:
    """Drop the pool and its lock in a forked child.

    The pool's threads did not survive the fork, and the lock may have been held by one of the
    parent's threads at that moment: the child would wait for it forever.
    """
    global _pool, _pool_size, _pool_lock, _blas_users, _blas_limiter, _blas_lock
    _pool, _pool_size = None, 0
    _pool_lock = threading.Lock()
    # A block that held BLAS to one thread in the parent does not run in the child: its limit
    # stays as the fork found it (one thread if a screen was running), and no block will lift it.
    _blas_users, _blas_limiter = 0, None
    _blas_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def _default_threads() -> int:
    """Threads of a screen when none are given: the process's limit, else the cores (at most 4)."""
    value = os.environ.get(_THREAD_LIMIT, "")
    if value.isdigit() and int(value) > 0:
        return int(value)
    return min(os.cpu_count() or 1, _MAX_DEFAULT_THREADS)


def _map(work: Callable[[int], _T], items: range, threads: int) -> list[_T]:
    """``[work(i) for i in items]``, on up to `threads` threads; the results in order.

    When it uses threads, BLAS is held to one thread of its own meanwhile: ours already use the
    cores, and BLAS's threads on top of them only competed with them (a 10,000 + 10,000 round's
    screen took 563 ms with OpenBLAS's threads, 459 ms without).
    """
    if threads <= 1 or len(items) <= 1:
        return [work(i) for i in items]
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size < threads:
            # A larger pool replaces a smaller one. Not shut down: a call may still be handing
            # it work; its threads exit once the last such call lets go of it.
            _pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="candidates")
            _pool_size = threads
        pool = _pool
    with _blas_on_one_thread():
        # The caller's thread takes the first item, so that the pool is never waited on idle.
        futures = [pool.submit(work, i) for i in items[1:]]
        return [work(items[0]), *(future.result() for future in futures)]


@contextmanager
def _blas_on_one_thread() -> Iterator[None]:
    """BLAS on one thread while the block runs, in whichever threads use it meanwhile.

    The limit is the process's: the first of several blocks running at once sets it and the last
    to end restores what it was, so that blocks overlapping in other threads neither lift it
    early nor leave it set.
    """
    global _blas_users, _blas_limiter
    with _blas_lock:
        if _blas_users == 0:
            _blas_limiter = _blas_controller().limit(limits=1, user_api="blas")
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0 and _blas_limiter is not None:
                _blas_limiter.restore_original_limits()
                _blas_limiter = None


@functools.cache
def _blas_controller() -> ThreadpoolController:
    """The process's BLAS libraries, found once (finding them reads every loaded library)."""
    return ThreadpoolController()


def check_population(model: EnterpriseModel, population: object, side: str) -> Population:
    """`population`, if it is `side`'s population built on the model's network and taxonomy."""
    if not isinstance(population, Population) or population.side != side:
        got = population.side if isinstance(population, Population) else type(population).__name__
        raise ValueError(f"`{side}` must be the {side} population, got {got!r}")
    if population.features.shape[1] != model.n_features:
        raise ValueError(
            f"`{side}` has {population.features.shape[1]} features, the model "
            f"{model.n_features}: build both on the same taxonomy"
        )
    if len(population.member_start) != len(model.network.side(side)) + 1:
        raise ValueError(f"`{side}` is not built on the model's network: its regions differ")
    data = population.features.data
    if len(data) and not (np.isfinite(data).all() and (data > 0).all()):
        raise ValueError(f"`{side}`: intensities must be positive and finite")
    return population


def _query_matrix(model: EnterpriseModel, features: sp.csr_matrix) -> FloatArray:
    """Northeast query vectors (`EnterpriseModel.query`), bit for bit, one row per enterprise.

    A partner's seeks get w_s O_is; its offers get w_s K_is, after w_s O_is for synergy sectors,
    in the order `query` adds them, so that exact scores are those of a northeast enterprise's
    ``model.query`` against ``east.features``, to the last bit.
    """
    n_sectors = len(model.taxonomy.sectors)
    dense: FloatArray = features.toarray()
    seeks, offers = dense[:, :n_sectors], dense[:, n_sectors:]
    weight = model.sector_weight
    query = np.empty_like(dense)
    query[:, :n_sectors] = weight * offers
    query[:, n_sectors:] = np.where(model.synergy, weight * offers, 0.0) + weight * seeks
    return query


def _sector_sums(
    query: FloatArray, rows: IntArray, features: sp.csr_matrix, cols: IntArray
) -> FloatArray:
    """Query rows dotted with feature rows: products in feature order, summed in order."""
    starts = features.indptr[cols]
    counts = features.indptr[cols + 1] - starts
    entries = np.repeat(starts - np.cumsum(counts) + counts, counts)
    entries += np.arange(len(entries))
    products = features.data[entries] * query[np.repeat(rows, counts), features.indices[entries]]
    owner = np.repeat(np.arange(len(rows)), counts)
    sums = np.bincount(owner, products, minlength=len(rows))
    return sums.astype(np.float64, copy=False)


def _split_features(left: BoolArray, right: BoolArray) -> tuple[IntArray, IntArray]:
    """Features screened by the product, and those whose terms are added one by one.

    `left` and `right` say which rows and columns have each feature. A feature costs the
    product a pass over every pair, and added terms one step per pair that has it on both
    sides: features with few such pairs are sparse. The dense ones are rounded up to a multiple
    of 8 (a width that suits BLAS) with the costliest sparse ones, which come free.
    """
    pairs = left.sum(axis=0) * right.sum(axis=0)
    order = np.argsort(-pairs, kind="stable")
    dense = int(np.count_nonzero(pairs * _SPARSE_COST >= len(left) * len(right)))
    dense = min(len(order), -(-dense // 8) * 8)
    return np.sort(order[:dense]), np.sort(order[dense:])


def pair_scores(
    model: EnterpriseModel, northeast: Population, east: Population, rows: IntArray, cols: IntArray
) -> FloatArray:
    """Exact scores of a few pairs, as `_Scorer.exact` computes them."""
    query = _query_matrix(model, northeast.features[rows])
    multiplier = model.multiplier[northeast.region[rows], east.region[cols]]
    return _sector_sums(query, np.arange(len(rows)), east.features, cols) * multiplier


@dataclass(frozen=True)
class _Classes:
    """A side's enterprises grouped by profile: same region, same features, so the same scores.

    Grouping is by a hash checked for equality, so equal profiles may (rarely) fall in separate
    classes, which costs time but not exactness; unequal ones never share a class.
    """

    #: The class of each row.
    of: IntArray
    #: Each class's first row (smallest id).
    reps: IntArray
    #: Rows class by class, by id within a class: class c's are members[start[c]:start[c + 1]].
    members: IntArray
    start: IntArray

    @classmethod
    def group(cls, features: FloatArray, region: IntArray) -> _Classes:
        """Classes of rows with equal `features` rows and `region`, ordered by region."""
        n = len(region)
        rng = np.random.default_rng(0)
        key = features @ rng.random(features.shape[1]) + region * np.pi
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        rep = first[inverse]
        equal = (features == features[rep]).all(axis=1) & (region == region[rep])
        # Rows unequal to their class's first row (a hash collision) form classes of their own.
        label = np.where(equal, rep, np.arange(n))
        # Classes in region order (then by first row), so that a block of classes is a few runs
        # of one region each.
        label = label + region * n
        unique_labels, of = np.unique(label, return_inverse=True)
        reps = unique_labels % n
        members = np.argsort(of, kind="stable")
        start = np.searchsorted(of[members], np.arange(len(reps) + 1))
        return cls(of=of, reps=reps, members=members, start=start)

    def first(self, classes: IntArray, limit: int | None) -> tuple[IntArray, IntArray]:
        """Each class's first `limit` members (all if None), as (index into classes, row)."""
        lo = self.start[classes]
        count = self.start[classes + 1] - lo
        if limit is not None:
            count = np.minimum(count, limit)
        owner = np.repeat(np.arange(len(classes)), count)
        offset = np.arange(len(owner)) - np.repeat(np.cumsum(count) - count, count)
        return owner, self.members[lo[owner] + offset]


@dataclass(frozen=True, eq=False)
class _Scorer:
    """Exact scores of a round's pairs, and screening scores of its profile classes."""

    model: EnterpriseModel
    northeast: Population
    east: Population
    query: FloatArray
    rows: _Classes
    cols: _Classes
    #: Screening factors of the dense features: left[a] . right[r][:, b] is their part of the
    #: score of row class a, of row region r, and column class b: the region's multipliers of
    #: the columns are folded into its right factor, which saves a pass over every block (one
    #: rounding either way).
    left: ScreenArray
    right: ScreenArray
    #: The sparse features' terms, added to a block after the product (`screen`): row class a's
    #: terms are light_start[a]:light_start[a + 1], each a coefficient `light_value` times the
    #: posting list of one feature in the row's region, post_value[p] for the columns
    #: post_column[p], p in light_post[e]:light_post[e] + light_count[e].
    light_start: IntArray
    light_row: IntArray
    light_value: ScreenArray
    light_post: IntArray
    light_count: IntArray
    post_column: IntArray
    post_value: ScreenArray
    #: The region of each row class (non-decreasing).
    row_region: IntArray
    #: Factor by which bounds are lowered to allow for rounding.
    margin: np.floating
    #: The smallest positive number of the screen's precision: bounds never go below it.
    tiny: np.floating

    @classmethod
    def build(cls, model: EnterpriseModel, northeast: Population, east: Population) -> _Scorer:
        """The scorer of a round between `northeast` and `east`."""
        query = _query_matrix(model, northeast.features)
        features: FloatArray = east.features.toarray()
        rows = _Classes.group(query, northeast.region)
        cols = _Classes.group(features, east.region)
        left, right = query[rows.reps], features[cols.reps]
        # Columns zero on either side add nothing.
        keep = np.flatnonzero(left.any(axis=0) & right.any(axis=0))
        row_region = northeast.region[rows.reps]
        multipliers = model.multiplier[:, east.region[cols.reps]]
        regions = np.unique(row_region)
        used = multipliers[regions]
        smallest = (
            float(left[left > 0].min(initial=np.inf))
            * float(right[right > 0].min(initial=np.inf))
            * float(used[used > 0].min(initial=np.inf))
        )
        dtype: type[np.floating] = np.float32
        if smallest < _UNDERFLOW_MARGIN * float(np.finfo(np.float32).tiny):
            dtype = np.float64
        dense, sparse = _split_features(left[:, keep] > 0, right[:, keep] > 0)
        dense, sparse = keep[dense], keep[sparse]
        # A width that is a multiple of 8 suits BLAS.
        width = -(-len(dense) // 8) * 8
        left_screen = np.zeros((len(left), width), dtype=dtype)
        right_screen = np.zeros((width, len(right)), dtype=dtype)
        left_screen[:, : len(dense)] = left[:, dense]
        right_screen[: len(dense)] = right[:, dense].T
        # Only the row regions present get a right factor (the others stay empty).
        right_by_region = np.zeros((len(multipliers), width, len(right)), dtype=dtype)
        region_multipliers = multipliers.astype(dtype)
        for region in regions.tolist():
            np.multiply(right_screen, region_multipliers[region], out=right_by_region[region])
        # Posting lists of the sparse features, once per row region present, multipliers folded
        # in the same way: post_value[r * size + p] is the term of posting p in region r.
        postings = right[:, sparse].T
        feature_of, post_column = np.nonzero(postings)
        size = len(post_column)
        post_value = np.zeros((len(multipliers), size), dtype=dtype)
        post_factor = postings[feature_of, post_column].astype(dtype)
        for region in regions.tolist():
            np.multiply(
                post_factor, region_multipliers[region, post_column], out=post_value[region]
            )
        post_start = np.searchsorted(feature_of, np.arange(len(sparse) + 1))
        # Each row class's sparse terms, row by row (np.nonzero goes in row order).
        term_row, term_feature = np.nonzero(left[:, sparse])
        light_count = post_start[term_feature + 1] - post_start[term_feature]
        light_post = post_start[term_feature] + row_region[term_row] * size
        gamma = (width + len(sparse) + 5) * float(np.finfo(dtype).eps) / 2
        return cls(
            model=model,
            northeast=northeast,
            east=east,
            query=query,
            rows=rows,
            cols=cols,
            left=left_screen,
            right=right_by_region,
            light_start=np.searchsorted(term_row, np.arange(len(left) + 1)),
            light_row=term_row,
            light_value=left[term_row, sparse[term_feature]].astype(dtype),
            light_post=light_post,
            light_count=light_count,
            post_column=np.tile(post_column, len(multipliers)),
            post_value=post_value.ravel(),
            row_region=row_region,
            margin=dtype(1.0 - 4.0 * gamma),
            tiny=dtype(np.finfo(dtype).smallest_subnormal),
        )

    def screen(self, start: int, stop: int, out: ScreenArray) -> ScreenArray:
        """Screened scores of row classes start..stop against every column class.

        The dense features' part is one product per run of one row region; the sparse
        features' terms are then added one by one. Every term is non-negative, so whatever the
        order of the additions, a score is within the same relative error of the exact one.
        """
        if self.left.shape[1]:
            regions = self.row_region[start:stop]
            bounds = (np.flatnonzero(np.diff(regions)) + 1).tolist()
            for lo, hi in zip([0, *bounds], [*bounds, stop - start], strict=True):
                np.matmul(
                    self.left[start + lo : start + hi], self.right[regions[lo]], out=out[lo:hi]
                )
        else:
            out.fill(0)
        first, last = int(self.light_start[start]), int(self.light_start[stop])
        if last > first:
            counts = self.light_count[first:last]
            ends = np.cumsum(counts)
            posting = np.repeat(self.light_post[first:last] - ends + counts, counts)
            posting += np.arange(len(posting))
            values = np.repeat(self.light_value[first:last], counts)
            values *= self.post_value[posting]
            cells = np.repeat((self.light_row[first:last] - start) * out.shape[1], counts)
            cells += self.post_column[posting]
            # np.add.at adds repeated cells one term at a time, in float32 for a float32 screen.
            np.add.at(out.reshape(-1), cells, values)
        return out

    def sector(self, rows: IntArray, cols: IntArray) -> FloatArray:
        """Exact fits of pairs."""
        return _sector_sums(self.query, rows, self.east.features, cols)

    def exact(self, rows: IntArray, cols: IntArray) -> FloatArray:
        """Exact scores, as ``(Population.features @ query) * multiplier`` computes them."""
        multiplier = self.model.multiplier[self.northeast.region[rows], self.east.region[cols]]
        return self.sector(rows, cols) * multiplier

    def floor(self, maxima: ScreenArray, k: int) -> ScreenArray:
        """Lower bound on the k-th best score from maxima of disjoint groups, along axis 1."""
        if maxima.shape[1] < k:
            return np.full(maxima.shape[0], self.tiny, dtype=maxima.dtype)
        kth = np.partition(maxima, maxima.shape[1] - k, axis=1)[:, maxima.shape[1] - k]
        floor: ScreenArray = np.maximum(kth * self.margin, self.tiny)
        return floor


def _top_per_group(groups: IntArray, others: IntArray, scores: FloatArray, k: int) -> BoolArray:
    """Mask of each group's k best entries: best score first, then smaller `others`."""
    order = _group_order(groups, others, scores)
    ordered = groups[order]
    # Rank within the group: the distance to the group's first entry, carried forward.
    index = np.arange(len(order))
    first = np.ones(len(order), dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    rank = index - np.maximum.accumulate(np.where(first, index, 0))
    keep = np.zeros(len(order), dtype=bool)
    keep[order[rank < k]] = True
    return keep


def _group_order(groups: IntArray, others: IntArray, scores: FloatArray) -> IntArray:
    """``np.lexsort((others, -scores, groups))``, for non-negative `groups` and `scores`.

    An argsort of one float key, ``group - score * (0.5 / largest score)``, is an order of
    magnitude faster than lexsort. Rounding is monotone, so entries with different keys are in
    lexsort's order (keys of different groups are at least about 0.5 apart); only runs of equal
    keys (equal scores, or scores too close for the key to tell apart) go through lexsort.
    """
    key = groups.astype(np.float64)
    top = float(scores.max(initial=0.0))
    if top > 0:
        key -= scores * (0.5 / top)
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    tie = ordered[1:] == ordered[:-1]
    if tie.any():
        in_run = np.zeros(len(order), dtype=bool)
        in_run[1:] = tie
        in_run[:-1] |= tie
        at = np.flatnonzero(in_run)
        # Runs numbered by the key's changes; each run is re-ordered within its own positions.
        run = np.cumsum(np.concatenate(([True], ~tie)))[at]
        tied = order[at]
        order[at] = tied[np.lexsort((others[tied], -scores[tied], run))]
    return order


def _stable_order(keys: IntArray, bound: int) -> IntArray:
    """``np.argsort(keys, kind="stable")`` for keys in [0, bound).

    Each key carries its index in its low bits, where they fit in 63 bits: a sort of these
    (SIMD) is a few times faster than an argsort.
    """
    shift = max(1, len(keys) - 1).bit_length()
    if bound.bit_length() + shift > 63:
        return np.argsort(keys, kind="stable")
    order: IntArray = np.sort((keys << shift) | np.arange(len(keys))) & ((1 << shift) - 1)
    return order


def _best(
    scorer: _Scorer, rows: IntArray, cols: IntArray, k: int, *, by_row: bool
) -> tuple[IntArray, IntArray, FloatArray]:
    """The k best of distinct pairs for each of their rows (or columns), by exact score."""
    exact = scorer.exact(rows, cols)
    top = _top_per_group(rows, cols, exact, k) if by_row else _top_per_group(cols, rows, exact, k)
    top &= exact > 0
    return rows[top], cols[top], exact[top]


def _screen_rows(
    scorer: _Scorer, first: int, last: int, block: int, k: int
) -> tuple[ScreenArray, list[tuple[IntArray, IntArray, FloatArray]], list[_Screened]]:
    """Screen row classes first..last block by block, in one thread.

    Returns the column bins of these rows, the rows' exact top k (as `_best`), and the pairs
    that passed the columns' floors so far (row class, column class, screened score).
    """
    m = scorer.right.shape[2]
    # A row's floor comes from the maxima of `groups` disjoint groups of columns: column j is in
    # group j % groups, so that the maxima are one element-wise pass over contiguous memory,
    # long runs of it (a group of a few columns, more groups than the bins: tighter floors).
    per_group = max(1, min(_COLUMNS_PER_GROUP, m // (_GROUPS_PER_K * k)))
    groups = m // per_group
    whole = groups * per_group
    # bins[j, g]: column j's best screened score among the rows of bin g so far. Bins hold
    # disjoint rows, so their k-th best is a lower bound on the column's k-th best score.
    n_bins = _GROUPS_PER_K * k
    dtype = scorer.left.dtype
    bins = np.zeros((m, n_bins), dtype=dtype)
    # Buffers reused block after block: fresh ones would be paged in anew every time.
    buffer = np.empty((min(block, max(last - first, 0)), m), dtype=dtype)
    passing = np.empty(buffer.shape, dtype=bool)
    passing_col = np.empty(buffer.shape, dtype=bool)
    row_parts: list[tuple[IntArray, IntArray, FloatArray]] = []
    col_parts: list[_Screened] = []
    for start in range(first, last, block):
        stop = min(start + block, last)
        height = stop - start
        reps = scorer.rows.reps[start:stop]
        scores = scorer.screen(start, stop, buffer[:height])
        group_max = scores[:, :whole].reshape(height, per_group, groups).max(1)
        for lo in range(whole, m, groups):  # the last columns, spread over the first groups
            tail = scores[:, lo : lo + groups]
            np.maximum(group_max[:, : tail.shape[1]], tail, out=group_max[:, : tail.shape[1]])
        row_floor = scorer.floor(group_max, k)
        chunks = min(n_bins, height)
        rows_per_chunk = height // chunks
        chunk_max = scores[: chunks * rows_per_chunk].reshape(chunks, rows_per_chunk, m).max(1)
        np.maximum(
            chunk_max[-1], scores[chunks * rows_per_chunk :].max(0, initial=0), out=chunk_max[-1]
        )
        np.maximum(bins[:, :chunks], chunk_max.T, out=bins[:, :chunks])
        col_floor = scorer.floor(bins, k)
        mask = np.greater_equal(scores, row_floor[:, None], out=passing[:height])
        mask |= np.greater_equal(scores, col_floor, out=passing_col[:height])
        entries = np.flatnonzero(mask)
        local, cols = np.divmod(entries, m)
        screened = scores.ravel()[entries]
        for_row = screened >= row_floor[local]
        for_col = screened >= col_floor[cols]
        # A row's pairs with a column class: the class's first k members.
        owner, members = scorer.cols.first(cols[for_row], k)
        row_parts.append(_best(scorer, reps[local[for_row]][owner], members, k, by_row=True))
        col_parts.append((local[for_col] + start, cols[for_col], screened[for_col]))
    return bins, row_parts, col_parts


def candidate_pairs(
    model: EnterpriseModel,
    northeast: Population,
    east: Population,
    *,
    k: int = 20,
    threads: int | None = None,
) -> tuple[IntArray, IntArray, FloatArray]:
    """Every participant's k best partners on the other side, exactly, both ways.

    Parameters
    ----------
    model : EnterpriseModel
        Sector weights and the region multipliers.
    northeast, east : Population
        The participants of each side (`matching.enterprises.build_population`).
    k : int
        Partners per participant. Only pairs with a fit (a score above zero) count; equal
        scores go in id order, so the result is deterministic.
    threads : int, optional
        Threads that screen and rescore blocks of rows side by side (numpy's products, sorts and
        reductions release the GIL); by default ``OMP_NUM_THREADS`` if set, else the machine's
        cores, at most 4. The result is the same whatever the number. With more than one, BLAS
        is held to one thread of its own while they run (its threads only competed with them).

    Returns
    -------
    rows, cols : ndarray of int64
        Rows of `northeast` and of `east`, sorted by (row, col), each pair once: the union of every
        northeast participant's k best and every eastern participant's k best.
    scores : ndarray of float64
        Exact scores, one per pair whichever side ranks it: the northeast enterprise's
        ``model.query`` dotted with ``east.features`` (sparse, in feature order) times the region
        multiplier, to the last bit; ``explain_match(...).score`` up to rounding.

    Raises
    ------
    ValueError
        If `k` or `threads` is not a positive integer, or a population is of the wrong side or
        taxonomy.

    Examples
    --------
    >>> from matching import load_dataset, network_from_dataset, score_components, Weights
    >>> from matching.enterprises import Enterprise, EnterpriseModel, build_population
    >>> net = network_from_dataset(load_dataset())
    >>> model = EnterpriseModel.build(net, score_components(net), Weights.resolve(net.taxonomy))
    >>> ne = build_population([Enterprise("a", "harbin", {"grain": 1.0}, {})], net, "northeast")
    >>> east = build_population(
    ...     [Enterprise(i, "shanghai", {}, {"grain": v}) for i, v in [("x", 0.2), ("y", 0.9)]],
    ...     net,
    ...     "east",
    ... )
    >>> rows, cols, scores = candidate_pairs(model, ne, east, k=1)
    >>> rows.tolist(), cols.tolist()
    ([0, 0], [0, 1])
    >>> bool(scores[1] > scores[0])
    True
    """
    k = check_count("k", k, minimum=1)
    threads = _default_threads() if threads is None else check_count("threads", threads, minimum=1)
    check_population(model, northeast, "northeast")
    check_population(model, east, "east")
    if len(northeast) == 0 or len(east) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    scorer = _Scorer.build(model, northeast, east)
    # The screen runs on profile classes: a class stands for all its members, of which a top k
    # can take at most the first k (by id).
    n, m = len(scorer.rows.reps), len(scorer.cols.reps)
    block = max(_GROUPS_PER_K * k, _BLOCK_CELLS // m)
    # Each thread screens a contiguous run of whole blocks, with bins of its own.
    n_blocks = -(-n // block)
    runs = min(threads, n_blocks)
    cuts = [min(n, (n_blocks * t // runs) * block) for t in range(runs + 1)]
    screened_runs = _map(
        lambda t: _screen_rows(scorer, cuts[t], cuts[t + 1], block, k), range(runs), runs
    )
    # Bins of different threads hold disjoint rows, so their element-wise maximum is a valid
    # set of bins over all rows; column floors only rise as rows are seen, and the final ones
    # prune what each thread kept.
    bins = screened_runs[0][0]
    for other, _, _ in screened_runs[1:]:
        np.maximum(bins, other, out=bins)
    col_floor = scorer.floor(bins, k)
    row_parts = [part for _, parts, _ in screened_runs for part in parts]
    col_parts = [part for _, _, parts in screened_runs for part in parts]
    classes, cols, screened = (np.concatenate(part) for part in zip(*col_parts, strict=True))
    sure = screened >= col_floor[cols]
    classes, cols = classes[sure], cols[sure]
    # The columns' exact top k, a range of column classes per thread (groups never straddle).
    col_cuts = [m * t // runs for t in range(runs + 1)]

    def best_of_columns(t: int) -> tuple[IntArray, IntArray, FloatArray]:
        mine = (cols >= col_cuts[t]) & (cols < col_cuts[t + 1])
        owner, members = scorer.rows.first(classes[mine], k)
        col_reps = scorer.cols.reps[cols[mine][owner]]
        return _best(scorer, members, col_reps, k, by_row=False)

    by_col = tuple(
        np.concatenate(part) for part in zip(*_map(best_of_columns, range(runs), runs), strict=True)
    )
    # Every member of a class has its representative's partners.
    by_row = tuple(np.concatenate(part) for part in zip(*row_parts, strict=True))
    owner, member_rows = scorer.rows.first(scorer.rows.of[by_row[0]], None)
    found_rows = [member_rows, by_col[0]]
    found_cols = [by_row[1][owner], by_col[1]]
    found_scores = [by_row[2][owner], by_col[2]]
    owner, member_cols = scorer.cols.first(scorer.cols.of[by_col[1]], None)
    found_rows[1], found_cols[1], found_scores[1] = by_col[0][owner], member_cols, by_col[2][owner]
    # A pair can be among the best of its row and of its column: list it once.
    all_rows, all_cols = np.concatenate(found_rows), np.concatenate(found_cols)
    all_scores = np.concatenate(found_scores)
    # Both copies of a pair have the same exact score: any order of them will do.
    keys = all_rows * len(east) + all_cols
    order = _stable_order(keys, len(northeast) * len(east))
    keys = keys[order]
    once = np.ones(len(keys), dtype=bool)
    once[1:] = keys[1:] != keys[:-1]
    keys, order = keys[once], order[once]
    return keys // len(east), keys % len(east), all_scores[order]
