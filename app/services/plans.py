"""Plans: the optimal set of additional partnerships under a request's constraints."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.errors import engine_errors
from app.services.datasets import DatasetState
from matching import (
    ComponentScores,
    Network,
    PlanResult,
    PlanSettings,
    ScoredLink,
    Weights,
    plan_network,
    scored_links,
)

__all__ = ["Plan", "make_plan", "plan_links"]


@dataclass(frozen=True)
class Plan:
    """A plan on the active dataset: the weights, the engine's result and its pairs' links."""

    weights: Weights
    result: PlanResult
    links: list[ScoredLink]


def plan_links(
    network: Network, components: ComponentScores, weights: Weights, result: PlanResult
) -> list[ScoredLink]:
    """The links of a plan's pairs, in the plan's order, with their contributions."""
    return scored_links(
        network,
        components,
        weights,
        [p.northeast for p in result.pairs],
        [p.east for p in result.pairs],
    )


def make_plan(state: DatasetState, changes: Mapping[str, float], settings: PlanSettings) -> Plan:
    """The optimal plan for the request under the default weights with `changes`."""
    weights = state.weights(changes)
    with engine_errors():
        result = plan_network(state.network, state.components, weights, settings)
    links = plan_links(state.network, state.components, weights, result)
    return Plan(weights=weights, result=result, links=links)
