"""Benchmark: enterprises at a million, in process and over HTTP, against baselines.

Run with ``.venv/bin/python bench/bench_enterprises.py`` (about ten minutes; `--count` for a
smaller population). It generates a synthetic population (about 1,000,000 eastern and 200,000
northeast enterprises for the default 1,200,000), then prints:

* one partner query, top-10, in process: this engine's exact search against a dense numpy
  scorer and a plain scipy.sparse product with argpartition, measured in the same run (the three
  answers are compared);
* the import of the population (`counterpart import enterprises`), and start-up of a service
  with it stored (until GET /health answers), with the resident memory of a worker;
* HTTP with 2 workers: a load generator on loopback (wrk when installed, else a bounded asyncio
  client) for a fixed time, throughput and latency percentiles;
* the batch job `counterpart batch partners --k 10` over every northeast enterprise.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from measure import free_port, percentile, settle, worker_pids

import matching as m
from app.enterprise_files import write_csv
from matching import (
    Enterprise,
    EnterpriseModel,
    build_population,
    generate_enterprises,
    search_partners,
)

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def in_process(records: list[dict[str, object]], queries: int) -> None:
    dataset = m.load_dataset()
    net = m.network_from_dataset(dataset)
    model = EnterpriseModel.build(net, m.score_components(net), m.Weights.resolve(net.taxonomy))
    by_side: dict[str, list[Enterprise]] = {"northeast": [], "east": []}
    for r in records:
        side = net.locate(str(r["region"]))[0]
        by_side[side].append(
            Enterprise(
                str(r["id"]),
                str(r["region"]),
                r["offers"],
                r["seeks"],  # type: ignore[arg-type]
                str(r["size"]),
                str(r["ownership"]),
            )  # fmt: skip
        )
    start = time.perf_counter()
    east = build_population(by_side["east"], net, "east")
    print(
        f"  index of {len(east):,} eastern enterprises built in {time.perf_counter() - start:.1f} s"
    )
    rng = np.random.default_rng(0)
    picks = [
        by_side["northeast"][int(i)] for i in rng.integers(0, len(by_side["northeast"]), queries)
    ]
    dense = east.features.toarray().astype(np.float32)  # the dense scorer's matrix
    timings: dict[str, list[float]] = {"engine": [], "dense": [], "sparse": []}
    for q in picks:
        features, coefficients = model.query(q)
        multiplier = model.multiplier[net.northeast.index[q.region]]
        t0 = time.perf_counter()
        found = search_partners(east, features, coefficients, multiplier, k=10)
        t1 = time.perf_counter()
        vector = np.zeros(model.n_features, dtype=np.float32)
        vector[features] = coefficients
        scores = (dense @ vector) * multiplier[east.region].astype(np.float32)
        top_dense = np.argpartition(-scores, 10)[:10]
        t2 = time.perf_counter()
        vector64 = np.zeros(model.n_features)
        vector64[features] = coefficients
        sparse_scores = (east.features @ vector64) * multiplier[east.region]
        top_sparse = np.argpartition(-sparse_scores, 10)[:10]
        t3 = time.perf_counter()
        timings["engine"].append(t1 - t0)
        timings["dense"].append(t2 - t1)
        timings["sparse"].append(t3 - t2)
        best = sorted(sparse_scores[top_sparse], reverse=True)
        assert np.allclose([f.score for f in found], best, atol=1e-9), "answers disagree"
        assert np.allclose(sorted(scores[top_dense], reverse=True), best, atol=1e-5)
    for name, label in (("engine", "exact search, query's columns only (this engine)"),
                        ("dense", "dense numpy scorer, float32 (baseline)"),
                        ("sparse", "scipy.sparse product + argpartition (baseline)")):  # fmt: skip
        values = timings[name]
        print(f"  {label:50s} median {statistics.median(values) * 1e3:6.2f} ms   "
              f"p95 {percentile(values, 0.95) * 1e3:6.2f} ms")  # fmt: skip


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def wait_ready(base: str, process: subprocess.Popen[bytes]) -> None:
    while True:
        if process.poll() is not None:
            raise RuntimeError("the service exited before it was ready")
        try:
            httpx.get(f"{base}/health", timeout=1).raise_for_status()
            return
        except httpx.HTTPError:
            time.sleep(0.1)


async def python_load(base: str, ids: list[str], seconds: float, concurrency: int) -> list[float]:
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:

        async def worker(offset: int) -> None:
            n = offset
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                response = await client.get(f"/enterprises/{ids[n % len(ids)]}/partners?k=10")
                response.raise_for_status()
                latencies.append(time.perf_counter() - start)
                n += concurrency

        await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return latencies


def wrk_load(base: str, ids: list[str], seconds: int, connections: int, path: Path) -> str:
    script = path / "partners.lua"
    listing = ",".join(f'"{i}"' for i in ids)
    script.write_text(
        f"ids = {{{listing}}}\ncounter = 0\n"
        "request = function()\n  counter = counter + 1\n"
        "  return wrk.format('GET', '/enterprises/' .. ids[(counter % #ids) + 1] .. "
        "'/partners?k=10')\nend\n"
    )
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), base],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return out.stdout


def service(
    data_dir: Path, records: list[dict[str, object]], seconds: int, connections: int
) -> None:
    csv_path = data_dir / "enterprises.csv"
    write_csv(records, csv_path)
    env = {**os.environ, "COUNTERPART_DATA_DIR": str(data_dir / "var")}
    start = time.perf_counter()
    subprocess.run([str(BIN / "counterpart"), "import", "enterprises", str(csv_path)],
                   env=env, check=True, capture_output=True)  # fmt: skip
    print(f"  import of {len(records):,} rows (CSV, {csv_path.stat().st_size / 2**20:.0f} MiB): "
          f"{time.perf_counter() - start:.1f} s")  # fmt: skip
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # Start-up of one worker: from launch until it answers, its index of everything built.
    start = time.perf_counter()
    single = subprocess.Popen(
        [str(BIN / "uvicorn"), "app.main:app", "--port", str(port), "--log-level", "warning"],
        env=env, cwd=ROOT,
    )  # fmt: skip
    try:
        wait_ready(base, single)
        ready = time.perf_counter() - start
        time.sleep(1)
        print(f"  start-up of a worker with them stored, until it answers: {ready:.1f} s; "
              f"resident memory: {rss_mb(single.pid):.0f} MB")  # fmt: skip
    finally:
        single.terminate()
        single.wait()
    server = subprocess.Popen(
        [str(BIN / "uvicorn"), "app.main:app", "--port", str(port), "--workers", "2",
         "--log-level", "warning"],
        env=env, cwd=ROOT,
    )  # fmt: skip
    try:
        wait_ready(base, server)
        settle(server.pid)
        rss = sorted(rss_mb(p) for p in worker_pids(server.pid))[-2:]
        print(f"  2 workers up; resident memory per worker: "
              f"{', '.join(f'{r:.0f} MB' for r in rss)}")  # fmt: skip
        ne_ids = [str(r["id"]) for r in records if str(r["id"]).startswith("ne")]
        rng = np.random.default_rng(1)
        ids = [ne_ids[int(i)] for i in rng.integers(0, len(ne_ids), 2000)]
        for i in ids[:50]:
            httpx.get(f"{base}/enterprises/{i}/partners?k=10").raise_for_status()
        for clients in (connections, 2 * connections):
            if shutil.which("wrk"):
                print(f"  load: wrk, 1 thread, {clients} connections, {seconds} s, 2,000 ids")
                report = wrk_load(base, ids, seconds, clients, data_dir)
                for line in report.splitlines():
                    if line.strip().startswith(("50%", "90%", "99%", "Requests/sec")):
                        print("   ", line.strip())
            else:
                print(f"  load: asyncio httpx client, {clients} concurrent, {seconds} s")
                latencies = asyncio.run(python_load(base, ids, seconds, clients))
                print(f"    {len(latencies) / seconds:.0f} requests/s, p50 "
                      f"{percentile(latencies, 0.5) * 1e3:.1f} ms, p99 "
                      f"{percentile(latencies, 0.99) * 1e3:.1f} ms")  # fmt: skip
    finally:
        server.terminate()
        server.wait()
    start = time.perf_counter()
    subprocess.run(
        [str(BIN / "counterpart"), "batch", "partners", "--k", "10", "--output",
         str(data_dir / "partners.csv")],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    lines = sum(1 for _ in open(data_dir / "partners.csv")) - 1
    count = sum(1 for r in records if str(r["id"]).startswith("ne"))
    print(f"  batch partners --k 10 over {count:,} northeast enterprises: "
          f"{time.perf_counter() - start:.0f} s ({lines:,} rows written)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_200_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=8, help="and twice as many after")
    args = parser.parse_args()
    start = time.perf_counter()
    records = list(generate_enterprises(m.load_dataset(), args.count, seed=7))
    east = sum(1 for r in records if str(r["id"]).startswith("ea"))
    print(f"population: {east:,} eastern and {len(records) - east:,} northeast enterprises "
          f"(generated in {time.perf_counter() - start:.0f} s)")  # fmt: skip
    print("partner query, top-10, in process")
    in_process(records, args.queries)
    with tempfile.TemporaryDirectory() as tmp:
        print("service")
        service(Path(tmp), records, args.seconds, args.connections)


if __name__ == "__main__":
    main()
