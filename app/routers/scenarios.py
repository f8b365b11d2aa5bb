"""What-if scenarios: POST /scenarios/evaluate, saved scenarios and comparisons."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from app import convert
from app.dependencies import (
    ActiveDep,
    BudgetDep,
    KeyDep,
    OutcomesDep,
    PlannerRoute,
    ScenariosDep,
    StateDep,
)
from app.parsing import StrictRoute
from app.routers.params import json_response
from app.services import scenarios as service
from app.services.outcomes import dated, undated
from schemas.common import ErrorBody
from schemas.scenarios import (
    ComparisonOut,
    SavedScenarioIn,
    SavedScenarioOut,
    ScenarioIn,
    ScenarioList,
    ScenarioOut,
)

router = APIRouter(prefix="/scenarios", tags=["scenarios"], route_class=StrictRoute)
planner_router = APIRouter(prefix="/scenarios", tags=["scenarios"], route_class=PlannerRoute)

ScenarioId = Annotated[int, Path(description="A saved scenario's id.", ge=1, le=2**62)]
# A parameter object of its own: FastAPI sets a parameter's alias on it, so two parameters of one
# endpoint sharing one would race when routes are first built concurrently.
OtherId = Annotated[int, Path(description="The other saved scenario's id.", ge=1, le=2**62)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No saved scenario with this id."},
    409: {"model": ErrorBody, "description": "The scenario no longer fits the dataset."},
}


@router.post(
    "/evaluate",
    summary="Evaluate a what-if scenario against the baseline",
    response_model=ScenarioOut,
    responses={422: {"model": ErrorBody, "description": "Invalid or contradictory scenario."}},
)
def evaluate_scenario(
    active: ActiveDep, outcomes: OutcomesDep, budget: BudgetDep, body: ScenarioIn
) -> Response:
    """Links, suggestions, the plan, the diff from the baseline and each weight's interval.

    The baseline is the default weights with no overrides and the same plan settings. Overrides
    never touch the stored dataset. Evaluating is a read: it needs no key. `as_of` evaluates
    at another date (ties in force and outcomes known then).
    """
    # The active dataset read here, in the endpoint's thread, rather than by a dependency:
    # a synchronous dependency is a hop to a thread of its own, a tenth of a millisecond or more
    # of the planner's what-if loop.
    state = dated(active.current(), outcomes, body.as_of)
    view = service.evaluate(state, convert.scenario_in(body, state.taxonomy), budget)
    return json_response(convert.scenario_out(state, view))


@planner_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Save a scenario (planner)",
    responses={409: {"model": ErrorBody, "description": "The name is taken."}},
)
def save_scenario(
    _: KeyDep, state: StateDep, scenarios: ScenariosDep, body: SavedScenarioIn
) -> SavedScenarioOut:
    """Validate, evaluate and save a scenario under a unique name (at the adoption date)."""
    undated(body.scenario.as_of)
    saved = scenarios.save(
        state,
        name=body.name,
        description=body.description,
        scenario=convert.scenario_in(body.scenario, state.taxonomy),
        definition=body.scenario.model_dump_json(),
    )
    return convert.saved_scenario_out(state, saved)


@router.get("", summary="Saved scenarios, newest first")
def list_scenarios(
    scenarios: ScenariosDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> ScenarioList:
    """A page of saved scenarios (without their results)."""
    return convert.scenario_list(
        scenarios.page(limit=limit, offset=offset), limit=limit, offset=offset
    )


@router.get("/{scenario_id}", summary="A saved scenario and its result", responses=NOT_FOUND)
def get_scenario(
    state: StateDep, scenarios: ScenariosDep, scenario_id: ScenarioId
) -> SavedScenarioOut:
    """The scenario and its result on the active dataset (recomputed if the dataset changed)."""
    saved = scenarios.read(state, scenario_id, convert.scenario_decoder(state.taxonomy))
    return convert.saved_scenario_out(state, saved)


@planner_router.delete(
    "/{scenario_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a saved scenario (planner)",
    responses=NOT_FOUND,
)
def delete_scenario(_: KeyDep, scenarios: ScenariosDep, scenario_id: ScenarioId) -> Response:
    """Delete it for good."""
    scenarios.delete(scenario_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{scenario_id}/compare/{other_id}",
    summary="The diff between two saved scenarios",
    responses=NOT_FOUND,
)
def compare_scenarios(
    state: StateDep, scenarios: ScenariosDep, scenario_id: ScenarioId, other_id: OtherId
) -> ComparisonOut:
    """What changes from the first scenario (as the baseline) to the second."""
    comparison = scenarios.compare(
        state, scenario_id, other_id, convert.scenario_decoder(state.taxonomy)
    )
    return convert.comparison_out(state, comparison)
