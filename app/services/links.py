"""Links: scored pairs of regions, best first, and the full explanation of one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from app.errors import InvalidInput
from app.services.datasets import DatasetState
from matching import (
    FloatArray,
    LinkExplanation,
    OutcomeTerm,
    ScoredLink,
    Weights,
    explain_link,
    outcome_terms,
    rank_links,
    scored_links,
)

__all__ = ["LinkPage", "LinkView", "explain", "find_links", "ranking_values", "region_row"]


@dataclass(frozen=True)
class LinkPage:
    """Links picked for a page, best first, and how many matched the filters in all."""

    weights: Weights
    channel: str | None
    total: int
    links: list[ScoredLink]


def ranking_values(state: DatasetState, weights: Weights, channel: str | None) -> FloatArray:
    """The matrix to rank by: scores, or one channel's weighted contributions."""
    if channel is None:
        return state.components.combine(weights)
    k = state.components.component_ids.index(state.channel(channel))
    values: FloatArray = weights.vector[k] * state.components.raw[k]
    return values


def region_row(state: DatasetState, region_id: str, side: str, *, field: str | None = None) -> int:
    """The row (or column) of a region that must be on `side`; 422 if misplaced.

    An unknown region is a 404 when it was asked for directly (a path), a 422 naming `field`
    when a parameter names it (a filter).
    """
    actual, index = state.network.locate(region_id, field=field)
    if actual != side:
        raise InvalidInput(f"`{side}`: {region_id!r} is a {actual} region, not a {side} one")
    return index


def find_links(
    state: DatasetState,
    changes: Mapping[str, float],
    *,
    northeast: str | None,
    east: str | None,
    channel: str | None,
    limit: int,
) -> LinkPage:
    """Links best first, optionally of one region on either side, ranked on one channel."""
    weights = state.weights(changes)
    values = ranking_values(state, weights, channel)
    include = np.ones(values.shape, dtype=bool)
    if northeast is not None:
        include[
            np.arange(values.shape[0])
            != region_row(state, northeast, "northeast", field="northeast")
        ] = False
    if east is not None:
        include[:, np.arange(values.shape[1]) != region_row(state, east, "east", field="east")] = (
            False
        )
    if channel is not None:
        include &= values > 0
    rows, cols = rank_links(values, include=include, limit=limit)
    links = scored_links(state.network, state.components, weights, rows, cols)
    return LinkPage(weights=weights, channel=channel, total=int(include.sum()), links=links)


@dataclass(frozen=True)
class LinkView:
    """A link's full explanation, the weights behind it and the outcomes it drew on."""

    weights: Weights
    explanation: LinkExplanation
    outcomes: tuple[OutcomeTerm, ...]


def explain(
    state: DatasetState, changes: Mapping[str, float], northeast: str, east: str
) -> LinkView:
    """The full explanation of one link; a pair the wrong way round is a 422."""
    weights = state.weights(changes)
    network = state.network
    if northeast in network.east.index and east in network.northeast.index:
        raise InvalidInput(
            f"the pair is the wrong way round: {northeast!r} is an eastern region and {east!r} a "
            f"northeast one; ask for /links/{east}/{northeast}"
        )
    i = region_row(state, northeast, "northeast")
    j = region_row(state, east, "east")
    drawn = () if state.evidence is None else outcome_terms(network, state.evidence, i, j, weights)
    return LinkView(weights, explain_link(network, i, j, weights), drawn)
