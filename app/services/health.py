"""Readiness: whether this worker can serve (database reachable, dataset and index loaded)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import text

from app.metrics import INDEXED
from app.services.datasets import ActiveDataset
from app.services.enterprises import EnterpriseService
from app.storage.database import Database

__all__ = ["Readiness", "readiness"]


@dataclass(frozen=True)
class Readiness:
    """What a load balancer asks before sending requests to this worker."""

    ready: bool
    database: str
    dataset_version: str | None
    indexed: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def readiness(
    database: Database, active: ActiveDataset, enterprises: EnterpriseService
) -> Readiness:
    """Check the database, the active dataset and the partner index, naming what is wrong."""
    problems = []
    version = None
    try:
        with database.read() as session:
            session.execute(text("SELECT 1"))
        database_status = "ok"
        version = active.current().version
    except Exception as exc:  # noqa: BLE001 - any failure to reach the database means not ready
        database_status = "unreachable"
        problems.append(f"database: {type(exc).__name__}: {exc}".splitlines()[0][:300])
    index = enterprises.keeper.loaded
    indexed = {}
    if index is None:
        problems.append("partner index: not built yet")
    else:
        # Searchable enterprises: the base less its superseded or deleted rows, plus the overlay.
        indexed = {
            side: len(pool.base) - len(pool.removed_rows) + len(pool.overlay)
            for side, pool in index.sides.items()
        }
        for side, count in indexed.items():
            INDEXED.labels(side=side).set(count)
    return Readiness(
        ready=not problems,
        database=database_status,
        dataset_version=version,
        indexed=indexed,
        problems=problems,
    )
