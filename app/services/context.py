"""Everything a process serves from, wired once: the database and the services over it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from app.services.datasets import ActiveDataset
from app.services.enterprises import EnterpriseService
from app.services.scenarios import ScenarioService
from app.services.work import WorkBudget
from app.storage.database import Database, connect

__all__ = ["Services", "open_services"]


@dataclass(frozen=True, eq=False)
class Services:
    """The database and the services of one process (one per worker)."""

    database: Database
    active: ActiveDataset
    enterprises: EnterpriseService
    scenarios: ScenarioService
    #: The budget of each heavy computation.
    budget: WorkBudget


@contextmanager
def open_services(
    database_url: str, *, budget: WorkBudget, build_index: bool = True
) -> Iterator[Services]:
    """Connect, seed the shipped dataset on first start, load it and build the partner index.

    The index is built before the block starts, so that the first query does not wait for it;
    a process that only writes (an import) passes `build_index=False`.
    """
    database = connect(database_url)
    try:
        active = ActiveDataset(database)
        state = active.start()
        enterprises = EnterpriseService(database)
        if build_index:
            with enterprises.reading(state):
                pass
        yield Services(database, active, enterprises, ScenarioService(database, budget), budget)
    finally:
        database.dispose()
