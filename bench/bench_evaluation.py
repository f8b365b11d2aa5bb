"""Benchmark: the effectiveness report over HTTP, and plans under coverage rules.

Run with ``.venv/bin/python bench/bench_evaluation.py``. Prints:

* GET /evaluation/report over 14 regions x 10 years x 10 indicators (every pair of the shipped
  dataset, one outcome per year and indicator: 4,900 outcomes, imported through the API first)
  against a real uvicorn server on loopback, with GET /health in the same run as the floor of
  one HTTP round trip (target: < 100 ms);
* plans under coverage rules on the shipped dataset (target: < 1 s) and on a synthetic 500 x 500
  graph (target: < 30 s), each with the rule-free plan (the min-cost flow) as the baseline, and
  the objectives, so the price of each rule shows; ``--whole`` also solves the 500 x 500 MILP on
  every pair at once, without pricing, to show the same objective.
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
from measure import cpu_model, percentile, served_app, timed

import matching.coverage as coverage
from matching import (
    OUTCOME_INDICATORS,
    CoverageRules,
    PlanSettings,
    Weights,
    load_dataset,
    network_from_dataset,
    plan_network,
    score_components,
    synthetic_network,
)

KEY = "bench-key-0123456789abcdef"


def outcome_lines(years: range, seed: int = 0) -> str:
    """One outcome per pair, year and indicator, with plausible amounts, as JSON Lines."""
    rng = np.random.default_rng(seed)
    network = network_from_dataset(load_dataset())
    channels = network.taxonomy.channel_ids
    lines = []
    for northeast in network.northeast.ids:
        for east in network.east.ids:
            for year in years:
                for indicator in OUTCOME_INDICATORS:
                    scale = 1e9 if indicator.startswith("investment") else 10.0
                    day = datetime.date(year, int(rng.integers(1, 13)), 1)
                    lines.append(
                        json.dumps(
                            {
                                "northeast": northeast,
                                "east": east,
                                "indicator": indicator,
                                "value": round(float(rng.gamma(1.5, scale)), 2),
                                "date": day.isoformat(),
                                "channels": [str(rng.choice(channels))],
                                "source": "bench: synthetic",
                            }
                        )
                    )
    return "\n".join(lines) + "\n"


def http_figures(requests: int) -> None:
    years = range(2017, 2027)
    with tempfile.TemporaryDirectory() as data_dir, served_app(data_dir, KEY) as client:
        start = time.perf_counter()
        imported = client.post(
            "/outcomes/import",
            content=outcome_lines(years),
            headers={"Authorization": f"Bearer {KEY}",
                     "Content-Type": "application/x-ndjson"},
        )  # fmt: skip
        imported.raise_for_status()
        import_time = time.perf_counter() - start
        total = client.get("/outcomes", params={"limit": 1}).json()["total"]

        def measure(call: Callable[[], httpx.Response]) -> list[float]:
            for _ in range(10):
                call().raise_for_status()
            out = []
            for _ in range(requests):
                begin = time.perf_counter()
                call().raise_for_status()
                out.append(time.perf_counter() - begin)
            return out

        span = {"first_year": years[0], "last_year": years[-1]}
        health = measure(lambda: client.get("/health"))
        report = measure(lambda: client.get("/evaluation/report", params=span))
        as_csv = measure(lambda: client.get("/evaluation/report", params={**span, "format": "csv"}))
        pair = measure(
            lambda: client.get(
                "/evaluation/report",
                params={**span, "northeast": "harbin", "east": "shenzhen"},
            )
        )
        chart = measure(lambda: client.get("/evaluation/charts/trend.svg", params=span))
    print(f"  imported {imported.json()['imported']} outcomes in {import_time:.2f} s "
          f"({total} stored with the published ones)")  # fmt: skip
    for name, times in (
        ("GET /health (one round trip)", health),
        ("GET /evaluation/report (JSON)", report),
        ("GET /evaluation/report?format=csv", as_csv),
        ("GET /evaluation/report, one pair", pair),
        ("GET /evaluation/charts/trend.svg", chart),
    ):
        median, p95 = statistics.median(times), percentile(times, 0.95)
        print(f"  {name:38s} median {median * 1e3:7.1f} ms   p95 {p95 * 1e3:7.1f} ms")


def plan_figures(
    label: str, net: Any, cases: list[tuple[str, int, CoverageRules]], repeat: int
) -> None:
    comps = score_components(net)
    weights = Weights.resolve(net.taxonomy)
    print(label)
    for name, capacity, rules in cases:
        t_free, free = timed(
            lambda c=capacity: plan_network(net, comps, weights, PlanSettings(capacity=c)), repeat
        )
        settings = PlanSettings(capacity=capacity, coverage=rules)
        t_rules, ruled = timed(lambda s=settings: plan_network(net, comps, weights, s), repeat)
        print(
            f"  {name:44s} {t_rules * 1e3:9.1f} ms   rule-free flow {t_free * 1e3:7.1f} ms   "
            f"objective {ruled.objective:.4f} vs {free.objective:.4f}"
        )


def whole_figure(net: Any, capacity: int, rules: CoverageRules) -> None:
    comps = score_components(net)
    weights = Weights.resolve(net.taxonomy)
    settings = PlanSettings(capacity=capacity, coverage=rules)
    t_priced, priced = timed(lambda: plan_network(net, comps, weights, settings), 1)
    original = coverage._SOLVE_WHOLE_BELOW
    coverage._SOLVE_WHOLE_BELOW = 10**9
    try:
        t_whole, whole = timed(lambda: plan_network(net, comps, weights, settings), 1)
    finally:
        coverage._SOLVE_WHOLE_BELOW = original
    print(
        f"  priced MILP {t_priced:.1f} s, whole MILP {t_whole:.1f} s: objectives "
        f"{priced.objective:.9f} and {whole.objective:.9f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--size", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--whole", action="store_true", help="also the unpriced 500 x 500 MILP")
    args = parser.parse_args()
    print(f"machine: {cpu_model()}, Python {sys.version.split()[0]}")
    print(f"report over HTTP (uvicorn, 1 worker, loopback, {args.requests} requests)")
    http_figures(args.requests)
    shipped = network_from_dataset(load_dataset())
    plan_figures(
        "coverage rules on the shipped dataset (7 x 7)",
        shipped,
        [
            ("min_channels=3, capacity 3", 3, CoverageRules(min_channels=3)),
            ("min_channels=2, cover_share 0.2, capacity 2", 2,
             CoverageRules(min_channels=2, cover_share=0.2)),
            ("per_docking, cover_share 0.05, capacity 2", 2,
             CoverageRules(per_docking=True, cover_share=0.05)),
            ("max_new_per_east=1 (a capacity: the flow)", 2, CoverageRules(max_new_per_east=1)),
        ],
        args.repeat,
    )  # fmt: skip
    big = synthetic_network(args.size, args.size, seed=1)
    plan_figures(
        f"coverage rules on a synthetic {args.size} x {args.size} graph",
        big,
        [
            ("min_channels=3, capacity 3", 3, CoverageRules(min_channels=3)),
            ("min_channels=3, cover_share 0.3, capacity 3", 3,
             CoverageRules(min_channels=3, cover_share=0.3)),
            ("min_channels=2, cover_share 0.35, capacity 3", 3,
             CoverageRules(min_channels=2, cover_share=0.35)),
        ],
        1,
    )  # fmt: skip
    if args.whole:
        whole_figure(big, 3, CoverageRules(min_channels=3, cover_share=0.3))


if __name__ == "__main__":
    main()
