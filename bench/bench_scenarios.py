"""Benchmark: what-if scenarios, over HTTP on the shipped dataset and in process on 500 x 500.

Run with ``.venv/bin/python bench/bench_scenarios.py``. Prints:

* POST /scenarios/evaluate against a real uvicorn server on loopback (median and p95 over many
  requests, and the server's CPU a request), with GET /health measured in the same run as the
  floor of one HTTP round trip;
* a 500 x 500 synthetic scenario (weights and overrides) with plan and sensitivity;
* the sensitivity of a 500 x 500 plan with a threshold (capacity 3, min_score 0.05), once;

both beside the baseline commit (``--baseline``, default the engine before the latency work of
issue 11), extracted with ``git archive`` and run by the same code, turn and turn about, so that
both see the same load on a shared machine; the intervals of both must agree;
* what a weight change costs when it recombines the stored per-channel matrices, against
  rescoring from profiles.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from measure import cpu_model, cpu_seconds, extract, free_port, has_commit, percentile, timed

import matching.sensitivity as sensitivity
from matching import (
    Override,
    PlanSettings,
    Scenario,
    Weights,
    evaluate_scenario,
    load_dataset,
    network_from_dataset,
    score_components,
    synthetic_network,
)
from matching.scenario import plan_intervals

SCENARIO = json.loads(
    (Path(__file__).parent.parent / "examples" / "agriculture-x2.json").read_text()
)


def percentiles(times: list[float]) -> tuple[float, float]:
    return statistics.median(times), percentile(times, 0.95)


@contextmanager
def counting_solves() -> Iterator[list[int]]:
    """Count the sensitivity analysis's plan solves while the block runs: ``[solves, flows]``.

    A solve is a call of the solver, or a re-solve from the plan that answered (`reoptimize`,
    where the tree has it; one that gives up is followed by a call of the solver), or one of the
    instances solved together in one flow (`solve_stack`, where the tree has it). A flow is one
    call of the solver, for one instance or several.
    """
    count = [0, 0]
    originals = {
        name: getattr(sensitivity, name)
        for name in ("solve_dense", "reoptimize", "solve_stack")
        if hasattr(sensitivity, name)
    }

    def counting(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            if name == "solve_stack":
                count[0] += len(result)
                count[1] += 1
            else:
                count[0] += result is not None
                count[1] += name == "solve_dense"
            return result

        return call

    for name, original in originals.items():
        setattr(sensitivity, name, counting(name, original))
    try:
        yield count
    finally:
        for name, original in originals.items():
            setattr(sensitivity, name, original)


ROOT = Path(__file__).resolve().parent.parent
#: The engine before the latency work (issue 11): the baseline the HTTP figures are set against.
BASELINE_REF = "d3a4643"
#: Issue 11's targets, on this machine when it is quiet.
TARGET_HTTP_MS = 10
TARGET_SENSITIVITY_MS = 1000


def start_server(source: Path, data_dir: str) -> tuple[subprocess.Popen[bytes], str]:
    """A uvicorn server (1 worker) running the app from `source`, and its base URL."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port)]
        + ["--log-level", "warning"],
        cwd=source,
        env={"COUNTERPART_DATA_DIR": data_dir, "PATH": ""},
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(f"{base}/health", timeout=1)
            return server, base
        except httpx.TransportError:
            time.sleep(0.1)
    server.terminate()
    raise RuntimeError(f"the server from {source} did not start")


def http_figures(requests: int, baseline: str | None) -> None:
    """This tree's server and, if given, the baseline commit's, requests alternating between them.

    Alternating shares out whatever else the machine runs fairly between the two servers. Beside
    the wall times, each server's CPU a request (from /proc, over the measured requests): what
    the server itself spends, which the client's own time and the machine's other work disturb
    less.
    """
    with tempfile.TemporaryDirectory() as tmp:
        sources = {"this tree": ROOT}
        if baseline is not None:
            sources[f"baseline {baseline}"] = extract(ROOT, baseline, Path(tmp) / "baseline")
        servers = {}
        try:
            for name, source in sources.items():
                data_dir = Path(tmp) / f"data-{len(servers)}"
                data_dir.mkdir()
                servers[name] = start_server(source, str(data_dir))
            clients = {
                name: httpx.Client(base_url=base, timeout=30) for name, (_, base) in servers.items()
            }
            calls: dict[str, Callable[[httpx.Client], httpx.Response]] = {
                "GET /health (one round trip)": lambda c: c.get("/health"),
                "POST /scenarios/evaluate": lambda c: c.post("/scenarios/evaluate", json=SCENARIO),
            }
            times: dict[tuple[str, str], list[float]] = {
                (call, name): [] for call in calls for name in clients
            }
            cpu: dict[tuple[str, str], float] = {}
            for call, send in calls.items():
                for n in range(10 + requests):
                    if n == 10:
                        for name, (server, _) in servers.items():
                            cpu[call, name] = -cpu_seconds(server.pid)
                    order = list(clients.items())
                    for name, client in order if n % 2 else order[::-1]:
                        start = time.perf_counter()
                        send(client).raise_for_status()
                        if n >= 10:
                            times[call, name].append(time.perf_counter() - start)
                for name, (server, _) in servers.items():
                    cpu[call, name] += cpu_seconds(server.pid)
            for client in clients.values():
                client.close()
        finally:
            for server, _ in servers.values():
                server.terminate()
                server.wait()
    for (call, name), values in times.items():
        median, p95 = percentiles(values)
        label = f"{call}, {name}"
        print(
            f"  {label:52s} median {median * 1e3:6.1f} ms   p95 {p95 * 1e3:6.1f} ms   "
            f"server CPU {cpu[call, name] / requests * 1e3:5.1f} ms a request"
        )
    print(f"  target: POST /scenarios/evaluate median <= {TARGET_HTTP_MS} ms")


def engine_timing(size: int) -> dict[str, Any]:
    """One 500 x 500 style scenario evaluated with and without sensitivity, in this process.

    Runs in a subprocess per source tree (`--engine-timing`), so that the baseline commit's
    engine is timed by the same code.
    """
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
    with counting_solves() as solves:
        cpu_start = time.process_time()
        t_full, result = timed(lambda: evaluate_scenario(net, comps, scenario), 1)
        cpu_full = time.process_time() - cpu_start
    large_solves = solves[0]
    t_plain, _ = timed(lambda: evaluate_scenario(net, comps, scenario, sensitivity=False), 1)
    # The request POST /scenarios/evaluate makes, on the shipped dataset: CPU time, which the
    # other processes on a shared machine disturb less than wall time.
    shipped = network_from_dataset(load_dataset())
    shipped_comps = score_components(shipped)
    example = Scenario(
        weights={"agriculture": 0.28},
        overrides=(
            Override(region="harbin", sector="robotics_intelligent_equipment", strength=0.95),
        ),
        plan=PlanSettings(capacity=2, capacities={"shenzhen": 1}, min_score=0.08),
        k=3,
    )
    with counting_solves() as solves:
        evaluate_scenario(shipped, shipped_comps, example)
    example_solves = solves[:]
    for _ in range(20):
        evaluate_scenario(shipped, shipped_comps, example)
    start = time.process_time()
    for _ in range(200):
        evaluate_scenario(shipped, shipped_comps, example)
    return {
        "shipped": (time.process_time() - start) / 200,
        "shipped_solves": example_solves,
        "full": t_full,
        "cpu": cpu_full,
        "plain": t_plain,
        "solves": large_solves,
        "finite": sum(1 for iv in result.sensitivity if iv.upper != float("inf")),
        "ends": [[iv.lower, iv.upper] for iv in result.sensitivity],
    }


def large_figures(size: int, repeat: int, baseline: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"this tree": ROOT}
        if baseline is not None:
            trees[f"baseline {baseline}"] = extract(ROOT, baseline, Path(tmp) / "baseline")
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
        for n in range(repeat):
            # Alternate which tree goes first, so that both see the same load.
            for name, tree in list(trees.items())[:: 1 if n % 2 else -1]:
                out = subprocess.run(
                    [sys.executable, __file__, "--engine-timing", str(size)],
                    env={"PYTHONPATH": str(tree), "PATH": ""},
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                runs[name].append(json.loads(out))
    ends = {name: done[0]["ends"] for name, done in runs.items()}
    for name, done in runs.items():
        cpu = sorted(r["shipped"] for r in done)
        print(
            f"  {name:24s} shipped dataset, examples/agriculture-x2.json, evaluate_scenario: "
            f"{statistics.median(cpu) * 1e3:.1f} ms CPU (runs {cpu[0] * 1e3:.1f}-"
            f"{cpu[-1] * 1e3:.1f}; {done[0]['shipped_solves'][0]} plan solves in "
            f"{done[0]['shipped_solves'][1]} flows)"
        )
    for name, done in runs.items():
        full = sorted(r["full"] for r in done)
        cpu = sorted(r["cpu"] for r in done)
        plain = sorted(r["plain"] for r in done)
        print(
            f"  {name:24s} with sensitivity {statistics.median(full) * 1e3:6.0f} ms "
            f"(runs {full[0] * 1e3:.0f}-{full[-1] * 1e3:.0f}; CPU {cpu[0] * 1e3:.0f}-"
            f"{cpu[-1] * 1e3:.0f} ms; {done[0]['solves']} plan solves, "
            f"{done[0]['finite']}/11 intervals bounded above); "
            f"without {statistics.median(plain) * 1e3:4.0f} ms"
        )
    print(f"  target: {size} x {size} with sensitivity <= {TARGET_SENSITIVITY_MS:,} ms")
    first = next(iter(ends.values()))
    for name, other in ends.items():
        pairs = zip(sum(first, []), sum(other, []), strict=True)
        assert all(math.isclose(a, b, rel_tol=1e-9) for a, b in pairs), f"{name}: intervals differ"
    net = synthetic_network(size, size, seed=42)
    comps = score_components(net)
    weights = Weights.resolve(net.taxonomy, {"agriculture": 0.6})
    t_reuse, _ = timed(lambda: comps.combine(weights), 20)
    t_rescore, _ = timed(lambda: score_components(net).combine(weights), 5)
    print(f"  weight change: recombine stored matrices {t_reuse * 1e3:8.2f} ms")
    print(
        f"  weight change: rescore from profiles     {t_rescore * 1e3:8.2f} ms "
        f"(ratio {t_rescore / t_reuse:.0f}x)"
    )


def threshold_timing(size: int) -> dict[str, Any]:
    """Sensitivity of a plan with a threshold (capacity 3, min_score 0.05): CPU time and solves.

    With a threshold, pairs start and stop qualifying all along a weight's range, which is what
    made this case take minutes. Runs in a subprocess per source tree (`--threshold-timing`).
    """
    net = synthetic_network(size, size, seed=42)
    comps = score_components(net)
    scenario = Scenario(
        weights={"agriculture": 0.3, "cooperation_status": 0.05},
        plan=PlanSettings(capacity=3, min_score=0.05),
    )
    result = evaluate_scenario(net, comps, scenario, sensitivity=False)
    with counting_solves() as solves:
        start = time.process_time()
        intervals = plan_intervals(
            result.network, result.components, result.weights, scenario.plan, result.plan
        )
        cpu = time.process_time() - start
    return {"cpu": cpu, "solves": solves[0], "ends": [[iv.lower, iv.upper] for iv in intervals]}


def threshold_figures(size: int, baseline: str | None) -> None:
    """`threshold_timing` once per tree; both trees' intervals must agree."""
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"this tree": ROOT}
        if baseline is not None:
            trees[f"baseline {baseline}"] = extract(ROOT, baseline, Path(tmp) / "baseline")
        runs = {}
        for name, tree in trees.items():
            out = subprocess.run(
                [sys.executable, __file__, "--threshold-timing", str(size)],
                env={"PYTHONPATH": str(tree), "PATH": "", "OPENBLAS_NUM_THREADS": "1"},
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            runs[name] = json.loads(out)
    for name, run in runs.items():
        print(
            f"  {name:24s} sensitivity {run['cpu'] * 1e3:8,.0f} ms CPU, {run['solves']:,} plan "
            "solves"
        )
    first = next(iter(runs.values()))["ends"]
    for name, run in runs.items():
        pairs = zip(sum(first, []), sum(run["ends"], []), strict=True)
        assert all(math.isclose(a, b, rel_tol=1e-9) for a, b in pairs), f"{name}: intervals differ"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--size", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--baseline",
        default=BASELINE_REF,
        help="git commit measured beside this tree ('' for none)",
    )
    parser.add_argument(
        "--threshold-size",
        type=int,
        default=500,
        help="size of the plan with a threshold, run once per tree (0: skip it)",
    )
    parser.add_argument("--engine-timing", type=int, metavar="SIZE", help=argparse.SUPPRESS)
    parser.add_argument("--threshold-timing", type=int, metavar="SIZE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine_timing:
        print(json.dumps(engine_timing(args.engine_timing)))
        return
    if args.threshold_timing:
        print(json.dumps(threshold_timing(args.threshold_timing)))
        return
    baseline = args.baseline or None
    if baseline is not None and not has_commit(ROOT, baseline):
        print(f"baseline {baseline} is not in this checkout's history: figures without it")
        baseline = None
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"machine: {cpu_model()}; load average {load}")
    print(f"shipped dataset over HTTP (uvicorn, 1 worker, loopback, {args.requests} requests)")
    http_figures(args.requests, baseline)
    print(
        f"synthetic {args.size} x {args.size} regions, in process, one evaluation per run, "
        f"{args.repeat} runs per tree"
    )
    large_figures(args.size, args.repeat, baseline)
    if args.threshold_size:
        print(
            f"synthetic {args.threshold_size} x {args.threshold_size}, capacity 3, min_score 0.05: "
            "sensitivity in process, one run per tree, one BLAS thread"
        )
        threshold_figures(args.threshold_size, baseline)


if __name__ == "__main__":
    main()
