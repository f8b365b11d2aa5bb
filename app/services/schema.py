"""The database's upkeep without starting the service: its schema's revision, its change log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from app.settings import Settings
from app.storage import enterprises as store
from app.storage import migrate
from app.storage.database import connect

__all__ = ["DatabaseUnreachable", "prune_change_log", "upgrade_database", "write_revision"]


class DatabaseUnreachable(Exception):
    """The configured database cannot be opened (its message names it, without a password)."""


def upgrade_database(settings: Settings) -> tuple[str | None, str | None]:
    """Upgrade the configured database's schema; the revisions before and after (None: none)."""
    url = settings.resolved_database_url
    try:
        database = connect(url, migrate=False)
        try:
            return database.migrate()
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
    url = settings.resolved_database_url
    try:
        database = connect(url)
        try:
            with database.engine.connect() as connection:
                return migrate.write_revision(connection, message)
        finally:
            database.dispose()
    except OperationalError as exc:
        raise _unreachable(url, exc) from exc


def prune_change_log(settings: Settings, keep: timedelta) -> tuple[int, int | None]:
    """Remove the enterprise changes logged more than `keep` ago (`store.prune_changes`).

    Returns how many were removed and the seq of the horizon left in their place (None if none
    was old enough). One write transaction: the log is pruned whole or not at all.
    """
    url = settings.resolved_database_url
    try:
        database = connect(url)
        try:
            with database.write() as session:
                return store.prune_changes(session, datetime.now(UTC) - keep)
        finally:
            database.dispose()
    except OperationalError as exc:
        raise _unreachable(url, exc) from exc
