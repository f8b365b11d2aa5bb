"""The counterpart network as arrays: two sides of profiles and the ties between them.

Rows of every matrix follow the side's `ids`; columns of strength and need matrices follow the
taxonomy's `sector_ids`; columns of factor matrices follow `FACTOR_IDS`. Arrays are read-only, so
a `Network` can be shared between threads and scenarios without copying.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from matching._types import BoolArray, FloatArray
from matching.dataset import LEVELS, Dataset, Tie
from matching.errors import UnknownRegionError
from matching.outcomes import DEFAULT_HALF_LIFE_DAYS, Outcome, outcome_evidence
from matching.taxonomy import FACTOR_IDS, Taxonomy, load_taxonomy

__all__ = ["Network", "Side", "network_from_dataset", "synthetic_network", "ties_in_force"]

_A = TypeVar("_A", bound=NDArray[Any])


def _frozen(array: _A) -> _A:
    array.setflags(write=False)
    return array


def _shares(values: FloatArray) -> FloatArray:
    totals = values.sum(axis=1, keepdims=True)
    shares = np.divide(values, totals, out=np.zeros_like(values), where=totals > 0)
    return _frozen(shares)


@dataclass(frozen=True, eq=False)
class Side:
    """The regions of one side with their profiles as matrices."""

    ids: tuple[str, ...]
    levels: tuple[str, ...]
    strengths: FloatArray
    needs: FloatArray
    factors: FloatArray

    @cached_property
    def index(self) -> Mapping[str, int]:
        """Region id to row."""
        return {region_id: i for i, region_id in enumerate(self.ids)}

    @cached_property
    def strength_shares(self) -> FloatArray:
        """Each region's strengths as shares of their sum (a row of zeros stays zeros)."""
        return _shares(self.strengths)

    @cached_property
    def need_shares(self) -> FloatArray:
        """Each region's needs as shares of their sum (a row of zeros stays zeros)."""
        return _shares(self.needs)

    @cached_property
    def level_codes(self) -> NDArray[np.int64]:
        """Levels as integer codes (positions in `LEVELS`), for vectorised comparisons."""
        return np.array([LEVELS.index(level) for level in self.levels], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, rows: Sequence[int] | NDArray[np.int64]) -> Side:
        """The side restricted to `rows`, in that order."""
        index = np.asarray(rows, dtype=np.int64)
        return Side(
            ids=tuple(self.ids[i] for i in index.tolist()),
            levels=tuple(self.levels[i] for i in index.tolist()),
            strengths=_frozen(self.strengths[index]),
            needs=_frozen(self.needs[index]),
            factors=_frozen(self.factors[index]),
        )


@dataclass(frozen=True, eq=False)
class Network:
    """Northeast and eastern sides plus the ties between them.

    Attributes
    ----------
    ties : ndarray, shape (n_northeast, n_east)
        Strength of the strongest recorded tie of each pair in [0, 1]; 0 where there is none.
    existing : ndarray of bool, same shape
        Whether the pair already cooperates (an official pairing or any recorded tie). Existing
        pairs are scored and shown, never suggested.
    evidence : ndarray, same shape, optional
        Outcome evidence o(i, j) in [0, 1] at the evaluation date (see `matching.outcomes`);
        None when no outcome is known, which scores as zeros.
    """

    taxonomy: Taxonomy
    northeast: Side
    east: Side
    ties: FloatArray
    existing: BoolArray
    evidence: FloatArray | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """(number of northeast regions, number of eastern regions)."""
        return len(self.northeast), len(self.east)

    def side(self, name: str) -> Side:
        """The side called `name` ('northeast' or 'east')."""
        if name == "northeast":
            return self.northeast
        if name == "east":
            return self.east
        raise ValueError(f"`side` must be 'northeast' or 'east', got {name!r}")

    def restrict(
        self,
        *,
        northeast: Sequence[int] | NDArray[np.int64] | None = None,
        east: Sequence[int] | NDArray[np.int64] | None = None,
    ) -> Network:
        """The sub-network of some rows and/or columns (all of a side when not given)."""
        rows = np.arange(len(self.northeast)) if northeast is None else np.asarray(northeast)
        cols = np.arange(len(self.east)) if east is None else np.asarray(east)
        return Network(
            taxonomy=self.taxonomy,
            northeast=self.northeast.take(rows),
            east=self.east.take(cols),
            ties=_frozen(self.ties[np.ix_(rows, cols)]),
            existing=_frozen(self.existing[np.ix_(rows, cols)]),
            evidence=None if self.evidence is None else _frozen(self.evidence[np.ix_(rows, cols)]),
        )

    def locate(self, region_id: str, *, field: str | None = None) -> tuple[str, int]:
        """The side and row of a region.

        Raises
        ------
        UnknownRegionError
            If the network has no such region; `field` names the parameter that asked for it.

        Examples
        --------
        >>> net = synthetic_network(2, 2)
        >>> net.locate("ea1")
        ('east', 1)
        >>> net.locate("atlantis", field="capacities")
        Traceback (most recent call last):
        ...
        matching.errors.UnknownRegionError: `capacities`: no region with id 'atlantis'
        """
        for name in ("northeast", "east"):
            index = self.side(name).index.get(region_id)
            if index is not None:
                return name, index
        raise UnknownRegionError(region_id, field=field)


def _side_from_regions(dataset: Dataset, side: str) -> Side:
    taxonomy = dataset.taxonomy
    regions = [r for r in dataset.regions if r.side == side]
    strengths = np.zeros((len(regions), len(taxonomy.sectors)))
    needs = np.zeros_like(strengths)
    factors = np.zeros((len(regions), len(FACTOR_IDS)))
    for row, region in enumerate(regions):
        for sector, item in region.strengths.items():
            strengths[row, taxonomy.sector_index[sector]] = item.value
        for sector, item in region.needs.items():
            needs[row, taxonomy.sector_index[sector]] = item.value
        factors[row] = [region.factors[f].value for f in FACTOR_IDS]
    return Side(
        ids=tuple(r.id for r in regions),
        levels=tuple(r.level for r in regions),
        strengths=_frozen(strengths),
        needs=_frozen(needs),
        factors=_frozen(factors),
    )


def ties_in_force(dataset: Dataset, as_of: datetime.date | None = None) -> tuple[Tie, ...]:
    """The dataset's ties that had started by `as_of` (default: the plan's adoption).

    Ties that start later are results of the plan: they belong to its evaluation, not to the
    baseline cooperation the pairing factors describe.

    Examples
    --------
    >>> from matching.dataset import load_dataset
    >>> ds = load_dataset()
    >>> len(ties_in_force(ds)) < len(ties_in_force(ds, datetime.date(2030, 1, 1)))
    True
    """
    when = dataset.adopted if as_of is None else as_of
    if not isinstance(when, datetime.date):
        raise ValueError(f"`as_of` must be a date, got {when!r}")
    return tuple(t for t in dataset.ties if t.start <= when)


def network_from_dataset(
    dataset: Dataset,
    *,
    as_of: datetime.date | None = None,
    outcomes: Iterable[Outcome] = (),
    half_life: float = DEFAULT_HALF_LIFE_DAYS,
) -> Network:
    """Build the network's matrices from a validated dataset, with the ties in force at `as_of`.

    `as_of` defaults to the plan's adoption (`Dataset.adopted`): the official pairs and the ties
    that existed then. A later date adds the ties the plan produced since. The `outcomes` dated
    on or before `as_of` give each pair its outcome evidence (decayed with `half_life` days, see
    `matching.outcomes.outcome_evidence`), which the cooperation factor uses; later ones are
    ignored.

    Examples
    --------
    >>> from matching.dataset import load_dataset
    >>> ds = load_dataset()
    >>> net = network_from_dataset(ds)
    >>> net.shape
    (7, 7)
    >>> bool(net.existing[net.northeast.index["harbin"], net.east.index["shenzhen"]])
    True
    >>> later = network_from_dataset(ds, as_of=datetime.date(2020, 1, 1))
    >>> i, j = net.northeast.index["heilongjiang"], net.east.index["shenzhen"]
    >>> bool(net.existing[i, j]), bool(later.existing[i, j])
    (False, True)
    >>> from matching.outcomes import load_outcomes
    >>> _, published = load_outcomes(ds)
    >>> network_from_dataset(ds, outcomes=published).evidence is None   # none before adoption
    True
    """
    northeast = _side_from_regions(dataset, "northeast")
    east = _side_from_regions(dataset, "east")
    ties = np.zeros((len(northeast), len(east)))
    existing = np.zeros(ties.shape, dtype=bool)
    for tie in ties_in_force(dataset, as_of):
        i, j = northeast.index[tie.northeast], east.index[tie.east]
        ties[i, j] = max(ties[i, j], tie.strength)
        existing[i, j] = True
    when = dataset.adopted if as_of is None else as_of
    evidence = outcome_evidence(outcomes, northeast.ids, east.ids, as_of=when, half_life=half_life)
    return Network(
        taxonomy=dataset.taxonomy,
        northeast=northeast,
        east=east,
        ties=_frozen(ties),
        existing=_frozen(existing),
        evidence=evidence.matrix if evidence.drawn else None,
    )


def _synthetic_side(
    rng: np.random.Generator,
    n: int,
    prefix: str,
    taxonomy: Taxonomy,
    strong_channels: NDArray[np.bool_],
    density: float,
) -> Side:
    n_sectors = len(taxonomy.sectors)
    channel_of = np.array([taxonomy.channel_index[s.channel] for s in taxonomy.sectors])
    # Sides lean on different channels (the northeast on industry and resources, the east on
    # institutions and capital), which is what makes the two sides complementary.
    lean = np.where(strong_channels[channel_of], 1.6, 0.6)
    strength_odds = np.clip(density * lean, 0.0, 1.0)
    need_odds = np.clip(density * (2.2 - lean), 0.0, 1.0)
    strengths = rng.random((n, n_sectors)) * (rng.random((n, n_sectors)) < strength_odds)
    needs = rng.random((n, n_sectors)) * (rng.random((n, n_sectors)) < need_odds)
    width = len(str(max(n - 1, 1)))
    return Side(
        ids=tuple(f"{prefix}{i:0{width}d}" for i in range(n)),
        levels=tuple(LEVELS[int(code)] for code in rng.integers(0, len(LEVELS), size=n)),
        strengths=_frozen(np.round(strengths, 3)),
        needs=_frozen(np.round(needs, 3)),
        factors=_frozen(np.round(rng.random((n, len(FACTOR_IDS))), 3)),
    )


def synthetic_network(
    n_northeast: int,
    n_east: int,
    *,
    seed: int = 0,
    density: float = 0.3,
    tie_density: float = 0.02,
    taxonomy: Taxonomy | None = None,
) -> Network:
    """A random network of the given size, for tests and benchmarks.

    Each region has strengths and needs on roughly `density` of the sectors; a `tie_density`
    share of the pairs already cooperate. Deterministic for a seed.

    Examples
    --------
    >>> net = synthetic_network(3, 4, seed=1)
    >>> net.shape, net.northeast.ids[0], net.east.ids[-1]
    ((3, 4), 'ne0', 'ea3')
    """
    if n_northeast < 1 or n_east < 1:
        raise ValueError(
            f"`n_northeast` and `n_east` must be positive, got {n_northeast} and {n_east}"
        )
    taxonomy = taxonomy or load_taxonomy()
    rng = np.random.default_rng(seed)
    industrial = np.array([c.kind == "docking" for c in taxonomy.channels])
    northeast = _synthetic_side(rng, n_northeast, "ne", taxonomy, industrial, density)
    east = _synthetic_side(rng, n_east, "ea", taxonomy, ~industrial, density)
    existing = rng.random((n_northeast, n_east)) < tie_density
    ties = np.where(existing, np.round(rng.uniform(0.2, 1.0, existing.shape), 3), 0.0)
    return Network(
        taxonomy=taxonomy,
        northeast=northeast,
        east=east,
        ties=_frozen(ties),
        existing=_frozen(existing),
    )
