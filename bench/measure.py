"""Helpers the benchmarks share: timing, percentiles, a free port and the machine's CPU."""

from __future__ import annotations

import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median wall time of `repeat` runs, and the last result."""
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of `values`, by rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def has_commit(root: Path, ref: str) -> bool:
    """Whether git knows commit `ref` in `root` (a copy without history, or git, does not)."""
    try:
        found = subprocess.run(
            ["git", "-C", str(root), "cat-file", "-e", f"{ref}^{{commit}}"], capture_output=True
        )
    except OSError:
        return False
    return found.returncode == 0


def extract(root: Path, ref: str, tree: Path) -> Path:
    """The source tree of commit `ref` of the repository at `root`, written to `tree`."""
    tree.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(root), "archive", ref], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_model() -> str:
    """The CPU model and how many cores, from /proc/cpuinfo."""
    try:
        with open("/proc/cpuinfo") as info:
            models = [line.split(":", 1)[1].strip() for line in info if "model name" in line]
        return f"{models[0]} x {len(models)}" if models else "unknown CPU"
    except OSError:
        return platform.processor() or "unknown CPU"


@contextmanager
def served_app(data_dir: str, key: str, *, ready_seconds: float = 30) -> Iterator[httpx.Client]:
    """`uvicorn app.main:app` (1 worker) on `data_dir` with admin `key`, and a client of it.

    The server is asked for /health until it answers, and terminated when the block ends.
    """
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port),
         "--log-level", "warning"],
        env={"COUNTERPART_DATA_DIR": data_dir, "COUNTERPART_ADMIN_KEY": key, "PATH": ""},
    )  # fmt: skip
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            deadline = time.monotonic() + ready_seconds
            while True:
                try:
                    client.get("/health")
                    break
                except httpx.TransportError:
                    if server.poll() is not None:
                        raise RuntimeError(f"the server exited ({server.returncode})") from None
                    if time.monotonic() > deadline:
                        raise RuntimeError("the server did not start") from None
                    time.sleep(0.1)
            yield client
    finally:
        server.terminate()
        server.wait()


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_pids(parent: int) -> list[int]:
    """The children of a process (a server's workers)."""
    out = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def descendants(pid: int) -> list[int]:
    """Every process below `pid`: children, theirs, and so on."""
    children = worker_pids(pid)
    return children + [d for c in children for d in descendants(c)]


def server_cpu(parent: int) -> float:
    """CPU seconds used so far by a server's processes below `parent` (its workers)."""
    used = 0.0
    for pid in descendants(parent):
        try:
            used += cpu_seconds(pid)
        except OSError:  # a process that ended meanwhile
            pass
    return used


def settle(parent: int) -> None:
    """Wait until a server's workers stop using CPU: every one has built or mapped its index."""
    previous = -1.0
    while True:
        time.sleep(1)
        used = server_cpu(parent)
        if used - previous < 0.05:
            return
        previous = used
