"""Services behind the scenario endpoints: evaluate, save, read, compare."""

from __future__ import annotations

from app.analysis import invalid_input, resolve_weights
from app.convert import diff_out, scenario_in, scenario_out
from app.errors import AppError, Conflict, NotFound
from app.model import ModelState
from app.storage import scenarios as store
from app.storage.database import Sessions
from matching import InfeasiblePlanError, ScenarioResult, diff_results, evaluate_scenario
from schemas.scenarios import (
    ComparisonOut,
    SavedScenarioIn,
    SavedScenarioOut,
    ScenarioIn,
    ScenarioList,
    ScenarioOut,
    ScenarioRef,
    ScenarioSummary,
)

__all__ = [
    "compare_scenarios",
    "delete_scenario",
    "evaluate",
    "list_scenarios",
    "read_scenario",
    "save_scenario",
]


def _evaluate(state: ModelState, body: ScenarioIn, *, sensitivity: bool = True) -> ScenarioResult:
    # Checks each weight against its group (a factor given as a channel is a 422, as for plans).
    resolve_weights(state, body.weights.channels, body.weights.factors)
    with invalid_input():
        return evaluate_scenario(
            state.network, state.components, scenario_in(body), sensitivity=sensitivity
        )


def evaluate(state: ModelState, body: ScenarioIn, *, sensitivity: bool = True) -> ScenarioOut:
    """Evaluate a scenario against the baseline on the active dataset."""
    return scenario_out(state, _evaluate(state, body, sensitivity=sensitivity))


def _summary(stored: store.StoredScenario) -> ScenarioSummary:
    return ScenarioSummary(
        id=stored.id,
        name=stored.name,
        description=stored.description,
        created_at=stored.created_at,
    )


def save_scenario(sessions: Sessions, state: ModelState, body: SavedScenarioIn) -> SavedScenarioOut:
    """Evaluate (which validates it) and save a scenario; 409 if the name is taken."""
    result = evaluate(state, body.scenario)
    try:
        with sessions.begin() as session:
            stored = store.insert_scenario(
                session,
                name=body.name,
                description=body.description,
                body=body.scenario.model_dump_json(),
                result=result.model_dump_json(),
                digest=state.digest,
            )
    except store.DuplicateName:
        raise Conflict(f"a scenario named {body.name!r} already exists") from None
    return SavedScenarioOut(**dict(_summary(stored)), scenario=body.scenario, result=result)


def _load(sessions: Sessions, scenario_id: int) -> store.StoredScenario:
    with sessions() as session:
        stored = store.get_scenario(session, scenario_id)
    if stored is None:
        raise NotFound(f"no scenario with id {scenario_id}")
    return stored


def _body(stored: store.StoredScenario) -> ScenarioIn:
    return ScenarioIn.model_validate_json(stored.body)


def _stale(stored: store.StoredScenario, state: ModelState, error: Exception) -> Conflict:
    return Conflict(
        f"scenario {stored.id} ({stored.name!r}) no longer applies to dataset "
        f"{state.version!r}: {error}"
    )


def read_scenario(sessions: Sessions, state: ModelState, scenario_id: int) -> SavedScenarioOut:
    """A saved scenario and its result, recomputed if the dataset changed since it was cached."""
    stored = _load(sessions, scenario_id)
    body = _body(stored)
    if stored.result is not None and stored.result_digest == state.digest:
        result = ScenarioOut.model_validate_json(stored.result)
    else:
        try:
            result = evaluate(state, body)
        except (AppError, ValueError, InfeasiblePlanError) as exc:
            raise _stale(stored, state, exc) from exc
        with sessions.begin() as session:
            store.update_result(
                session, stored.id, result=result.model_dump_json(), digest=state.digest
            )
    return SavedScenarioOut(**dict(_summary(stored)), scenario=body, result=result)


def list_scenarios(sessions: Sessions, *, limit: int, offset: int) -> ScenarioList:
    """A page of saved scenarios, newest first."""
    with sessions() as session:
        items = store.list_scenarios(session, limit=limit, offset=offset)
        total = store.count_scenarios(session)
    return ScenarioList(items=[_summary(s) for s in items], total=total, limit=limit, offset=offset)


def delete_scenario(sessions: Sessions, scenario_id: int) -> None:
    """Delete a saved scenario; 404 if there is none."""
    with sessions.begin() as session:
        if not store.delete_scenario(session, scenario_id):
            raise NotFound(f"no scenario with id {scenario_id}")


def compare_scenarios(
    sessions: Sessions, state: ModelState, scenario_id: int, other_id: int
) -> ComparisonOut:
    """The diff from one saved scenario (as the baseline) to another, on the active dataset."""
    results = []
    refs = []
    for ident in (scenario_id, other_id):
        stored = _load(sessions, ident)
        try:
            results.append(_evaluate(state, _body(stored), sensitivity=False))
        except (AppError, ValueError, InfeasiblePlanError) as exc:
            raise _stale(stored, state, exc) from exc
        refs.append(ScenarioRef(id=stored.id, name=stored.name))
    first, second = results
    diff = diff_results(first.scores, first.plan, second.scores, second.plan)
    return ComparisonOut(
        dataset_version=state.version,
        scenario=refs[0],
        other=refs[1],
        diff=diff_out(state.network, diff, first.plan, second.plan),
    )
