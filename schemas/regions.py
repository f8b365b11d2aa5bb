"""Schemas of GET /regions."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.common import DatasetStamped, Schema

__all__ = ["IndicatorOut", "RegionList", "RegionOut", "SourcedOut", "TieOut"]


class SourcedOut(Schema):
    """A value in [0, 1] with its provenance."""

    value: float
    source: str = Field(description="Key of the dataset's sources (GET /dataset).")
    note: str


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
    source: str | None = None
    note: str | None = None


class RegionOut(Schema):
    """A region's profile."""

    id: str = Field(examples=["harbin"])
    name_en: str
    name_zh: str
    side: Literal["northeast", "east"]
    level: Literal["province", "city"]
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
