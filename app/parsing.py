"""Strict request parsing: every route reads JSON and query strings the same, strict way.

What Python's `json` and FastAPI let through silently is refused here with a 422 naming it:

* a body that is not UTF-8, an integer of more than 4,300 digits, nesting deeper than the
  interpreter's recursion, or an object with a key given twice (which would keep the last
  value);
* a query parameter the operation does not take (`/links?northest=harbin` would list every
  link), or one it takes given twice (`?limit=1&limit=2`).

FastAPI turns a `json.JSONDecodeError` raised while reading the body into a 422; every refusal of
a body is one (`InvalidJSON`), with a message of its own.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any, NoReturn

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from schemas.common import ErrorBody

__all__ = ["InvalidJSON", "StrictRequest", "StrictRoute", "loads"]

#: Longest integer literal accepted (Python's own limit on converting digits to an int).
MAX_INTEGER_DIGITS = sys.get_int_max_str_digits() or 4300


class InvalidJSON(json.JSONDecodeError):
    """A body that is not the JSON the API accepts; its position is unknown (-1) or real."""

    def __init__(self, message: str, document: str = "", position: int = -1) -> None:
        super().__init__(message, document, position)


def _refuse(message: str) -> NoReturn:
    raise InvalidJSON(message)


def _integer(digits: str) -> int:
    size = len(digits.lstrip("-"))
    if size > MAX_INTEGER_DIGITS:
        _refuse(f"an integer of {size} digits; at most {MAX_INTEGER_DIGITS} are accepted")
    return int(digits)


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        # Counted once: an object of 100,000 keys must not cost 100,000 scans.
        twice = sorted(key for key, count in Counter(key for key, _ in pairs).items() if count > 1)
        _refuse(f"key {', '.join(map(repr, twice))} given more than once in one object")
    return found


def loads(body: bytes) -> Any:
    """A JSON body decoded strictly (see the module), or `InvalidJSON` saying what is wrong."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        _refuse(f"the body is not UTF-8 (byte {exc.start} is {body[exc.start]:#04x})")
    try:
        # NaN and Infinity are left to the models, which refuse them naming the field.
        return json.loads(text, object_pairs_hook=_object, parse_int=_integer)
    except RecursionError:
        _refuse("nested too deeply")


#: Bodies larger than this are decoded in a worker thread: a 16 MiB body of small objects takes
#: seconds to decode, which must not stall the event loop (and `/health` with it).
INLINE_BODY_BYTES = 64 * 1024


class StrictRequest(Request):
    """A request whose JSON body is read by `loads`."""

    async def json(self) -> Any:
        """The body, decoded strictly (off the event loop when it is large)."""
        if not hasattr(self, "_json"):
            body = await self.body()
            if len(body) <= INLINE_BODY_BYTES:
                self._json = loads(body)
            else:
                self._json = await run_in_threadpool(loads, body)
        return self._json


def _query_problems(request: Request, taken: frozenset[str]) -> list[dict[str, Any]]:
    params = request.query_params
    problems: list[dict[str, Any]] = []
    for name in dict.fromkeys(params.keys()):
        if name not in taken:
            expected = ", ".join(sorted(taken)) or "none"
            problems.append(
                {
                    "type": "extra_forbidden",
                    "loc": ("query", name),
                    "msg": f"unknown query parameter; this operation takes: {expected}",
                    "input": params[name],
                }
            )
        elif len(params.getlist(name)) > 1:
            problems.append(
                {
                    "type": "duplicate",
                    "loc": ("query", name),
                    "msg": "given more than once; give it once",
                    "input": params.getlist(name),
                }
            )
    return problems


class StrictRoute(APIRoute):
    """A route that reads its JSON body with `loads` and refuses query parameters it lacks.

    It documents every error status it can answer (422 is documented for every route by the
    app): 404 with a path parameter, 413 with a body, 304 on a GET (`If-None-Match`); a route
    that needs a key documents its 401 and 403 itself. A route open to anyone says so
    (`security: []`), so that a client generator does not assume a key.
    """

    #: Whether anyone may call the route (a route that needs a key sets False).
    open_to_anyone = True

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        responses: dict[int | str, dict[str, Any]] = dict(kwargs.pop("responses", None) or {})
        methods = {method.upper() for method in kwargs.get("methods") or ()}
        for status, response in self._statuses(path, methods):
            responses.setdefault(status, response)
        if self.open_to_anyone:
            # A read that shows more with a key documents its optional key itself.
            kwargs["openapi_extra"] = {"security": [], **(kwargs.get("openapi_extra") or {})}
        super().__init__(path, endpoint, responses=responses, **kwargs)

    @classmethod
    def _statuses(cls, path: str, methods: set[str]) -> list[tuple[int, dict[str, Any]]]:
        error = {"model": ErrorBody}
        statuses: list[tuple[int, dict[str, Any]]] = []
        if "{" in path:
            statuses.append((404, {**error, "description": "Nothing with this id."}))
        if methods & {"POST", "PUT", "PATCH"}:
            statuses.append((413, {**error, "description": "The body is over the size limit."}))
        if "GET" in methods:
            statuses.append(
                (304, {"description": "Not modified: `If-None-Match` holds the current ETag."})
            )
        return statuses

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap the handler with the query check and the strict body reader."""
        handler = super().get_route_handler()
        taken = frozenset(field.alias for field in self._query_fields())

        async def strict(request: Request) -> Response:
            if request.query_params and (problems := _query_problems(request, taken)):
                raise RequestValidationError(problems)
            return await handler(StrictRequest(request.scope, request.receive))

        return strict

    def _query_fields(self) -> list[Any]:
        """The query parameters of the endpoint and of every dependency it has."""
        fields: list[Any] = []
        stack = [self.dependant]
        while stack:
            dependant = stack.pop()
            fields += dependant.query_params
            stack += dependant.dependencies
        return fields
