"""The threads partner searches run on: a bounded number at once, with the request's context."""

from __future__ import annotations

import asyncio
import threading
import time
from contextvars import ContextVar
from functools import partial

from app.search_threads import SearchThreads

TAG: ContextVar[str] = ContextVar("tag", default="none")


def test_at_most_the_configured_searches_run_at_once_and_each_gets_its_answer() -> None:
    threads = SearchThreads(2)
    lock = threading.Lock()
    running = peak = 0

    def work(n: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        return n * n

    async def main() -> list[int]:
        return await asyncio.gather(*(threads.run(partial(work, n)) for n in range(8)))

    assert asyncio.run(main()) == [n * n for n in range(8)]
    assert peak == 2


def test_the_work_sees_the_context_of_the_request_that_gave_it() -> None:
    # The request id of the log lines written while a search runs is a context variable.
    threads = SearchThreads(1)

    async def request(tag: str) -> str:
        TAG.set(tag)
        return await threads.run(TAG.get)

    async def main() -> tuple[str, str]:
        return await asyncio.gather(request("first"), request("second"))

    assert list(asyncio.run(main())) == ["first", "second"]
