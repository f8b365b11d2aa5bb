"""Does the service keep answering while the heaviest request the limits allow runs?

A real server (uvicorn, one worker, SQLite) with 5,000 northeast and 5,000 eastern enterprises.
`/health` is asked every 20 ms, first while the server is idle (the baseline), then while the
largest allowed round runs (every enterprise, 50 candidates each, up to 10 meetings each), and
the figures of both are printed side by side with the round's time and the server's peak memory.

    .venv/bin/python bench/bench_limits.py
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from measure import cpu_model, free_port, percentile

from app.enterprise_files import write_csv
from matching import enterprises_per_side, load_dataset
from schemas.rounds import MAX_B, MAX_CANDIDATES, MAX_PARTICIPANTS

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
KEY = "bench-key-0123456789abcdef"

POST_ROUND = """
import json, sys, time, httpx
body = json.load(open(sys.argv[2]))
started = time.perf_counter()
response = httpx.post(sys.argv[1] + "/rounds", json=body, timeout=600)
json.dump({"status": response.status_code, "seconds": time.perf_counter() - started,
           "meetings": len(response.json().get("meetings", [])),
           "megabytes": len(response.content) / 2**20}, sys.stdout)
"""


def peak_rss_mb(pid: int) -> float:
    """The high-water mark of a process's resident memory."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def sample_health(client: httpx.Client, running: Callable[[], bool]) -> list[float]:
    """Latencies of /health, asked every 20 ms while `running()`."""
    latencies = []
    while running():
        started = time.perf_counter()
        client.get("/health").raise_for_status()
        latencies.append(time.perf_counter() - started)
        time.sleep(0.02)
    return latencies


def row(name: str, latencies: list[float]) -> str:
    """One line of the table, in milliseconds."""
    p50, p95, p99 = (percentile(latencies, q) * 1000 for q in (0.5, 0.95, 0.99))
    worst = max(latencies) * 1000
    return f"{name:<28} {len(latencies):>6} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f} {worst:>8.1f}"


def main() -> None:
    """Run the benchmark and print its figures."""
    chosen = enterprises_per_side(load_dataset(), MAX_PARTICIPANTS, seed=11)
    text = io.StringIO(newline="")
    write_csv(chosen["northeast"] + chosen["east"], text)
    northeast, east = ([str(r["id"]) for r in chosen[side]] for side in ("northeast", "east"))
    with tempfile.TemporaryDirectory() as data_dir:
        port = free_port()
        env = {
            **os.environ,
            "COUNTERPART_DATA_DIR": data_dir,
            "COUNTERPART_ADMIN_KEY": KEY,
            "COUNTERPART_LOG_LEVEL": "warning",
        }
        server = subprocess.Popen(
            [str(BIN / "counterpart"), "serve", "--port", str(port)], env=env, cwd=ROOT
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    httpx.get(f"{base}/health", timeout=1).raise_for_status()
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            imported = httpx.post(
                f"{base}/enterprises/import",
                content=text.getvalue().encode(),
                headers={"Authorization": f"Bearer {KEY}", "Content-Type": "text/csv"},
                timeout=300,
            )
            imported.raise_for_status()
            request = Path(data_dir) / "round.json"
            body = {"northeast": northeast, "east": east, "candidates": MAX_CANDIDATES, "b": MAX_B}
            request.write_text(json.dumps(body))
            with httpx.Client(base_url=base, timeout=30) as client:
                client.get("/health")
                until = time.perf_counter() + 5
                idle = sample_health(client, lambda: time.perf_counter() < until)
                poster = subprocess.Popen(
                    [sys.executable, "-c", POST_ROUND, base, str(request)], stdout=subprocess.PIPE
                )
                busy = sample_health(client, lambda: poster.poll() is None)
                outcome = json.loads(poster.communicate()[0])
            peak = peak_rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)

    print(f"machine: {cpu_model()}, Python {sys.version.split()[0]}")
    print(
        f"largest round: {len(northeast):,} + {len(east):,} enterprises, {MAX_CANDIDATES} "
        f"candidates, b={MAX_B} -> "
        f"status {outcome['status']}, {outcome['meetings']:,} meetings, "
        f"{outcome['megabytes']:.1f} MB in {outcome['seconds']:.1f} s; "
        f"serving process peak RSS {peak:.0f} MB"
    )
    print(f"{'GET /health (ms)':<28} {'n':>6} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}")
    print(row("idle (baseline)", idle))
    print(row("during the largest round", busy))


if __name__ == "__main__":
    main()
