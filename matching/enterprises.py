"""Enterprises: reciprocal partner scores and an exact top-k search over large populations.

An enterprise offers and seeks sectors (intensities in (0, 1]) and sits in a region. The score of
a northeast enterprise i and an eastern enterprise j is reciprocal and additive like region
scores, and draws on the region graph::

    score(i, j) = sum_s  w_c(s) / d_c(s) * [ O_is K_js + K_is O_js (+ O_is O_js) ]
                + w_region * x(r_i, r_j)

O and K are what the enterprises offer and seek, w_c(s) the weight of the sector's channel, d_c
its number of directions (2, or 3 with synergy, where both offering the same sector counts), and
x(r_i, r_j) = (t + S / S_max) / 2 the region term: half the strongest recorded tie between the two
regions (1 for official counterparts), half their region score relative to the best region pair.
Enterprise profiles are sparse, so sector terms are summed over sectors, not averaged.

For the search, each enterprise is a sparse vector of 2P features (what it seeks, then what it
offers, P sectors); a query is a vector over the same features, non-zero only on its own
sectors, and a score is their dot product plus the region term. The index keeps, for each
(region, feature), the enterprises with that feature sorted by value, and answers top-k queries
with the threshold algorithm (Fagin et al.) region by region, best region bound first: it reads
the query's lists in growing prefixes, scores the candidates exactly, and stops when the k-th best
score beats what any unread enterprise could reach. The answer is exact (the same as scoring every
enterprise) and touches only the query's own sectors.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from matching.network import Network
from matching.scoring import ComponentScores, Weights
from matching.taxonomy import Taxonomy

__all__ = [
    "OWNERSHIPS",
    "SIZE_BANDS",
    "Enterprise",
    "EnterpriseModel",
    "Match",
    "MatchExplanation",
    "Population",
    "SearchFilters",
    "build_population",
    "explain_match",
    "search_partners",
]

SIZE_BANDS = ("micro", "small", "medium", "large")
OWNERSHIPS = ("state", "private", "foreign", "mixed")
#: Default weight of the region term (the channels keep the taxonomy's defaults).
DEFAULT_REGION_WEIGHT = 0.1

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Enterprise:
    """The part of an enterprise's profile that scoring and filtering use."""

    id: str
    region: str
    offers: Mapping[str, float]
    seeks: Mapping[str, float]
    size: str = "small"
    ownership: str = "private"


@dataclass(frozen=True, eq=False)
class EnterpriseModel:
    """Everything a score needs besides the two profiles: sector and region-term weights.

    `sector_weight[s]` is w_c(s) / d_c(s); `synergy[s]` whether offering the same sector counts;
    `region_term[a, b]` is w_region * x(a, b) for northeast region a and eastern region b.
    """

    taxonomy: Taxonomy
    network: Network
    sector_weight: FloatArray
    synergy: NDArray[np.bool_]
    region_term: FloatArray
    region_weight: float

    @classmethod
    def build(
        cls,
        network: Network,
        components: ComponentScores,
        weights: Weights,
        *,
        region_weight: float = DEFAULT_REGION_WEIGHT,
    ) -> EnterpriseModel:
        """The model for a region network under `weights`."""
        if not math.isfinite(region_weight) or region_weight < 0:
            raise ValueError(f"`region_weight` must be a non-negative number, got {region_weight}")
        tax = network.taxonomy
        sector_weight = np.zeros(len(tax.sectors))
        synergy = np.zeros(len(tax.sectors), dtype=bool)
        for channel in tax.channels:
            cols = list(tax.channel_sectors[channel.id])
            sector_weight[cols] = weights[channel.id] / (3 if channel.synergy else 2)
            synergy[cols] = channel.synergy
        scores = components.combine(weights)
        best = float(scores.max(initial=0.0))
        relative = scores / best if best > 0 else np.zeros_like(scores)
        region_term = region_weight * 0.5 * (network.ties + relative)
        for array in (sector_weight, synergy, region_term):
            array.setflags(write=False)
        return cls(tax, network, sector_weight, synergy, region_term, region_weight)

    @property
    def n_features(self) -> int:
        """2P: what an enterprise seeks, then what it offers."""
        return 2 * len(self.taxonomy.sectors)

    def query(
        self, enterprise: Enterprise, *, channel: str | None = None
    ) -> tuple[IntArray, FloatArray]:
        """The query vector of `enterprise` against the other side, as (features, coefficients).

        Partner e's score (without the region term) is the dot product of these coefficients with
        e's features: the query's offers meet e's seeks (features 0..P-1), the query's seeks, and
        for synergy channels its offers too, meet e's offers (features P..2P-1).
        """
        tax = self.taxonomy
        n_sectors = len(tax.sectors)
        keep = None if channel is None else set(tax.channel_sectors[channel])
        coefficients: dict[int, float] = {}
        for sector, value in enterprise.offers.items():
            s = tax.sector_index[sector]
            if keep is not None and s not in keep:
                continue
            coefficients[s] = coefficients.get(s, 0.0) + self.sector_weight[s] * value
            if self.synergy[s]:
                f = n_sectors + s
                coefficients[f] = coefficients.get(f, 0.0) + self.sector_weight[s] * value
        for sector, value in enterprise.seeks.items():
            s = tax.sector_index[sector]
            if keep is not None and s not in keep:
                continue
            f = n_sectors + s
            coefficients[f] = coefficients.get(f, 0.0) + self.sector_weight[s] * value
        features = np.array(sorted(coefficients), dtype=np.int64)
        return features, np.array([coefficients[f] for f in features.tolist()], dtype=np.float64)


def _feature_rows(
    enterprises: Sequence[Enterprise], taxonomy: Taxonomy
) -> tuple[IntArray, IntArray, FloatArray]:
    n_sectors = len(taxonomy.sectors)
    index = taxonomy.sector_index
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for row, e in enumerate(enterprises):
        for sector, value in e.seeks.items():
            rows.append(row)
            cols.append(index[sector])
            vals.append(value)
        for sector, value in e.offers.items():
            rows.append(row)
            cols.append(n_sectors + index[sector])
            vals.append(value)
    return (
        np.array(rows, dtype=np.int64),
        np.array(cols, dtype=np.int64),
        np.array(vals, dtype=np.float64),
    )


@dataclass(frozen=True, eq=False)
class Population:
    """One side's enterprises as arrays, sorted by id, with the search postings.

    Row order is id order, so ties broken by row are ties broken by id.
    """

    side: str
    ids: NDArray[np.bytes_]
    region: IntArray
    size: NDArray[np.int8]
    ownership: NDArray[np.int8]
    features: sp.csr_matrix
    # Postings: for (region r, feature f), rows post_rows[post_start[r, f]:post_start[r, f + 1]]
    # hold the feature, by value descending (then by row); post_max[r, f] is the largest value.
    post_rows: IntArray
    post_vals: FloatArray
    post_start: IntArray
    post_max: FloatArray
    # Members of each region, by row: members[member_start[r]:member_start[r + 1]].
    members: IntArray
    member_start: IntArray

    def __len__(self) -> int:
        return len(self.ids)

    def row_of(self, enterprise_id: str) -> int | None:
        """The row of an id, if it is in this population."""
        key = enterprise_id.encode()
        row = int(np.searchsorted(self.ids, key))
        return row if row < len(self.ids) and self.ids[row] == key else None


def build_population(enterprises: Iterable[Enterprise], network: Network, side: str) -> Population:
    """Arrays and postings of one side's enterprises (regions must be on that side).

    Raises
    ------
    ValueError
        If an enterprise's region is not a `side` region, or an id repeats.
    """
    tax = network.taxonomy
    regions = network.side(side)
    items = sorted(enterprises, key=lambda e: e.id)
    ids = np.array([e.id.encode() for e in items], dtype=np.bytes_)
    if len(ids) > 1 and (ids[1:] == ids[:-1]).any():
        dup = ids[1:][ids[1:] == ids[:-1]][0].decode()
        raise ValueError(f"`enterprises`: duplicate id {dup!r}")
    try:
        region = np.array([regions.index[e.region] for e in items], dtype=np.int64)
    except KeyError as exc:
        raise ValueError(f"`enterprises`: {exc.args[0]!r} is not a {side} region") from None
    size = np.array([SIZE_BANDS.index(e.size) for e in items], dtype=np.int8)
    ownership = np.array([OWNERSHIPS.index(e.ownership) for e in items], dtype=np.int8)
    rows, cols, vals = _feature_rows(items, tax)
    return _assemble(side, ids, region, size, ownership, rows, cols, vals, network)


def _assemble(
    side: str,
    ids: NDArray[np.bytes_],
    region: IntArray,
    size: NDArray[np.int8],
    ownership: NDArray[np.int8],
    rows: IntArray,
    cols: IntArray,
    vals: FloatArray,
    network: Network,
) -> Population:
    n = len(ids)
    n_regions = len(network.side(side))
    n_features = 2 * len(network.taxonomy.sectors)
    features = sp.csr_matrix((vals, (rows, cols)), shape=(n, n_features))
    features.sum_duplicates()
    keep = vals > 0
    rows, cols, vals = rows[keep], cols[keep], vals[keep]
    order = np.lexsort((rows, -vals, cols, region[rows]))
    post_rows, post_vals = rows[order], vals[order]
    slot = region[post_rows] * n_features + cols[order]
    post_start = np.searchsorted(slot, np.arange(n_regions * n_features + 1)).astype(np.int64)
    post_max = np.zeros(n_regions * n_features)
    nonempty = post_start[1:] > post_start[:-1]
    post_max[nonempty] = post_vals[post_start[:-1][nonempty]]
    members = np.lexsort((np.arange(n), region)).astype(np.int64)
    member_start = np.searchsorted(region[members], np.arange(n_regions + 1)).astype(np.int64)
    return Population(
        side=side,
        ids=ids,
        region=region,
        size=size,
        ownership=ownership,
        features=features,
        post_rows=post_rows.astype(np.int64),
        post_vals=post_vals,
        post_start=post_start,
        post_max=post_max.reshape(n_regions, n_features),
        members=members,
        member_start=member_start,
    )


@dataclass(frozen=True)
class SearchFilters:
    """Which partners qualify: by region (row in the side), ownership and size codes."""

    regions: frozenset[int] | None = None
    ownership: frozenset[int] | None = None
    size: frozenset[int] | None = None
    min_score: float | None = None

    def mask(self, population: Population, rows: IntArray) -> NDArray[np.bool_]:
        """Which of `rows` pass the ownership and size filters."""
        ok = np.ones(len(rows), dtype=bool)
        if self.ownership is not None:
            ok &= np.isin(population.ownership[rows], list(self.ownership))
        if self.size is not None:
            ok &= np.isin(population.size[rows], list(self.size))
        return ok


@dataclass(frozen=True)
class Match:
    """A partner found: its row in the searched population and its score."""

    row: int
    score: float


def _feature_scores(
    population: Population, rows: IntArray, features: IntArray, coefficients: FloatArray
) -> FloatArray:
    """Exact dot products of `rows`' features with a sparse query, vectorised over rows."""
    dense = np.zeros(population.features.shape[1])
    dense[features] = coefficients
    indptr = population.features.indptr
    starts, ends = indptr[rows], indptr[rows + 1]
    counts = ends - starts
    if not counts.any():
        return np.zeros(len(rows))
    offsets = np.repeat(starts - np.cumsum(counts) + counts, counts)
    entries = offsets + np.arange(int(counts.sum()))
    products = population.features.data[entries] * dense[population.features.indices[entries]]
    owner = np.repeat(np.arange(len(rows)), counts)
    sums: FloatArray = np.bincount(owner, weights=products, minlength=len(rows)).astype(np.float64)
    return sums


@dataclass
class _TopK:
    """The k best (score, row) seen so far; ties broken by row (= by id)."""

    k: int
    scores: FloatArray = field(default_factory=lambda: np.zeros(0))
    rows: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    seen: set[int] = field(default_factory=set)

    def add(self, rows: IntArray, scores: FloatArray) -> None:
        """Offer rows with their scores; rows seen before are ignored."""
        fresh = np.fromiter((r not in self.seen for r in rows.tolist()), bool, len(rows))
        rows, scores = rows[fresh], scores[fresh]
        self.seen.update(rows.tolist())
        all_rows = np.concatenate([self.rows, rows])
        all_scores = np.concatenate([self.scores, scores])
        order = np.lexsort((all_rows, -all_scores))[: self.k]
        self.rows, self.scores = all_rows[order], all_scores[order]

    @property
    def full(self) -> bool:
        return len(self.rows) >= self.k

    @property
    def kth(self) -> float:
        return float(self.scores[-1]) if self.full else -math.inf


def search_partners(
    population: Population,
    features: IntArray,
    coefficients: FloatArray,
    region_term: FloatArray,
    *,
    k: int,
    filters: SearchFilters | None = None,
    removed: NDArray[np.bool_] | None = None,
    first_depth: int = 32,
) -> list[Match]:
    """The k best partners in `population` for a query vector, exactly.

    Parameters
    ----------
    population : Population
        The side searched.
    features, coefficients : ndarray
        The query vector (see `EnterpriseModel.query`).
    region_term : ndarray, shape (regions of the side,)
        The region term of each partner region for the querying enterprise's region (the
        caller drops it, as zeros, to rank on one channel).
    k : int
        How many partners.
    filters : SearchFilters, optional
        Partner region, ownership, size and a minimum score.
    removed : ndarray of bool, optional
        Rows to leave out (deleted or superseded by a newer version).
    first_depth : int
        How far the first round reads each list; later rounds read four times further.

    Returns
    -------
    list of Match
        Best first; equal scores in row (= id) order. Scores are exact: the dot product with
        the partner's features plus its region term.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"`k` must be a positive integer, got {k!r}")
    filters = filters or SearchFilters()
    floor = -math.inf if filters.min_score is None else filters.min_score
    top = _TopK(k)
    n_regions = population.post_max.shape[0]
    candidates_regions = np.arange(n_regions)
    if filters.regions is not None:
        candidates_regions = np.array(sorted(filters.regions), dtype=np.int64)
    bounds = population.post_max[np.ix_(candidates_regions, features)] @ coefficients
    bounds = bounds + region_term[candidates_regions]
    for position in np.argsort(-bounds, kind="stable").tolist():
        r = int(candidates_regions[position])
        bound = float(bounds[position])
        if bound <= 0 or bound < floor or (top.full and bound < top.kth):
            break
        _search_region(
            population,
            r,
            features,
            coefficients,
            float(region_term[r]),
            top,
            filters,
            removed,
            floor,
            first_depth,
        )
    keep = top.scores >= floor
    return [
        Match(int(row), float(score))
        for row, score in zip(top.rows[keep], top.scores[keep], strict=True)
    ]


def _search_region(
    population: Population,
    r: int,
    features: IntArray,
    coefficients: FloatArray,
    term: float,
    top: _TopK,
    filters: SearchFilters,
    removed: NDArray[np.bool_] | None,
    floor: float,
    first_depth: int,
) -> None:
    """Threshold algorithm over region r's lists of the query's features."""
    n_features = population.post_max.shape[1]
    starts = population.post_start[r * n_features + features]
    lengths = population.post_start[r * n_features + features + 1] - starts
    read = np.zeros(len(features), dtype=np.int64)
    depth = first_depth
    while True:
        # Read each list from where the last round stopped to `depth`.
        upto = np.minimum(lengths, depth)
        counts = upto - read
        offsets = np.repeat(starts + read - np.cumsum(counts) + counts, counts)
        rows = np.unique(population.post_rows[offsets + np.arange(int(counts.sum()))])
        read = upto
        rows = rows[filters.mask(population, rows)]
        if removed is not None:
            rows = rows[~removed[rows]]
        if len(rows):
            top.add(rows, _feature_scores(population, rows, features, coefficients) + term)
        exhausted = read >= lengths
        if exhausted.all():
            break
        # What an unread enterprise of this region could still reach: the next value of every
        # list not yet exhausted, times its coefficient, plus the region term.
        following = population.post_vals[np.where(exhausted, 0, starts + read)]
        reach = float(np.where(exhausted, 0.0, following) @ coefficients) + term
        if reach < floor or (top.full and reach < top.kth):
            return
        depth *= 4
    # Every member with one of the query's features has been scored; the rest score the region
    # term alone (partners must score above 0), and equal scores go by row, so the first unseen
    # members by row are the best of them.
    if term <= 0 or term < floor or (top.full and term < top.kth):
        return
    members = population.members[population.member_start[r] : population.member_start[r + 1]]
    picked: list[int] = []
    step = 4 * top.k + 64
    for chunk_start in range(0, len(members), step):
        chunk = members[chunk_start : chunk_start + step]
        chunk = chunk[filters.mask(population, chunk)]
        if removed is not None:
            chunk = chunk[~removed[chunk]]
        picked.extend(m for m in chunk.tolist() if m not in top.seen)
        if len(picked) >= top.k:
            break
    if picked:
        rows = np.array(picked[: top.k], dtype=np.int64)
        top.add(rows, np.full(len(rows), term))


@dataclass(frozen=True)
class MatchExplanation:
    """A match's score split into contributions (channels and the region term) and terms."""

    score: float
    contributions: dict[str, float]
    terms: tuple[tuple[str, str, float], ...]  # (sector, direction, value)


def explain_match(
    model: EnterpriseModel, northeast: Enterprise, east: Enterprise
) -> MatchExplanation:
    """Every part of the score of a northeast and an eastern enterprise.

    Examples
    --------
    >>> from matching import load_dataset, network_from_dataset, score_components, Weights
    >>> net = network_from_dataset(load_dataset())
    >>> model = EnterpriseModel.build(net, score_components(net), Weights.resolve(net.taxonomy))
    >>> a = Enterprise("a", "harbin", offers={"grain": 0.8}, seeks={"venture_capital": 0.5})
    >>> b = Enterprise("b", "shanghai", offers={"venture_capital": 1.0}, seeks={"grain": 0.5})
    >>> ex = explain_match(model, a, b)
    >>> sorted(ex.contributions)
    ['agriculture', 'innovation', 'region']
    >>> bool(abs(sum(ex.contributions.values()) - ex.score) < 1e-12)
    True
    """
    tax = model.taxonomy
    terms: list[tuple[str, str, float]] = []
    contributions: dict[str, float] = {}
    for sector in sorted(set(northeast.offers) | set(northeast.seeks)):
        s = tax.sector_index[sector]
        weight = float(model.sector_weight[s])
        parts = [
            ("northeast_to_east", northeast.offers.get(sector, 0.0) * east.seeks.get(sector, 0.0)),
            ("east_to_northeast", northeast.seeks.get(sector, 0.0) * east.offers.get(sector, 0.0)),
        ]
        if model.synergy[s]:
            parts.append(
                ("synergy", northeast.offers.get(sector, 0.0) * east.offers.get(sector, 0.0))
            )
        for direction, product in parts:
            value = weight * product
            if value > 0:
                terms.append((sector, direction, value))
                channel = tax.sectors[s].channel
                contributions[channel] = contributions.get(channel, 0.0) + value
    ne_side, east_side = model.network.northeast, model.network.east
    region = float(model.region_term[ne_side.index[northeast.region], east_side.index[east.region]])
    if model.region_weight > 0:
        contributions["region"] = region
    return MatchExplanation(
        score=math.fsum(contributions.values()),
        contributions=contributions,
        terms=tuple(terms),
    )
