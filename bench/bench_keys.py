"""Benchmark: what checking a stored key costs a request, against the bootstrap key and no key.

Run with ``.venv/bin/python bench/bench_keys.py [--requests 300]``. Against a real uvicorn server
on loopback (SQLite, 1 worker), it times, per request (the kinds taken in turns):

* a read of one enterprise with no key (the baseline), with the bootstrap admin key (compared in
  memory) and with a stored enterprise key (looked up by its digest in the database);
* a profile update (PATCH) with the bootstrap key and with the stored key;

and in process, the key check alone (`KeyService.authenticate`) for both keys.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

import httpx
from measure import cpu_model, percentile, served_app, timed
from pydantic import SecretStr

from app.services.keys import KeyService
from app.storage.database import connect

KEY = "bench-key-0123456789abcdef"
ENTERPRISE = "ne-bench-1"


def measure(
    calls: dict[str, Callable[[], httpx.Response]], requests: int
) -> dict[str, list[float]]:
    """Times of each call, taken in turns so that the machine's drift affects them alike."""
    times: dict[str, list[float]] = {name: [] for name in calls}
    for round_ in range(20 + requests):
        for name, call in calls.items():
            begin = time.perf_counter()
            call().raise_for_status()
            if round_ >= 20:
                times[name].append(time.perf_counter() - begin)
    return times


def in_process(repeat: int) -> tuple[float, float]:
    """Median seconds of one check of the bootstrap key and of a stored key (SQLite)."""
    with tempfile.TemporaryDirectory() as data_dir:
        database = connect(f"sqlite:///{data_dir}/keys.db")
        try:
            keys = KeyService(database, SecretStr(KEY))
            secret = keys.create("enterprise", enterprises=[ENTERPRISE, "ne-bench-2"]).secret
            bootstrap, _ = timed(lambda: keys.authenticate(KEY), repeat)
            stored, _ = timed(lambda: keys.authenticate(secret), repeat)
        finally:
            database.dispose()
    return bootstrap, stored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir, served_app(data_dir, KEY) as client:
        admin = {"Authorization": f"Bearer {KEY}"}
        profile = {"name": "Bench", "region": "harbin", "contact": "bench@example.com"}
        client.put(f"/enterprises/{ENTERPRISE}", json=profile, headers=admin)
        created = client.post(
            "/keys", json={"role": "enterprise", "enterprises": [ENTERPRISE]}, headers=admin
        )
        created.raise_for_status()
        stored = {"Authorization": f"Bearer {created.json()['key']}"}
        path = f"/enterprises/{ENTERPRISE}"
        rows = {
            "GET one enterprise, no key (baseline)": lambda: client.get(path),
            "GET one enterprise, bootstrap key": lambda: client.get(path, headers=admin),
            "GET one enterprise, stored key": lambda: client.get(path, headers=stored),
            "PATCH the profile, bootstrap key": lambda: client.patch(
                path, json={"name": "Bench"}, headers=admin
            ),
            "PATCH the profile, stored key": lambda: client.patch(
                path, json={"name": "Bench"}, headers=stored
            ),
        }
        figures = measure(rows, args.requests)
    bootstrap, stored_check = in_process(2000)
    print(
        f"key check in process (2000 runs): bootstrap key {bootstrap * 1e6:.1f} us, "
        f"stored key {stored_check * 1e6:.0f} us"
    )
    print(f"keys over HTTP (uvicorn, 1 worker, SQLite, loopback, {args.requests} requests each)")
    print(f"machine: {cpu_model()}, Python {sys.version.split()[0]}")
    print("| request | median | p95 |")
    print("|---|---|---|")
    for name, times in figures.items():
        median = statistics.median(times) * 1000
        print(f"| {name} | {median:.2f} ms | {percentile(times, 0.95) * 1000:.2f} ms |")


if __name__ == "__main__":
    main()
