"""Heavy computations in a process of their own, within a time and a memory budget.

A matchmaking round over thousands of enterprises or a scenario on a large dataset takes seconds
of CPU, much of it inside the min-cost flow solver (LEMON's, through pylmcf), which holds the
interpreter's lock: run in the worker, it would stall every other request of that worker,
`/health` included. `bounded` runs such a computation in a child process (started by a fork
server, so that it inherits no threads and the engine is already imported), waits for it without
holding the lock, kills it when it outlives the time budget, and caps its address space; small
computations, which cost less than starting a process, run where they are.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from app.errors import WorkLimitExceeded

__all__ = ["WorkBudget", "bounded"]

T = TypeVar("T")

#: Modules the fork server imports once, so that each child starts with them loaded.
_PRELOAD = ["matching", "app.services.rounds", "app.services.scenarios", "app.services.plans"]
_context_lock = threading.Lock()
_context: Any = None


@dataclass(frozen=True)
class WorkBudget:
    """How long a heavy computation may run, and how much memory it may map."""

    seconds: float
    memory_bytes: int

    @classmethod
    def of(cls, seconds: float, memory_mb: int) -> WorkBudget:
        """The budget from the settings' units (seconds, MiB)."""
        return cls(seconds=seconds, memory_bytes=memory_mb * 2**20)


#: Threads of the numerical libraries in a child: one, so that a child keeps to one core and
#: leaves the other to the requests of its worker.
_CHILD_THREADS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
#: How much lower a child's CPU priority is than its worker's.
_CHILD_NICENESS = 10


def _fork_server() -> Any:
    global _context
    with _context_lock:
        if _context is None:
            # The fork server starts with this process's environment: its children inherit it.
            for name, value in _CHILD_THREADS.items():
                os.environ.setdefault(name, value)
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(_PRELOAD)
            _context = context
        return _context


def _child(
    pipe: Connection, memory_bytes: int, fn: Callable[..., Any], args: tuple[Any, ...]
) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    # Below its worker's priority: when both want the CPU, the worker's requests go first.
    os.nice(_CHILD_NICENESS)
    try:
        outcome: tuple[bool, Any] = (True, fn(*args))
    except MemoryError:
        outcome = (False, WorkLimitExceeded(_memory_message(memory_bytes)))
    except Exception as exc:  # noqa: BLE001 - handed to the parent, which re-raises it
        outcome = (False, exc)
    try:
        pipe.send(outcome)
    except MemoryError:
        pipe.send((False, WorkLimitExceeded(_memory_message(memory_bytes))))
    finally:
        pipe.close()


def _memory_message(memory_bytes: int) -> str:
    return (
        f"the computation needed more than its memory budget of {memory_bytes // 2**20} MiB "
        "(COUNTERPART_WORK_MEMORY_MB); ask for less (fewer participants, candidates or pairs)"
    )


def bounded(budget: WorkBudget, fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)` in a child process, within `budget`.

    `fn` must be a module-level function and its arguments and result picklable. An exception
    `fn` raises is raised here.

    Raises
    ------
    WorkLimitExceeded
        If the computation outlives the time budget (the child is killed) or outgrows the memory
        budget.
    """
    context = _fork_server()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_child, args=(sender, budget.memory_bytes, fn, args), daemon=True
    )
    process.start()
    sender.close()
    try:
        if not receiver.poll(budget.seconds):
            raise WorkLimitExceeded(
                f"the computation took longer than its time budget of {budget.seconds:g} s "
                "(COUNTERPART_WORK_SECONDS); ask for less (fewer participants, candidates or "
                "pairs)"
            )
        try:
            ok, payload = receiver.recv()
        except EOFError:
            # The child died without a word: the kernel killed it, for memory.
            raise WorkLimitExceeded(_memory_message(budget.memory_bytes)) from None
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join()
    if ok:
        result: T = payload
        return result
    raise payload
