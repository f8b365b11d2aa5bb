"""FastAPI dependencies: settings, the active dataset, the services, and the keys' checks."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import date
from typing import Annotated, Any, ClassVar

from fastapi import Depends, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from app.errors import Forbidden, Unauthorized
from app.parsing import StrictRoute
from app.search_threads import SearchThreads
from app.services.datasets import ActiveDataset, DatasetState
from app.services.enterprises import EnterpriseService
from app.services.keys import KeyService, Principal, Role
from app.services.outcomes import OutcomeService, dated
from app.services.rounds import ParticipantSource, stored_participants
from app.services.scenarios import ScenarioService
from app.services.work import WorkBudget
from app.settings import Settings
from app.storage.database import Database
from schemas.common import ErrorBody

__all__ = [
    "OPTIONAL_KEY",
    "ActiveDep",
    "AdminRoute",
    "BudgetDep",
    "DatabaseDep",
    "DatedStateDep",
    "EnterpriseRoute",
    "EnterprisesDep",
    "KeyDep",
    "KeyedRoute",
    "KeysDep",
    "OutcomesDep",
    "ParticipantsDep",
    "PlannerRoute",
    "ScenariosDep",
    "SearchThreadsDep",
    "SettingsDep",
    "StateDep",
    "ViewerDep",
    "authorise_enterprise",
    "participant_source",
]


async def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


async def get_active(request: Request) -> ActiveDataset:
    """The app's active dataset (loaded in the lifespan)."""
    active: ActiveDataset = request.app.state.active
    return active


async def get_database(request: Request) -> Database:
    """The app's database."""
    database: Database = request.app.state.database
    return database


async def get_enterprises(request: Request) -> EnterpriseService:
    """The app's enterprise service (with this worker's index)."""
    service: EnterpriseService = request.app.state.enterprises
    return service


async def get_scenarios(request: Request) -> ScenarioService:
    """The app's saved-scenario service (with this worker's cache of results)."""
    service: ScenarioService = request.app.state.scenarios
    return service


async def get_budget(request: Request) -> WorkBudget:
    """The time and memory budget of one heavy computation."""
    budget: WorkBudget = request.app.state.budget
    return budget


async def get_outcomes(request: Request) -> OutcomeService:
    """The app's outcome service (with this worker's cache of outcomes and targets)."""
    service: OutcomeService = request.app.state.outcomes
    return service


async def get_search_threads(request: Request) -> SearchThreads:
    """The threads this worker's partner searches run on."""
    threads: SearchThreads = request.app.state.search_threads
    return threads


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
SearchThreadsDep = Annotated[SearchThreads, Depends(get_search_threads)]
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


async def participant_source(service: EnterprisesDep) -> ParticipantSource:
    """Where round participants come from: the enterprise store (tests override this)."""
    return stored_participants(service)


ParticipantsDep = Annotated[ParticipantSource, Depends(participant_source)]

_bearer = HTTPBearer(
    auto_error=False,
    description=(
        "`Authorization: Bearer <key>`: COUNTERPART_ADMIN_KEY (the bootstrap admin key) or a key "
        "made with POST /keys or `counterpart keys create`. Its role decides what it may write: "
        "`admin` everything, `planner` scenarios, outcomes and targets, `enterprise` the "
        "profiles of its own enterprises."
    ),
)


def get_keys(request: Request) -> KeyService:
    """The app's keys."""
    service: KeyService = request.app.state.keys
    return service


KeysDep = Annotated[KeyService, Depends(get_keys)]


def bearer_key(authorization: str | None) -> str | None:
    """The key of an `Authorization: Bearer <key>` header; None without one."""
    scheme, _, key = (authorization or "").partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        return None
    return key


async def authenticate(request: Request) -> Principal:
    """Who the request's key is; 401 without a key, or with an unknown or revoked one."""
    key = bearer_key(request.headers.get("authorization"))
    if key is None:
        raise Unauthorized("this request needs a key: send 'Authorization: Bearer <key>'")
    keys = get_keys(request)
    if keys.is_bootstrap(key):
        return Principal(Role.ADMIN)
    # A stored key is read from the database: off the event loop.
    return await run_in_threadpool(keys.authenticate, key)


def authorise(principal: Principal, roles: tuple[Role, ...], action: str) -> None:
    """Refuse (403) a key whose role is not one of `roles`, naming what it would need."""
    if principal.role not in roles:
        needed = " or ".join(f"`{r}`" for r in roles)
        raise Forbidden(
            f"a key with the `{principal.role}` role may not {action}: that needs the {needed} role"
        )


def authorise_enterprise(principal: Principal, enterprise_id: str | None) -> None:
    """Refuse (403) a change to an enterprise's profile the key is not bound to."""
    if enterprise_id is None:
        if principal.role is not Role.ADMIN:
            raise Forbidden(
                "an enterprise key creates only the enterprises it is bound to: give the `id`"
            )
        return
    if not principal.may_edit(enterprise_id):
        bound = ", ".join(f"{e!r}" for e in sorted(principal.enterprises))
        raise Forbidden(
            f"this key may edit only the enterprise(s) it is bound to ({bound}), "
            f"not {enterprise_id!r}"
        )


class KeyedRoute(StrictRoute):
    """A route that needs a key with one of `roles`: checked before the body is read.

    FastAPI parses a request's body before it resolves dependencies, so without this a write with
    a malformed body and no key would get 422 instead of 401. The route also documents its 401
    and 403 answers and the roles it needs in OpenAPI.
    """

    roles: ClassVar[tuple[Role, ...]] = (Role.ADMIN,)
    open_to_anyone = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Add the key's answers (401, 403) to the route's documented responses."""
        needed = " or ".join(f"`{r}`" for r in self.roles)
        kwargs["responses"] = {
            401: {"model": ErrorBody, "description": "No key, or an unknown or revoked one."},
            403: {"model": ErrorBody, "description": f"The key's role is not {needed}."},
            **(kwargs.get("responses") or {}),
        }
        super().__init__(*args, **kwargs)
        self.description = f"{self.description}\n\nNeeds a key with the {needed} role.".strip()

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap the handler with the key check."""
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            principal = await authenticate(request)
            self.authorise(principal, request)
            request.state.principal = principal
            return await handler(request)

        return guarded

    def authorise(self, principal: Principal, request: Request) -> None:
        """Refuse (403) a key this route does not take."""
        authorise(principal, self.roles, f"{request.method} {self.path}")


class AdminRoute(KeyedRoute):
    """A route for admin keys only (the dataset, the keys)."""

    roles = (Role.ADMIN,)


class PlannerRoute(KeyedRoute):
    """A route for planners (and admins): scenarios, outcomes, targets."""

    roles = (Role.ADMIN, Role.PLANNER)


class EnterpriseRoute(KeyedRoute):
    """A route for enterprise keys (and admins), for the enterprises they are bound to.

    The enterprise of the path (`enterprise_id`) is checked here, before the body is read; a
    route without one (POST) checks the body's with `authorise_enterprise`.
    """

    roles = (Role.ADMIN, Role.ENTERPRISE)

    def authorise(self, principal: Principal, request: Request) -> None:
        """The role, and the binding to the path's enterprise."""
        super().authorise(principal, request)
        enterprise_id = request.path_params.get("enterprise_id")
        if isinstance(enterprise_id, str):
            authorise_enterprise(principal, enterprise_id)


async def current_key(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The key a `KeyedRoute` checked (the dependency also marks the route secured in OpenAPI)."""
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, Principal):
        raise RuntimeError("KeyDep is only for routes of a KeyedRoute router")
    return principal


#: The checked key of a write.
KeyDep = Annotated[Principal, Depends(current_key)]


def optional_key(request: Request, keys: KeysDep) -> Principal | None:
    """Who a read's key is, if it carries a valid one (reads never fail on a key)."""
    key = bearer_key(request.headers.get("authorization"))
    if key is None:
        return None
    try:
        return keys.authenticate(key)
    except Unauthorized:
        return None


#: The key of a read, if any: what it may see of private fields (an enterprise's contact).
ViewerDep = Annotated[Principal | None, Depends(optional_key)]

#: OpenAPI of a read that shows more with a key: the key is optional.
OPTIONAL_KEY: dict[str, Any] = {"security": [{}, {"HTTPBearer": []}]}
