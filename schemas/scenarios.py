"""Schemas of what-if scenarios: evaluation, saved scenarios and comparisons."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from matching import MAX_OVERRIDES
from schemas.common import ComponentKind, DatasetStamped, RequestSchema, Schema
from schemas.links import LinkOut, SuggestionOut
from schemas.plans import PlanIn, PlanResultOut

__all__ = [
    "ComparisonOut",
    "DiffOut",
    "LinkMoveOut",
    "OverrideIn",
    "PairOut",
    "PlanChangeOut",
    "SavedScenarioIn",
    "SavedScenarioOut",
    "ScenarioIn",
    "ScenarioList",
    "ScenarioOut",
    "ScenarioRef",
    "ScenarioSummary",
    "WeightIntervalOut",
]

UnitValue = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


class OverrideIn(RequestSchema):
    """A change to one region's profile, seen by this scenario only.

    Either a `sector` with its new `strength` and/or `need`, or a `factor` with its new `value`.
    """

    region: str = Field(max_length=200, examples=["harbin"])
    sector: str | None = Field(
        default=None, max_length=100, examples=["robotics_intelligent_equipment"]
    )
    factor: str | None = Field(default=None, max_length=100)
    strength: UnitValue | None = Field(default=None, examples=[1.0])
    need: UnitValue | None = None
    value: UnitValue | None = None


class ScenarioIn(PlanIn):
    """A what-if scenario: weights, overrides and plan settings (the baseline keeps them)."""

    overrides: list[OverrideIn] = Field(
        default_factory=list,
        max_length=MAX_OVERRIDES,
        description=f"Profile changes, at most {MAX_OVERRIDES}.",
    )
    k: int = Field(default=5, ge=1, le=100, description="Suggestions per region.")
    links: int = Field(default=20, ge=1, le=1000, description="How many top links to return.")
    moves: int = Field(default=50, ge=0, le=1000, description="How many moved links to list.")


class PairOut(Schema):
    """A (northeast, east) pair."""

    northeast: str
    east: str


class LinkMoveOut(Schema):
    """A link whose rank or score moved (ranks count from 1 over all links)."""

    northeast: str
    east: str
    baseline_rank: int
    scenario_rank: int
    baseline_score: float
    scenario_score: float


class DiffOut(Schema):
    """What changed against the baseline: the plan's pairs and the links that moved."""

    baseline_objective: float
    scenario_objective: float
    entered: list[PairOut] = Field(description="Pairs in the scenario's plan, not the baseline's.")
    left: list[PairOut] = Field(description="Pairs in the baseline's plan, not the scenario's.")
    moved_total: int = Field(description="How many links moved in rank or score.")
    moves: list[LinkMoveOut] = Field(description="The largest moves first, up to `moves`.")


class PlanChangeOut(Schema):
    """How the plan changes just past an end of a weight's interval."""

    at: float
    reason: Literal["outscored", "threshold"] = Field(
        description="`outscored`: another plan scores more; `threshold`: a pair drops below it."
    )
    entering: list[PairOut]
    leaving: list[PairOut]


class WeightIntervalOut(Schema):
    """The interval of one weight (the others held) over which the plan stays optimal."""

    component: str
    kind: ComponentKind = Field(description="`channel` or `factor`.")
    weight: float
    lower: float
    upper: float | None = Field(description="null: no increase of this weight changes the plan.")
    below: PlanChangeOut | None = Field(description="null: the plan stays optimal down to 0.")
    above: PlanChangeOut | None


class ScenarioOut(DatasetStamped):
    """A scenario evaluated against the baseline (default weights, no overrides)."""

    weights: dict[str, float]
    links: list[LinkOut]
    suggestions: dict[str, list[SuggestionOut]]
    plan: PlanResultOut
    diff: DiffOut
    sensitivity: list[WeightIntervalOut]


class SavedScenarioIn(RequestSchema):
    """A scenario to save under a unique name."""

    name: str = Field(min_length=1, max_length=200, examples=["agriculture x2"])
    description: str = Field(default="", max_length=5000)
    scenario: ScenarioIn


class ScenarioSummary(Schema):
    """A saved scenario without its result."""

    id: int
    name: str
    description: str
    created_at: datetime


class SavedScenarioOut(ScenarioSummary):
    """A saved scenario with its result on the current dataset."""

    scenario: ScenarioIn
    result: ScenarioOut


class ScenarioList(Schema):
    """A page of saved scenarios, newest first."""

    items: list[ScenarioSummary]
    total: int
    limit: int
    offset: int


class ScenarioRef(Schema):
    """A saved scenario's id and name."""

    id: int
    name: str


class ComparisonOut(DatasetStamped):
    """The diff from one saved scenario (as the baseline) to another."""

    scenario: ScenarioRef
    other: ScenarioRef
    diff: DiffOut
