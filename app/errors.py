"""Domain errors and their mapping to HTTP: one handler module, one JSON error shape."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from matching import DatasetError, InfeasiblePlanError, UnknownRegionError
from schemas.common import ErrorBody, ErrorItem

__all__ = [
    "ERROR_RESPONSES",
    "MAX_LISTED_ERRORS",
    "USER_ERRORS",
    "AppError",
    "Problem",
    "Conflict",
    "Forbidden",
    "InvalidInput",
    "NotFound",
    "Unauthorized",
    "WorkLimitExceeded",
    "engine_errors",
    "install_error_handlers",
]

logger = logging.getLogger("counterpart")

#: Most problems an error lists (and its detail joins); `error_count` counts them all, so a
#: request with 100,000 bad items gets a small answer, built in proportion to this, not to them.
MAX_LISTED_ERRORS = 50


@dataclass(frozen=True)
class Problem:
    """One problem of a request or an uploaded file: where it is and what is wrong."""

    field: str
    error: str
    row: int | None = None


class AppError(Exception):
    """An expected failure with its HTTP status and error code."""

    status_code = 400
    code = "BadRequest"

    def __init__(self, detail: str, *, errors: list[Problem] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors

    def __reduce__(self) -> tuple[object, ...]:
        # Picklable with its problems (work runs in other processes).
        return _app_error, (type(self), self.detail, self.errors)

    @classmethod
    def listing(cls, problems: list[Problem]) -> AppError:
        """The error for several problems, its detail joining them (the first few)."""
        return cls(_joined(problems), errors=problems)


def _joined(problems: list[Problem]) -> str:
    """The detail of several problems: the first `MAX_LISTED_ERRORS` joined, the rest counted."""
    shown = "; ".join(f"{p.field}: {p.error}" for p in problems[:MAX_LISTED_ERRORS])
    more = len(problems) - MAX_LISTED_ERRORS
    return f"{shown}; and {more} more" if more > 0 else shown


def _app_error(kind: type[AppError], detail: str, errors: list[Problem] | None) -> AppError:
    return kind(detail, errors=errors)


class InvalidInput(AppError):
    """The request is well-formed JSON but asks for something impossible or unknown."""

    status_code = 422
    code = "InvalidRequest"


class NotFound(AppError):
    """A resource named in the path does not exist."""

    status_code = 404
    code = "NotFound"


class Conflict(AppError):
    """The write conflicts with what is stored."""

    status_code = 409
    code = "Conflict"


class Unauthorized(AppError):
    """A write without a valid API key (none, unknown or revoked)."""

    status_code = 401
    code = "Unauthorized"


class Forbidden(AppError):
    """A valid API key whose role (or binding) does not allow this request."""

    status_code = 403
    code = "Forbidden"


class WorkLimitExceeded(AppError):
    """A computation went beyond its time or memory budget; nothing was written."""

    status_code = 422
    code = "WorkLimitExceeded"


#: What a user's input can cause (a bad request, file or dataset); anything else is a bug.
USER_ERRORS: tuple[type[Exception], ...] = (
    AppError,
    DatasetError,
    InfeasiblePlanError,
    UnknownRegionError,
)

#: The responses every operation may give, in the API's one error shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorBody, "description": "Invalid request."}
}


@contextmanager
def engine_errors() -> Iterator[None]:
    """Turn the engine's `ValueError`s (a bad parameter, named) into a 422.

    Domain errors with a handler of their own (an infeasible plan, an invalid dataset, an unknown
    region) pass through unchanged.
    """
    try:
        yield
    except (InfeasiblePlanError, DatasetError):
        raise
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc


#: A message naming its parameter first: "`capacity` must be ...", "`east`: no region ...".
_NAMED = re.compile(r"^`([^`]+)`:? (.+)$", re.S)


def _encodable(text: str) -> str:
    """`text` as it can be sent in UTF-8.

    A lone surrogate echoed from the input (a JSON escape of one half of a UTF-16 pair) becomes
    its escape sequence instead of failing the encoding of the answer with a 500.
    """
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


#: Where a request's parameter is: the first part of every `errors[].field` of a 422.
_LOCATIONS = ("body", "query", "path", "header")


def _located(problem: Problem, request: Request | None) -> Problem:
    """`problem` named by where its parameter is: `body.capacities`, `query.limit`, `path.id`.

    A service or the engine names a parameter alone (`weights.agriculture`, `east`): it is a
    path parameter, a query parameter or else a body field of this request. A problem of an
    imported file's row keeps its column's name (its `row` says where it is), and one of the
    request as a whole stays `request`.
    """
    field = problem.field
    if request is None or problem.row is not None or field == "request":
        return problem
    first = field.split(".")[0]
    if first in _LOCATIONS:
        return problem
    if first in request.path_params:
        where = "path"
    elif first in request.query_params or request.method in ("GET", "HEAD", "DELETE"):
        where = "query"
    else:
        where = "body"
    return Problem(field=f"{where}.{field}", error=problem.error, row=problem.row)


def _body(
    status: int,
    code: str,
    detail: str,
    errors: list[Problem] | None = None,
    headers: Mapping[str, str] | None = None,
    *,
    count: int | None = None,
    request: Request | None = None,
) -> JSONResponse:
    """The error shape; `count` is how many problems there are when `errors` lists only some.

    A 422 always lists its problems, so a front-end reads one list whatever the error: one
    described by its detail alone becomes one problem, named by the parameter the detail starts
    with (the engine's "`weights.agriculture` must be ...") or else `request`.
    """
    if status == 422 and errors is None:
        named = _NAMED.match(detail)
        errors = [
            Problem(field=named.group(1), error=named.group(2))
            if named
            else Problem(field="request", error=detail)
        ]
    if status == 422 and errors is not None:
        errors = [_located(e, request) for e in errors]
    items = (
        None
        if errors is None
        else [
            ErrorItem(field=_encodable(e.field), error=_encodable(e.error), row=e.row)
            for e in errors[:MAX_LISTED_ERRORS]
        ]
    )
    content = ErrorBody(
        error=code,
        detail=_encodable(detail),
        errors=items,
        error_count=None if errors is None else max(count or 0, len(errors)),
    ).model_dump(exclude_none=True)
    return JSONResponse(status_code=status, content=content, headers=dict(headers or {}))


def _location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _problem(error: Mapping[str, Any]) -> Problem:
    """One problem FastAPI or pydantic found, named by its location."""
    loc = tuple(error.get("loc", ()))
    if error.get("type") == "json_invalid":
        # A body that is not JSON (or not JSON the API accepts): the position, where known, is
        # told in the message, not as a field.
        reason = str(error.get("ctx", {}).get("error", "not JSON"))
        where = f" (at character {loc[1]})" if len(loc) > 1 and loc[1] >= 0 else ""
        return Problem(field="body", error=f"invalid JSON: {reason}{where}")
    return Problem(field=_location(loc), error=str(error.get("msg", "")))


def install_error_handlers(app: FastAPI) -> None:
    """Map every exception the app can raise to the error shape."""

    @app.exception_handler(AppError)
    async def app_error(request: Request, exc: AppError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
        return _body(exc.status_code, exc.code, exc.detail, exc.errors, headers, request=request)

    @app.exception_handler(UnknownRegionError)
    async def unknown_region(request: Request, exc: UnknownRegionError) -> JSONResponse:
        # A region asked for by a path is a resource not found: 404. One named by a parameter
        # (a query filter, a body field) makes the request invalid: 422 naming the parameter.
        if exc.field is None:
            return _body(404, "UnknownRegion", str(exc))
        problem = Problem(field=exc.field, error=f"no region with id {exc.region_id!r}")
        return _body(422, InvalidInput.code, str(exc), [problem], request=request)

    @app.exception_handler(InfeasiblePlanError)
    async def infeasible(_: Request, exc: InfeasiblePlanError) -> JSONResponse:
        errors = [Problem(field="body", error=c) for c in exc.conflicts]
        return _body(422, "InfeasiblePlan", str(exc), errors)

    @app.exception_handler(DatasetError)
    async def invalid_dataset(request: Request, exc: DatasetError) -> JSONResponse:
        field = f"{exc.record}.{exc.field}" if exc.field else exc.record
        problem = Problem(field=field, error=exc.problem)
        return _body(422, "InvalidDataset", str(exc), [problem], request=request)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        found = exc.errors()
        # Only the problems listed are described; the rest are only counted.
        errors = [_problem(e) for e in found[:MAX_LISTED_ERRORS]]
        detail = _joined(errors) or "invalid request"
        if len(found) > len(errors):
            detail = f"{detail}; and {len(found) - len(errors)} more"
        return _body(422, "ValidationError", detail, errors, count=len(found))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:
            # FastAPI's "error parsing the body" (a body app.parsing did not read, such as an
            # unreadable form): a request the API cannot use is a 422, the status it documents.
            problem = Problem(field="body", error=f"could not be read: {exc.detail}")
            return _body(422, "ValidationError", f"body: {problem.error}", [problem])
        codes = {404: "NotFound", 405: "MethodNotAllowed", 413: "PayloadTooLarge"}
        code = codes.get(exc.status_code, "HTTPError")
        return _body(exc.status_code, code, str(exc.detail), headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        logger.exception("unexpected error", exc_info=exc)
        return _body(500, "InternalError", "unexpected error; the server log has the details")
