"""The schema's migrations (Alembic revisions in `app/storage/migrations`), applied on a connection.

The schema has one history on every dialect. `connect` upgrades to the newest revision inside a
write transaction (the write lock held), so that several workers starting at once migrate once
and a failed migration leaves the database as it was: SQLite and PostgreSQL both run DDL inside
transactions.

A database created before migrations existed (by SQLAlchemy's ``create_all`` on every start, up
to 0.2.0) has no ``alembic_version`` table: the first revision adopts it, creating only the
tables it lacks and keeping the others and their rows as they are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData

from app.storage import datasets, enterprises, identity, keys, outcomes, scenarios
from app.storage.base import Base

__all__ = [
    "METADATA",
    "current_revision",
    "differences",
    "head_revision",
    "upgrade",
    "write_revision",
]

#: Where the revisions are (a folder of the package, so an installed service can migrate).
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Importing the table modules registers their tables on Base.
_TABLES = (datasets, enterprises, identity, keys, outcomes, scenarios)
#: Every table of counterpart: what the newest revision must create.
METADATA: MetaData = Base.metadata


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision of the schema."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "no revision in app/storage/migrations"
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at; None before its first migration."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Upgrade the database on `connection` to `revision`, in the connection's transaction."""
    command.upgrade(_config(connection), revision)


def differences(connection: Connection) -> list[Any]:
    """How the database's schema differs from the tables' definitions (Alembic's diff): [] if none.

    Column types are compared too: a revision that creates a column of another type shows here.
    """
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, METADATA))


def write_revision(connection: Connection, message: str) -> Path:
    """Write the next revision: what the tables' definitions add to the database (at head).

    Alembic's autogenerate compares the database with the tables; the file it writes
    (`versions/NNNN_message.py`, numbered after the newest) is a draft to read and complete,
    for example with the data a new column needs.
    """
    if current_revision(connection) != head_revision():
        raise ValueError("the database is not at the newest revision: upgrade it first")
    number = len(list(ScriptDirectory.from_config(_config()).walk_revisions())) + 1
    script = command.revision(
        _config(connection), message=message, autogenerate=True, rev_id=f"{number:04d}"
    )
    assert script is not None and not isinstance(script, list)
    return Path(script.path)
