"""The database: its engine, its tables, and transactions that serialise writes on every dialect.

Reads are snapshots; writes take the database's write lock when they begin, so that what a write
reads before it writes (does the id exist, what does the profile hold now) cannot change under it
and two writers queue instead of racing. How that lock is taken depends on the dialect, and only
this module knows it:

* SQLite: ``BEGIN IMMEDIATE`` takes the database's single write lock up front (a second writer
  waits on the busy timeout instead of failing when it would upgrade a read lock).
* PostgreSQL: the transaction takes a transaction-scoped advisory lock, one key for all writes.

Services open transactions through `Database.read()` and `Database.write()` and never see a
dialect.

A write waits for the lock at most `write_wait` seconds (SQLite's busy timeout, PostgreSQL's
lock timeout). Past that, or on any other "database is locked" or "lock not available", the
statement raises `DatabaseBusy` (the HTTP layer answers 503 with Retry-After), never a bare driver
error.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.orm import Session, sessionmaker

from app.storage import datasets, enterprises, keys, outcomes, scenarios
from app.storage.base import Base

__all__ = ["Database", "DatabaseBusy", "connect"]

#: The advisory lock every PostgreSQL write takes (an arbitrary constant: "counterpart writes").
_WRITE_LOCK_KEY = 0x636F_756E_7465_72
#: Dialects whose write serialisation this module implements.
SUPPORTED_DIALECTS = ("sqlite", "postgresql")
# Importing the table modules registers their tables on Base before create_all.
_TABLES = (datasets, enterprises, keys, outcomes, scenarios)
#: How long a write waits for another's lock by default, in seconds.
WRITE_WAIT = 30.0
#: PostgreSQL's lock_not_available (lock_timeout) and SQLite's "locked"/"busy" messages.
_PG_LOCK_CODES = ("55P03",)
_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")


class DatabaseBusy(Exception):
    """Another write held the database's write lock longer than this one could wait."""

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after


def _busy_errors(retry_after: int) -> Any:
    def translate(context: ExceptionContext) -> BaseException | None:
        original = context.original_exception
        code = getattr(original, "pgcode", None) or getattr(original, "sqlstate", None)
        message = str(original).lower()
        if code in _PG_LOCK_CODES or any(text in message for text in _SQLITE_BUSY):
            return DatabaseBusy(
                "the database is busy with another write (an import's write phase, or a "
                f"dataset swap); nothing was changed, retry in {retry_after} s",
                retry_after=retry_after,
            )
        return None

    return translate


def _sqlite_transactions(dbapi_connection: Any, _record: Any) -> None:
    # Python's sqlite3 module (in its default mode) only opens a transaction before a write, so
    # two reads of one SQLAlchemy transaction could see two states of the database. Taking the
    # transaction handling away from it and emitting BEGIN ourselves (the SQLAlchemy recipe for
    # pysqlite) makes every transaction a real one: reads see one snapshot, writes are atomic.
    dbapi_connection.isolation_level = None


def _sqlite_pragmas(write_wait: float) -> Any:
    def configure(dbapi_connection: Any, _record: Any) -> None:
        # WAL lets readers in other workers go on while one worker writes; the busy timeout makes
        # a second writer wait instead of failing; foreign keys are off in SQLite unless asked.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(write_wait * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return configure


def _sqlite_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get("begin", "")
    conn.exec_driver_sql(f"BEGIN {mode}".strip())


class Database:
    """An engine and its transactions: `read()` for snapshots, `write()` for serialised writes."""

    def __init__(self, engine: Engine, *, write_wait: float = WRITE_WAIT) -> None:
        self.engine = engine
        self.write_wait = write_wait
        self.dialect = engine.dialect.name
        if self.dialect not in SUPPORTED_DIALECTS:
            raise ValueError(
                f"unsupported database {self.dialect!r}: counterpart runs on "
                f"{' or '.join(SUPPORTED_DIALECTS)}"
            )
        # SQLite takes its write lock with BEGIN IMMEDIATE (see _sqlite_begin).
        write_engine = engine.execution_options(begin="IMMEDIATE")
        self._read = sessionmaker(engine, expire_on_commit=False)
        self._write = sessionmaker(write_engine, expire_on_commit=False)
        self._write_engine = write_engine

    def _serialise(self, connection: Connection) -> None:
        if self.dialect == "postgresql":
            wait = max(int(self.write_wait * 1000), 1)
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = {wait}")
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_WRITE_LOCK_KEY})")

    def read(self) -> Session:
        """A session for reading: one snapshot, taken at its first statement."""
        return self._read()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in a write transaction holding the write lock; committed on exit."""
        with self._write.begin() as session:
            self._serialise(session.connection())
            yield session

    @contextmanager
    def write_connection(self, *, attach: Mapping[str, Path] | None = None) -> Iterator[Connection]:
        """A connection in a write transaction holding the write lock, for bulk writes.

        Committed when the block ends normally, rolled back when it raises. On SQLite, `attach`
        names other database files its statements may read (`name.table`), attached before the
        transaction begins (SQLite refuses to inside one) and detached after it.
        """
        with self._write_engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            names = dict(attach or {})
            if names and self.dialect != "sqlite":
                raise ValueError("`attach` is for SQLite databases only")
            assert raw is not None
            for name, path in names.items():
                raw.execute(f'ATTACH DATABASE ? AS "{name}"', (str(path),))
            try:
                with connection.begin():
                    self._serialise(connection)
                    yield connection
            finally:
                for name in names:
                    raw.execute(f'DETACH DATABASE "{name}"')

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def connect(url: str, *, write_wait: float = WRITE_WAIT) -> Database:
    """Create the engine (and, for SQLite, its directory) and the tables; return the database.

    A write waits `write_wait` seconds for another's lock before it raises `DatabaseBusy`.
    """
    parsed = make_url(url)
    kwargs: dict[str, Any] = {}
    sqlite = parsed.get_backend_name() == "sqlite"
    if sqlite:
        kwargs["connect_args"] = {"check_same_thread": False}
        # As many pooled connections as the threadpool has threads (40): fewer meant
        # connections opened and closed (and configured) on every request under load.
        kwargs["pool_size"] = 40
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)
    event.listen(engine, "handle_error", _busy_errors(max(1, round(write_wait / 6))))
    if sqlite:
        event.listen(engine, "connect", _sqlite_pragmas(write_wait))
        event.listen(engine, "connect", _sqlite_transactions)
        event.listen(engine, "begin", _sqlite_begin)
    Base.metadata.create_all(engine)
    return Database(engine, write_wait=write_wait)
