"""The dataset document (GET /dataset/document, PUT /dataset) as a schema front-ends can use.

The engine reads and checks a document whole (`matching.parse_dataset`, a 422 naming the record
and field of the first problem); these models describe the same format for the OpenAPI spec —
field for field, the same required fields, no others — so that a client can build and edit a
document with types. A test holds them to what the engine accepts and to the shipped dataset.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from matching import FACTOR_IDS
from schemas.common import Level, Side

__all__ = ["DatasetDocument"]

NonEmpty = Annotated[str, Field(min_length=1)]
Unit = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


class _Document(BaseModel):
    # A document is sent as stored: a field the document does not have is not sent.
    model_config = ConfigDict(extra="forbid")


class SourceDoc(_Document):
    """A source that values and ties cite by its key."""

    title: NonEmpty
    kind: NonEmpty = Field(examples=["statistics", "policy", "enterprise"])
    url: NonEmpty | None = None
    published: NonEmpty | None = None
    repository: NonEmpty | None = Field(default=None, description="For a table: its repository.")
    commit: NonEmpty | None = None
    path: NonEmpty | None = None


class MeasureDoc(_Document):
    """The statistic behind a measured or derived value, with the figures to recompute it."""

    statistic: NonEmpty
    reference: NonEmpty
    ratio: float = Field(ge=0, allow_inf_nan=False, description="The ratio M the value is from.")
    transform: NonEmpty = Field(examples=["value = (M - 1) / (M + 1)"])
    year: int
    table: NonEmpty
    figures: dict[str, float] = Field(description="The figures the ratio is computed from.")
    denominator: NonEmpty | None = None
    rule: NonEmpty | None = Field(default=None, description="How a derived value was derived.")


class ValueDoc(_Document):
    """A strength, need or factor in [0, 1], with its provenance.

    `measured` and `derived` values carry a `measure`; an `estimate` carries a `range` instead
    (its stated uncertainty, containing the value) and its basis in `note`.
    """

    value: Unit
    kind: Literal["measured", "derived", "estimate"] = "estimate"
    source: NonEmpty = Field(description="A key of the document's `sources`.")
    note: NonEmpty
    measure: MeasureDoc | None = None
    range: Annotated[list[Unit], Field(min_length=2, max_length=2)] | None = Field(
        default=None, description="[low, high] of an estimate."
    )


class IndicatorDoc(_Document):
    """A region's indicator (GDP, population) as published."""

    value: float = Field(gt=0, allow_inf_nan=False)
    unit: NonEmpty
    year: int
    source: NonEmpty
    note: NonEmpty


class IndicatorsDoc(_Document):
    """The indicators every region has."""

    gdp: IndicatorDoc
    population: IndicatorDoc


FactorsDoc = Annotated[
    dict[str, ValueDoc],
    Field(description=f"Every factor, by id: {', '.join(FACTOR_IDS)}."),
]


class RegionDoc(_Document):
    """A region of the plan and its profile."""

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    name_en: NonEmpty
    name_zh: NonEmpty
    side: Side
    level: Level
    parent: str | None = Field(default=None, description="A city's province, by id.")
    counterparts: list[str] = Field(
        default_factory=list, description="Official counterparts, by id (the other side)."
    )
    indicators: IndicatorsDoc
    factors: FactorsDoc
    strengths: dict[str, ValueDoc] = Field(description="Sector id (GET /taxonomy) to value.")
    needs: dict[str, ValueDoc] = Field(description="Sector id (GET /taxonomy) to value.")


class TieDoc(_Document):
    """A dated tie beyond the official pairs (those come from the regions' `counterparts`)."""

    northeast: NonEmpty
    east: NonEmpty
    kind: NonEmpty = Field(examples=["business_community", "industrial_park"])
    strength: Unit
    description: NonEmpty
    source: NonEmpty
    note: NonEmpty | None = None
    start: str = Field(
        pattern=r"^\d{4}-\d{2}-\d{2}$", description="When the tie began (YYYY-MM-DD)."
    )


class DatasetDocument(_Document):
    """A whole dataset: what GET /dataset/document returns and PUT /dataset takes."""

    version: Annotated[str, Field(min_length=1, max_length=200)]
    title: NonEmpty
    description: NonEmpty | None = None
    adopted: str = Field(
        pattern=r"^\d{4}-\d{2}-\d{2}$",
        description="The plan's adoption (YYYY-MM-DD): the default evaluation date.",
    )
    sources: dict[str, SourceDoc]
    regions: list[RegionDoc] = Field(min_length=2)
    ties: list[TieDoc] | None = None
