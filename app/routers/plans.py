"""POST /plans."""

from __future__ import annotations

from fastapi import APIRouter

from app.analysis import make_plan, resolve_weights
from app.convert import plan_out, plan_settings
from app.dependencies import ModelDep
from schemas.common import ErrorBody
from schemas.plans import PlanIn, PlanOut

router = APIRouter(prefix="/plans", tags=["plans"])


@router.post(
    "",
    summary="An optimal plan of additional partnerships",
    responses={422: {"model": ErrorBody, "description": "Invalid or contradictory request."}},
)
def create_plan(state: ModelDep, body: PlanIn) -> PlanOut:
    """Choose the additional pairs that maximise the total score under the constraints.

    Solved exactly as a min-cost flow. Computing a plan writes nothing, so it needs no key.
    """
    weights = resolve_weights(state, body.weights.channels, body.weights.factors)
    return plan_out(state, weights, make_plan(state, weights, plan_settings(body)))
