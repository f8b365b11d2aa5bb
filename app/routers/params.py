"""Parameters shared by several endpoints, described once."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from fastapi import Depends, Path, Query, Response
from pydantic import BaseModel

from app.errors import InvalidInput, Problem

__all__ = [
    "ChannelParam",
    "ChannelQuery",
    "EastIdPath",
    "LevelQuery",
    "MinScoreParam",
    "NortheastIdPath",
    "PartnerRegionParam",
    "RegionIdPath",
    "WeightChanges",
    "WeightsQuery",
    "json_response",
    "parse_weights",
]

RegionIdPath = Annotated[
    str,
    Path(
        description="A region id (lower-case ASCII), e.g. `harbin`; see GET /regions.",
        examples=["harbin"],
        max_length=200,
    ),
]
# The two ends of a link, each a parameter object of its own: FastAPI sets a parameter's alias on
# it, so two parameters of one endpoint sharing one would race when routes are first built.
NortheastIdPath = Annotated[
    str,
    Path(
        description="A northeast region's id, e.g. `harbin`.", examples=["harbin"], max_length=200
    ),
]
EastIdPath = Annotated[
    str,
    Path(
        description="An eastern region's id, e.g. `beijing`.", examples=["beijing"], max_length=200
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


def parse_weights(text: str | None) -> dict[str, float]:
    """The ``weights`` query parameter, ``agriculture:0.3,cooperation_status:0``, as a mapping."""
    changes: dict[str, float] = {}
    for part in text.split(",") if text else ():
        name, sep, value = part.partition(":")
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not sep or not name.strip() or not math.isfinite(number):
            raise InvalidInput(
                f"`weights`: {part!r} is not of the form component:number, e.g. agriculture:0.3"
            )
        if name.strip() in changes:
            # The last would silently win: a client repeating a component has a bug.
            raise InvalidInput.listing(
                [Problem(field="query.weights", error=f"{name.strip()!r} is given more than once")]
            )
        changes[name.strip()] = number
    return changes


def weights_query(weights: WeightsQuery = None) -> dict[str, float]:
    """The weight changes a GET asks for (none by default)."""
    return parse_weights(weights)


WeightChanges = Annotated[dict[str, float], Depends(weights_query)]


ChannelParam = Annotated[
    str | None, Query(max_length=100, description="Rank on this channel only.")
]
PartnerRegionParam = Annotated[
    str | None, Query(max_length=100, description="Only partners in this region.")
]
MinScoreParam = Annotated[float | None, Query(ge=0, allow_inf_nan=False)]


def json_response(result: BaseModel) -> Response:
    """A response serialised once, by pydantic, from a schema built by `app.convert`.

    For the busiest endpoints: the result is already a validated schema, so it is not validated
    again on the way out.
    """
    return Response(result.model_dump_json(), media_type="application/json")
