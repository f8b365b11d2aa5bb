"""POST /plans."""

from __future__ import annotations

from fastapi import APIRouter

from app import convert
from app.dependencies import BudgetDep, OutcomesDep, StateDep
from app.parsing import StrictRoute
from app.services import plans as service
from app.services.outcomes import dated
from schemas.common import ErrorBody
from schemas.plans import PlanIn, PlanOut

router = APIRouter(prefix="/plans", tags=["plans"], route_class=StrictRoute)


@router.post(
    "",
    summary="An optimal plan of additional partnerships",
    responses={422: {"model": ErrorBody, "description": "Invalid or contradictory request."}},
)
def create_plan(state: StateDep, outcomes: OutcomesDep, budget: BudgetDep, body: PlanIn) -> PlanOut:
    """Choose the additional pairs that maximise the total score under the constraints.

    Solved exactly as a min-cost flow, or as a MILP with the coverage rules `min_channels` or
    `per_docking`. Computing a plan writes nothing, so it needs no key.
    """
    state = dated(state, outcomes, body.as_of)
    changes = convert.weight_changes(body.weights, state.taxonomy)
    plan = service.make_plan(state, changes, convert.plan_settings(body), budget)
    return convert.plan_out(state, plan)
