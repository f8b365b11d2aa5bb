"""Prometheus metrics of the service (`GET /metrics`, Prometheus's text format).

Requests and their latency by route and status, the enterprises in each worker's partner index,
the partner cards its queries found kept or read, an import's progress. With several workers,
``counterpart serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at a folder they share, and every
worker answers for all of them.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

__all__ = [
    "CARDS",
    "IMPORT_ROWS",
    "INDEXED",
    "LATENCY",
    "PARTNER_READS",
    "REQUESTS",
    "metrics_text",
]

REQUESTS = Counter(
    "counterpart_requests_total", "Requests answered, by route and status.", ["route", "status"]
)
LATENCY = Histogram(
    "counterpart_request_seconds",
    "Time to answer a request, by route.",
    ["route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
INDEXED = Gauge(
    "counterpart_indexed_enterprises",
    "Enterprises in this worker's partner index, by side.",
    ["side"],
    multiprocess_mode="max",
)
CARDS = Counter(
    "counterpart_partner_cards_total",
    "Partner cards of partner lists, by source: kept by the worker, or read from the database.",
    ["source"],
)
PARTNER_READS = Counter(
    "counterpart_partner_reads_total",
    "Partner queries by how they read the database: outside a transaction (the index was "
    "current), in a read transaction (it was behind, or the query's own enterprise was not in "
    "it), or stale (tried outside, a write landed meanwhile: then read in a transaction too).",
    ["read"],
)
IMPORT_ROWS = Gauge(
    "counterpart_import_rows", "Rows read by the import under way (0 when none).",
    multiprocess_mode="max",
)  # fmt: skip


def metrics_text() -> tuple[bytes, str]:
    """The metrics in Prometheus's text format, of every worker when they share a folder."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
