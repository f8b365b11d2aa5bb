"""Uploaded files: streamed to disk in an import's workspace, up to a size limit."""

from __future__ import annotations

from pathlib import Path

from fastapi import Request, status
from starlette.exceptions import HTTPException

__all__ = ["receive_file", "too_large_text"]


def too_large_text(limit: int) -> str:
    """What a 413 of an import says: the limit, in bytes and MiB."""
    return (
        f"the import is larger than the limit of {limit} bytes ({limit / 2**20:g} MiB, "
        "COUNTERPART_MAX_IMPORT_BYTES); nothing was imported"
    )


async def receive_file(request: Request, path: Path, *, limit: int) -> None:
    """Write the request's body to `path` as it arrives; 413 once it passes `limit` bytes.

    A declared Content-Length over the limit is refused before anything is read.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail=too_large_text(limit))
    received = 0
    with path.open("wb") as spool:
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit:
                raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail=too_large_text(limit))
            spool.write(chunk)
