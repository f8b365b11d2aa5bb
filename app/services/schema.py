"""The database's schema: upgrading it to the newest revision without starting the service."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from app.settings import Settings
from app.storage import migrate
from app.storage.database import connect

__all__ = ["DatabaseUnreachable", "upgrade_database", "write_revision"]


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
