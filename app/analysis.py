"""Services behind the read endpoints: links, explanations, suggestions and plans.

They take the current `ModelState` and request values, call the engine, and turn the engine's
`ValueError`s into `InvalidInput` (422) naming what was wrong.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from app.errors import InvalidInput
from app.model import ModelState
from matching import (
    DatasetError,
    InfeasiblePlanError,
    LinkExplanation,
    PlanResult,
    PlanSettings,
    Suggestion,
    UnknownRegionError,
    Weights,
    explain_link,
    plan_network,
    rank_links,
    suggest_partners,
)
from matching._flow import FloatArray, IntArray

__all__ = [
    "LinkPage",
    "explain",
    "find_links",
    "find_suggestions",
    "invalid_input",
    "make_plan",
    "ranking_values",
    "resolve_weights",
    "weights_from_query",
]


@contextmanager
def invalid_input() -> Iterator[None]:
    """Turn an engine `ValueError` into a 422; domain errors with their own handler pass."""
    try:
        yield
    except (InfeasiblePlanError, DatasetError):
        raise
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc


def resolve_weights(
    state: ModelState,
    channels: Mapping[str, float] | None = None,
    factors: Mapping[str, float] | None = None,
) -> Weights:
    """The default weights with the request's changes, each checked against its kind."""
    tax = state.taxonomy
    for group, given, known in (
        ("channels", channels or {}, tax.channel_ids),
        ("factors", factors or {}, tax.factor_ids),
    ):
        for name in given:
            if name not in known:
                raise InvalidInput(
                    f"`weights.{group}`: unknown {group[:-1]} {name!r}; expected one of "
                    f"{', '.join(known)}"
                )
    with invalid_input():
        return state.weights({**(channels or {}), **(factors or {})})


def weights_from_query(state: ModelState, text: str | None) -> Weights:
    """Weights from the ``weights`` query parameter: ``agriculture:0.3,cooperation_status:0``."""
    changes = _parse_weight_query(text) if text else {}
    with invalid_input():
        return state.weights(changes)


def _parse_weight_query(text: str) -> dict[str, float]:
    changes: dict[str, float] = {}
    for part in text.split(","):
        name, sep, value = part.partition(":")
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not sep or not name.strip() or not math.isfinite(number):
            raise InvalidInput(
                f"`weights`: {part!r} is not of the form component:number, e.g. agriculture:0.3"
            )
        changes[name.strip()] = number
    return changes


def ranking_values(state: ModelState, weights: Weights, channel: str | None) -> FloatArray:
    """The matrix to rank by: scores, or one channel's weighted contributions."""
    if channel is None:
        return state.components.combine(weights)
    check_channel(state, channel)
    k = state.components.component_ids.index(channel)
    values: FloatArray = weights.vector[k] * state.components.raw[k]
    return values


def check_channel(state: ModelState, channel: str) -> None:
    """422 unless `channel` is a channel id."""
    if channel not in state.taxonomy.channel_ids:
        raise InvalidInput(
            f"`channel`: unknown channel {channel!r}; expected one of "
            f"{', '.join(state.taxonomy.channel_ids)}"
        )


def _region_on(state: ModelState, region_id: str, side: str) -> int:
    network = state.network
    try:
        actual, index = network.locate(region_id)
    except KeyError:
        raise UnknownRegionError(region_id) from None
    if actual != side:
        raise InvalidInput(f"`{side}`: {region_id!r} is a {actual} region, not a {side} one")
    return index


@dataclass(frozen=True)
class LinkPage:
    """Links picked for a page: their rows and columns, and how many matched in all."""

    rows: IntArray
    cols: IntArray
    total: int


def find_links(
    state: ModelState,
    weights: Weights,
    *,
    northeast: str | None,
    east: str | None,
    channel: str | None,
    limit: int,
) -> LinkPage:
    """Links best first, optionally of one region on either side, ranked on one channel."""
    values = ranking_values(state, weights, channel)
    include = np.ones(values.shape, dtype=bool)
    if northeast is not None:
        row = _region_on(state, northeast, "northeast")
        include[np.arange(values.shape[0]) != row] = False
    if east is not None:
        col = _region_on(state, east, "east")
        include[:, np.arange(values.shape[1]) != col] = False
    if channel is not None:
        include &= values > 0
    rows, cols = rank_links(values, include=include, limit=limit)
    return LinkPage(rows=rows, cols=cols, total=int(include.sum()))


def explain(state: ModelState, weights: Weights, northeast: str, east: str) -> LinkExplanation:
    """The full explanation of one link; a pair given the wrong way round is a 422."""
    network = state.network
    if northeast in network.east.index and east in network.northeast.index:
        raise InvalidInput(
            f"the pair is the wrong way round: {northeast!r} is an eastern region and {east!r} a "
            f"northeast one; ask for /links/{east}/{northeast}"
        )
    i = _region_on(state, northeast, "northeast")
    j = _region_on(state, east, "east")
    return explain_link(network, i, j, weights)


def find_suggestions(
    state: ModelState,
    weights: Weights,
    *,
    region: str,
    k: int,
    channel: str | None,
    level: str | None,
) -> tuple[str, list[Suggestion]]:
    """The region's side and its best additional partners."""
    values = ranking_values(state, weights, channel)
    with invalid_input():
        picks = suggest_partners(state.network, values, region=region, k=k, level=level)
    side, _ = state.network.locate(region)
    return side, picks


def make_plan(state: ModelState, weights: Weights, settings: PlanSettings) -> PlanResult:
    """The optimal plan for the request."""
    with invalid_input():
        return plan_network(state.network, state.components, weights, settings)
