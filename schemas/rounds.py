"""Schemas of POST /rounds: a matchmaking round's request and its schedule of meetings."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from schemas.common import DatasetStamped, RequestSchema, Schema
from schemas.enterprises import EnterpriseId

__all__ = [
    "MAX_B",
    "MAX_CANDIDATES",
    "MAX_PARTICIPANTS",
    "MAX_ROUND_PAIRS",
    "EnterprisePair",
    "MeetingOut",
    "RoundIn",
    "RoundOut",
]

#: Most participants on one side of a round. The heaviest round allowed (5,000 + 5,000, 50
#: candidates, b = 10) takes about 3 s of CPU, in a process of its own within the work budget.
MAX_PARTICIPANTS = 5_000
#: Most meetings of one enterprise.
MAX_B = 10
#: Most candidate partners considered per participant.
MAX_CANDIDATES = 50
#: Most pinned (and, separately, forbidden) pairs of one round.
MAX_ROUND_PAIRS = 5_000

EnterprisePair = Annotated[
    tuple[EnterpriseId, EnterpriseId],
    Field(
        description="[northeast id, east id]",
        examples=[["ne0000017", "ea0001234"]],
        strict=False,  # a JSON array
    ),
]
MeetingCount = Annotated[int, Field(ge=0, le=MAX_B, strict=True)]


class RoundIn(RequestSchema):
    """Who takes part in a round, and the rules its meetings follow."""

    northeast: list[EnterpriseId] = Field(
        max_length=MAX_PARTICIPANTS,
        description="Ids of the northeast participants (each once).",
        examples=[["ne0000017", "ne0000042"]],
    )
    east: list[EnterpriseId] = Field(
        max_length=MAX_PARTICIPANTS,
        description="Ids of the eastern participants (each once).",
        examples=[["ea0001234", "ea0005678"]],
    )
    b: int = Field(
        default=3, ge=1, le=MAX_B, strict=True, description="Most meetings of one enterprise."
    )
    b_overrides: dict[EnterpriseId, MeetingCount] = Field(
        default_factory=dict,
        max_length=2 * MAX_PARTICIPANTS,
        description=f"Participant id to its own most meetings, overriding `b` (0 to {MAX_B}).",
        examples=[{"ea0001234": 5}],
    )
    min_score: float = Field(
        default=0.0,
        ge=0,
        le=1e6,
        allow_inf_nan=False,
        description=(
            "Every meeting proposed scores at least this (pinned pairs meet whatever their score)."
        ),
    )
    pinned: list[EnterprisePair] = Field(
        default_factory=list, max_length=MAX_ROUND_PAIRS, description="Pairs that must meet."
    )
    forbidden: list[EnterprisePair] = Field(
        default_factory=list, max_length=MAX_ROUND_PAIRS, description="Pairs that must not meet."
    )
    exclude_existing: bool = Field(
        default=False,
        description="Leave out existing partners (either one listing the other in `partners`).",
    )
    candidates: int = Field(
        default=20,
        ge=1,
        le=MAX_CANDIDATES,
        strict=True,
        description=(
            "Each participant's best partners considered; the round is optimal over the union of "
            "these pairs, both ways, and the pins."
        ),
    )


class MeetingOut(Schema):
    """One meeting of the round."""

    northeast: str = Field(description="The northeast enterprise's id.")
    east: str = Field(description="The eastern enterprise's id.")
    score: float = Field(description="The pair's enterprise score (as in partner search).")
    slot: int = Field(description="Time slot, from 1; an enterprise has one meeting per slot.")
    pinned: bool = Field(description="Whether the request pinned this pair.")


class RoundOut(DatasetStamped):
    """A proposed round: the meetings with the largest total score, in time slots."""

    status: Literal["optimal"]
    objective: float = Field(description="Total score of the meetings.")
    slots: int = Field(
        description="Time slots used: the most meetings of any one enterprise, the fewest possible."
    )
    candidates: int = Field(
        description="Pairs the meetings were chosen from, after the threshold and constraints."
    )
    meetings: list[MeetingOut] = Field(description="By slot, then northeast id, then east id.")
