"""Candidates of a matchmaking round: every participant's k best partners, both ways, exactly.

A pair's exact score is ``q_i . f_j + x(r_i, r_j)``: the northeast query vector dotted with the
eastern features, plus the region term. We screen all pairs in float32, one BLAS product per
block of rows with the region term folded in as one-hot columns, and keep only the pairs that
can be in some top k. Lower bounds on each row's and column's k-th best score come from maxima of
disjoint groups: if k groups each have a maximum of at least t, k scores reach t. Every term is
non-negative, so a float32 score is within a relative ``(d + 4) * 2**-24`` of the exact one (d
features); the bounds are lowered by a few times that, and no true top-k pair is screened out.
The survivors are rescored exactly in float64, summed in the order of ``Population.features @
query``, and ranked with equal scores in id order.

Pairs with no sector in common score the region term alone, so whole regions tie; screening them
one by one would make every member of a region a candidate of a participant with a thin profile.
Such "flat" pairs are recognised in float32 (the screened score equals the region term exactly,
and any shared sector would raise it beyond rounding when the smallest possible sector term is
large enough, which we check) and replaced by the first k flat members of each region, by id:
all a top k can take of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from matching._types import BoolArray, Float32Array, FloatArray, IntArray
from matching._validate import check_count
from matching.enterprises import EnterpriseModel, Population

__all__ = ["candidate_pairs", "check_population", "pair_scores"]

#: Screen about this many pairs at a time: 32 MB of float32 scores per block.
_BLOCK_CELLS = 8_000_000
#: Groups per row, and bins per column, as a multiple of k: more groups, tighter bounds.
_GROUPS_PER_K = 4
#: Smallest positive float32: a floor that keeps only the pairs that score above zero.
_TINY = np.float32(np.finfo(np.float32).smallest_subnormal)
#: Unit roundoff of float32.
_UNIT_ROUNDOFF = 2.0**-24
#: Sector terms below this could vanish in float32; pairs that may have one are never "flat".
_SMALLEST_SAFE_TERM = 1e-30


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


def pair_scores(
    model: EnterpriseModel, northeast: Population, east: Population, rows: IntArray, cols: IntArray
) -> FloatArray:
    """Exact scores of a few pairs, as `_Scorer.exact` computes them."""
    query = _query_matrix(model, northeast.features[rows])
    term = model.region_term[northeast.region[rows], east.region[cols]]
    return _sector_sums(query, np.arange(len(rows)), east.features, cols) + term


def _smallest_positive(values: FloatArray, axis: int) -> FloatArray:
    """Smallest positive value along `axis` (inf where there is none)."""
    smallest: FloatArray = np.where(values > 0, values, np.inf).min(axis=axis)
    return smallest


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
        """Classes of rows with equal `features` rows and `region`."""
        n = len(region)
        rng = np.random.default_rng(0)
        key = features @ rng.random(features.shape[1]) + region * np.pi
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        rep = first[inverse]
        equal = (features == features[rep]).all(axis=1) & (region == region[rep])
        # Rows unequal to their class's first row (a hash collision) form classes of their own.
        label = np.where(equal, rep, np.arange(n))
        reps, of = np.unique(label, return_inverse=True)
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
    """Exact scores of a round's pairs, and float32 screening scores of its profile classes."""

    model: EnterpriseModel
    northeast: Population
    east: Population
    query: FloatArray
    rows: _Classes
    cols: _Classes
    #: Screening factors: left[a] . right[:, b] is the score of row class a and column class b.
    left: Float32Array
    right: Float32Array
    #: The region term in float32: a flat pair's screened score, exactly.
    region32: Float32Array
    #: Whose flat pairs can be told apart in float32 (see the module docstring), by row.
    flat_rows: BoolArray
    flat_cols: BoolArray
    #: Enterprises with an empty profile, whose every pair is flat.
    blank_rows: BoolArray
    blank_cols: BoolArray
    #: Factor by which bounds are lowered to allow for float32 rounding.
    margin: np.float32

    @classmethod
    def build(cls, model: EnterpriseModel, northeast: Population, east: Population) -> _Scorer:
        """The scorer of a round between `northeast` and `east`."""
        query = _query_matrix(model, northeast.features)
        features: FloatArray = east.features.toarray()
        rows = _Classes.group(query, northeast.region)
        cols = _Classes.group(features, east.region)
        term = model.region_term
        left = np.hstack([query[rows.reps], term[northeast.region[rows.reps]]])
        one_hot = np.zeros((len(cols.reps), term.shape[1]))
        one_hot[np.arange(len(cols.reps)), east.region[cols.reps]] = 1.0
        right = np.hstack([features[cols.reps], one_hot])
        # Columns zero on either side add nothing; a width that is a multiple of 8 suits BLAS.
        keep = np.flatnonzero(left.any(axis=0) & right.any(axis=0))
        width = max(8, -(-len(keep) // 8) * 8)
        left32 = np.zeros((len(left), width), dtype=np.float32)
        right32 = np.zeros((width, len(right)), dtype=np.float32)
        left32[:, : len(keep)] = left[:, keep]
        right32[: len(keep)] = right[:, keep].T
        gamma = (width + 4) * _UNIT_ROUNDOFF
        # A shared sector adds at least (smallest query coefficient) x (smallest feature); flat
        # pairs are told apart where that is far above both the rounding of the region term
        # and float32's underflow.
        query_min = _smallest_positive(query, axis=1)
        feature_min = _smallest_positive(features, axis=1)
        flat_rows = query_min * feature_min.min(initial=np.inf) > np.maximum(
            8 * gamma * term.max(axis=1, initial=0.0)[northeast.region], _SMALLEST_SAFE_TERM
        )
        flat_cols = feature_min * query_min.min(initial=np.inf) > np.maximum(
            8 * gamma * term.max(axis=0, initial=0.0)[east.region], _SMALLEST_SAFE_TERM
        )
        return cls(
            model=model,
            northeast=northeast,
            east=east,
            query=query,
            rows=rows,
            cols=cols,
            left=left32,
            right=right32,
            region32=term.astype(np.float32),
            flat_rows=flat_rows,
            flat_cols=flat_cols,
            blank_rows=np.isinf(query_min),
            blank_cols=np.isinf(feature_min),
            margin=np.float32(1.0 - 4.0 * gamma),
        )

    def sector(self, rows: IntArray, cols: IntArray) -> FloatArray:
        """Exact sector parts of pairs."""
        return _sector_sums(self.query, rows, self.east.features, cols)

    def exact(self, rows: IntArray, cols: IntArray) -> FloatArray:
        """Exact scores, as ``Population.features @ query + region term`` computes them."""
        term = self.model.region_term[self.northeast.region[rows], self.east.region[cols]]
        return self.sector(rows, cols) + term

    def floor(self, maxima: Float32Array, k: int) -> Float32Array:
        """Lower bound on the k-th best score from maxima of disjoint groups, along axis 1."""
        if maxima.shape[1] < k:
            return np.full(maxima.shape[0], _TINY, dtype=np.float32)
        kth = np.partition(maxima, maxima.shape[1] - k, axis=1)[:, maxima.shape[1] - k]
        floor: Float32Array = np.maximum(kth * self.margin, _TINY)
        return floor

    def first_flat(
        self, owners: IntArray, regions: IntArray, k: int, *, by_row: bool
    ) -> tuple[IntArray, IntArray]:
        """For each (owner, partner region), its first k flat partners there, by id.

        Owners are northeast rows if `by_row`, else eastern columns. Returns the pairs as
        (rows, cols).
        """
        partners = self.east if by_row else self.northeast
        found: list[tuple[IntArray, IntArray]] = []
        pending = np.arange(len(owners))
        width = 2 * k
        while len(pending):
            first = partners.member_start[regions[pending]]
            size = partners.member_start[regions[pending] + 1] - first
            take = np.minimum(size, width)
            request = np.repeat(np.arange(len(pending)), take)
            offset = np.arange(len(request)) - np.repeat(np.cumsum(take) - take, take)
            members = partners.members[first[request] + offset]
            owner = owners[pending][request]
            rows, cols = (owner, members) if by_row else (members, owner)
            flat = self.sector(rows, cols) == 0
            counts = np.bincount(request[flat], minlength=len(pending))
            done = (counts >= k) | (take == size)
            chosen = flat & done[request]
            # Rank among the request's flat members, in id order.
            seen = np.concatenate([[0], np.cumsum(chosen)])
            chosen &= seen[1:] - np.repeat(seen[np.cumsum(take) - take], take) <= k
            found.append((rows[chosen], cols[chosen]))
            pending = pending[~done]
            width *= 4
        return _concat_pairs(found)


def _concat_pairs(parts: list[tuple[IntArray, IntArray]]) -> tuple[IntArray, IntArray]:
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _top_per_group(groups: IntArray, others: IntArray, scores: FloatArray, k: int) -> BoolArray:
    """Mask of each group's k best entries: best score first, then smaller `others`."""
    order = np.lexsort((others, -scores, groups))
    ordered = groups[order]
    rank = np.arange(len(order)) - np.searchsorted(ordered, ordered)
    keep = np.zeros(len(order), dtype=bool)
    keep[order[rank < k]] = True
    return keep


def _best(
    scorer: _Scorer, rows: IntArray, cols: IntArray, k: int, *, by_row: bool
) -> tuple[IntArray, IntArray, FloatArray]:
    """The k best of distinct pairs for each of their rows (or columns), by exact score."""
    exact = scorer.exact(rows, cols)
    top = _top_per_group(rows, cols, exact, k) if by_row else _top_per_group(cols, rows, exact, k)
    top &= exact > 0
    return rows[top], cols[top], exact[top]


def candidate_pairs(
    model: EnterpriseModel, northeast: Population, east: Population, *, k: int = 20
) -> tuple[IntArray, IntArray, FloatArray]:
    """Every participant's k best partners on the other side, exactly, both ways.

    Parameters
    ----------
    model : EnterpriseModel
        Sector weights and the region term.
    northeast, east : Population
        The participants of each side (`matching.enterprises.build_population`).
    k : int
        Partners per participant. Only pairs scoring above zero count; equal scores go in id
        order, so the result is deterministic.

    Returns
    -------
    rows, cols : ndarray of int64
        Rows of `northeast` and of `east`, sorted by (row, col), each pair once: the union of every
        northeast participant's k best and every eastern participant's k best.
    scores : ndarray of float64
        Exact scores, one per pair whichever side ranks it: the northeast enterprise's
        ``model.query`` dotted with ``east.features`` (sparse, in feature order) plus the region
        term, to the last bit; ``explain_match(...).score`` up to rounding.

    Raises
    ------
    ValueError
        If `k` is not a positive integer or a population is of the wrong side or taxonomy.

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
    check_population(model, northeast, "northeast")
    check_population(model, east, "east")
    if len(northeast) == 0 or len(east) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    scorer = _Scorer.build(model, northeast, east)
    # The screen runs on profile classes: a class stands for all its members, of which a top k
    # can take at most the first k (by id).
    row_reps, col_reps = scorer.rows.reps, scorer.cols.reps
    n, m = len(row_reps), len(col_reps)
    groups = min(m, _GROUPS_PER_K * k)
    group_starts = (np.arange(groups) * m) // groups
    # bins[j, g]: column j's best screened score among the rows of bin g so far. Bins hold
    # disjoint rows, so their k-th best is a lower bound on the column's k-th best score.
    n_bins = _GROUPS_PER_K * k
    bins = np.zeros((m, n_bins), dtype=np.float32)
    block = max(n_bins, _BLOCK_CELLS // m)
    # Buffers reused block after block: fresh ones would be paged in anew every time.
    buffer = np.empty((min(block, n), m), dtype=np.float32)
    passing = np.empty(buffer.shape, dtype=bool)
    passing_col = np.empty(buffer.shape, dtype=bool)
    band_cols = np.empty(m, dtype=np.float32)
    row_parts: list[tuple[IntArray, IntArray, FloatArray]] = []
    col_parts: list[tuple[IntArray, IntArray, Float32Array]] = []
    for start in range(0, n, block):
        stop = min(start + block, n)
        height = stop - start
        reps = row_reps[start:stop]
        scores = np.matmul(scorer.left[start:stop], scorer.right, out=buffer[:height])
        row_floor = scorer.floor(np.maximum.reduceat(scores, group_starts, axis=1), k)
        chunks = min(n_bins, height)
        rows_per_chunk = height // chunks
        chunk_max = scores[: chunks * rows_per_chunk].reshape(chunks, rows_per_chunk, m).max(1)
        np.maximum(
            chunk_max[-1], scores[chunks * rows_per_chunk :].max(0, initial=0), out=chunk_max[-1]
        )
        np.maximum(bins[:, :chunks], chunk_max.T, out=bins[:, :chunks])
        col_floor = scorer.floor(bins, k)
        # Enterprises with a blank profile only ever take flat partners: skip their pairs.
        band_rows = np.where(scorer.blank_rows[reps], np.inf, row_floor)
        np.copyto(band_cols, np.where(scorer.blank_cols[col_reps], np.inf, col_floor))
        mask = np.greater_equal(scores, band_rows[:, None], out=passing[:height])
        mask |= np.greater_equal(scores, band_cols, out=passing_col[:height])
        entries = np.flatnonzero(mask)
        local, cols = np.divmod(entries, m)
        screened = scores.ravel()[entries]
        ends = (reps[local], col_reps[cols])
        flat = screened == scorer.region32[northeast.region[ends[0]], east.region[ends[1]]]
        for_row = (screened >= row_floor[local]) & ~(flat & scorer.flat_rows[ends[0]])
        for_col = (screened >= col_floor[cols]) & ~(flat & scorer.flat_cols[ends[1]])
        # A row's pairs with a column class: the class's first k members.
        owner, members = scorer.cols.first(cols[for_row], k)
        band = (ends[0][for_row][owner], members)
        # A flat pair scores its region term: rows whose floor it reaches take the first k flat
        # members of that region instead.
        reach = scorer.region32[northeast.region[reps]] >= row_floor[:, None]
        reach &= scorer.flat_rows[reps, None]
        owners, regions = np.nonzero(reach)
        fill = scorer.first_flat(reps[owners], regions, k, by_row=True)
        row_parts.append(
            _best(
                scorer,
                np.concatenate([band[0], fill[0]]),
                np.concatenate([band[1], fill[1]]),
                k,
                by_row=True,
            )
        )
        col_parts.append((local[for_col] + start, cols[for_col], screened[for_col]))
    # Column floors only rise as rows are seen: the last ones prune what early blocks kept.
    col_floor = scorer.floor(bins, k)
    classes, cols, screened = (np.concatenate(part) for part in zip(*col_parts, strict=True))
    sure = screened >= col_floor[cols]
    owner, members = scorer.rows.first(classes[sure], k)
    band = (members, col_reps[cols[sure]][owner])
    reach = scorer.region32.T[east.region[col_reps]] >= col_floor[:, None]
    reach &= scorer.flat_cols[col_reps, None]
    owners, regions = np.nonzero(reach)
    fill = scorer.first_flat(col_reps[owners], regions, k, by_row=False)
    by_col = _best(
        scorer,
        np.concatenate([band[0], fill[0]]),
        np.concatenate([band[1], fill[1]]),
        k,
        by_row=False,
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
    keys = all_rows * len(east) + all_cols
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    once = np.ones(len(keys), dtype=bool)
    once[1:] = keys[1:] != keys[:-1]
    return keys[once] // len(east), keys[once] % len(east), all_scores[order[once]]
