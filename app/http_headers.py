"""Response headers every answer carries: security headers, and validators for caching.

* ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY`` and ``Referrer-Policy``
  everywhere; a ``Content-Security-Policy`` that forbids everything on data responses (JSON,
  CSV, GraphML are never pages) and allows only this origin on HTML pages that set none of their
  own.
* ``ETag`` (a hash of the body) and ``Cache-Control: no-cache`` on successful GETs, so that a
  front-end polling a dataset-derived resource revalidates it and gets ``304 Not Modified`` with
  no body when nothing changed (``If-None-Match``). ``Vary: Authorization``: what a request sees
  may depend on its key (an enterprise's contact).
"""

from __future__ import annotations

import hashlib

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ResponseHeaders"]

SECURITY = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'"
PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
)
#: Bodies larger than this are streamed on without an ETag rather than held to hash.
_LARGEST_HASHED = 32 * 2**20


def _matches(if_none_match: str, etag: str) -> bool:
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in candidates or etag in candidates


class ResponseHeaders:
    """ASGI middleware adding the security headers and, on GETs, the ETag validator."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; decorate the response."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cacheable = scope["method"] in ("GET", "HEAD")
        if_none_match = Headers(scope=scope).get("if-none-match")
        start: Message | None = None
        chunks: list[bytes] = []
        size = 0

        async def decorated(message: Message) -> None:
            nonlocal start, size
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY.items():
                    headers.setdefault(name, value)
                html = headers.get("content-type", "").startswith("text/html")
                headers.setdefault("content-security-policy", PAGE_POLICY if html else DATA_POLICY)
                if not (cacheable and message["status"] == 200):
                    await send(message)
                    return
                start = message
                return
            if start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if message.get("more_body", False) and size <= _LARGEST_HASHED:
                return
            await _finish(message.get("more_body", False))

        async def _finish(more: bool) -> None:
            nonlocal start
            assert start is not None
            message, start = start, None
            headers = MutableHeaders(scope=message)
            body = b"".join(chunks)
            chunks.clear()
            if not more:
                etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
                headers["etag"] = etag
                headers.setdefault("cache-control", "no-cache")
                headers.append("vary", "Authorization")
                if if_none_match is not None and _matches(if_none_match, etag):
                    message["status"] = 304
                    del headers["content-length"]
                    await send(message)
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                    return
            await send(message)
            await send({"type": "http.response.body", "body": body, "more_body": more})

        await self.app(scope, receive, decorated)
