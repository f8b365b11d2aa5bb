"""FastAPI dependencies: settings, the active dataset, the services, and the admin key check."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Coroutine
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.errors import Unauthorized
from app.services.datasets import ActiveDataset, DatasetState
from app.services.enterprises import EnterpriseService
from app.services.outcomes import OutcomeService, dated
from app.services.rounds import ParticipantSource, stored_participants
from app.services.scenarios import ScenarioService
from app.services.work import WorkBudget
from app.settings import Settings
from app.storage.database import Database

__all__ = [
    "ActiveDep",
    "AdminDep",
    "AdminRoute",
    "BudgetDep",
    "DatabaseDep",
    "DatedStateDep",
    "EnterprisesDep",
    "OutcomesDep",
    "ParticipantsDep",
    "PrivateDep",
    "ScenariosDep",
    "SettingsDep",
    "StateDep",
    "check_admin_key",
    "participant_source",
]


def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


def get_active(request: Request) -> ActiveDataset:
    """The app's active dataset (loaded in the lifespan)."""
    active: ActiveDataset = request.app.state.active
    return active


def get_database(request: Request) -> Database:
    """The app's database."""
    database: Database = request.app.state.database
    return database


def get_enterprises(request: Request) -> EnterpriseService:
    """The app's enterprise service (with this worker's index)."""
    service: EnterpriseService = request.app.state.enterprises
    return service


def get_scenarios(request: Request) -> ScenarioService:
    """The app's saved-scenario service (with this worker's cache of results)."""
    service: ScenarioService = request.app.state.scenarios
    return service


def get_budget(request: Request) -> WorkBudget:
    """The time and memory budget of one heavy computation."""
    budget: WorkBudget = request.app.state.budget
    return budget


def get_outcomes(request: Request) -> OutcomeService:
    """The app's outcome service (with this worker's cache of outcomes and targets)."""
    service: OutcomeService = request.app.state.outcomes
    return service


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
BudgetDep = Annotated[WorkBudget, Depends(get_budget)]
ActiveDep = Annotated[ActiveDataset, Depends(get_active)]
DatabaseDep = Annotated[Database, Depends(get_database)]
EnterprisesDep = Annotated[EnterpriseService, Depends(get_enterprises)]
ScenariosDep = Annotated[ScenarioService, Depends(get_scenarios)]
OutcomesDep = Annotated[OutcomeService, Depends(get_outcomes)]


def current_state(active: ActiveDep) -> DatasetState:
    """The state of the active dataset."""
    return active.current()


StateDep = Annotated[DatasetState, Depends(current_state)]


def dated_state(
    state: StateDep,
    outcomes: OutcomesDep,
    as_of: Annotated[
        date | None,
        Query(
            description=(
                "Evaluation date (YYYY-MM-DD): the ties in force and the outcomes known then "
                "count; default the plan's adoption (GET /dataset `adopted`)."
            ),
            examples=["2020-01-01"],
        ),
    ] = None,
) -> DatasetState:
    """The state of the active dataset at the `as_of` query parameter, with its outcomes."""
    return dated(state, outcomes, as_of)


DatedStateDep = Annotated[DatasetState, Depends(dated_state)]


def participant_source(service: EnterprisesDep) -> ParticipantSource:
    """Where round participants come from: the enterprise store (tests override this)."""
    return stored_participants(service)


ParticipantsDep = Annotated[ParticipantSource, Depends(participant_source)]

_bearer = HTTPBearer(
    auto_error=False,
    description="Writes need `Authorization: Bearer <key>`, the key being COUNTERPART_ADMIN_KEY.",
)


def check_admin_key(settings: Settings, authorization: str | None) -> None:
    """Refuse a write without the admin key (401): the one check behind every write."""
    if settings.admin_key is None:
        raise Unauthorized("writes are disabled: the server has no COUNTERPART_ADMIN_KEY set")
    scheme, _, key = (authorization or "").partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise Unauthorized("this is a write: send 'Authorization: Bearer <admin key>'")
    expected = settings.admin_key.get_secret_value().encode()
    # Compared as UTF-8 bytes whatever the header holds; an empty key never gets here.
    if not secrets.compare_digest(key.encode("utf-8", "surrogateescape"), expected):
        raise Unauthorized("the API key is not valid")


def require_admin(
    request: Request,
    settings: SettingsDep,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """The admin check as a dependency (it also marks the endpoint as secured in OpenAPI)."""
    check_admin_key(settings, request.headers.get("authorization"))


AdminDep = Annotated[None, Depends(require_admin)]


def holds_admin_key(request: Request, settings: SettingsDep) -> bool:
    """Whether the request carries the admin key (for what only it may see; never raises)."""
    try:
        check_admin_key(settings, request.headers.get("authorization"))
    except Unauthorized:
        return False
    return True


#: Whether the request may see private fields (an enterprise's contact).
PrivateDep = Annotated[bool, Depends(holds_admin_key)]


class AdminRoute(APIRoute):
    """A write route: the key is checked before the body is read.

    FastAPI parses a request's body before it resolves dependencies, so without this a write with
    a malformed body and no key would get 422 instead of 401.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap the handler with the key check."""
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            check_admin_key(request.app.state.settings, request.headers.get("authorization"))
            return await handler(request)

        return guarded
