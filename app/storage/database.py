"""The database engine and the declarative base every table derives from."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

__all__ = ["Base", "Sessions", "as_utc", "connect"]


class Base(DeclarativeBase):
    """Declarative base of counterpart's tables."""


def as_utc(moment: datetime) -> datetime:
    """A stored time as an aware UTC datetime (SQLite keeps no time zone; we store UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _sqlite_transactions(dbapi_connection: Any, _record: Any) -> None:
    # Python's sqlite3 module (in its default mode) only opens a transaction before a write, so
    # two reads of one SQLAlchemy transaction could see two states of the database. Taking the
    # transaction handling away from it and emitting BEGIN ourselves (the SQLAlchemy recipe for
    # pysqlite) makes every transaction a real one: reads see one snapshot, writes are atomic.
    dbapi_connection.isolation_level = None


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers in other workers go on while one worker writes; the busy timeout makes a
    # second writer wait instead of failing; foreign keys are off in SQLite unless asked for.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Sessions:
    """Session factories: `sessions()` for reads, `sessions.begin()` for writes.

    A read is a deferred transaction: a snapshot taken at its first statement. A write takes the
    database's write lock when it begins (SQLite's BEGIN IMMEDIATE), so that what it reads before
    writing cannot change under it, and a second writer waits (busy timeout) instead of failing
    with "database is locked" when it tries to upgrade a read.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.write_engine = engine.execution_options(begin="IMMEDIATE")
        self._read = sessionmaker(engine, expire_on_commit=False)
        self._write = sessionmaker(self.write_engine, expire_on_commit=False)

    def __call__(self) -> Session:
        """A session for reading."""
        return self._read()

    def begin(self) -> AbstractContextManager[Session]:
        """A session in a write transaction, committed on exit (rolled back on error)."""
        return self._write.begin()


def _begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get("begin", "")
    conn.exec_driver_sql(f"BEGIN {mode}".strip())


def connect(url: str) -> tuple[Engine, Sessions]:
    """Create the engine (and, for SQLite, its directory), the tables, and session factories."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"check_same_thread": False}
        # As many pooled connections as the threadpool has threads (40): fewer meant
        # connections opened and closed (and configured) on every request under load.
        kwargs["pool_size"] = 40
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "connect", _sqlite_transactions)
        event.listen(engine, "begin", _begin)
    # Import the table modules so that their tables are registered on Base before create_all.
    from app.storage import datasets, enterprises, scenarios  # noqa: F401

    Base.metadata.create_all(engine)
    return engine, Sessions(engine)
