"""The database: its engine, its tables, and transactions that serialise writes on every dialect.

Reads are snapshots; writes take the database's write lock when they begin, so that what a write
reads before it writes (does the id exist, what does the profile hold now) cannot change under it
and two writers queue instead of racing. How that lock is taken depends on the dialect, and only
this module knows it:

* SQLite: ``BEGIN IMMEDIATE`` takes the database's single write lock up front (a second writer
  waits on the busy timeout instead of failing when it would upgrade a read lock). The writers of
  one process first queue on a lock of their own, so that at most one per process waits in
  SQLite's busy handler, which polls with growing sleeps (up to 100 ms between tries): forty
  writers polling at once made a write under load wait seconds, and not in turn.
* PostgreSQL: the transaction (READ COMMITTED, so that each statement after the lock sees every
  write committed before it) takes a transaction-scoped advisory lock, one key per schema. Reads
  are REPEATABLE READ: one snapshot, taken at their first statement, as on SQLite.

Services open transactions through `Database.read()` and `Database.write()` and never see a
dialect. `Database.statements()` is the one way out of a transaction: each statement on it reads
a snapshot of its own, for a partner query that needs one statement (a transaction around it
costs PostgreSQL two more round trips, BEGIN and COMMIT). The schema is Alembic's
(`app/storage/migrations`): `connect` upgrades the database to the newest revision under the
write lock, so that several workers starting at once migrate once.

A write waits for the lock at most `write_wait` seconds (SQLite's busy timeout, PostgreSQL's
lock timeout). Past that, or on any other "database is locked" or "lock not available", the
statement raises `DatabaseBusy` (the HTTP layer answers 503 with Retry-After), never a bare driver
error.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.orm import Session, sessionmaker

from app.storage.migrate import current_revision, head_revision, upgrade

__all__ = ["Database", "DatabaseBusy", "connect", "normalise_url"]

#: The advisory lock every PostgreSQL write takes: this constant ("coun") and the schema's hash,
#: so that two counterpart databases in two schemas of one server do not queue on each other.
_WRITE_LOCK_CLASS = 0x636F_756E
#: Dialects whose write serialisation this module implements.
SUPPORTED_DIALECTS = ("sqlite", "postgresql")
#: PostgreSQL connections per process: at most one per threadpool thread, and those kept idle.
POOL_MAX = 40
POOL_IDLE = 10
#: How long a write waits for another's lock by default, in seconds.
WRITE_WAIT = 30.0
#: PostgreSQL's lock_not_available (lock_timeout) and SQLite's "locked"/"busy" messages.
_PG_LOCK_CODES = ("55P03",)
_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")
#: SQLite reads up to this much of the database through a memory map: pages the OS has cached
#: are read in place (not one read() each through a 2 MB page cache per connection), shared by
#: every worker. Partner cards not kept were 11% of a worker's time before.
_SQLITE_MMAP = 1 << 30


class DatabaseBusy(Exception):
    """Another write held the database's write lock longer than this one could wait."""

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after


def _retry_after(write_wait: float) -> int:
    return max(1, round(write_wait / 6))


def _busy(retry_after: int) -> DatabaseBusy:
    return DatabaseBusy(
        "the database is busy with another write (an import's write phase, or a "
        f"dataset swap); nothing was changed, retry in {retry_after} s",
        retry_after=retry_after,
    )


def _busy_errors(retry_after: int) -> Any:
    def translate(context: ExceptionContext) -> BaseException | None:
        original = context.original_exception
        code = getattr(original, "pgcode", None) or getattr(original, "sqlstate", None)
        message = str(original).lower()
        if code in _PG_LOCK_CODES or any(text in message for text in _SQLITE_BUSY):
            return _busy(retry_after)
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
        cursor.execute(f"PRAGMA mmap_size={_SQLITE_MMAP}")
        cursor.close()

    return configure


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
        if self.dialect == "postgresql":
            read_engine: Engine = engine.execution_options(isolation_level="REPEATABLE READ")
            write_engine: Engine = engine.execution_options(isolation_level="READ COMMITTED")
            statement_engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        else:
            # SQLite takes its write lock with BEGIN IMMEDIATE (see _sqlite_begin).
            read_engine = engine
            write_engine = engine.execution_options(begin="IMMEDIATE")
            # Not SQLAlchemy's AUTOCOMMIT: on SQLite, setting the isolation level back when the
            # connection returns to the pool would hand transactions back to Python's sqlite3
            # module (see _sqlite_transactions). No BEGIN is emitted (see _sqlite_begin) instead.
            statement_engine = engine.execution_options(begin="none")
        self._read_engine = read_engine
        self._statement_engine = statement_engine
        self._read = sessionmaker(read_engine, expire_on_commit=False)
        self._write = sessionmaker(write_engine, expire_on_commit=False)
        self._write_engine = write_engine
        #: This process's writers take turns here before SQLite's lock (see the module).
        self._write_turn = threading.RLock()
        #: When the write of this thread that holds the turn must have its lock (monotonic).
        self._deadline = threading.local()

    @contextmanager
    def _turn(self) -> Iterator[None]:
        if self.dialect != "sqlite":
            yield
            return
        started = time.monotonic()
        if not self._write_turn.acquire(timeout=self.write_wait):
            raise _busy(_retry_after(self.write_wait))
        outermost = getattr(self._deadline, "at", None) is None
        if outermost:
            self._deadline.at = started + self.write_wait
        try:
            yield
        finally:
            if outermost:
                self._deadline.at = None
            self._write_turn.release()

    def _sqlite_begin(self, conn: Connection) -> None:
        """BEGIN (IMMEDIATE for writes), with SQLite's busy wait cut to what the turn left.

        A write waits `write_wait` in all: for its process's turn, then for another process's
        lock. Without the cut it could wait that long twice.
        """
        mode = conn.get_execution_options().get("begin", "")
        if mode == "none":
            return  # `statements()`: each statement its own snapshot
        deadline = getattr(self._deadline, "at", None)
        if not mode or deadline is None:
            conn.exec_driver_sql(f"BEGIN {mode}".strip())
            return
        left = max(1, int((deadline - time.monotonic()) * 1000))
        conn.exec_driver_sql(f"PRAGMA busy_timeout = {left}")
        try:
            conn.exec_driver_sql(f"BEGIN {mode}")
        finally:
            conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(self.write_wait * 1000)}")

    def _serialise(self, connection: Connection) -> None:
        if self.dialect == "postgresql":
            # READ COMMITTED takes a snapshot per statement: whatever this write reads after the
            # lock includes every earlier write.
            wait = max(int(self.write_wait * 1000), 1)
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = {wait}")
            connection.exec_driver_sql(
                f"SELECT pg_advisory_xact_lock({_WRITE_LOCK_CLASS}, hashtext(current_schema()))"
            )

    def read(self) -> Session:
        """A session for reading: one snapshot, taken at its first statement."""
        return self._read()

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """A connection in a read transaction: one snapshot, as `read()`, without a Session.

        For the reads of every partner query, which need no ORM: a Session and its transaction
        bookkeeping cost as much again as the pooled connection itself (about 0.14 ms of CPU a
        read on SQLite, 0.05 ms on PostgreSQL).
        """
        with self._read_engine.connect() as connection, connection.begin():
            yield connection

    @contextmanager
    def statements(self) -> Iterator[Connection]:
        """A connection outside any transaction, for reads only: each statement is a snapshot.

        Two statements on it may see two states of the database; a caller that needs them to
        agree reads, in each, something that tells (`store.heads`, `store.get_cards_at_head`).
        """
        with self._statement_engine.connect() as connection:
            yield connection

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in a write transaction holding the write lock; committed on exit."""
        with self._turn(), self._write.begin() as session:
            self._serialise(session.connection())
            yield session

    @contextmanager
    def write_connection(self, *, attach: Mapping[str, Path] | None = None) -> Iterator[Connection]:
        """A connection in a write transaction holding the write lock, for bulk writes.

        Committed when the block ends normally, rolled back when it raises. On SQLite, `attach`
        names other database files its statements may read (`name.table`), attached before the
        transaction begins (SQLite refuses to inside one) and detached after it.
        """
        with self._turn(), self._write_engine.connect() as connection:
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

    def migrate(self) -> tuple[str | None, str | None]:
        """Upgrade the schema to the newest revision; return the revisions before and after.

        One write transaction: a second process starting at once waits, then finds nothing to
        do, and a migration that fails leaves the database as it was. A database already at the
        newest revision is not locked at all, so that a worker starting during a long import
        (which holds the write lock) does not wait for it.
        """
        with self.engine.connect() as connection:
            found = current_revision(connection)
        if found == head_revision():
            return found, found
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


def connect(url: str | URL, *, write_wait: float = WRITE_WAIT, migrate: bool = True) -> Database:
    """Create the engine (and, for SQLite, its directory), upgrade the schema; return the database.

    A write waits `write_wait` seconds for another's lock before it raises `DatabaseBusy`. With
    `migrate` false the schema is left as it is (`counterpart db` inspects it that way).
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
    event.listen(engine, "handle_error", _busy_errors(_retry_after(write_wait)))
    if sqlite:
        event.listen(engine, "connect", _sqlite_pragmas(write_wait))
        event.listen(engine, "connect", _sqlite_transactions)
    database = Database(engine, write_wait=write_wait)
    if sqlite:
        event.listen(engine, "begin", database._sqlite_begin)
    if migrate:
        try:
            database.migrate()
        except BaseException:
            database.dispose()
            raise
    return database
