"""The database's upkeep without starting the service: its schema's revision, its change log."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from app.services.index_snapshot import SnapshotStore
from app.settings import Settings
from app.storage import enterprises as store
from app.storage import migrate
from app.storage.database import Database, connect
from app.storage.identity import database_identity

__all__ = [
    "DatabaseUnreachable",
    "PrunedLog",
    "prune_change_log",
    "upgrade_database",
    "write_revision",
]


class DatabaseUnreachable(Exception):
    """The configured database cannot be opened (its message names it, without a password)."""


def upgrade_database(settings: Settings) -> tuple[str | None, str | None]:
    """Upgrade the configured database's schema; the revisions before and after (None: none)."""
    with _opened(settings, migrate=False) as database:
        return database.migrate()


@contextmanager
def _opened(settings: Settings, *, migrate: bool = True) -> Iterator[Database]:
    """The configured database (upgraded unless `migrate` is false), disposed of at the end.

    Raises DatabaseUnreachable, naming it, if it cannot be opened or is lost on the way.
    """
    url = settings.resolved_database_url
    try:
        database = connect(url, migrate=migrate)
        try:
            yield database
        finally:
            database.dispose()
    except OperationalError as exc:
        raise _unreachable(url, exc) from exc


def _unreachable(url: str, exc: OperationalError) -> DatabaseUnreachable:
    shown = make_url(url).render_as_string(hide_password=True)
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    return DatabaseUnreachable(f"cannot open the database {shown}: {reason}")


def write_revision(settings: Settings, message: str) -> Path:
    """Write the next migration from what the tables add to the configured (upgraded) database."""
    with _opened(settings) as database, database.engine.connect() as connection:
        return migrate.write_revision(connection, message)


@dataclass(frozen=True)
class PrunedLog:
    """What `prune_change_log` did.

    `removed` changes went; `horizon` is the seq of the change left in their place (None if
    none was old enough). `outdated` is the change that this data directory's newest index
    snapshot of the database reflects, when the horizon passed it (else None): the next worker
    to start from the directory builds its index from every row, then writes a new snapshot.
    """

    removed: int
    horizon: int | None
    outdated: int | None


def prune_change_log(settings: Settings, keep: timedelta) -> PrunedLog:
    """Remove the enterprise changes logged more than `keep` ago (`store.prune_changes`).

    One write transaction: the log is pruned whole or not at all.
    """
    with _opened(settings) as database, database.write() as session:
        removed, horizon = store.prune_changes(session, datetime.now(UTC) - keep)
        identity = database_identity(session)
    outdated = None
    if horizon is not None and settings.index_snapshots:
        # A snapshot as of the horizon or before no longer matches the log (`SnapshotStore.load`);
        # a newer one of the same database would be mapped instead.
        ours = [o for o in SnapshotStore(settings.index_dir).origins() if o.database == identity]
        if ours and ours[-1].seq <= horizon:
            outdated = ours[-1].seq
    return PrunedLog(removed, horizon, outdated)
