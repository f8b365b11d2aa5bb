"""Schemas of links, explanations and suggestions."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from schemas.common import ComponentKind, DatasetStamped, Level, Schema, Side

#: Which profile values a link's term sets against each other.
LinkTermDirection = Literal[
    "northeast_to_east", "east_to_northeast", "synergy", "mutual", "ties", "outcomes"
]

__all__ = [
    "ContributionOut",
    "DrawnOutcomeOut",
    "LinkDetail",
    "LinkList",
    "LinkOut",
    "LinkTermOut",
    "SuggestionList",
    "SuggestionOut",
]

CONTRIBUTIONS_DESCRIPTION = (
    "Component (channel or factor) id to its weighted contribution; they add up to `score`. "
    "Components with a zero weight are left out."
)


class LinkOut(Schema):
    """A scored pair of regions."""

    northeast: str
    east: str
    score: float = Field(description="Sum of the contributions.")
    existing: bool = Field(description="Whether the pair already cooperates (never suggested).")
    contributions: dict[str, float] = Field(description=CONTRIBUTIONS_DESCRIPTION)


class LinkList(DatasetStamped):
    """Links, best first."""

    as_of: dt.date = Field(description="The evaluation date the scores are at.")
    weights: dict[str, float] = Field(description="The weights every score was computed with.")
    channel: str | None = Field(description="If set, links are ranked by this channel.")
    total: int = Field(description="How many links matched the filters before `limit`.")
    links: list[LinkOut]


class LinkTermOut(Schema):
    """One non-negative part of a link's contribution: a sector term or a factor's part."""

    sector: str | None = Field(description="Sector id; null for a factor's terms.")
    direction: LinkTermDirection = Field(
        description=(
            "`northeast_to_east` (northeast strength meets eastern need; for resource endowment, "
            "the northeast's endowment where the east lacks it), `east_to_northeast`, `synergy` "
            "(both strong), `mutual` (a factor both sides hold), `ties` (recorded ties) or "
            "`outcomes` (the outcome evidence, where the ties leave room)."
        )
    )
    value: float
    northeast_value: float = Field(description="The northeast profile value that meets.")
    east_value: float = Field(description="The eastern profile value that meets.")
    northeast_share: float | None = Field(
        default=None,
        description="For a sector term: the northeast value as a share of its region's total "
        "(strengths or needs); the term is the channel's weight over its directions times the "
        "smaller share. Null for a factor's terms.",
    )
    east_share: float | None = Field(default=None, description="The same for the eastern value.")


class ContributionOut(Schema):
    """A component's contribution, split into its terms (they add up to `value`)."""

    component: str
    kind: ComponentKind = Field(description="`channel` or `factor`.")
    weight: float
    value: float
    terms: list[LinkTermOut]


class DrawnOutcomeOut(Schema):
    """An outcome the score drew on (dated by the evaluation date), and what it added."""

    id: int | None
    indicator: str
    value: float
    date: dt.date
    source: str
    weight: float = Field(description="Its decay: 2^(-age / half-life).")
    evidence: float = Field(description="Its part of the pair's outcome evidence o in [0, 1].")
    contribution: float = Field(
        description="What it adds to the score: cooperation weight x (1 - tie) x evidence / 2."
    )


class LinkDetail(LinkOut, DatasetStamped):
    """One link with its full explanation."""

    as_of: dt.date = Field(description="The evaluation date the score is at.")
    weights: dict[str, float]
    explanation: list[ContributionOut]
    outcomes: list[DrawnOutcomeOut] = Field(
        description="The outcomes the cooperation factor drew on, newest first."
    )


class SuggestionOut(Schema):
    """A suggested additional partner."""

    partner: str
    name_en: str
    name_zh: str
    level: Level
    score: float
    channel_score: float | None = Field(
        default=None, description="Contribution of the requested channel, if one was given."
    )
    contributions: dict[str, float] = Field(description=CONTRIBUTIONS_DESCRIPTION)


class SuggestionList(DatasetStamped):
    """Additional partners of one region, best first; existing ties are never among them."""

    as_of: dt.date = Field(description="The evaluation date the scores are at.")
    region: str
    side: Side
    channel: str | None
    level: Level | None
    weights: dict[str, float]
    suggestions: list[SuggestionOut]
