"""What-if scenarios: evaluate, save, read, list, compare.

A saved scenario is stored as the request that defined it (its JSON, opaque to this module) and
re-evaluated on the active dataset when read; each worker keeps the latest results in memory, per
dataset digest, so reading one writes nothing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from app.errors import AppError, Conflict, NotFound, engine_errors
from app.services.datasets import DatasetState
from app.services.plans import plan_links
from app.services.regions import SuggestedPartner, suggested_partners
from app.services.work import WorkBudget, bounded
from app.storage import scenarios as store
from app.storage.database import Database
from app.storage.scenarios import StoredScenario
from matching import (
    InfeasiblePlanError,
    Scenario,
    ScenarioDiff,
    ScenarioResult,
    ScoredLink,
    diff_results,
    evaluate_scenario,
    scored_links,
)

__all__ = [
    "Comparison",
    "SavedResult",
    "ScenarioDecoder",
    "ScenarioPage",
    "ScenarioService",
    "ScenarioView",
    "evaluate",
    "view_scenario",
]

#: Turns a stored definition (the JSON of the request that saved it) back into a scenario.
ScenarioDecoder = Callable[[str], Scenario]
#: Results kept per worker (each a few matrices of the dataset's size).
CACHED_RESULTS = 64


@dataclass(frozen=True, eq=False)
class ScenarioView:
    """A scenario's result with its links, suggestions and plan pairs scored and explained."""

    result: ScenarioResult
    links: list[ScoredLink]
    suggestions: dict[str, list[SuggestedPartner]]
    plan_links: list[ScoredLink]


#: Networks with at most this many pairs are evaluated in the worker; larger ones (an uploaded
#: dataset of hundreds of regions) in a process of their own, within the work budget.
INLINE_PAIRS = 10_000


def evaluate(
    state: DatasetState,
    scenario: Scenario,
    budget: WorkBudget,
    *,
    sensitivity: bool = True,
) -> ScenarioView:
    """Evaluate a scenario against the baseline on the active dataset."""
    n, m = state.network.shape
    if n * m <= INLINE_PAIRS:
        return view_scenario(state, scenario, sensitivity)
    return bounded(budget, view_scenario, state, scenario, sensitivity)


def view_scenario(state: DatasetState, scenario: Scenario, sensitivity: bool) -> ScenarioView:
    """The scenario evaluated, its links, suggestions and plan pairs scored and explained."""
    with engine_errors():
        result = evaluate_scenario(
            state.network, state.components, scenario, sensitivity=sensitivity
        )
    network, components, weights = result.network, result.components, result.weights
    return ScenarioView(
        result=result,
        links=scored_links(network, components, weights, *result.links),
        suggestions=suggested_partners(state, network, components, weights, result.suggestions),
        plan_links=plan_links(network, components, weights, result.plan),
    )


@dataclass(frozen=True)
class SavedResult:
    """A saved scenario and its result on the active dataset."""

    stored: StoredScenario
    view: ScenarioView


@dataclass(frozen=True)
class ScenarioPage:
    """A page of saved scenarios, newest first, and how many there are."""

    items: list[StoredScenario]
    total: int


@dataclass(frozen=True)
class Comparison:
    """What changes from one saved scenario (the baseline) to another."""

    first: SavedResult
    second: SavedResult
    diff: ScenarioDiff


def _stale(stored: StoredScenario, state: DatasetState, error: Exception) -> Conflict:
    return Conflict(
        f"scenario {stored.id} ({stored.name!r}) no longer applies to dataset "
        f"{state.version!r}: {error}"
    )


class ScenarioService:
    """Saved scenarios over the database, with this worker's cache of their results."""

    def __init__(self, database: Database, budget: WorkBudget) -> None:
        self.database = database
        self.budget = budget
        self._lock = threading.Lock()
        self._results: OrderedDict[tuple[int, str, bool], ScenarioView] = OrderedDict()

    def _result(
        self,
        state: DatasetState,
        stored: StoredScenario,
        decode: ScenarioDecoder,
        sensitivity: bool,
    ) -> ScenarioView:
        key = (stored.id, state.digest, sensitivity)
        with self._lock:
            cached = self._results.get(key)
        if cached is not None:
            return cached
        try:
            result = evaluate(state, decode(stored.body), self.budget, sensitivity=sensitivity)
        except (AppError, ValueError, KeyError, InfeasiblePlanError) as exc:
            raise _stale(stored, state, exc) from exc
        with self._lock:
            self._results[key] = result
            while len(self._results) > CACHED_RESULTS:
                self._results.popitem(last=False)
        return result

    def save(
        self,
        state: DatasetState,
        *,
        name: str,
        description: str,
        scenario: Scenario,
        definition: str,
    ) -> SavedResult:
        """Evaluate (which validates it) and save a scenario; 409 if the name is taken."""
        result = evaluate(state, scenario, self.budget)
        try:
            with self.database.write() as session:
                stored = store.insert_scenario(
                    session, name=name, description=description, body=definition
                )
        except store.DuplicateName:
            raise Conflict(f"a scenario named {name!r} already exists") from None
        with self._lock:
            self._results[(stored.id, state.digest, True)] = result
        return SavedResult(stored, result)

    def load(self, scenario_id: int) -> StoredScenario:
        """A saved scenario; 404 if there is none."""
        with self.database.read() as session:
            stored = store.get_scenario(session, scenario_id)
        if stored is None:
            raise NotFound(f"no scenario with id {scenario_id}")
        return stored

    def read(self, state: DatasetState, scenario_id: int, decode: ScenarioDecoder) -> SavedResult:
        """A saved scenario and its result on the active dataset (409 if it no longer fits)."""
        stored = self.load(scenario_id)
        return SavedResult(stored, self._result(state, stored, decode, True))

    def page(self, *, limit: int, offset: int) -> ScenarioPage:
        """A page of saved scenarios, newest first."""
        with self.database.read() as session:
            items = store.list_scenarios(session, limit=limit, offset=offset)
            total = store.count_scenarios(session)
        return ScenarioPage(items=items, total=total)

    def delete(self, scenario_id: int) -> None:
        """Delete a saved scenario; 404 if there is none."""
        with self.database.write() as session:
            if not store.delete_scenario(session, scenario_id):
                raise NotFound(f"no scenario with id {scenario_id}")

    def compare(
        self, state: DatasetState, scenario_id: int, other_id: int, decode: ScenarioDecoder
    ) -> Comparison:
        """The diff from one saved scenario (as the baseline) to another, on the active dataset."""
        first, second = (
            SavedResult(stored, self._result(state, stored, decode, False))
            for stored in (self.load(scenario_id), self.load(other_id))
        )
        a, b = first.view.result, second.view.result
        diff = diff_results(a.scores, a.plan, b.scores, b.plan)
        return Comparison(first, second, diff)
