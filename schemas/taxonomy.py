"""Schemas of GET /taxonomy."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.common import Schema

__all__ = ["ChannelOut", "FactorOut", "SectorOut", "TaxonomyOut"]


class SectorOut(Schema):
    """A sector: strengths and needs are given per sector."""

    id: str
    name_en: str
    name_zh: str


class ChannelOut(Schema):
    """A channel of cooperation with its sectors."""

    id: str = Field(examples=["equipment"])
    kind: Literal["docking", "soft"] = Field(
        description="`docking` (one of the four dockings) or `soft` cooperation."
    )
    name_en: str
    name_zh: str
    description: str
    default_weight: float
    synergy: bool = Field(description="Whether both sides' strengths in a sector also count.")
    sectors: list[SectorOut]


class FactorOut(Schema):
    """One of the four pairing factors."""

    id: str
    name_en: str
    name_zh: str
    description: str
    formula: str
    default_weight: float


class TaxonomyOut(Schema):
    """Channels with their sectors, and the pairing factors."""

    version: str
    channels: list[ChannelOut]
    factors: list[FactorOut]
