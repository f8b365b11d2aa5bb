"""A cap on request body size: a request that is too large gets 413, not a slow server."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schemas.common import ErrorBody

__all__ = ["BodySizeLimit"]


class BodySizeLimit:
    """Refuse bodies over `max_bytes` (by Content-Length up front, or while streaming).

    The paths in `exempt` (streamed bulk imports, which check their own input) are not capped.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, exempt: tuple[str, ...] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.exempt = frozenset(exempt)

    def _too_large(self) -> HTTPException:
        return HTTPException(
            status_code=413,
            detail=f"request body larger than the limit of {self.max_bytes} bytes",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, or answer 413."""
        path = scope.get("path", "")
        if scope["type"] != "http" or path.rstrip("/") in self.exempt:
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._reject(scope, send)
                return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise self._too_large()
            return message

        await self.app(scope, counted, send)

    async def _reject(self, scope: Scope, send: Send) -> None:
        body = ErrorBody(error="PayloadTooLarge", detail=self._too_large().detail)
        response = JSONResponse(status_code=413, content=body.model_dump(exclude_none=True))

        async def no_body() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        await response(scope, no_body, send)
