"""What operators see of each request: an id, a JSON log line, its metrics.

* Every request gets an id (the client's ``X-Request-ID`` if it sent a sane one, else a new one),
  echoed in the response header and carried by every log line written while it is served.
* Logs are one JSON object per line (`JsonFormatter`): time, level, logger, message, request id,
  and for the access line the method, route, status and duration.
* Each request is counted and timed by route and status (`app.metrics`).
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import re
import time
from contextvars import ContextVar
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.metrics import LATENCY, REQUESTS

__all__ = ["JsonFormatter", "RequestContext", "configure_logging", "request_id"]

_request_id: ContextVar[str] = ContextVar("request_id", default="-")
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
access_log = logging.getLogger("counterpart.access")
#: New request ids: 16 random hex digits drawn when the process starts, then a counter (32 hex
#: digits in all, like a UUID's). uuid4 costs a system call for 16 random bytes per request (3% of
#: a worker's busy time under the partner-query load); ids need to be unique, not unguessable.
_ID_PREFIX = ""
_id_counter = itertools.count(1)


def _new_request_id() -> str:
    return f"{_ID_PREFIX}{next(_id_counter):016x}"


def _seed_request_ids() -> None:
    global _ID_PREFIX, _id_counter
    _ID_PREFIX = os.urandom(8).hex()
    _id_counter = itertools.count(1)


_seed_request_ids()
# A forked worker (a server that imports the app, then forks) draws its own prefix.
os.register_at_fork(after_in_child=_seed_request_ids)


def request_id() -> str:
    """The id of the request being served ('-' outside a request)."""
    return _request_id.get()


class JsonFormatter(logging.Formatter):
    """One JSON object per log line, with the request id and any `extra` fields."""

    _STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message"}

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in self._STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str = "info", *, json_lines: bool = True) -> dict[str, Any]:
    """A logging configuration (for `logging.config.dictConfig` and uvicorn's `log_config`)."""
    formatter = (
        {"()": "app.observability.JsonFormatter"}
        if json_lines
        else {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    )
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "default",
        "stream": "ext://sys.stderr",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {"default": handler},
        "loggers": {
            "counterpart": {"handlers": ["default"], "level": level.upper(), "propagate": False},
            "uvicorn": {"handlers": ["default"], "level": level.upper(), "propagate": False},
            # Every request is logged once, by the access line of RequestContext.
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }


def _route(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class RequestContext:
    """ASGI middleware: the request id, the access log line and the request metrics."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request with its id; log and count it."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"")
        ident = given.decode("latin-1")
        if not _SANE_ID.match(ident):
            ident = _new_request_id()
        token = _request_id.set(ident)
        started = time.perf_counter()
        status = 500

        async def tagged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["x-request-id"] = ident
            await send(message)

        try:
            await self.app(scope, receive, tagged)
        finally:
            elapsed = time.perf_counter() - started
            route = _route(scope)
            REQUESTS.labels(route=route, status=str(status)).inc()
            LATENCY.labels(route=route).observe(elapsed)
            access_log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
            _request_id.reset(token)
