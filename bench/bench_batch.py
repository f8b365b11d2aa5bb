"""Benchmark: `counterpart batch partners` in one process against a Dask cluster of 1 and 2 workers.

Run with ``PYTHONPATH=. .venv/bin/python bench/bench_batch.py`` (about 6 minutes on a shared
2-core machine for the default 200,000 enterprises, each batch under 2 minutes; `--count` for
another size). It generates a synthetic population (168,323 eastern and 31,677 northeast
enterprises), imports it into a fresh SQLite database, then times `counterpart batch partners
--k 10` over every northeast enterprise:

* in one local process (`--workers 1`): the baseline, measured in the same run;
* in two local processes (`--workers 2`, forked): what one machine already does;
* on a `distributed.LocalCluster` of 1 and then 2 worker processes (`n_workers=1/2`,
  `threads_per_worker=1`), through `--scheduler`, the cluster started beforehand, its workers
  without dask's MALLOC_TRIM_THRESHOLD_ (as the README sets them up), and once more 2 workers
  with it, to show what it costs.

Each line gives the command's wall time, the batch alone (after the index is built, which every
run does alike in the client) and the CPU seconds it took (the command and its processes, plus
the cluster's workers); every output is compared byte for byte with the baseline's. The cluster's
workers import the package before the clock starts (once per worker, as on any running cluster).
The load average is printed before and after: on a shared machine other work slows every wall
time, while CPU seconds stay comparable.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from measure import cpu_model

import matching as m
from app.enterprise_files import write_csv

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def children_cpu() -> float:
    """CPU seconds of this process's finished children (a command and the processes it forked)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def live_cpu(processes: list[psutil.Process]) -> float:
    """CPU seconds so far of running processes (a cluster's)."""
    return sum(sum(p.cpu_times()[:2]) for p in processes)


def batch(env: dict[str, str], output: Path, *options: str) -> tuple[float, float, float]:
    """Wall time of one batch command, its time after the index was ready, and its CPU time."""
    cpu = children_cpu()
    start = time.perf_counter()
    done = subprocess.run(
        [str(BIN / "counterpart"), "batch", "partners", "--k", "10", "--output", str(output),
         *options],
        env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    wall = time.perf_counter() - start
    ready = float(re.search(r"index ready in ([\d.]+) s", done.stderr).group(1))  # type: ignore[union-attr]
    total = float(re.search(r"written to .* in ([\d.]+) s", done.stderr).group(1))  # type: ignore[union-attr]
    return wall, total - ready, children_cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200_000)
    args = parser.parse_args()
    import dask
    from distributed import Client, LocalCluster

    print(f"machine: {cpu_model()}, Python {sys.version.split()[0]}, "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        records = list(m.generate_enterprises(m.load_dataset(), args.count, seed=7))
        northeast = sum(1 for r in records if str(r["id"]).startswith("ne"))
        with open(data / "population.csv", "w", newline="", encoding="utf-8") as out:
            write_csv(records, out)
        del records
        # Cluster workers import this checkout, like the command does.
        os.environ["PYTHONPATH"] = str(ROOT)
        env = {**os.environ, "COUNTERPART_DATA_DIR": str(data / "db"), "COLUMNS": "500"}
        subprocess.run(
            [str(BIN / "counterpart"), "import", "enterprises", str(data / "population.csv")],
            env=env, check=True, capture_output=True,
        )  # fmt: skip
        print(f"population: {args.count - northeast:,} eastern, {northeast:,} northeast "
              f"enterprises; top 10 partners of every northeast one")  # fmt: skip
        baseline = data / "single.csv"
        wall, alone, cpu = batch(env, baseline, "--workers", "1")
        print(f"  one local process (baseline): {wall:6.1f} s, batch alone {alone:6.1f} s, "
              f"CPU {cpu:5.1f} s")  # fmt: skip
        reference = baseline.read_bytes()
        rows = reference.count(b"\n") - 1
        output = data / "other.csv"
        wall, part, cpu = batch(env, output, "--workers", "2")
        same = output.read_bytes() == reference
        print(f"  two local processes (fork):   {wall:6.1f} s, batch alone {part:6.1f} s "
              f"({alone / part:.2f}x), CPU {cpu:5.1f} s, identical: {same}")  # fmt: skip
        # Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, which also pins glibc's
        # mmap threshold: every score array of a search (a float per partner) is then mapped
        # and unmapped again, page faults each time. The README's worker setup unsets it.
        unset = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}
        for workers, config, label in (
            (1, unset, "1 worker"),
            (2, unset, "2 workers"),
            (2, {}, "2 workers, dask's default MALLOC_TRIM_THRESHOLD_"),
        ):
            start = time.perf_counter()
            with (
                dask.config.set(config),
                LocalCluster(
                    n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
                ) as cluster,
                Client(cluster) as client,
            ):
                client.run(importlib.import_module, "app.services.batch")
                up = time.perf_counter() - start
                processes = psutil.Process().children(recursive=True)
                before = live_cpu(processes)
                wall, part, cpu = batch(env, output, "--scheduler", cluster.scheduler_address)
                cpu += live_cpu(processes) - before
            same = output.read_bytes() == reference
            print(f"  LocalCluster, {label}: {wall:6.1f} s, batch alone {part:6.1f} s "
                  f"({alone / part:.2f}x), CPU {cpu:5.1f} s, identical: {same} "
                  f"(cluster up and imports in {up:.1f} s, not counted)")  # fmt: skip
        print(f"  {rows:,} rows in each output; load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
