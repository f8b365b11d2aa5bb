"""How long does an import hold the write lock, and what does another write wait meanwhile?

On SQLite in a scratch directory, the same generated file (`--rows`, JSON Lines) is imported
twice, each time on a fresh database, while another thread writes one enterprise every 50 ms:

* baseline: the previous import, reproduced here: every row read, checked and written inside
  one write transaction (the lock held from the first row to the commit);
* now: `import_file`, which checks and stages the whole file first and takes the lock only to
  write.

Printed for both: the import's time, how long it held the write lock, and the other writer's
latencies. Then the index: what the first partner query of another worker costs after the
import (it now serves its current index and rebuilds in the background), against the full
rebuild it paid before.

    .venv/bin/python bench/bench_imports.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import io
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from measure import cpu_model, percentile

from app import convert
from app.enterprise_files import read_rows, write_jsonl
from app.services import imports
from app.services.context import Services, open_services
from app.services.enterprises import EnterpriseService, profile_values, reference_problems
from app.settings import Settings
from app.storage import enterprises as store
from matching import generate_enterprises, load_dataset


def old_import(services: Services, path: Path) -> int:
    """The import as it was: reading, checking and writing under one write lock."""
    state = services.active.current()
    batch: list[dict[str, Any]] = []
    written = 0
    now = store.now()
    with (
        services.database.write_connection() as connection,
        path.open("r", encoding="utf-8-sig", newline="") as text,
    ):
        for _, values, problems in read_rows(text, "jsonl"):
            parsed = convert.profile_from_row(values)
            assert not problems and not isinstance(parsed, list)
            checked = profile_values(parsed)
            assert not reference_problems(checked, state)
            checked["side"] = state.network.locate(parsed.region)[0]
            batch.append(store.record(checked, now=now))
            if len(batch) >= imports.IMPORT_BATCH:
                store.upsert_enterprises(connection, batch, log=False)
                written += len(batch)
                batch = []
        store.upsert_enterprises(connection, batch, log=False)
        written += len(batch)
        store.log_change(connection, None, "bulk")
    return written


def new_import(services: Services, path: Path, work_parent: Path) -> int:
    """The import as it is now."""
    with imports.workspace(work_parent) as work:
        report = imports.import_file(
            services.database,
            services.active.current(),
            path,
            "jsonl",
            convert.profile_from_row,
            work_dir=work,
        )
    return report.imported


@contextmanager
def lock_timer(services: Services, held: list[float]) -> Iterator[None]:
    """Record how long each write transaction of bulk writes holds the lock."""
    database = services.database
    original = database.write_connection

    @contextmanager
    def timed(**options: Any) -> Iterator[Any]:
        with original(**options) as connection:
            started = time.perf_counter()
            yield connection
        held.append(time.perf_counter() - started)

    database.write_connection = timed  # type: ignore[method-assign]
    try:
        yield
    finally:
        database.write_connection = original  # type: ignore[method-assign]


def other_writes(services: Services, running: threading.Event) -> tuple[list[float], Any]:
    """Single writes, one every 50 ms while `running` is set, in a thread: (latencies, thread)."""
    latencies: list[float] = []
    state = services.active.current()
    service = services.enterprises

    def loop() -> None:
        n = 0
        while running.is_set():
            profile = convert.profile_from_row({"id": f"w{n}", "name": "W", "region": "harbin"})
            assert not isinstance(profile, list)
            started = time.perf_counter()
            try:
                service.replace(state, f"w{n}", profile)
                latencies.append(time.perf_counter() - started)
            except Exception:  # noqa: BLE001 - a failed write counts as the wait it cost
                latencies.append(float("inf"))
            n += 1
            time.sleep(0.05)

    thread = threading.Thread(target=loop)
    thread.start()
    return latencies, thread


def run(label: str, rows: int, path: Path, *, old: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(data_dir=Path(scratch))
        with open_services(settings) as services:
            state = services.active.current()
            # Another worker, its index built before the import.
            other = EnterpriseService(services.database)
            with other.reading(state):
                pass
            held: list[float] = []
            running = threading.Event()
            running.set()
            latencies, writer = other_writes(services, running)
            try:
                time.sleep(0.2)
                started = time.perf_counter()
                with lock_timer(services, held):
                    count = (
                        old_import(services, path)
                        if old
                        else new_import(services, path, settings.import_dir)
                    )
                seconds = time.perf_counter() - started
                time.sleep(0.2)
            finally:
                running.clear()
                writer.join()
            assert count == rows, count
            # The other worker's first query after the import, and what a full rebuild costs
            # (what that query paid before).
            started = time.perf_counter()
            with other.reading(state):
                pass
            first_query = time.perf_counter() - started
            other.keeper.stop()
            started = time.perf_counter()
            with EnterpriseService(services.database).reading(state):
                pass
            rebuild = time.perf_counter() - started
            return {
                "label": label,
                "seconds": seconds,
                "held": sum(held),
                "writes": latencies,
                "first_query": first_query,
                "rebuild": rebuild,
            }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    dataset = load_dataset()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "enterprises.jsonl"
        text = io.StringIO()
        write_jsonl(generate_enterprises(dataset, args.rows, seed=1), text)
        path.write_text(text.getvalue())
        print(f"{args.rows:,} rows ({path.stat().st_size / 2**20:.1f} MiB), {cpu_model()}")
        results = [
            run("baseline (lock held throughout)", args.rows, path, old=True),
            run("now (checked first, then written)", args.rows, path, old=False),
        ]
    print(
        f"{'':36} {'import s':>9} {'lock held s':>12} {'other writes p50 / max ms':>26}"
        f" {'next query ms':>14} {'full rebuild ms':>16}"
    )
    for r in results:
        writes = r["writes"] or [float("nan")]
        print(
            f"{r['label']:36} {r['seconds']:9.2f} {r['held']:12.2f} "
            f"{percentile(writes, 0.5) * 1000:12.0f} / {max(writes) * 1000:11.0f} "
            f"{r['first_query'] * 1000:14.0f} {r['rebuild'] * 1000:16.0f}"
        )
    print(
        "next query: another worker's first partner query after the import (in the baseline "
        "run it\nis already served by today's background rebuild; before, it paid the full "
        "rebuild)."
    )


if __name__ == "__main__":
    main()
