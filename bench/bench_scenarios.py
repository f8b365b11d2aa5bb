"""Benchmark: what-if scenarios, over HTTP on the shipped dataset and in process on 500 x 500.

Run with ``.venv/bin/python bench/bench_scenarios.py``. Prints:

* POST /scenarios/evaluate against a real uvicorn server on loopback (median and p95 over many
  requests), with GET /health measured in the same run as the floor of one HTTP round trip;
* a 500 x 500 synthetic scenario (weights and overrides) with plan and sensitivity;
* what a weight change costs when it recombines the stored per-channel matrices, against
  rescoring from profiles.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from measure import free_port, percentile, timed

import matching.sensitivity as sensitivity
from matching import (
    Override,
    PlanSettings,
    Scenario,
    Weights,
    evaluate_scenario,
    score_components,
    synthetic_network,
)

SCENARIO = json.loads(
    (Path(__file__).parent.parent / "examples" / "agriculture-x2.json").read_text()
)


def percentiles(times: list[float]) -> tuple[float, float]:
    return statistics.median(times), percentile(times, 0.95)


def http_figures(requests: int) -> None:
    port = free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app.main:app",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            env={"COUNTERPART_DATA_DIR": data_dir, "PATH": ""},
        )
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, timeout=30) as client:
                for _ in range(100):
                    try:
                        client.get("/health")
                        break
                    except httpx.TransportError:
                        time.sleep(0.1)

                def measure(call: Callable[[], httpx.Response]) -> list[float]:
                    for _ in range(10):
                        call().raise_for_status()
                    out = []
                    for _ in range(requests):
                        start = time.perf_counter()
                        call().raise_for_status()
                        out.append(time.perf_counter() - start)
                    return out

                health = measure(lambda: client.get("/health"))
                evaluate = measure(lambda: client.post("/scenarios/evaluate", json=SCENARIO))
        finally:
            server.terminate()
            server.wait()
    for name, times in (
        ("GET /health (one round trip)", health),
        ("POST /scenarios/evaluate", evaluate),
    ):
        median, p95 = percentiles(times)
        print(f"  {name:38s} median {median * 1e3:6.1f} ms   p95 {p95 * 1e3:6.1f} ms")


def large_figures(size: int, repeat: int) -> None:
    net = synthetic_network(size, size, seed=42)
    comps = score_components(net)
    scenario = Scenario(
        weights={"agriculture": 0.3, "cooperation_status": 0.05},
        overrides=(
            Override(
                region=net.northeast.ids[7 % size],
                sector="robotics_intelligent_equipment",
                strength=1.0,
            ),
            Override(region=net.east.ids[100 % size], sector="grain", need=0.9),
        ),
        plan=PlanSettings(capacity=2),
    )
    solves = 0
    original = sensitivity.solve_dense

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal solves
        solves += 1
        return original(*args, **kwargs)

    sensitivity.solve_dense = counting  # type: ignore[assignment]
    try:
        t_full, result = timed(lambda: evaluate_scenario(net, comps, scenario), repeat)
    finally:
        sensitivity.solve_dense = original
    t_plain, _ = timed(lambda: evaluate_scenario(net, comps, scenario, sensitivity=False), repeat)
    finite = sum(1 for iv in result.sensitivity if iv.upper != float("inf"))
    print(
        f"  evaluation with plan and sensitivity     {t_full * 1e3:8.0f} ms "
        f"({solves // repeat} plan solves, {finite}/11 intervals bounded above)"
    )
    print(f"  evaluation without sensitivity           {t_plain * 1e3:8.0f} ms")
    weights = Weights.resolve(net.taxonomy, {"agriculture": 0.6})
    t_reuse, _ = timed(lambda: comps.combine(weights), 20)
    t_rescore, _ = timed(lambda: score_components(net).combine(weights), 5)
    print(f"  weight change: recombine stored matrices {t_reuse * 1e3:8.2f} ms")
    print(
        f"  weight change: rescore from profiles     {t_rescore * 1e3:8.2f} ms "
        f"(ratio {t_rescore / t_reuse:.0f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--size", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"shipped dataset over HTTP (uvicorn, 1 worker, loopback, {args.requests} requests)")
    http_figures(args.requests)
    print(f"synthetic {args.size} x {args.size} regions, in process")
    large_figures(args.size, args.repeat)


if __name__ == "__main__":
    main()
