"""Plans: the optimal set of additional partnerships under a request's constraints."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.errors import engine_errors
from app.services.datasets import DatasetState
from app.services.work import WorkBudget, bounded
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

__all__ = ["Plan", "make_plan", "plan_links", "solve"]


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


#: Networks with at most this many pairs are planned in the worker; larger ones in a process of
#: their own, within the work budget (`app.services.work`).
INLINE_PAIRS = 10_000


def make_plan(
    state: DatasetState,
    changes: Mapping[str, float],
    settings: PlanSettings,
    budget: WorkBudget,
) -> Plan:
    """The optimal plan for the request under the default weights with `changes`."""
    weights = state.weights(changes)
    n, m = state.network.shape
    if n * m <= INLINE_PAIRS:
        result = solve(state, weights, settings)
    else:
        result = bounded(budget, solve, state, weights, settings)
    links = plan_links(state.network, state.components, weights, result)
    return Plan(weights=weights, result=result, links=links)


def solve(state: DatasetState, weights: Weights, settings: PlanSettings) -> PlanResult:
    """The engine's optimal plan on the active dataset."""
    with engine_errors():
        return plan_network(state.network, state.components, weights, settings)
