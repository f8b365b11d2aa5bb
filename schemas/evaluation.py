"""Schemas of the effectiveness report and calibration."""

from __future__ import annotations

from pydantic import Field

from schemas.common import DatasetStamped, Schema
from schemas.scenarios import PairOut

__all__ = [
    "AttainmentOut",
    "CalibrationOut",
    "CalibrationYearOut",
    "IndicatorReportOut",
    "LeagueRowOut",
    "RegionGapsOut",
    "ReportOut",
]


class IndicatorReportOut(Schema):
    """One indicator over the range: total, yearly series (aligned with `years`), channels."""

    indicator: str
    unit: str
    total: float
    by_year: list[float]
    slope: float | None = Field(
        description="Least-squares trend, in units per year; null for a one-year range."
    )
    by_channel: dict[str, float] = Field(
        description="Channel to total; an outcome of several channels counts in each."
    )
    by_channel_year: dict[str, list[float]]


class LeagueRowOut(Schema):
    """A pair of the league table."""

    rank: int
    northeast: str
    east: str
    index: float = Field(
        description="Activity index in [0, 1]: the mean, over the indicators any pair reported, "
        "of the pair's amount over the leading pair's."
    )
    outcomes: int
    totals: dict[str, float]
    channels: list[str]
    existing: bool = Field(description="Whether the pair is tied at the end of the range.")


class AttainmentOut(Schema):
    """A target and what the pair achieved in its year."""

    target_id: int | None
    northeast: str
    east: str
    year: int
    indicator: str
    target: float
    actual: float
    ratio: float | None = Field(description="actual / target; null for a target of 0.")
    met: bool


class RegionGapsOut(Schema):
    """The channels in which a northeast region has no active partnership over the range."""

    northeast: str
    channels: list[str]


class ReportOut(DatasetStamped):
    """The effectiveness report of the plan (or of one pair) over a range of years."""

    first_year: int
    last_year: int
    years: list[int]
    pair: PairOut | None
    outcomes: int = Field(description="How many outcomes the report counts.")
    indicators: list[IndicatorReportOut]
    league: list[LeagueRowOut]
    attainment: list[AttainmentOut]
    inactive: list[PairOut] = Field(
        description="Pairs tied at the end of the range, or with a target, without outcomes."
    )
    gaps: list[RegionGapsOut]


class CalibrationYearOut(Schema):
    """Whether the score at the start of the year ranked pairs as their outcomes did."""

    year: int
    rho: float | None = Field(
        description="Spearman's rank correlation; null when scores or outcomes do not vary."
    )
    pairs: int = Field(description="How many pairs the correlation is over.")
    active_pairs: int = Field(description="How many of them had outcomes in the year.")


class CalibrationOut(DatasetStamped):
    """Rank correlation of scores and outcomes, year by year, without look-ahead."""

    weights: dict[str, float]
    half_life_days: float
    years: list[CalibrationYearOut]
