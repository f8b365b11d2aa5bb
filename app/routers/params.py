"""Parameters shared by several endpoints, described once."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path, Query

__all__ = ["ChannelQuery", "LevelQuery", "RegionIdPath", "WeightsQuery"]

RegionIdPath = Annotated[
    str,
    Path(
        description="A region id (lower-case ASCII), e.g. `harbin`; see GET /regions.",
        examples=["harbin"],
        max_length=200,
    ),
]

ChannelQuery = Annotated[
    str | None,
    Query(
        description="Rank on this channel's contribution only (a channel id from GET /taxonomy).",
        examples=["agriculture"],
        max_length=100,
    ),
]

LevelQuery = Annotated[
    Literal["province", "city"] | None,
    Query(description="Only partners of this level."),
]

WeightsQuery = Annotated[
    str | None,
    Query(
        description=(
            "Changes to the default weights as `component:weight` pairs separated by commas, "
            "e.g. `agriculture:0.3,cooperation_status:0`; the rest keep their defaults."
        ),
        examples=["agriculture:0.3"],
        max_length=2000,
    ),
]
