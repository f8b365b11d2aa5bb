"""The plan's outcomes: what each pair produced, dated and sourced, and the evidence they give.

An outcome is one reported amount of one indicator for one (northeast, east) pair, optionally
between two of their enterprises, on a date, with its source and the channel(s) it belongs to:
"208 projects signed, Shenyang-Beijing, 2018-08-27, report-shenyang-beijing-2018, equipment and
emerging industries". A report of cumulative figures is recorded as one outcome on the report's
date; an annual summary as one outcome per indicator on its date.

**Outcome evidence.** The cooperation factor uses outcomes dated on or before the evaluation
date d, each weighted by an exponential decay with half-life h (default two years)::

    D_k(i, j) = sum of v * 2 ** (-(d - t) / h) over the pair's outcomes of indicator k, t <= d
    o(i, j)   = mean over the indicators K reported by any pair by d of D_k(i, j) / max D_k

so o is in [0, 1]: 1 for a pair that leads every reported indicator, 0 without outcomes. Each
outcome's part of o is its decayed amount over the indicator's maximum, divided by |K|; the parts
add up to o, so a score can say which outcomes it drew on.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from matching._records import RecordReader, read_document
from matching._types import FloatArray
from matching._validate import check_number
from matching.dataset import Dataset

__all__ = [
    "DEFAULT_HALF_LIFE_DAYS",
    "INDICATOR_UNITS",
    "OUTCOME_INDICATORS",
    "DrawnOutcome",
    "Outcome",
    "OutcomeEvidence",
    "Target",
    "decay",
    "load_outcomes",
    "outcome_evidence",
    "parse_outcomes",
]

#: The indicators an outcome can report, in the order of the engine's arrays.
OUTCOME_INDICATORS: tuple[str, ...] = (
    "projects_signed",
    "projects_started",
    "investment_agreed",
    "investment_paid",
    "cadres_exchanged",
    "staff_exchanged",
    "policies_copied",
    "parks_opened",
    "trade_fair_deals",
    "tourists_exchanged",
)
#: The unit of each indicator's value.
INDICATOR_UNITS: Mapping[str, str] = {
    "projects_signed": "projects",
    "projects_started": "projects",
    "investment_agreed": "yuan",
    "investment_paid": "yuan",
    "cadres_exchanged": "people",
    "staff_exchanged": "people",
    "policies_copied": "policies",
    "parks_opened": "parks and platforms",
    "trade_fair_deals": "deals",
    "tourists_exchanged": "visits",
}
#: Half-life of an outcome's weight in the cooperation factor: two years, in days.
DEFAULT_HALF_LIFE_DAYS = 730.0
#: The fields of an outcome record, in file order (the import's CSV header).
OUTCOME_FIELDS = (
    "northeast",
    "east",
    "indicator",
    "value",
    "date",
    "channels",
    "source",
    "note",
    "northeast_enterprise",
    "east_enterprise",
)


@dataclass(frozen=True)
class Outcome:
    """One reported amount of one indicator for one pair (or two of its enterprises), dated.

    `value` is in the indicator's unit (`INDICATOR_UNITS`): yuan for investment, a count
    otherwise. `channels` are the taxonomy's channel ids the outcome belongs to; `source` is a
    citation (a key of the dataset's sources, or a reference of the planner's).
    """

    northeast: str
    east: str
    indicator: str
    value: float
    date: datetime.date
    channels: tuple[str, ...]
    source: str
    note: str = ""
    northeast_enterprise: str | None = None
    east_enterprise: str | None = None
    id: int | None = None

    @property
    def year(self) -> int:
        """The year the outcome counts in."""
        return self.date.year


@dataclass(frozen=True)
class Target:
    """A planner's target: at least `value` of `indicator` for a pair in a year."""

    northeast: str
    east: str
    year: int
    indicator: str
    value: float
    id: int | None = None


def decay(age_days: float, half_life: float = DEFAULT_HALF_LIFE_DAYS) -> float:
    """The weight of an outcome `age_days` old: ``2 ** (-age / half_life)``.

    Examples
    --------
    >>> decay(0), decay(730), decay(1461, 730.5)
    (1.0, 0.5, 0.25)
    """
    return float(2.0 ** (-age_days / half_life))


@dataclass(frozen=True)
class DrawnOutcome:
    """An outcome a score drew on: its pair's row and column, its decay and its part of o."""

    outcome: Outcome
    row: int
    col: int
    weight: float
    evidence: float


@dataclass(frozen=True, eq=False)
class OutcomeEvidence:
    """Outcome evidence o(i, j) in [0, 1] of every pair at one date, and the outcomes behind it."""

    as_of: datetime.date
    half_life: float
    matrix: FloatArray
    drawn: tuple[DrawnOutcome, ...]

    def of_pair(self, row: int, col: int) -> tuple[DrawnOutcome, ...]:
        """The outcomes pair (row, col) drew on, newest first."""
        found = [d for d in self.drawn if d.row == row and d.col == col]
        return tuple(sorted(found, key=lambda d: (d.outcome.date, d.evidence), reverse=True))


def outcome_evidence(
    outcomes: Iterable[Outcome],
    northeast_ids: Sequence[str],
    east_ids: Sequence[str],
    *,
    as_of: datetime.date,
    half_life: float = DEFAULT_HALF_LIFE_DAYS,
) -> OutcomeEvidence:
    """Outcome evidence of every pair from the outcomes dated on or before `as_of`.

    Outcomes of regions the network does not have are left out, and so are those dated after
    `as_of`: a score never looks ahead.

    Examples
    --------
    >>> day = datetime.date(2020, 1, 1)
    >>> o = [Outcome("a", "x", "projects_signed", 10, day, ("equipment",), "s"),
    ...      Outcome("b", "x", "projects_signed", 5, day, ("equipment",), "s"),
    ...      Outcome("b", "x", "parks_opened", 1, datetime.date(2022, 1, 1), ("platforms",), "s")]
    >>> ev = outcome_evidence(o, ["a", "b"], ["x"], as_of=datetime.date(2021, 1, 1))
    >>> ev.matrix.round(3).tolist(), len(ev.drawn)
    ([[1.0], [0.5]], 2)
    """
    if not isinstance(as_of, datetime.date):
        raise ValueError(f"`as_of` must be a date, got {as_of!r}")
    half_life = check_number("half_life", half_life, minimum=0.0, exclusive_minimum=True)
    rows = {region: i for i, region in enumerate(northeast_ids)}
    cols = {region: j for j, region in enumerate(east_ids)}
    kept = [
        (o, rows[o.northeast], cols[o.east])
        for o in outcomes
        if o.date <= as_of and o.northeast in rows and o.east in cols
    ]
    matrix = np.zeros((len(northeast_ids), len(east_ids)))
    if not kept:
        matrix.setflags(write=False)
        return OutcomeEvidence(as_of, half_life, matrix, ())
    kinds = np.array([OUTCOME_INDICATORS.index(o.indicator) for o, _, _ in kept])
    ages = np.array([(as_of - o.date).days for o, _, _ in kept], dtype=np.float64)
    weights = np.exp2(-ages / half_life)
    amounts = np.array([o.value for o, _, _ in kept]) * weights
    row, col = np.array([k[1] for k in kept]), np.array([k[2] for k in kept])
    per_kind = np.zeros((len(OUTCOME_INDICATORS), *matrix.shape))
    np.add.at(per_kind, (kinds, row, col), amounts)
    peaks = per_kind.reshape(len(OUTCOME_INDICATORS), -1).max(axis=1)
    reported = int((peaks > 0).sum())
    parts = np.divide(
        amounts, peaks[kinds] * reported, out=np.zeros_like(amounts), where=peaks[kinds] > 0
    )
    np.add.at(matrix, (row, col), parts)
    # Rounding can carry a leader's sum a hair past 1.
    np.clip(matrix, 0.0, 1.0, out=matrix)
    matrix.setflags(write=False)
    drawn = tuple(
        DrawnOutcome(o, int(i), int(j), float(w), float(p))
        for (o, i, j), w, p in zip(kept, weights, parts, strict=True)
    )
    return OutcomeEvidence(as_of, half_life, matrix, drawn)


# Reading outcome documents ----------------------------------------------------------------------


def _date(rec: RecordReader, name: str) -> datetime.date:
    value = rec.obj.get(name)
    try:
        if isinstance(value, str) and len(value) == 10:
            return datetime.date.fromisoformat(value)
    except ValueError:
        pass
    raise rec.error(name, f"must be an ISO date YYYY-MM-DD, got {value!r}")


def _read_outcome(rec: RecordReader, dataset: Dataset) -> Outcome:
    rec.check_keys(OUTCOME_FIELDS)
    ends: dict[str, str] = {}
    for side in ("northeast", "east"):
        region_id = rec.string(side)
        try:
            region = dataset.region(region_id)
        except KeyError:
            raise rec.error(side, f"no region with id {region_id!r}") from None
        if region.side != side:
            raise rec.error(side, f"{region_id!r} is a {region.side} region, not {side}")
        ends[side] = region_id
    channels = rec.string_list("channels")
    if not channels:
        raise rec.error("channels", "needs at least one channel id")
    for channel in channels:
        if channel not in dataset.taxonomy.channel_ids:
            raise rec.error("channels", f"unknown channel {channel!r}")
    source = rec.string("source")
    if source not in dataset.sources:
        raise rec.error("source", f"unknown source {source!r}; cite one of the dataset's sources")
    value = rec.number("value", minimum=0.0)
    return Outcome(
        northeast=ends["northeast"],
        east=ends["east"],
        indicator=rec.choice("indicator", OUTCOME_INDICATORS),
        value=value,
        date=_date(rec, "date"),
        channels=tuple(dict.fromkeys(channels)),
        source=source,
        note=rec.optional_string("note") or "",
        northeast_enterprise=rec.optional_string("northeast_enterprise"),
        east_enterprise=rec.optional_string("east_enterprise"),
    )


def parse_outcomes(
    obj: Any, *, dataset: Dataset, origin: str = "<outcomes>"
) -> tuple[str, tuple[Outcome, ...]]:
    """Validate an outcomes document against `dataset`: its version and its outcomes.

    The document is ``{"version": ..., "description": ..., "outcomes": [...]}``; every outcome
    names two regions of the dataset (northeast first), a known indicator and channels, and one
    of the dataset's sources.

    Raises
    ------
    DatasetError
        For the first problem, naming `origin`, the outcome and the field.
    """
    doc = RecordReader(obj, origin=origin, record="outcomes")
    doc.check_keys(("version", "description", "outcomes"))
    version = doc.string("version")
    items = doc.obj.get("outcomes")
    if not isinstance(items, list):
        raise doc.error("outcomes", "must be a list")
    outcomes = tuple(
        _read_outcome(RecordReader(item, origin=origin, record=f"outcomes[{n}]"), dataset)
        for n, item in enumerate(items)
    )
    return version, outcomes


def load_outcomes(
    dataset: Dataset, path: str | Path | None = None
) -> tuple[str, tuple[Outcome, ...]]:
    """The published outcomes shipped with the package (or a file of them), checked.

    Examples
    --------
    >>> from matching.dataset import load_dataset
    >>> version, outcomes = load_outcomes(load_dataset())
    >>> all(o.source.startswith("report-") for o in outcomes)
    True
    """
    obj, origin = read_document(path, "outcomes.json", "outcomes")
    return parse_outcomes(obj, dataset=dataset, origin=origin)
