"""Enterprises: reciprocal partner scores and an exact top-k search over large populations.

An enterprise offers and seeks sectors (intensities in (0, 1]) and sits in a region. The score of
a northeast enterprise i and an eastern enterprise j is their **fit**, raised by the link between
their regions::

    fit(i, j)   = sum_s  w_c(s) / d_c(s) * [ O_is K_js + K_is O_js (+ O_is O_js) ]
    score(i, j) = fit(i, j) * (1 + w_region * x(r_i, r_j))

O and K are what the enterprises offer and seek, w_c(s) the weight of the sector's channel, d_c
its number of directions (2, or 3 with synergy, where both offering the same sector counts), and
x(r_i, r_j) = (t + S / S_max) / 2 in [0, 1] the region link: half the strongest tie in force
between the two regions (1 for official counterparts), half their region score relative to the
best region pair. The region link raises a fit by at most w_region (a factor of 1.1 by default)
and never replaces one: two enterprises with nothing to offer each other score 0 wherever they
are. Enterprise profiles are sparse, so sector terms are summed over sectors, not averaged.

For the search, each enterprise is a sparse vector of 2P features (what it seeks, then what it
offers, P sectors); a query is a vector over the same features, non-zero only on its own
sectors, and a fit is their dot product. The search is exact and reads only the query's own
sectors: it adds up, column by column, the query's features over every enterprise holding them (a
sparse column each), with enterprises laid out region by region so that the region link is one
multiplication per region. It then needs the k best of a million scores without sorting them:
the k-th largest of the maxima of 1,024 blocks is a score at least k enterprises reach, so only
the few enterprises at or above it are candidates, and those are ordered by score, then id. The
result is the same as scoring every enterprise one by one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

# SciPy's compiled products, y += A @ x in place, on arrays we slice ourselves.
from scipy.sparse._sparsetools import csc_matvec as _csc_matvec
from scipy.sparse._sparsetools import csr_matvec as _csr_matvec

from matching._types import FloatArray, IntArray
from matching._validate import check_array, check_count, check_number
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
    "population_arrays",
    "population_from_arrays",
    "search_partners",
]

SIZE_BANDS = ("micro", "small", "medium", "large")
OWNERSHIPS = ("state", "private", "foreign", "mixed")
#: Default bound of the region link: it raises a fit by at most this share (10 %), enough to
#: prefer a partner in a linked region among partners of nearly equal fit, never more.
DEFAULT_REGION_WEIGHT = 0.1


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
    """Everything a score needs besides the two profiles: sector weights and region multipliers.

    `sector_weight[s]` is w_c(s) / d_c(s); `synergy[s]` whether offering the same sector counts;
    `multiplier[a, b]` is 1 + w_region * x(a, b) for northeast region a and eastern region b, in
    [1, 1 + w_region].
    """

    taxonomy: Taxonomy
    network: Network
    sector_weight: FloatArray
    synergy: NDArray[np.bool_]
    multiplier: FloatArray
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
        region_weight = check_number("region_weight", region_weight, minimum=0.0)
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
        multiplier = 1.0 + region_weight * 0.5 * (network.ties + relative)
        for array in (sector_weight, synergy, multiplier):
            array.setflags(write=False)
        return cls(tax, network, sector_weight, synergy, multiplier, region_weight)

    @property
    def n_features(self) -> int:
        """2P: what an enterprise seeks, then what it offers."""
        return 2 * len(self.taxonomy.sectors)

    def query(
        self, enterprise: Enterprise, *, channel: str | None = None
    ) -> tuple[IntArray, FloatArray]:
        """The query vector of `enterprise` against the other side, as (features, coefficients).

        Partner e's fit (its score before the region link) is the dot product of these
        coefficients with e's features: the query's offers meet e's seeks (features 0..P-1),
        the query's seeks, and for synergy channels its offers too, meet e's offers (features
        P..2P-1).
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
    """One side's enterprises as arrays, rows sorted by id.

    `members` lists the rows region by region (by id within a region; region r's rows are
    `members[member_start[r]:member_start[r + 1]]`), and `columns` holds the features of the rows
    in that order, a sparse column per feature, in single precision: the layout the search
    screens with. `features` keeps them in double precision by row, for exact scores.
    """

    side: str
    ids: NDArray[np.bytes_]
    region: IntArray
    size: NDArray[np.int8]
    ownership: NDArray[np.int8]
    features: sp.csr_matrix
    members: IntArray
    member_start: IntArray
    columns: sp.csc_matrix
    #: Where each row sits in `members` (the inverse permutation).
    position: IntArray
    #: Ownership and size codes in `members` order, for the search's filters.
    ownership_by_position: NDArray[np.int8]
    size_by_position: NDArray[np.int8]
    #: The smallest feature value in single precision (inf for an empty population).
    smallest_feature: float = math.inf

    def __len__(self) -> int:
        return len(self.ids)

    def row_of(self, enterprise_id: str) -> int | None:
        """The row of an id, if it is in this population."""
        key = enterprise_id.encode()
        row = int(np.searchsorted(self.ids, key))
        return row if row < len(self.ids) and self.ids[row] == key else None

    def profile(self, row: int, network: Network) -> Enterprise:
        """The scoring profile of a row, read back from the arrays."""
        n_sectors = len(network.taxonomy.sectors)
        sector_ids = network.taxonomy.sector_ids
        start, stop = self.features.indptr[row], self.features.indptr[row + 1]
        seeks: dict[str, float] = {}
        offers: dict[str, float] = {}
        for f, value in zip(
            self.features.indices[start:stop].tolist(),
            self.features.data[start:stop].tolist(),
            strict=True,
        ):
            if f < n_sectors:
                seeks[sector_ids[f]] = value
            else:
                offers[sector_ids[f - n_sectors]] = value
        return Enterprise(
            id=self.ids[row].decode(),
            region=network.side(self.side).ids[int(self.region[row])],
            offers=offers,
            seeks=seeks,
            size=SIZE_BANDS[int(self.size[row])],
            ownership=OWNERSHIPS[int(self.ownership[row])],
        )

    def holding(self, features: Sequence[int]) -> NDArray[np.bool_]:
        """Which rows hold any of these features."""
        mask = np.zeros(len(self), dtype=bool)
        for f in features:
            positions = self.columns.indices[self.columns.indptr[f] : self.columns.indptr[f + 1]]
            mask[self.members[positions]] = True
        return mask


def build_population(enterprises: Iterable[Enterprise], network: Network, side: str) -> Population:
    """Arrays and postings of one side's enterprises (regions must be on that side).

    Raises
    ------
    ValueError
        If an enterprise's region is not a `side` region, or an id repeats.
    """
    return _assemble(side, *_columns_of(enterprises, network, side), network)


def _columns_of(
    enterprises: Iterable[Enterprise], network: Network, side: str
) -> tuple[NDArray[np.bytes_], IntArray, NDArray[np.int8], NDArray[np.int8], IntArray, IntArray,
           FloatArray]:  # fmt: skip
    """Ids, region, size and ownership codes by row (sorted by id), and the features as COO."""
    regions = network.side(side)
    items = sorted(enterprises, key=lambda e: e.id)
    ids = np.array([e.id.encode() for e in items], dtype=np.bytes_)
    if len(ids) > 1 and (ids[1:] == ids[:-1]).any():
        dup = ids[1:][ids[1:] == ids[:-1]][0].decode()
        raise ValueError(f"`enterprises`: duplicate id {dup!r}")
    unknown = next((e.region for e in items if e.region not in regions.index), None)
    if unknown is not None:
        raise ValueError(f"`enterprises`: {unknown!r} is not a {side} region")
    region = np.array([regions.index[e.region] for e in items], dtype=np.int64)
    size = np.array([SIZE_BANDS.index(e.size) for e in items], dtype=np.int8)
    ownership = np.array([OWNERSHIPS.index(e.ownership) for e in items], dtype=np.int8)
    rows, cols, vals = _feature_rows(items, network.taxonomy)
    return ids, region, size, ownership, rows, cols, vals


def update_population(
    population: Population,
    network: Network,
    *,
    drop: Iterable[str] = (),
    add: Iterable[Enterprise] = (),
) -> Population:
    """`population` without the enterprises `drop` names, and with `add` (new or newer versions).

    The same population as `build_population` of the enterprises that result, built from the
    arrays of the rows kept rather than from every profile again: an index that takes each
    write into a population of the enterprises written since its base does work in proportion
    to the write, not to the thousands written before it. Ids of `drop` that are not in the
    population are ignored; an enterprise of `add` replaces the row with its id.

    Raises
    ------
    ValueError
        If an enterprise of `add` is not in a region of the population's side, or an id repeats
        within `add`.
    """
    added_ids, added_region, added_size, added_ownership, added_rows, added_cols, added_vals = (
        _columns_of(add, network, population.side)
    )
    gone = [population.row_of(i) for i in (*drop, *(i.decode() for i in added_ids.tolist()))]
    keep = np.ones(len(population), dtype=bool)
    keep[[row for row in gone if row is not None]] = False
    kept = np.flatnonzero(keep)
    ids = np.concatenate([population.ids[kept], added_ids])
    # As wide as the longest id, as `build_population` makes them (not the wider of the two).
    ids = ids.astype(np.dtype((np.bytes_, max(1, int(np.char.str_len(ids).max(initial=1))))))
    order = np.argsort(ids, kind="stable")
    rank = np.empty(len(ids), dtype=np.int64)
    rank[order] = np.arange(len(ids))
    # The kept rows' features, gathered from their slices of the CSR arrays, then the added.
    features = population.features
    take, sub_indptr = _row_slices(features, kept)
    rows = [np.repeat(rank[: len(kept)], np.diff(sub_indptr)), rank[len(kept) :][added_rows]]
    cols = [features.indices[take].astype(np.int64), added_cols]
    vals = [features.data[take], added_vals]
    return _assemble(
        population.side,
        ids[order],
        np.concatenate([population.region[kept], added_region])[order],
        np.concatenate([population.size[kept], added_size])[order],
        np.concatenate([population.ownership[kept], added_ownership])[order],
        np.concatenate(rows),
        np.concatenate(cols),
        np.concatenate(vals),
        network,
    )


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
    features.sort_indices()
    members = np.lexsort((np.arange(n), region)).astype(np.int64)
    member_start = np.searchsorted(region[members], np.arange(n_regions + 1)).astype(np.int64)
    columns = features[members].tocsc().astype(np.float32)
    columns.sort_indices()
    position = np.empty(n, dtype=np.int64)
    position[members] = np.arange(n)
    return Population(
        side=side,
        ids=ids,
        region=region,
        size=size,
        ownership=ownership,
        features=features,
        members=members,
        member_start=member_start,
        columns=columns,
        position=position,
        ownership_by_position=ownership[members],
        size_by_position=size[members],
        smallest_feature=float(columns.data.min(initial=np.inf)),
    )


def population_arrays(population: Population) -> dict[str, NDArray[Any]]:
    """Every array of a population by name, to store and read back with `population_from_arrays`.

    The arrays themselves, not copies; the sparse matrices as their three arrays each
    (``features_data``, ``features_indices``, ``features_indptr``, and the same of
    ``columns``), and ``smallest_feature`` as a 0-d array.
    """
    arrays: dict[str, NDArray[Any]] = {
        "ids": population.ids,
        "region": population.region,
        "size": population.size,
        "ownership": population.ownership,
        "members": population.members,
        "member_start": population.member_start,
        "position": population.position,
        "ownership_by_position": population.ownership_by_position,
        "size_by_position": population.size_by_position,
        "smallest_feature": np.array(population.smallest_feature, dtype=np.float64),
    }
    for name, matrix in (("features", population.features), ("columns", population.columns)):
        arrays[f"{name}_data"] = matrix.data
        arrays[f"{name}_indices"] = matrix.indices
        arrays[f"{name}_indptr"] = matrix.indptr
    return arrays


def population_from_arrays(
    arrays: Mapping[str, NDArray[Any]], network: Network, side: str
) -> Population:
    """The population of `side` whose arrays `population_arrays` gave, taken as they are.

    Nothing is copied and only each array's first and last entries are read, so arrays mapped
    from files (``np.load(path, mmap_mode="r")``) stay mapped: their pages are read when a
    search reaches them, and shared by every process mapping the same files. The arrays are
    checked against each other and against the network's side (regions, and 2P features for
    its P sectors): their dtypes, shapes and the bounds of the index arrays; not every entry.

    Raises
    ------
    ValueError
        If an array is missing, or of another dtype or shape than a population of `side` has.

    Examples
    --------
    >>> from matching import synthetic_network
    >>> net = synthetic_network(3, 3, seed=0)
    >>> sector = net.taxonomy.sector_ids[0]
    >>> region = net.east.ids[0]
    >>> built = build_population([Enterprise("e1", region, {sector: 1.0}, {})], net, "east")
    >>> again = population_from_arrays(population_arrays(built), net, "east")
    >>> again.profile(0, net) == built.profile(0, net)
    True
    >>> arrays = population_arrays(built)
    >>> population_from_arrays(arrays | {"region": arrays["region"][:0]}, net, "east")
    Traceback (most recent call last):
    ...
    ValueError: `region` must be an array of shape (1,), got (0,)
    """
    missing = [name for name in _POPULATION_ARRAYS if name not in arrays]
    if missing:
        raise ValueError(f"`arrays` lacks {', '.join(missing)}")
    n_regions = len(network.side(side))
    n_features = 2 * len(network.taxonomy.sectors)
    ids = check_array("ids", arrays["ids"], dtypes=("S",))
    n = len(ids)
    int8, int64 = (np.int8,), (np.int64,)
    row_arrays = (("region", int64), ("size", int8), ("ownership", int8), ("members", int64),
                  ("position", int64), ("ownership_by_position", int8),
                  ("size_by_position", int8))  # fmt: skip
    for name, dtypes in row_arrays:
        check_array(name, arrays[name], dtypes=dtypes, shape=(n,))
    member_start = check_array(
        "member_start", arrays["member_start"], dtypes=int64, shape=(n_regions + 1,)
    )
    if member_start[0] != 0 or member_start[-1] != n:
        raise ValueError(f"`member_start` must run from 0 to {n}")
    smallest = check_array("smallest_feature", arrays["smallest_feature"], dtypes=(np.float64,))
    if smallest.shape != ():
        raise ValueError(f"`smallest_feature` must be a 0-d array, got shape {smallest.shape}")
    features = _compressed(arrays, "features", np.float64, (n, n_features), sp.csr_matrix)
    columns = _compressed(arrays, "columns", np.float32, (n, n_features), sp.csc_matrix)
    return Population(
        side=side,
        ids=ids,
        region=arrays["region"],
        size=arrays["size"],
        ownership=arrays["ownership"],
        features=features,
        members=arrays["members"],
        member_start=member_start,
        columns=columns,
        position=arrays["position"],
        ownership_by_position=arrays["ownership_by_position"],
        size_by_position=arrays["size_by_position"],
        smallest_feature=float(smallest),
    )


#: The arrays `population_arrays` gives and `population_from_arrays` needs.
_POPULATION_ARRAYS = (
    "ids", "region", "size", "ownership", "members", "member_start", "position",
    "ownership_by_position", "size_by_position", "smallest_feature",
    "features_data", "features_indices", "features_indptr",
    "columns_data", "columns_indices", "columns_indptr",
)  # fmt: skip


def _compressed(
    arrays: Mapping[str, NDArray[Any]],
    name: str,
    dtype: type[np.floating[Any]],
    shape: tuple[int, int],
    kind: type[sp.csr_matrix] | type[sp.csc_matrix],
) -> Any:
    """A CSR or CSC matrix over three stored arrays, without copying them."""
    major = shape[0] if kind is sp.csr_matrix else shape[1]
    indptr = check_array(
        f"{name}_indptr", arrays[f"{name}_indptr"], dtypes=(np.int32, np.int64), shape=(major + 1,)
    )
    nnz = int(indptr[-1])
    data = check_array(f"{name}_data", arrays[f"{name}_data"], dtypes=(dtype,), shape=(nnz,))
    indices = check_array(
        f"{name}_indices", arrays[f"{name}_indices"], dtypes=(indptr.dtype,), shape=(nnz,)
    )
    if indptr[0] != 0:
        raise ValueError(f"`{name}_indptr` must start at 0, got {indptr[0]}")
    matrix = kind((data, indices, indptr), shape=shape, copy=False)
    if nnz and not (
        np.shares_memory(matrix.data, data) and np.shares_memory(matrix.indices, indices)
    ):
        raise ValueError(f"`{name}` arrays are not in the layout a search reads without copying")
    # `_assemble` stores them canonical (sorted, no duplicates): scipy must not sort in place.
    matrix.has_canonical_format = True
    return matrix


@dataclass(frozen=True)
class SearchFilters:
    """Which partners qualify: by region (row in the side), ownership and size codes."""

    regions: frozenset[int] | None = None
    ownership: frozenset[int] | None = None
    size: frozenset[int] | None = None
    min_score: float | None = None


@dataclass(frozen=True)
class Match:
    """A partner found: its row in the searched population and its score."""

    row: int
    score: float


#: Blocks whose maxima bound the k-th best score from below.
_BLOCKS = 1024


def _screen(
    columns: sp.csc_matrix, features: IntArray, coefficients: NDArray[np.float32]
) -> NDArray[np.float32]:
    """The product of the query's columns with its coefficients, in single precision.

    The same sums, in the same order, as ``columns[:, features] @ coefficients``, without
    copying the columns out first (a third of the product's time on a million rows): each
    column is added into the result where it lies, by SciPy's own compiled product.
    """
    screen = np.zeros(columns.shape[0], dtype=np.float32)
    indptr, indices, data = columns.indptr, columns.indices, columns.data
    for feature, coefficient in zip(features.tolist(), coefficients.tolist(), strict=True):
        start, stop = int(indptr[feature]), int(indptr[feature + 1])
        if stop > start:
            _csc_matvec(
                columns.shape[0], 1, np.array([0, stop - start], dtype=indptr.dtype),
                indices[start:stop], data[start:stop], np.array([coefficient], dtype=np.float32),
                screen,
            )  # fmt: skip
    return screen


def _row_slices(features: sp.csr_matrix, rows: IntArray) -> tuple[IntArray, IntArray]:
    """Where the entries of `rows` lie in the CSR arrays, laid end to end, and their indptr.

    ``features.indices[take]`` and ``features.data[take]`` are the rows' entries in order;
    the returned indptr delimits each row's run among them.
    """
    indptr = features.indptr
    starts, stops = indptr[rows], indptr[rows + 1]
    lengths = stops - starts
    sub_indptr = np.zeros(len(rows) + 1, dtype=indptr.dtype)
    np.cumsum(lengths, out=sub_indptr[1:])
    take = np.repeat(starts - sub_indptr[:-1], lengths) + np.arange(sub_indptr[-1])
    return take, sub_indptr


def _rows_times(features: sp.csr_matrix, rows: IntArray, dense: FloatArray) -> FloatArray:
    """``features[rows] @ dense``, the same sums in the same order, without SciPy's indexing.

    Indexing a few rows out of a million costs SciPy a tenth of a millisecond of checks and
    copies; here the rows' slices are gathered and multiplied by the same compiled product.
    """
    take, sub_indptr = _row_slices(features, rows)
    out = np.zeros(len(rows), dtype=np.result_type(features.dtype, dense.dtype))
    _csr_matvec(
        len(rows), features.shape[1], sub_indptr, features.indices[take], features.data[take],
        dense.astype(out.dtype, copy=False), out,
    )  # fmt: skip
    return out


def search_partners(
    population: Population,
    features: IntArray,
    coefficients: FloatArray,
    multiplier: FloatArray,
    *,
    k: int,
    filters: SearchFilters | None = None,
    removed: IntArray | None = None,
) -> list[Match]:
    """The k best partners in `population` for a query vector, exactly.

    Parameters
    ----------
    population : Population
        The side searched.
    features, coefficients : ndarray
        The query vector (see `EnterpriseModel.query`); coefficients are non-negative.
    multiplier : ndarray, shape (regions of the side,)
        The region link of each partner region with the querying enterprise's region,
        ``EnterpriseModel.multiplier`` (the caller passes ones to rank on one channel).
    k : int
        How many partners.
    filters : SearchFilters, optional
        Partner region, ownership, size and a minimum score.
    removed : ndarray of int, optional
        Rows to leave out (deleted, or superseded by a newer version).

    Returns
    -------
    list of Match
        Best first; equal scores in id order. Only partners with a positive fit are returned.
        Scores are exact: the partner's features against the query, in feature order, times its
        region's multiplier.
    """
    k = check_count("k", k, minimum=1)
    filters = filters or SearchFilters()
    n = len(population)
    if n == 0:
        return []
    starts = population.member_start
    # Screening, in single precision (half the memory traffic of double), in `members` order:
    # the query's columns only (one sparse product over them), then the region link, one
    # multiplication per region.
    coefficients32 = coefficients.astype(np.float32)
    screen = _screen(population.columns, features, coefficients32)
    multiplier32 = multiplier.astype(np.float32)
    for r in np.flatnonzero(multiplier32 != 1).tolist():
        screen[starts[r] : starts[r + 1]] *= multiplier32[r]
    if filters.regions is not None:
        for r in range(len(starts) - 1):
            if r not in filters.regions:
                screen[starts[r] : starts[r + 1]] = -np.inf
    for codes, allowed, options in (
        (population.ownership_by_position, filters.ownership, OWNERSHIPS),
        (population.size_by_position, filters.size, SIZE_BANDS),
    ):
        if allowed is not None and len(allowed) < len(options):
            table = np.ones(len(options), dtype=bool)
            table[list(allowed)] = False
            np.copyto(screen, np.float32(-np.inf), where=table[codes])
    if removed is not None and len(removed):
        screen[population.position[removed]] = -np.inf
    # A screened score is off its exact value by at most `error`: a few ulps of the largest
    # score any enterprise could reach, per term added (and one for the multiplication).
    reach = float(np.abs(coefficients).sum() * max(1.0, float(multiplier.max(initial=1.0))))
    error = (len(features) + 3) * reach * float(np.finfo(np.float32).eps)
    # Partners score at least min_score: screened at or above it less the error. A partner with
    # no fit screens to exactly 0; one with a fit screens above 0 unless a float32 product can
    # underflow, so where none can, only positive screens are candidates.
    floor = (0.0 if filters.min_score is None else max(0.0, filters.min_score)) - error
    positive = coefficients32[coefficients32 > 0]
    if len(positive) == len(coefficients) and (
        float(positive.min(initial=np.inf)) * population.smallest_feature
        > float(np.finfo(np.float32).tiny)
    ):
        floor = max(floor, float(np.finfo(np.float32).smallest_subnormal))
    if n >= _BLOCKS * 2 and _BLOCKS >= k:
        # At least k enterprises reach the k-th largest block maximum: allowing for the
        # screening error, only those screened at or above it less twice the error can be
        # among the k best.
        width = n // _BLOCKS
        maxima = screen[: width * _BLOCKS].reshape(_BLOCKS, width).max(axis=1)
        floor = max(floor, float(np.partition(maxima, _BLOCKS - k)[_BLOCKS - k]) - 2 * error)
        # Every candidate lies in a block whose maximum reaches the floor (a few blocks), or in
        # the rows past the last block: only those are scanned, not the whole screen.
        blocks = np.flatnonzero(maxima >= floor).tolist()
        parts = [b * width + np.flatnonzero(screen[b * width : (b + 1) * width] >= floor)
                 for b in blocks]  # fmt: skip
        parts.append(width * _BLOCKS + np.flatnonzero(screen[width * _BLOCKS :] >= floor))
        candidates = np.concatenate(parts)
    else:
        candidates = np.flatnonzero(screen >= floor)
    rows = population.members[candidates]
    # Exact scores of the few candidates, in double precision and in the order of additions of
    # scoring one enterprise on its own (its features by column, then its region's multiplier).
    dense = np.zeros(population.features.shape[1])
    dense[features] = coefficients
    values = _rows_times(population.features, rows, dense) * multiplier[population.region[rows]]
    keep = values > 0
    if filters.min_score is not None:
        keep &= values >= filters.min_score
    rows, values = rows[keep], values[keep]
    order = np.lexsort((population.ids[rows], -values))[:k]
    return [Match(int(rows[o]), float(values[o])) for o in order]


@dataclass(frozen=True)
class MatchExplanation:
    """A match's score split into contributions and terms.

    Contributions are the channels' parts of the fit (each the sum of its sector terms) and
    ``region``, what the region link adds to the fit; they add up to the score.
    """

    score: float
    contributions: dict[str, float]
    terms: tuple[tuple[str, str, float], ...]  # (sector, direction, value)


def explain_match(
    model: EnterpriseModel, northeast: Enterprise, east: Enterprise, *, channel: str | None = None
) -> MatchExplanation:
    """Every part of the score of a northeast and an eastern enterprise.

    With `channel`, only that channel's part: the score a search ranking on that channel gives
    (its sector terms, without the region term).

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
        if channel is not None and tax.sectors[s].channel != channel:
            continue
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
                own = tax.sectors[s].channel
                contributions[own] = contributions.get(own, 0.0) + value
    if channel is not None:
        contributions = {channel: contributions.get(channel, 0.0)}
    elif model.region_weight > 0:
        # The region link multiplies the fit: its part of the score is fit x (multiplier - 1).
        ne_side, east_side = model.network.northeast, model.network.east
        i, j = ne_side.index[northeast.region], east_side.index[east.region]
        fit = math.fsum(contributions.values())
        contributions["region"] = fit * (float(model.multiplier[i, j]) - 1.0)
    return MatchExplanation(
        score=math.fsum(contributions.values()),
        contributions=contributions,
        terms=tuple(terms),
    )
