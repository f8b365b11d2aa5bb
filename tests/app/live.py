"""A real server for tests that need one: `uvicorn app.main:app` in a process of its own."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from .conftest import ADMIN_KEY

ROOT = Path(__file__).resolve().parents[2]
HEADERS = {"Authorization": f"Bearer {ADMIN_KEY}"}


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """`uvicorn app.main:app` on a data directory, ready (GET /ready is 200) when constructed.

    `environment` adds to (or, with a None value, removes from) the process's environment; by
    default the server runs on SQLite in `data_dir`.
    """

    def __init__(self, data_dir: Path, environment: Mapping[str, str | None] | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "COUNTERPART_DATA_DIR": str(data_dir),
            "COUNTERPART_ADMIN_KEY": ADMIN_KEY,
            "COUNTERPART_LOG_LEVEL": "warning",
        }
        env.pop("COUNTERPART_DATABASE_URL", None)
        for name, value in (environment or {}).items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(self.port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "the server exited at start"
            try:
                if httpx.get(f"{self.url}/ready", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.kill()
        raise AssertionError("the server did not become ready in 60 s")

    def client(self) -> httpx.Client:
        """A client of this server carrying the admin key."""
        return httpx.Client(base_url=self.url, headers=HEADERS, timeout=60)

    def kill(self) -> None:
        """SIGKILL, the way the OOM killer or a power cut ends it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM, and wait for a graceful exit."""
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(timeout=30)
