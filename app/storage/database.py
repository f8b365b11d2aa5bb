"""The database: its engine, its tables, and transactions that serialise writes on every dialect.

Reads are snapshots; writes take the database's write lock when they begin, so that what a write
reads before it writes (does the id exist, what does the profile hold now) cannot change under it
and two writers queue instead of racing. How that lock is taken depends on the dialect, and only
this module knows it:

* SQLite: ``BEGIN IMMEDIATE`` takes the database's single write lock up front (a second writer
  waits on the busy timeout instead of failing when it would upgrade a read lock).
* PostgreSQL: the transaction (READ COMMITTED, so that each statement after the lock sees every
  write committed before it) takes a transaction-scoped advisory lock, one key per schema. Reads
  are REPEATABLE READ: one snapshot, taken at their first statement, as on SQLite.

Services open transactions through `Database.read()` and `Database.write()` and never see a
dialect. The schema is Alembic's (`app/storage/migrations`): `connect` upgrades the database to
the newest revision under the write lock, so that several workers starting at once migrate once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from app.storage.migrate import current_revision, upgrade

__all__ = ["Database", "connect", "normalise_url"]

#: The advisory lock every PostgreSQL write takes: this constant ("coun") and the schema's hash,
#: so that two counterpart databases in two schemas of one server do not queue on each other.
_WRITE_LOCK_CLASS = 0x636F_756E
#: Dialects whose write serialisation this module implements.
SUPPORTED_DIALECTS = ("sqlite", "postgresql")
#: PostgreSQL connections per process: at most one per threadpool thread, and those kept idle.
POOL_MAX = 40
POOL_IDLE = 10


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


def _sqlite_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get("begin", "")
    conn.exec_driver_sql(f"BEGIN {mode}".strip())


class Database:
    """An engine and its transactions: `read()` for snapshots, `write()` for serialised writes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        if self.dialect not in SUPPORTED_DIALECTS:
            raise ValueError(
                f"unsupported database {self.dialect!r}: counterpart runs on "
                f"{' or '.join(SUPPORTED_DIALECTS)}"
            )
        if self.dialect == "postgresql":
            read_engine: Engine = engine.execution_options(isolation_level="REPEATABLE READ")
            write_engine: Engine = engine.execution_options(isolation_level="READ COMMITTED")
        else:
            # SQLite takes its write lock with BEGIN IMMEDIATE (see _sqlite_begin).
            read_engine = engine
            write_engine = engine.execution_options(begin="IMMEDIATE")
        self._read = sessionmaker(read_engine, expire_on_commit=False)
        self._write = sessionmaker(write_engine, expire_on_commit=False)
        self._write_engine = write_engine

    def _serialise(self, connection: Connection) -> None:
        if self.dialect == "postgresql":
            # The lock is the transaction's first statement and READ COMMITTED takes a snapshot
            # per statement: whatever this write reads next includes every earlier write.
            connection.exec_driver_sql(
                f"SELECT pg_advisory_xact_lock({_WRITE_LOCK_CLASS}, hashtext(current_schema()))"
            )

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
    def write_connection(self) -> Iterator[Connection]:
        """A connection in a write transaction holding the write lock, for bulk writes.

        Committed when the block ends normally, rolled back when it raises.
        """
        with self._write_engine.connect() as connection, connection.begin():
            self._serialise(connection)
            yield connection

    def migrate(self) -> tuple[str | None, str | None]:
        """Upgrade the schema to the newest revision; return the revisions before and after.

        One write transaction: a second process starting at once waits, then finds nothing to
        do, and a migration that fails leaves the database as it was.
        """
        with self.write_connection() as connection:
            before = current_revision(connection)
            upgrade(connection)
            return before, current_revision(connection)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def normalise_url(url: str | URL) -> URL:
    """The URL with PostgreSQL's driver made explicit: ``postgresql://`` means psycopg 3.

    SQLAlchemy's default PostgreSQL driver is psycopg2, which counterpart does not install;
    ``postgres://`` (Heroku's and many platforms' spelling) is accepted too.
    """
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def connect(url: str | URL, *, migrate: bool = True) -> Database:
    """Create the engine (and, for SQLite, its directory), upgrade the schema; return the database.

    With `migrate` false the schema is left as it is (`counterpart db` inspects it that way).
    """
    parsed = normalise_url(url)
    kwargs: dict[str, Any] = {}
    sqlite = parsed.get_backend_name() == "sqlite"
    if sqlite:
        kwargs["connect_args"] = {"check_same_thread": False}
        # As many pooled connections as the threadpool has threads (40): fewer meant
        # connections opened and closed (and configured) on every request under load.
        kwargs["pool_size"] = 40
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    else:
        # Up to one connection per threadpool thread (40), as on SQLite: SQLAlchemy's default
        # (5 + 10) made the 16th concurrent request wait 30 s for a connection, then fail. Only
        # 10 stay open when idle, since the server's connections are shared by every instance.
        kwargs["pool_size"] = POOL_IDLE
        kwargs["max_overflow"] = POOL_MAX - POOL_IDLE
    engine = create_engine(parsed, **kwargs)
    if sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "connect", _sqlite_transactions)
        event.listen(engine, "begin", _sqlite_begin)
    database = Database(engine)
    if migrate:
        try:
            database.migrate()
        except BaseException:
            database.dispose()
            raise
    return database
