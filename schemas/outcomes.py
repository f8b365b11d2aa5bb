"""Schemas of outcomes and targets: what each pair produced, and what planners expect of it."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints, field_validator

from matching import INDICATOR_UNITS, OUTCOME_INDICATORS
from schemas.common import IsoDate, RequestSchema, Schema
from schemas.enterprises import EnterpriseId

__all__ = [
    "MAX_OUTCOME_VALUE",
    "OutcomeImportReport",
    "OutcomeIn",
    "OutcomeList",
    "OutcomeOut",
    "TargetIn",
    "TargetList",
    "TargetOut",
]

#: Largest amount of one outcome: a trillion yuan a thousand times over, far beyond any report.
MAX_OUTCOME_VALUE = 1e15
INDICATOR_DESCRIPTION = "One of: " + ", ".join(
    f"`{i}` ({INDICATOR_UNITS[i]})" for i in OUTCOME_INDICATORS
)
RegionId = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(max_length=5000)]


def _known_indicator(value: str) -> str:
    if value not in OUTCOME_INDICATORS:
        raise ValueError(
            f"unknown indicator {value!r}; expected one of {', '.join(OUTCOME_INDICATORS)}"
        )
    return value


class OutcomeIn(RequestSchema):
    """One reported amount of one indicator for one pair (or two of its enterprises), dated."""

    northeast: RegionId = Field(description="The northeast region's id.", examples=["harbin"])
    east: RegionId = Field(description="The eastern region's id.", examples=["shenzhen"])
    indicator: str = Field(
        description=INDICATOR_DESCRIPTION,
        examples=["projects_signed"],
        json_schema_extra={"enum": list(OUTCOME_INDICATORS)},
    )
    value: float = Field(
        ge=0,
        le=MAX_OUTCOME_VALUE,
        allow_inf_nan=False,
        description="The amount, in the indicator's unit (yuan for investment).",
        examples=[119],
    )
    date: IsoDate = Field(
        description="When it was reported or achieved (YYYY-MM-DD); it counts in this year.",
        examples=["2024-08-07"],
    )
    channels: list[Annotated[str, StringConstraints(max_length=100)]] = Field(
        min_length=1,
        max_length=20,
        description="The channel ids (GET /taxonomy) the outcome belongs to.",
        examples=[["equipment", "emerging"]],
    )
    source: Annotated[str, StringConstraints(min_length=1, max_length=2000)] = Field(
        description="Where it is reported: a dataset source key (GET /dataset) or a citation.",
        examples=["report-harbin-shenzhen-2024"],
    )
    note: Text = ""
    northeast_enterprise: EnterpriseId | None = Field(
        default=None, description="For an enterprise-enterprise outcome: the northeast one."
    )
    east_enterprise: EnterpriseId | None = None

    _indicator = field_validator("indicator")(_known_indicator)


class OutcomeOut(OutcomeIn):
    """A stored outcome."""

    # Built by the app from Python values: not strict like the request it extends.
    model_config = ConfigDict(extra="forbid", strict=False)

    id: int
    year: int = Field(description="The year it counts in (its date's).")
    unit: str = Field(description="The indicator's unit.")


class OutcomeList(Schema):
    """A page of outcomes, oldest first."""

    items: list[OutcomeOut]
    total: int
    limit: int
    offset: int


class OutcomeImportReport(Schema):
    """What an import recorded (all rows, or none)."""

    imported: int
    ids: list[int] = Field(description="The new outcomes' ids, in file order.")


class TargetIn(RequestSchema):
    """A target: at least `value` of `indicator` for a pair in a year."""

    northeast: RegionId = Field(examples=["harbin"])
    east: RegionId = Field(examples=["shenzhen"])
    year: int = Field(ge=1990, le=2100, strict=True, examples=[2025])
    indicator: str = Field(
        description=INDICATOR_DESCRIPTION,
        examples=["projects_signed"],
        json_schema_extra={"enum": list(OUTCOME_INDICATORS)},
    )
    value: float = Field(ge=0, le=MAX_OUTCOME_VALUE, allow_inf_nan=False, examples=[20])

    _indicator = field_validator("indicator")(_known_indicator)


class TargetOut(TargetIn):
    """A stored target."""

    # Built by the app from Python values: not strict like the request it extends.
    model_config = ConfigDict(extra="forbid", strict=False)

    id: int
    unit: str


class TargetList(Schema):
    """Targets by year, pair and indicator."""

    items: list[TargetOut]
