"""Schemas of enterprises: profiles, partner search and matchmaking rounds."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from schemas.common import DatasetStamped, RequestSchema, Schema, Side

__all__ = [
    "MAX_PARTNERS",
    "MAX_SECTORS",
    "EnterpriseId",
    "EnterpriseIn",
    "EnterpriseList",
    "EnterpriseOut",
    "EnterprisePatch",
    "ImportReport",
    "Intensity",
    "MatchTermOut",
    "Ownership",
    "PartnerOut",
    "PartnerList",
    "PartnerQuery",
    "SizeBand",
]

#: Most sectors in `offers` (and, separately, in `seeks`).
MAX_SECTORS = 20
#: Most existing partners an enterprise may list.
MAX_PARTNERS = 100

EnterpriseId = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"),
    Field(description="1-64 ASCII letters, digits, '.', '_' or '-'.", examples=["ea0001234"]),
]
Intensity = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
SizeBand = Literal["micro", "small", "medium", "large"]
Ownership = Literal["state", "private", "foreign", "mixed"]
Sectors = Annotated[
    dict[str, Intensity],
    Field(
        max_length=MAX_SECTORS,
        description="Sector id (GET /taxonomy) to intensity in (0, 1].",
        examples=[{"machine_tools": 0.8}],
    ),
]
CURRENT_YEAR = datetime.now().year


class EnterpriseIn(RequestSchema):
    """An enterprise profile; its side follows from its region."""

    id: EnterpriseId | None = Field(
        default=None, description="Given by the client, or made by the server on POST."
    )
    name: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
    region: str = Field(max_length=100, description="A region id (GET /regions).")
    offers: Sectors = Field(default_factory=dict)
    seeks: Sectors = Field(default_factory=dict)
    size: SizeBand = "small"
    ownership: Ownership = "private"
    founded: int | None = Field(default=None, ge=1800, le=CURRENT_YEAR + 1, strict=True)
    description: str = Field(default="", max_length=2000)
    contact: str | None = Field(
        default=None,
        max_length=300,
        description="How to reach the enterprise; shown only to a request with the key.",
    )
    partners: list[EnterpriseId] = Field(
        default_factory=list,
        max_length=MAX_PARTNERS,
        description="Ids of existing partners (left out of rounds on request).",
    )


class EnterprisePatch(RequestSchema):
    """A partial update: only the fields given change (offers and seeks are replaced whole)."""

    name: (
        Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
        | None
    ) = None
    region: str | None = Field(default=None, max_length=100)
    offers: Sectors | None = None
    seeks: Sectors | None = None
    size: SizeBand | None = None
    ownership: Ownership | None = None
    founded: int | None = Field(default=None, ge=1800, le=CURRENT_YEAR + 1, strict=True)
    description: str | None = Field(default=None, max_length=2000)
    contact: str | None = Field(default=None, max_length=300)
    partners: list[EnterpriseId] | None = Field(default=None, max_length=MAX_PARTNERS)


class EnterpriseOut(EnterpriseIn):
    """A stored enterprise."""

    # Built by the app from Python values: not strict like the request it extends.
    model_config = ConfigDict(extra="forbid", strict=False)

    id: EnterpriseId
    side: Side
    updated_at: datetime


class EnterpriseList(Schema):
    """A page of enterprises in id order; pass `next_cursor` as `cursor` for the next page."""

    items: list[EnterpriseOut]
    next_cursor: str | None = Field(description="null on the last page.")


class ImportReport(Schema):
    """What an import wrote (all rows, or none)."""

    imported: int
    created: int
    updated: int


class PartnerQuery(RequestSchema):
    """A profile to search partners for without registering it (POST /partners/search)."""

    region: str = Field(max_length=100, examples=["harbin"])
    offers: Sectors = Field(default_factory=dict)
    seeks: Sectors = Field(default_factory=dict)
    k: int = Field(default=10, ge=1, le=100)
    channel: str | None = Field(default=None, max_length=100)
    partner_region: str | None = Field(
        default=None, max_length=100, description="Only partners in this region."
    )
    ownership: Ownership | None = None
    size: SizeBand | None = None
    min_score: float | None = Field(default=None, ge=0, allow_inf_nan=False)


class MatchTermOut(Schema):
    """One non-negative part of a match's score: a sector meeting in one direction."""

    sector: str
    direction: Literal["northeast_to_east", "east_to_northeast", "synergy"]
    value: float


class PartnerOut(Schema):
    """A partner found, with its score split into contributions and terms."""

    id: str
    name: str
    region: str
    size: SizeBand
    ownership: Ownership
    score: float
    contributions: dict[str, float] = Field(
        description="Channel ids and `region` (the region term) to values adding up to score."
    )
    terms: list[MatchTermOut]


class PartnerList(DatasetStamped):
    """Partners on the other side, best first (equal scores in id order)."""

    enterprise: str | None = Field(description="The enterprise searched for; null for a profile.")
    partners: list[PartnerOut]
