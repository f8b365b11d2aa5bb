"""The plan's effectiveness: totals, trends, targets, a league of pairs, gaps, and calibration.

`evaluation_report` aggregates outcomes over a range of years, for the whole plan or one pair;
`calibration` asks whether higher predicted scores led to more outcomes. Both are vectorised
over the outcomes (one `np.add.at` per table), so a report over thousands of outcomes takes a
few milliseconds.

**Activity index.** Indicators have different units (yuan, projects, people), so pairs are
compared on an index: for each indicator reported by any pair, the pair's amount over the
largest pair's amount, averaged over those indicators. It is in [0, 1]; 1 for a pair leading
every reported indicator. The league table ranks pairs by it; calibration correlates it with
the score.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import spearmanr

from matching._types import FloatArray
from matching._validate import check_count
from matching.dataset import Dataset
from matching.network import Network, network_from_dataset
from matching.outcomes import (
    DEFAULT_HALF_LIFE_DAYS,
    INDICATOR_UNITS,
    OUTCOME_INDICATORS,
    Outcome,
    Target,
)
from matching.scoring import Weights, score_components

__all__ = [
    "Attainment",
    "CalibrationYear",
    "EvaluationReport",
    "IndicatorSummary",
    "PairActivity",
    "RegionGaps",
    "activity_index",
    "calibration",
    "evaluation_report",
]


def activity_index(amounts: FloatArray) -> FloatArray:
    """The activity index of every pair from its amounts, shape (indicators, pairs).

    Examples
    --------
    >>> activity_index(np.array([[10.0, 5.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 0.0]])).tolist()
    [0.5, 0.75, 0.0]
    """
    peaks = amounts.max(axis=1, initial=0.0)
    reported = peaks > 0
    if not reported.any():
        return np.zeros(amounts.shape[1])
    shares = amounts[reported] / peaks[reported, None]
    result: FloatArray = shares.mean(axis=0)
    return result


@dataclass(frozen=True)
class IndicatorSummary:
    """One indicator over the range: its total, its yearly series, and the same per channel.

    An outcome with several channels counts in each of them, so channel totals can add up to
    more than the total. `slope` is the least-squares trend in units per year (None for a
    range of one year).
    """

    indicator: str
    unit: str
    total: float
    by_year: tuple[float, ...]
    slope: float | None
    by_channel: Mapping[str, float]
    by_channel_year: Mapping[str, tuple[float, ...]]


@dataclass(frozen=True)
class PairActivity:
    """A pair's row of the league table: rank, activity index, outcomes and totals."""

    rank: int
    northeast: str
    east: str
    index: float
    outcomes: int
    totals: Mapping[str, float]
    channels: tuple[str, ...]
    existing: bool


@dataclass(frozen=True)
class Attainment:
    """A target and what the pair achieved in its year: `ratio` = actual / target."""

    target: Target
    actual: float
    ratio: float | None
    met: bool


@dataclass(frozen=True)
class RegionGaps:
    """The channels in which a northeast region has no active partnership over the range."""

    northeast: str
    channels: tuple[str, ...]


@dataclass(frozen=True)
class EvaluationReport:
    """The effectiveness report of the plan, or of one pair, over a range of years."""

    first_year: int
    last_year: int
    pair: tuple[str, str] | None
    outcomes: int
    indicators: tuple[IndicatorSummary, ...]
    league: tuple[PairActivity, ...]
    attainment: tuple[Attainment, ...]
    inactive: tuple[tuple[str, str], ...]
    gaps: tuple[RegionGaps, ...]

    @property
    def years(self) -> tuple[int, ...]:
        """The years of the range, in order."""
        return tuple(range(self.first_year, self.last_year + 1))


def _check_years(first_year: int, last_year: int) -> None:
    check_count("first_year", first_year, minimum=1)
    check_count("last_year", last_year, minimum=1)
    if last_year < first_year:
        raise ValueError(
            f"`last_year` must not be before `first_year`, got {first_year} to {last_year}"
        )


def evaluation_report(
    network: Network,
    outcomes: Iterable[Outcome],
    targets: Iterable[Target] = (),
    *,
    first_year: int,
    last_year: int,
    pair: tuple[str, str] | None = None,
) -> EvaluationReport:
    """Aggregate the outcomes of `network`'s pairs dated in ``[first_year, last_year]``.

    The pairs considered are the network's existing ties (pass the network at the end of the
    range to count the ties formed meanwhile), the pairs with a target in the range and the
    pairs with outcomes; `inactive` lists those without any outcome. `gaps` lists, for each
    northeast region, the channels none of its outcomes belongs to. With `pair` (northeast id,
    east id), everything is restricted to that pair.

    Raises
    ------
    UnknownRegionError
        If `pair` names a region the network does not have.
    ValueError
        For a range that ends before it starts, or a pair the wrong way round.

    Examples
    --------
    >>> from matching.dataset import load_dataset
    >>> from matching.outcomes import load_outcomes
    >>> ds = load_dataset()
    >>> report = evaluation_report(
    ...     network_from_dataset(ds), load_outcomes(ds)[1], first_year=2018, last_year=2019)
    >>> report.league[0].northeast, report.league[0].east
    ('shenyang', 'beijing')
    >>> ("dalian", "shanghai") in report.inactive
    True
    """
    _check_years(first_year, last_year)
    ne_ids, east_ids = network.northeast.ids, network.east.ids
    channels = network.taxonomy.channel_ids
    n, m = network.shape
    only: tuple[int, int] | None = None
    if pair is not None:
        (side_a, row), (side_b, col) = network.locate(pair[0]), network.locate(pair[1])
        if (side_a, side_b) != ("northeast", "east"):
            raise ValueError(f"`pair` must be [northeast id, east id], got {list(pair)}")
        only = (row, col)
    ne_index, east_index = network.northeast.index, network.east.index
    first_day, last_day = datetime.date(first_year, 1, 1), datetime.date(last_year, 12, 31)
    kept = [
        o
        for o in outcomes
        if first_day <= o.date <= last_day
        and o.northeast in ne_index
        and o.east in east_index
        and (pair is None or (o.northeast, o.east) == pair)
    ]
    n_years, n_kinds = last_year - first_year + 1, len(OUTCOME_INDICATORS)
    kind_of = {k: i for i, k in enumerate(OUTCOME_INDICATORS)}
    channel_of = network.taxonomy.channel_index
    flat = np.array([ne_index[o.northeast] * m + east_index[o.east] for o in kept], dtype=np.int64)
    kinds = np.array([kind_of[o.indicator] for o in kept], dtype=np.int64)
    years = np.array([o.date.year - first_year for o in kept], dtype=np.int64)
    values = np.array([o.value for o in kept], dtype=np.float64)
    # Which channels each outcome belongs to, set in one indexing operation.
    member = np.zeros((len(kept), len(channels)), dtype=bool)
    hit_rows = [k for k, o in enumerate(kept) for c in o.channels if c in channel_of]
    hit_cols = [channel_of[c] for o in kept for c in o.channels if c in channel_of]
    member[hit_rows, hit_cols] = True

    by_year = np.zeros((n_kinds, n_years))
    np.add.at(by_year, (kinds, years), values)
    by_channel_year = np.zeros((len(channels), n_kinds, n_years))
    rows, cols = np.nonzero(member)
    np.add.at(by_channel_year, (cols, kinds[rows], years[rows]), values[rows])
    pair_totals = np.zeros((n_kinds, n * m))
    np.add.at(pair_totals, (kinds, flat), values)
    pair_counts = np.bincount(flat, minlength=n * m)
    pair_channels = np.zeros((n * m, len(channels)), dtype=bool)
    np.logical_or.at(pair_channels, flat[rows], member[rows])

    indicators = tuple(
        _indicator_summary(k, by_year[k], by_channel_year[:, k], channels) for k in range(n_kinds)
    )
    targets_in_range = [
        t
        for t in targets
        if first_year <= t.year <= last_year
        and t.northeast in network.northeast.index
        and t.east in network.east.index
        and (pair is None or (t.northeast, t.east) == pair)
    ]
    considered = network.existing.ravel() | (pair_counts > 0)
    for t in targets_in_range:
        considered[network.northeast.index[t.northeast] * m + network.east.index[t.east]] = True
    if only is not None:
        considered = np.zeros(n * m, dtype=bool)
        considered[only[0] * m + only[1]] = True
    index = activity_index(pair_totals)
    league_cells = np.flatnonzero(considered & (pair_counts > 0))
    order = league_cells[
        np.lexsort((league_cells, -pair_counts[league_cells], -index[league_cells]))
    ]
    league = tuple(
        PairActivity(
            rank=rank,
            northeast=ne_ids[cell // m],
            east=east_ids[cell % m],
            index=float(index[cell]),
            outcomes=int(pair_counts[cell]),
            totals={
                OUTCOME_INDICATORS[k]: float(pair_totals[k, cell])
                for k in range(n_kinds)
                if pair_totals[k, cell] > 0
            },
            channels=tuple(c for c, on in zip(channels, pair_channels[cell], strict=True) if on),
            existing=bool(network.existing.ravel()[cell]),
        )
        for rank, cell in enumerate(order.tolist(), start=1)
    )
    inactive = tuple(
        (ne_ids[cell // m], east_ids[cell % m])
        for cell in np.flatnonzero(considered & (pair_counts == 0)).tolist()
    )
    achieved: dict[tuple[str, str, str, int], float] = defaultdict(float)
    wanted = {(t.northeast, t.east, t.indicator, t.year) for t in targets_in_range}
    for o in kept if wanted else ():
        key = (o.northeast, o.east, o.indicator, o.date.year)
        if key in wanted:
            achieved[key] += o.value
    attainment = tuple(
        _attainment(t, achieved[(t.northeast, t.east, t.indicator, t.year)])
        for t in targets_in_range
    )
    region_rows = range(n) if only is None else (only[0],)
    per_region = np.asarray(pair_channels.reshape(n, m, len(channels)).any(axis=1), dtype=bool)
    gaps = tuple(
        RegionGaps(
            northeast=ne_ids[i],
            channels=tuple(c for c, on in zip(channels, per_region[i], strict=True) if not on),
        )
        for i in region_rows
    )
    return EvaluationReport(
        first_year=first_year,
        last_year=last_year,
        pair=pair,
        outcomes=len(kept),
        indicators=indicators,
        league=league,
        attainment=tuple(sorted(attainment, key=_attainment_order)),
        inactive=inactive,
        gaps=gaps,
    )


def _attainment_order(a: Attainment) -> tuple[int, str, str, int]:
    t = a.target
    return (t.year, t.northeast, t.east, OUTCOME_INDICATORS.index(t.indicator))


def _attainment(target: Target, actual: float) -> Attainment:
    ratio = actual / target.value if target.value > 0 else None
    return Attainment(target, actual, ratio, actual >= target.value)


def _indicator_summary(
    k: int, by_year: FloatArray, by_channel_year: FloatArray, channels: Sequence[str]
) -> IndicatorSummary:
    indicator = OUTCOME_INDICATORS[k]
    slope = None
    if len(by_year) > 1:
        slope = float(np.polyfit(np.arange(len(by_year)), by_year, 1)[0])
    return IndicatorSummary(
        indicator=indicator,
        unit=INDICATOR_UNITS[indicator],
        total=float(by_year.sum()),
        by_year=tuple(by_year.tolist()),
        slope=slope,
        by_channel={c: float(by_channel_year[i].sum()) for i, c in enumerate(channels)},
        by_channel_year={c: tuple(by_channel_year[i].tolist()) for i, c in enumerate(channels)},
    )


@dataclass(frozen=True)
class CalibrationYear:
    """Whether the score at the start of `year` ranked pairs the way their outcomes did.

    `rho` is Spearman's rank correlation, over all pairs, of the score and the activity index of
    the pair's outcomes during the year; None when either does not vary.
    `pairs` is how many pairs it is over, `active_pairs` how many of them had outcomes.
    """

    year: int
    rho: float | None
    pairs: int
    active_pairs: int


def calibration(
    dataset: Dataset,
    outcomes: Sequence[Outcome],
    *,
    first_year: int,
    last_year: int,
    weights: Weights | None = None,
    half_life: float = DEFAULT_HALF_LIFE_DAYS,
) -> tuple[CalibrationYear, ...]:
    """Do higher predicted scores lead to more outcomes? One rank correlation per year.

    The score of year Y is computed as of 31 December of Y - 1, from the ties and outcomes dated
    by then only: no look-ahead. The outcomes compared with it are those dated in Y.

    Examples
    --------
    >>> from matching.dataset import load_dataset
    >>> from matching.outcomes import load_outcomes
    >>> ds = load_dataset()
    >>> rows = calibration(ds, load_outcomes(ds)[1], first_year=2017, last_year=2018)
    >>> [(r.year, r.rho, r.pairs, r.active_pairs) for r in rows][0]
    (2017, None, 49, 0)
    >>> rows[1].active_pairs, -1 <= rows[1].rho <= 1
    (2, True)
    """
    _check_years(first_year, last_year)
    weights = weights or Weights.resolve(dataset.taxonomy)
    out: list[CalibrationYear] = []
    for year in range(first_year, last_year + 1):
        network = network_from_dataset(
            dataset,
            as_of=datetime.date(year - 1, 12, 31),
            outcomes=outcomes,
            half_life=half_life,
        )
        scores = score_components(network).combine(weights).ravel()
        n, m = network.shape
        amounts = np.zeros((len(OUTCOME_INDICATORS), n * m))
        for o in outcomes:
            i = network.northeast.index.get(o.northeast)
            j = network.east.index.get(o.east)
            if o.year == year and i is not None and j is not None:
                amounts[OUTCOME_INDICATORS.index(o.indicator), i * m + j] += o.value
        activity = activity_index(amounts)
        rho = None
        if np.ptp(activity) > 0 and np.ptp(scores) > 0:
            rho = float(spearmanr(scores, activity).statistic)
        out.append(CalibrationYear(year, rho, n * m, int((activity > 0).sum())))
    return tuple(out)
