"""Schemas of GET /regions."""

from __future__ import annotations

import datetime
from typing import Literal

from pydantic import Field

from schemas.common import DatasetStamped, Level, Schema, Side

__all__ = ["IndicatorOut", "MeasureOut", "RegionList", "RegionOut", "SourcedOut", "TieOut"]


class MeasureOut(Schema):
    """How a measured or derived value was computed from a statistic."""

    statistic: str = Field(description="What was measured, e.g. per-capita grain output.")
    reference: str = Field(description="What it is compared with (the nation, the 36 cities).")
    ratio: float = Field(description="M: the region's figure over the reference's.")
    transform: str = Field(description="How M becomes the value, e.g. `(M - 1) / (M + 1)`.")
    year: int
    table: str = Field(description="The source table (see the dataset's sources).")
    figures: dict[str, float] = Field(description="The figures M was computed from.")
    denominator: str | None = None
    rule: str | None = Field(default=None, description="For derived values: the rule applied.")


class SourcedOut(Schema):
    """A value in [0, 1] with its provenance: measured, derived from other values, or estimated.

    Since dataset format 2 (`2017-plan.2`): `kind`, and `measure` or `range`.
    """

    value: float
    source: str = Field(description="Key of the dataset's sources (GET /dataset).")
    note: str
    kind: Literal["measured", "derived", "estimate"]
    measure: MeasureOut | None = Field(
        default=None, description="For measured and derived values: the computation."
    )
    range: tuple[float, float] | None = Field(
        default=None, description="For estimates: the stated uncertainty [low, high]."
    )


class IndicatorOut(Schema):
    """A statistical indicator with its unit, year and provenance."""

    value: float
    unit: str
    year: int
    source: str
    note: str


class TieOut(Schema):
    """An existing tie between a northeast and an eastern region."""

    northeast: str
    east: str
    kind: str = Field(examples=["official", "industrial_park"])
    strength: float
    description: str
    start: datetime.date = Field(
        description="In force from this date; ties that start after the plan's adoption are its "
        "results and count in scores only from an evaluation date after it."
    )
    source: str | None = None
    note: str | None = None


class RegionOut(Schema):
    """A region's profile."""

    id: str = Field(examples=["harbin"])
    name_en: str
    name_zh: str
    side: Side
    level: Level
    parent: str | None
    counterparts: list[str] = Field(description="Official counterparts.")
    ties: list[TieOut] = Field(description="Every existing tie, official ones included.")
    indicators: dict[str, IndicatorOut]
    factors: dict[str, SourcedOut]
    strengths: dict[str, SourcedOut]
    needs: dict[str, SourcedOut]


class RegionList(DatasetStamped):
    """Regions, northeast first, in dataset order."""

    regions: list[RegionOut]
