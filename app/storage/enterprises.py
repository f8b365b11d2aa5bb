"""Stored enterprises and the log of their changes.

Every write adds a row to `enterprise_changes` in the same transaction as the change itself. A
worker keeps its search index in step by reading the log past the last change it applied, within
the same read transaction as the query it serves, so a query sees every committed change and
never half of one. A bulk import logs one `bulk` change: workers then reload everything.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from app.storage.base import ID, Base, as_utc

__all__ = [
    "FIELDS",
    "PRUNED",
    "ROW_COLUMNS",
    "EnterpriseCard",
    "StoredEnterprise",
    "change_at",
    "changes",
    "changes_since",
    "changes_with_profiles",
    "count_enterprises",
    "delete_enterprise",
    "enterprises",
    "get_cards",
    "get_cards_at_head",
    "get_enterprises",
    "index_rows",
    "heads",
    "latest_change",
    "log_attached_changes",
    "log_change",
    "log_changes",
    "now",
    "prune_changes",
    "record",
    "upsert_attached",
    "upsert_enterprises",
    "upsert_values",
]

enterprises = Table(
    "enterprises",
    Base.metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("region", String(100), nullable=False, index=True),
    Column("side", String(20), nullable=False),
    Column("size", String(10), nullable=False),
    Column("ownership", String(10), nullable=False),
    Column("founded", Integer, nullable=True),
    Column("description", Text, nullable=False, default=""),
    Column("contact", String(300), nullable=True),
    Column("offers", Text, nullable=False),
    Column("seeks", Text, nullable=False),
    Column("partners", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

changes = Table(
    "enterprise_changes",
    Base.metadata,
    Column("seq", ID, primary_key=True, autoincrement=True),
    Column("enterprise_id", String(64), nullable=True),
    Column("op", String(10), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

#: The profile fields, in the column order of the table (after the id).
FIELDS = (
    "name", "region", "side", "size", "ownership", "founded", "description", "contact",
    "offers", "seeks", "partners",
)  # fmt: skip


@dataclass(frozen=True)
class StoredEnterprise:
    """An enterprise as stored."""

    id: str
    name: str
    region: str
    side: str
    size: str
    ownership: str
    founded: int | None
    description: str
    contact: str | None
    offers: dict[str, float]
    seeks: dict[str, float]
    partners: list[str]
    updated_at: datetime


@dataclass(frozen=True)
class EnterpriseCard:
    """What a partner list shows of a stored enterprise."""

    id: str
    name: str
    region: str
    size: str
    ownership: str


def _row(values: Sequence[Any]) -> StoredEnterprise:
    (ident, name, region, side, size, ownership, founded, description, contact, offers, seeks,
     partners, updated_at) = values  # fmt: skip
    return StoredEnterprise(
        id=ident,
        name=name,
        region=region,
        side=side,
        size=size,
        ownership=ownership,
        founded=founded,
        description=description,
        contact=contact,
        offers=json.loads(offers),
        seeks=json.loads(seeks),
        partners=json.loads(partners),
        updated_at=as_utc(
            datetime.fromisoformat(updated_at) if isinstance(updated_at, str) else updated_at
        ),
    )


_PLAIN = re.compile(r"^[A-Za-z0-9._-]*$")


def _json_map(sectors: dict[str, float]) -> str:
    # Imports write millions of these: a plain join is several times faster than json.dumps, and
    # exact for the keys we store (sector ids) and finite floats (repr is valid JSON).
    if all(_PLAIN.match(key) for key in sectors):
        return "{" + ",".join(f'"{key}":{float(v)!r}' for key, v in sectors.items()) + "}"
    return json.dumps(sectors, separators=(",", ":"))


def _json_list(items: list[str]) -> str:
    if all(_PLAIN.match(item) for item in items):
        return "[" + ",".join(f'"{item}"' for item in items) + "]"
    return json.dumps(items, separators=(",", ":"))


def record(values: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    """A row to write from profile values (sector maps and partners as JSON)."""
    return {
        "id": values["id"],
        **{f: values.get(f) for f in FIELDS if f not in ("offers", "seeks", "partners")},
        "description": values.get("description") or "",
        "offers": _json_map(values.get("offers") or {}),
        "seeks": _json_map(values.get("seeks") or {}),
        "partners": _json_list(values.get("partners") or []),
        "updated_at": now,
    }


_COLUMNS = ("id", *FIELDS, "updated_at")
#: The columns of a row as `upsert_values` takes it (the time stamp is given apart).
ROW_COLUMNS = _COLUMNS[:-1]


def upsert_enterprises(
    connection: Connection | Session, rows: Sequence[dict[str, Any]], *, log: bool = True
) -> int:
    """Insert or replace rows (made by `record`); returns how many ids were new.

    With `log`, each row's change is logged; a bulk import logs once itself instead.
    """
    if not rows:
        return 0
    values = [tuple(r[c] for c in ROW_COLUMNS) for r in rows]
    now = rows[0]["updated_at"]
    created = upsert_values(connection, values, now=now)
    if log:
        connection.execute(
            insert(changes), [{"enterprise_id": v[0], "op": "upsert", "at": now} for v in values]
        )
    return created


#: Ids bound in one statement: below SQLite's default limit of 999 host parameters (before
#: 3.32), with room for the statement's own.
_IDS_PER_STATEMENT = 900


def upsert_values(
    connection: Connection | Session, rows: Sequence[tuple[Any, ...]], *, now: datetime
) -> int:
    """Insert or replace rows given as tuples in `ROW_COLUMNS` order; returns how many are new.

    Nothing is logged. Rows go to the driver's executemany directly: SQLAlchemy's per-row
    parameter handling cost three times the insert itself on million-row imports.
    """
    if not rows:
        return 0
    ids = [r[0] for r in rows]
    existing: set[str] = set()
    for start in range(0, len(ids), _IDS_PER_STATEMENT):
        chunk = ids[start : start + _IDS_PER_STATEMENT]
        existing.update(
            connection.execute(select(enterprises.c.id).where(enterprises.c.id.in_(chunk)))
            .scalars()
            .all()
        )
    bind = _driver(connection)
    dialect = bind.dialect
    marks = _marks(bind, len(_COLUMNS))
    sql = (
        f"INSERT INTO enterprises ({', '.join(_COLUMNS)}) VALUES ({marks}) "
        f"ON CONFLICT (id) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS[1:])
    )
    stamp = _stamp(now, dialect.name)
    bind.exec_driver_sql(sql, [(*r, stamp) for r in rows])
    return len(ids) - len(existing)


def upsert_attached(connection: Connection, source: str, *, now: datetime) -> int:
    """Insert or replace every row of an attached SQLite table; returns how many ids were new.

    `source` is ``schema.table`` with the columns of `ROW_COLUMNS`, read in rowid order. One
    statement, no row through Python: the write phase of a million-row import in seconds.
    """
    existing = connection.exec_driver_sql(
        f"SELECT count(*) FROM {source} WHERE id IN (SELECT id FROM main.enterprises)"
    ).scalar_one()
    total = connection.exec_driver_sql(f"SELECT count(*) FROM {source}").scalar_one()
    columns = ", ".join(ROW_COLUMNS)
    # `WHERE true` tells SQLite's parser that ON CONFLICT belongs to the INSERT, not a join.
    connection.exec_driver_sql(
        f"INSERT INTO main.enterprises ({', '.join(_COLUMNS)}) "
        f"SELECT {columns}, ? FROM {source} WHERE true ORDER BY rowid "
        "ON CONFLICT (id) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS[1:]),
        (_stamp(now, "sqlite"),),
    )
    return int(total) - int(existing)


def log_attached_changes(connection: Connection, source: str) -> None:
    """Log an `upsert` of every id of an attached SQLite table (``schema.table``)."""
    connection.exec_driver_sql(
        f"INSERT INTO main.enterprise_changes (enterprise_id, op, at) "
        f"SELECT id, 'upsert', ? FROM {source} ORDER BY rowid",
        (_stamp(datetime.now(UTC), "sqlite"),),
    )


def _stamp(moment: datetime, dialect: str) -> Any:
    """A time as the driver takes it: SQLite stores SQLAlchemy's naive UTC text form."""
    if dialect == "sqlite":
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return moment


def delete_enterprise(session: Session, enterprise_id: str) -> bool:
    """Delete one enterprise and log it; False if there was none."""
    gone = session.execute(delete(enterprises).where(enterprises.c.id == enterprise_id))
    if not gone.rowcount:  # type: ignore[attr-defined]
        return False
    log_change(session, enterprise_id, "delete")
    return True


def log_changes(connection: Connection | Session, enterprise_ids: Sequence[str], op: str) -> None:
    """Log the same change (`upsert`, `delete`) of several enterprises."""
    if enterprise_ids:
        at = datetime.now(UTC)
        connection.execute(
            insert(changes), [{"enterprise_id": i, "op": op, "at": at} for i in enterprise_ids]
        )


def log_change(connection: Connection | Session, enterprise_id: str | None, op: str) -> None:
    """Log a change (`upsert`, `delete`, or `bulk` for a whole import)."""
    connection.execute(
        insert(changes).values(enterprise_id=enterprise_id, op=op, at=datetime.now(UTC))
    )


def _driver(connection: Connection | Session) -> Connection:
    return connection.connection() if isinstance(connection, Session) else connection


def _marks(connection: Connection, count: int) -> str:
    return ", ".join(("?" if connection.dialect.paramstyle == "qmark" else "%s",) * count)


def get_enterprises(
    connection: Connection | Session, ids: Iterable[str]
) -> dict[str, StoredEnterprise]:
    """The stored enterprises with these ids (missing ids are left out).

    On every partner query: plain SQL through the driver, which costs a tenth of building and
    compiling the same statement with SQLAlchemy's expression language each time.
    """
    wanted = list(dict.fromkeys(ids))
    out: dict[str, StoredEnterprise] = {}
    bind = _driver(connection)
    columns = ", ".join(c.name for c in enterprises.columns)
    for start in range(0, len(wanted), _IDS_PER_STATEMENT):
        chunk = tuple(wanted[start : start + _IDS_PER_STATEMENT])
        sql = f"SELECT {columns} FROM enterprises WHERE id IN ({_marks(bind, len(chunk))})"
        for values in bind.exec_driver_sql(sql, chunk).all():
            stored = _row(values)
            out[stored.id] = stored
    return out


#: The columns of an `EnterpriseCard`, in its order.
_CARD_COLUMNS = "id, name, region, size, ownership"
#: The last logged change, as a scalar subquery (NULL while the log is empty).
_LOG_END = "(SELECT max(seq) FROM enterprise_changes)"


def get_cards(connection: Connection | Session, ids: Iterable[str]) -> dict[str, EnterpriseCard]:
    """The cards of the stored enterprises with these ids (missing ids are left out).

    On every partner query: five short columns, not the whole profile with its JSON to
    decode (half the time of `get_enterprises` for a page of partners).
    """
    wanted = list(dict.fromkeys(ids))
    out: dict[str, EnterpriseCard] = {}
    bind = _driver(connection)
    for start in range(0, len(wanted), _IDS_PER_STATEMENT):
        chunk = tuple(wanted[start : start + _IDS_PER_STATEMENT])
        sql = f"SELECT {_CARD_COLUMNS} FROM enterprises WHERE id IN ({_marks(bind, len(chunk))})"
        for values in bind.exec_driver_sql(sql, chunk).all():
            out[values[0]] = EnterpriseCard(*values)
    return out


def get_cards_at_head(
    connection: Connection | Session, ids: Iterable[str]
) -> tuple[dict[str, EnterpriseCard], int | None]:
    """`get_cards` in one statement that also reads the log's last change.

    At most `_IDS_PER_STATEMENT` ids. The change tells which state of the database the cards
    are from, when the statement runs outside a transaction (`Database.statements`): None if no
    card came back.
    """
    wanted = tuple(dict.fromkeys(ids))
    if len(wanted) > _IDS_PER_STATEMENT:
        raise ValueError(f"get_cards_at_head reads at most {_IDS_PER_STATEMENT} cards")
    if not wanted:
        return {}, None
    bind = _driver(connection)
    rows = bind.exec_driver_sql(
        f"SELECT {_CARD_COLUMNS}, {_LOG_END} FROM enterprises "
        f"WHERE id IN ({_marks(bind, len(wanted))})",
        wanted,
    ).all()
    # Each row is a card's columns, then the log's last change.
    cards = {values[0]: EnterpriseCard(*values[:-1]) for values in rows}
    return cards, (int(rows[0][-1] or 0) if rows else None)


def index_rows(
    connection: Connection | Session, *, batch: int = 100_000
) -> Iterator[list[tuple[str, str, str, str, str, str]]]:
    """What the search index needs of every enterprise, in id order, in batches.

    Each row is (id, region, size, ownership, offers JSON, seeks JSON).
    """
    columns = (
        enterprises.c.id,
        enterprises.c.region,
        enterprises.c.size,
        enterprises.c.ownership,
        enterprises.c.offers,
        enterprises.c.seeks,
    )
    after = ""
    while True:
        rows = connection.execute(
            select(*columns).where(enterprises.c.id > after).order_by(enterprises.c.id).limit(batch)
        ).all()
        if not rows:
            return
        yield [tuple(r) for r in rows]
        after = rows[-1][0]


def count_enterprises(connection: Connection | Session) -> int:
    """How many enterprises are stored."""
    return int(connection.execute(select(func.count()).select_from(enterprises)).scalar_one())


def heads(connection: Connection | Session) -> tuple[int | None, int]:
    """The active dataset's id and the last logged change, in one statement (every query's).

    The same values as `app.storage.datasets.active_dataset_id` and `latest_change`, from one
    snapshot: a partner query asks both, and each statement is a round trip to PostgreSQL.
    """
    bind = _driver(connection)
    active, seq = bind.exec_driver_sql(
        f"SELECT (SELECT id FROM datasets WHERE active), {_LOG_END}"
    ).one()
    return (None if active is None else int(active)), int(seq or 0)


def latest_change(connection: Connection | Session) -> int:
    """The sequence number of the last logged change (0 if none); asked before every query."""
    bind = _driver(connection)
    return int(bind.exec_driver_sql(f"SELECT {_LOG_END}").scalar() or 0)


def change_at(connection: Connection | Session, seq: int) -> tuple[str | None, str, str] | None:
    """The change logged as `seq`: (enterprise id, op, time in ISO form); None if there is none.

    Its time (to the microsecond) tells it from a change another history of the log numbered
    `seq`: a database restored from a backup and written to since.
    """
    row = connection.execute(
        select(changes.c.enterprise_id, changes.c.op, changes.c.at).where(changes.c.seq == seq)
    ).first()
    if row is None:
        return None
    ident, op, at = row
    moment = datetime.fromisoformat(at) if isinstance(at, str) else at
    return ident, str(op), as_utc(moment).isoformat()


#: The op of the oldest change kept by `prune_changes`, in place of what it logged: an index
#: behind it missed changes that are gone and must be built again (`changes_since` reads it).
PRUNED = "pruned"


def prune_changes(session: Session, before: datetime) -> tuple[int, int | None]:
    """Remove the changes logged before `before`, in the caller's write transaction.

    The newest of them stays as the horizon, its op `PRUNED` and its enterprise id cleared:
    a worker whose index is older reads it among the changes past its index and builds its
    index afresh instead of applying a log with a gap. The log's last change is never touched,
    so every index and snapshot as of the log's end (every busy worker's) stays valid; a
    snapshot as of a removed change no longer fits, and is rebuilt when next needed.

    Returns how many changes were removed and the horizon's seq (None if nothing was pruned).
    """
    end = latest_change(session)
    if end == 0:
        return 0, None
    horizon = session.execute(
        select(func.max(changes.c.seq)).where(changes.c.at < before, changes.c.seq < end)
    ).scalar()
    oldest = session.execute(
        select(changes.c.seq, changes.c.op).order_by(changes.c.seq).limit(1)
    ).one()
    if horizon is None or (oldest.seq == horizon and oldest.op == PRUNED):
        return 0, None  # nothing old enough, or pruned to this horizon already
    removed = session.execute(delete(changes).where(changes.c.seq < horizon))
    session.execute(
        update(changes).where(changes.c.seq == horizon).values(enterprise_id=None, op=PRUNED)
    )
    return int(removed.rowcount or 0), int(horizon)  # type: ignore[attr-defined]


def changes_since(connection: Connection | Session, seq: int) -> list[tuple[int, str | None, str]]:
    """Changes logged after `seq`: (seq, enterprise id, op), in order."""
    rows = connection.execute(
        select(changes.c.seq, changes.c.enterprise_id, changes.c.op)
        .where(changes.c.seq > seq)
        .order_by(changes.c.seq)
    ).all()
    return [(int(s), e, str(o)) for s, e, o in rows]


def changes_with_profiles(
    connection: Connection | Session, seq: int
) -> tuple[int | None, list[tuple[int, str | None, str]], dict[str, StoredEnterprise]]:
    """`changes_since` and `get_enterprises` of the ids it names, in one statement.

    Returns the active dataset's id, the changes logged after `seq` (seq, enterprise id, op) in
    order and the stored enterprises they name (deleted ones left out). Outside a transaction
    (`Database.statements`) the three are of one state of the database, which the last change
    names; the active id is None when no change came back (or no dataset is active).
    """
    bind = _driver(connection)
    columns = ", ".join(f"e.{c.name}" for c in enterprises.columns)
    rows = bind.exec_driver_sql(
        f"SELECT c.seq, c.enterprise_id, c.op, (SELECT id FROM datasets WHERE active), "
        f"{columns} FROM enterprise_changes c LEFT JOIN enterprises e ON e.id = c.enterprise_id "
        f"WHERE c.seq > {_marks(bind, 1)} ORDER BY c.seq",
        (seq,),
    ).all()
    log = [(int(values[0]), values[1], str(values[2])) for values in rows]
    stored = {}
    for values in rows:
        if values[4] is not None:  # the enterprise exists: its columns follow the first four
            stored[values[4]] = _row(values[4:])
    active = rows[0][3] if rows else None
    return (None if active is None else int(active)), log, stored


def now() -> datetime:
    """The time a write is stamped with."""
    return datetime.now(UTC)
