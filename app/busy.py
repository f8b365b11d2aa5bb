"""A database busy with another write: 503 with Retry-After, in the API's error shape.

Kept apart from `app.errors` (whose handlers map the domain's errors) because it is the one
answer that tells the client to come back: the storage's `DatabaseBusy`, raised in place of
"database is locked" wherever a statement meets it.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from app.storage.database import DatabaseBusy
from schemas.common import ErrorBody

__all__ = ["BUSY_RESPONSE", "install_busy_handler"]

#: The OpenAPI entry of the 503 a write can get.
BUSY_RESPONSE = {
    "model": ErrorBody,
    "description": "The database is busy with another write; retry after `Retry-After` seconds.",
}


def install_busy_handler(app: FastAPI) -> None:
    """Answer `DatabaseBusy` with 503, `DatabaseBusy` and a Retry-After header."""

    @app.exception_handler(DatabaseBusy)
    async def busy(_: Request, exc: DatabaseBusy) -> JSONResponse:
        body = ErrorBody(error="DatabaseBusy", detail=exc.detail)
        return JSONResponse(
            status_code=503,
            content=body.model_dump(exclude_none=True),
            headers={"Retry-After": str(exc.retry_after)},
        )
