"""The threads partner searches run on: a few per worker, not FastAPI's pool of forty.

A partner search is CPU work, most of it under the interpreter's lock. Run as a plain ``def``
endpoint (and with a plain ``def`` dependency, two hops to the pool), eight searches at once in a
worker took the lock in turns: each hand-over is a thread switch, and a search that let go of the
lock (reading the database, or in numpy) waited up to the switch interval to get it back. Under
load that cost a third more CPU per search than the search itself, and its latency tail. Searches
queue for `SearchThreads` instead, and each request makes one hop for its whole answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread
from anyio import CapacityLimiter

__all__ = ["SearchThreads"]

T = TypeVar("T")


class SearchThreads:
    """At most `threads` searches of this worker at once; the others wait their turn."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self._limiter: CapacityLimiter | None = None

    async def run(self, work: Callable[[], T]) -> T:
        """`work()` on one of the threads, once one is free."""
        if self._limiter is None:  # made on the event loop that serves the requests
            self._limiter = CapacityLimiter(self.threads)
        return await anyio.to_thread.run_sync(work, limiter=self._limiter)
