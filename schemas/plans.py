"""Schemas of POST /plans."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field

from schemas.common import DatasetStamped, IsoDate, RegionPair, RequestSchema, Schema, WeightsIn

__all__ = ["MAX_PINS", "CoverageIn", "PlanIn", "PlanOut", "PlanPairOut", "PlanResultOut"]

#: Most pinned (and, separately, forbidden) pairs one request may carry.
MAX_PINS = 2000
#: Largest capacity of one region.
MAX_CAPACITY = 1000
Capacity = Annotated[int, Field(ge=0, le=MAX_CAPACITY, strict=True)]


class CoverageIn(RequestSchema):
    """Coverage rules: the channels northeast regions' partners cover, few new ties per east.

    A northeast region's partners are its ties in force, its pins and its new pairs. A partner
    covers a channel when the channel's weighted contribution to the pair's score is at least
    `cover_share` of the pair's channel total (default: an even share, 1/7).
    """

    min_channels: int = Field(
        default=0,
        ge=0,
        le=20,
        strict=True,
        description="At least this many partners covering as many distinct channels.",
    )
    per_docking: bool = Field(
        default=False, strict=True, description="A partner covering each of the four dockings."
    )
    max_new_per_east: int | None = Field(
        default=None,
        ge=0,
        le=MAX_CAPACITY,
        strict=True,
        description="Most new ties per eastern region.",
    )
    cover_share: float | None = Field(
        default=None,
        gt=0,
        le=1,
        allow_inf_nan=False,
        description="Share that makes a channel covered.",
    )


class PlanIn(RequestSchema):
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
    coverage: CoverageIn = Field(
        default_factory=CoverageIn,
        description="Coverage rules; `min_channels` or `per_docking` make the plan a MILP.",
    )
    as_of: IsoDate | None = Field(
        default=None,
        description="Evaluation date: ties in force and outcomes known then count; default the "
        "plan's adoption.",
        examples=["2020-01-01"],
    )


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
    """An optimal plan, with the weights, dataset version and evaluation date it was made on."""

    weights: dict[str, float]
    as_of: dt.date
