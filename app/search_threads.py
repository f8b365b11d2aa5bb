"""The threads partner searches run on: a few per worker, not FastAPI's pool of forty.

A partner search is CPU work, most of it under the interpreter's lock. Run as a plain ``def``
endpoint (and with a plain ``def`` dependency, two hops to the pool), eight searches at once in a
worker took the lock in turns: each hand-over is a thread switch, and a search that let go of the
lock (reading the database, or in numpy) waited up to the switch interval to get it back. Under
load that cost a third more CPU per search than the search itself, and its latency tail. Searches
queue for `SearchThreads` instead, and each request makes one hop for its whole answer.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["SearchThreads"]

T = TypeVar("T")


class SearchThreads:
    """At most `threads` searches of this worker at once; the others wait their turn.

    A `ThreadPoolExecutor` of its own: its queue is C code, where anyio's worker threads hand
    work over through a `queue.Queue` and its Python-level condition (`Condition.notify` was 6%
    of a worker's busy samples under the partner-query load). The request's context (its id, for
    the log lines written on the thread) goes with the work, as anyio's does.
    """

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="search")

    async def run(self, work: Callable[[], T]) -> T:
        """`work()` on one of the threads, once one is free."""
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(self._pool, context.run, work)

    def close(self) -> None:
        """Let the threads go once the work given to them is done."""
        self._pool.shutdown(wait=False, cancel_futures=True)
