"""Schemas of POST /plans."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from schemas.common import DatasetStamped, RegionPair, Schema, WeightsIn

__all__ = ["MAX_PINS", "PlanIn", "PlanOut", "PlanPairOut", "PlanResultOut"]

#: Most pinned (and, separately, forbidden) pairs one request may carry.
MAX_PINS = 2000
#: Largest capacity of one region.
MAX_CAPACITY = 1000
Capacity = Annotated[int, Field(ge=0, le=MAX_CAPACITY, strict=True)]


class PlanIn(Schema):
    """A plan request: capacities, a threshold, pins, forbids and weights."""

    capacity: int = Field(
        default=2, ge=0, le=MAX_CAPACITY, strict=True, description="Most new partners per region."
    )
    capacities: dict[str, Capacity] = Field(
        default_factory=dict,
        max_length=10_000,
        description="Per-region capacity overriding `capacity`.",
        examples=[{"shenzhen": 1}],
    )
    min_score: float = Field(
        default=0.0,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description=(
            "Threshold relative to the weights: a pair qualifies when its score is at least "
            "min_score x (sum of the weights). With the default weights it is on the score scale."
        ),
    )
    pinned: list[RegionPair] = Field(
        default_factory=list, max_length=MAX_PINS, description="Pairs that must be in the plan."
    )
    forbidden: list[RegionPair] = Field(
        default_factory=list, max_length=MAX_PINS, description="Pairs that must not be."
    )
    same_level: bool = Field(default=False, description="Only province-province, city-city.")
    weights: WeightsIn = Field(default_factory=WeightsIn)


class PlanPairOut(Schema):
    """A pair of the plan."""

    northeast: str
    east: str
    score: float
    pinned: bool
    contributions: dict[str, float]


class PlanResultOut(Schema):
    """An optimal plan: objective = sum of the pairs' scores."""

    status: Literal["optimal"]
    objective: float
    threshold: float = Field(description="The absolute score threshold that was applied.")
    message: str
    pairs: list[PlanPairOut]


class PlanOut(PlanResultOut, DatasetStamped):
    """An optimal plan, with the weights and dataset version it was computed on."""

    weights: dict[str, float]
