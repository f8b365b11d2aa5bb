"""Everything a process serves from, wired once: the database and the services over it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from app.services.datasets import ActiveDataset
from app.services.enterprises import EnterpriseService
from app.services.imports import clear_workspaces
from app.services.index_snapshot import SnapshotStore
from app.services.keys import KeyService
from app.services.outcomes import OutcomeService
from app.services.scenarios import ScenarioService
from app.services.work import WorkBudget
from app.settings import Settings
from app.storage.database import Database, connect

__all__ = ["Services", "open_services"]


@dataclass(frozen=True, eq=False)
class Services:
    """The database and the services of one process (one per worker)."""

    database: Database
    active: ActiveDataset
    enterprises: EnterpriseService
    scenarios: ScenarioService
    outcomes: OutcomeService
    keys: KeyService
    #: The budget of each heavy computation.
    budget: WorkBudget


@contextmanager
def open_services(settings: Settings, *, build_index: bool = True) -> Iterator[Services]:
    """Connect, seed the shipped dataset and outcomes on first start, load them, build the index.

    First it empties the imports' scratch folder of what imports killed mid-way left there.

    The index is built before the block starts (or mapped from a snapshot in
    ``data_dir/index``, with `settings.index_snapshots`), so that the first query does not wait
    for it; a process that only writes (an import) passes `build_index=False`.
    """
    budget = WorkBudget.of(settings.work_seconds, settings.work_memory_mb)
    # What imports killed mid-way left behind (their spooled files and staged rows).
    clear_workspaces(settings.import_dir)
    database = connect(settings.resolved_database_url, write_wait=settings.write_wait_seconds)
    try:
        active = ActiveDataset(database)
        state = active.start()
        snapshots = SnapshotStore(settings.index_dir) if settings.index_snapshots else None
        enterprises = EnterpriseService(database, snapshots=snapshots)
        if build_index:
            with enterprises.reading(state):
                pass
        outcomes = OutcomeService(database)
        outcomes.start()
        try:
            yield Services(
                database,
                active,
                enterprises,
                ScenarioService(database, budget),
                outcomes,
                KeyService(database, settings.admin_key),
                budget,
            )
        finally:
            enterprises.keeper.stop()
    finally:
        database.dispose()
