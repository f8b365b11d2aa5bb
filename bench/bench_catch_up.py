"""Benchmark: what a write costs the next partner query of another worker, beside a baseline.

Run with ``.venv/bin/python bench/bench_catch_up.py [--count 20000] [--rounds 600]
[--database sqlite|postgresql|both] [--baseline REF]``. Two apps (two workers) share one
database of ``count`` generated enterprises (imported through the first); then, ``rounds``
times, the first PATCHes an eastern enterprise (a new `offers` and `description`) and the second
answers a partner query of a northeast enterprise at once (its index one change behind the log),
then another (its index current). Printed: the median CPU of each query and their difference,
the cost of catching up with one write, for the baseline commit (``--baseline``, extracted with
``git archive``) and this tree, each in a process of its own, turn and turn about (``--turns``),
so that both see the same load. CPU is the process's (`time.process_time`): the apps run in
process (Starlette's `TestClient`), so it is the whole request's, HTTP stack included, without
the network.

PostgreSQL runs on a database of its own (``bench_catch_up``) on `bench_throughput`'s server
(``postgresql://postgres@127.0.0.1:5432``), dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_throughput import postgres_url
from measure import cpu_model, extract, has_commit

ROOT = Path(__file__).resolve().parent.parent
#: The tree before the catch-up outside a transaction.
BASELINE_REF = "6be079d"
PG_DATABASE = "bench_catch_up"
KEY = "bench-catch-up-admin-key-0123456789"


def measure(count: int, rounds: int, database_url: str | None) -> dict[str, float]:
    """The median CPU (ms) of a partner query just after another app's write, and of the next."""
    from fastapi.testclient import TestClient

    import matching as m
    from app.enterprise_files import write_csv
    from app.main import create_app
    from app.settings import Settings

    headers = {"Authorization": f"Bearer {KEY}"}
    records = list(m.generate_enterprises(m.load_dataset(), count, seed=7))
    northeast = [str(r["id"]) for r in records if str(r["id"]).startswith("ne")][:200]
    east = [str(r["id"]) for r in records if str(r["id"]).startswith("ea")][:50]
    with tempfile.TemporaryDirectory() as name:
        extra = {} if database_url is None else {"database_url": database_url}
        settings = Settings(data_dir=Path(name), admin_key=KEY, **extra)
        path = Path(name) / "enterprises.csv"
        write_csv(records, path)
        with TestClient(create_app(settings)) as writer, TestClient(create_app(settings)) as reader:
            imported = writer.post(
                "/enterprises/import",
                content=path.read_bytes(),
                headers={**headers, "content-type": "text/csv"},
            )
            imported.raise_for_status()
            for ident in northeast:  # the reader's index catches up; it keeps their cards
                reader.get(f"/enterprises/{ident}/partners?k=10").raise_for_status()
            after_write, current = [], []
            for n in range(rounds):
                body = {"description": f"write {n}", "offers": {"grain": (n % 9 + 1) / 10}}
                patched = writer.patch(f"/enterprises/{east[n % len(east)]}", json=body,
                                       headers=headers)  # fmt: skip
                patched.raise_for_status()
                for times, ident in ((after_write, northeast[n % 200]),
                                     (current, northeast[(n + 7) % 200])):  # fmt: skip
                    start = time.process_time()
                    reader.get(f"/enterprises/{ident}/partners?k=10").raise_for_status()
                    times.append(time.process_time() - start)
    first, next_ = statistics.median(after_write) * 1e3, statistics.median(current) * 1e3
    return {"after_write": first, "current": next_, "catch_up": first - next_}


def run_tree(tree: Path, args: argparse.Namespace, database: str) -> dict[str, float]:
    """`measure` in a process of its own, on the source tree `tree`."""
    url = postgres_url(PG_DATABASE, create=True) if database == "postgresql" else ""
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--measure", str(args.count), str(args.rounds), url],
            env={**os.environ, "PYTHONPATH": f"{tree}{os.pathsep}{Path(__file__).parent}"},
            cwd=tree,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        if database == "postgresql":
            postgres_url(PG_DATABASE, create=False)
    figures: dict[str, float] = json.loads(out.splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=600)
    parser.add_argument("--turns", type=int, default=2)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--baseline", default=BASELINE_REF, help="commit ('' for none)")
    parser.add_argument("--measure", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        count, rounds, url = args.measure
        print(json.dumps(measure(int(count), int(rounds), url or None)))
        return
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"machine: {cpu_model()}; load average {load}")
    print(f"{args.count:,} enterprises, {args.rounds} writes, median CPU of a partner query (ms)")
    databases = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    with tempfile.TemporaryDirectory() as name:
        trees = {}
        if args.baseline and has_commit(ROOT, args.baseline):
            trees[f"baseline {args.baseline}"] = extract(ROOT, args.baseline, Path(name) / "base")
        trees["this tree"] = ROOT
        for database in databases:
            for turn in range(args.turns):
                for label, tree in trees.items():
                    f = run_tree(tree, args, database)
                    print(f"  {database:10s} turn {turn + 1}  {label:18s} after a write "
                          f"{f['after_write']:5.2f}   index current {f['current']:5.2f}   "
                          f"catching up {f['catch_up']:5.2f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
