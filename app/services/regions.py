"""Regions: their profiles, and the best additional partners of one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.errors import engine_errors
from app.services.datasets import DatasetState
from app.services.links import ranking_values
from matching import (
    ComponentScores,
    Network,
    Region,
    ScoredLink,
    Side,
    Suggestion,
    UnknownRegionError,
    Weights,
    scored_links,
    suggest_partners,
)

__all__ = [
    "SuggestedPartner",
    "Suggestions",
    "get_region",
    "list_regions",
    "suggest",
    "suggested_partners",
]


def list_regions(state: DatasetState, *, side: str | None, level: str | None) -> list[Region]:
    """Regions in dataset order, optionally of one side and level."""
    return [
        r
        for r in state.dataset.regions
        if (side is None or r.side == side) and (level is None or r.level == level)
    ]


def get_region(state: DatasetState, region_id: str) -> Region:
    """One region's profile; `UnknownRegionError` (404) if there is none."""
    try:
        return state.dataset.region(region_id)
    except KeyError:
        raise UnknownRegionError(region_id) from None


@dataclass(frozen=True)
class SuggestedPartner:
    """A suggested partner: its profile, the link with it, and the value it was ranked by."""

    region: Region
    link: ScoredLink
    value: float


@dataclass(frozen=True)
class Suggestions:
    """A region's best additional partners, best first, and what they were ranked with."""

    region: str
    side: str
    weights: Weights
    channel: str | None
    level: str | None
    partners: list[SuggestedPartner]


def suggested_partners(
    state: DatasetState,
    network: Network,
    components: ComponentScores,
    weights: Weights,
    picks: Mapping[str, list[Suggestion]],
) -> dict[str, list[SuggestedPartner]]:
    """The engine's suggestions for each region with their links and the partners' profiles.

    Every region's links are scored in one call: a scenario explains fourteen regions'
    suggestions, and a call per region cost about 1 ms a request, mostly the calls' own overhead.
    """
    rows: list[int] = []
    cols: list[int] = []
    partners: dict[str, Side] = {}
    for region, chosen in picks.items():
        side, index = network.locate(region)
        others = [p.partner for p in chosen]
        if side == "northeast":
            rows += [index] * len(others)
            cols += others
        else:
            rows += others
            cols += [index] * len(others)
        partners[region] = network.east if side == "northeast" else network.northeast
    links = iter(scored_links(network, components, weights, rows, cols))
    return {
        region: [
            SuggestedPartner(
                state.dataset.region(partners[region].ids[p.partner]), next(links), p.value
            )
            for p in chosen
        ]
        for region, chosen in picks.items()
    }


def suggest(
    state: DatasetState,
    changes: Mapping[str, float],
    *,
    region: str,
    k: int,
    channel: str | None,
    level: str | None,
) -> Suggestions:
    """The region's k best partners on the other side that are not already tied."""
    weights = state.weights(changes)
    values = ranking_values(state, weights, channel)
    network = state.network
    with engine_errors():
        picks = suggest_partners(network, values, region=region, k=k, level=level)
    partners = suggested_partners(state, network, state.components, weights, {region: picks})
    return Suggestions(
        region=region,
        side=network.locate(region)[0],
        weights=weights,
        channel=channel,
        level=level,
        partners=partners[region],
    )
