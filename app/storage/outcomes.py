"""Stored outcomes and targets, and the revision every worker's cache of them is keyed on.

Every write of an outcome or a target bumps the revision in the same transaction, so a worker
asks one indexed lookup before serving an evaluation and reloads only when something changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Date,
    DateTime,
    Float,
    Integer,
    String,
    Text,
    UniqueConstraint,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.storage.base import ID, Base

__all__ = [
    "OutcomeRecord",
    "OutcomeState",
    "StoredOutcome",
    "StoredTarget",
    "TargetRecord",
    "all_outcomes",
    "all_targets",
    "delete_outcome",
    "delete_target",
    "get_outcome",
    "insert_outcomes",
    "list_outcomes",
    "replace_outcome",
    "replace_shipped",
    "revision",
    "seed_version",
    "upsert_target",
]

#: Origin of the outcomes seeded from the package; the API's own are "recorded".
SHIPPED = "shipped"
RECORDED = "recorded"


class OutcomeRecord(Base):
    """One reported amount of one indicator for one pair, dated and sourced."""

    __tablename__ = "outcomes"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    northeast: Mapped[str] = mapped_column(String(200), index=True)
    east: Mapped[str] = mapped_column(String(200), index=True)
    indicator: Mapped[str] = mapped_column(String(50))
    value: Mapped[float] = mapped_column(Float)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    channels: Mapped[str] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="")
    northeast_enterprise: Mapped[str | None] = mapped_column(String(64), nullable=True)
    east_enterprise: Mapped[str | None] = mapped_column(String(64), nullable=True)
    origin: Mapped[str] = mapped_column(String(20), default=RECORDED)


class TargetRecord(Base):
    """A planner's target for a pair, a year and an indicator."""

    __tablename__ = "targets"
    __table_args__ = (
        UniqueConstraint("northeast", "east", "year", "indicator"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    northeast: Mapped[str] = mapped_column(String(200))
    east: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    indicator: Mapped[str] = mapped_column(String(50))
    value: Mapped[float] = mapped_column(Float)


class OutcomeState(Base):
    """One row: the revision of outcomes and targets, and the shipped outcomes' version seeded."""

    __tablename__ = "outcome_state"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    seed_version: Mapped[str | None] = mapped_column(String(200), nullable=True)
    changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


@dataclass(frozen=True)
class StoredOutcome:
    """An outcome as read from storage; `channels` in order."""

    id: int
    northeast: str
    east: str
    indicator: str
    value: float
    date: dt.date
    channels: tuple[str, ...]
    source: str
    note: str
    northeast_enterprise: str | None
    east_enterprise: str | None
    origin: str


@dataclass(frozen=True)
class StoredTarget:
    """A target as read from storage."""

    id: int
    northeast: str
    east: str
    year: int
    indicator: str
    value: float


def _outcome(r: OutcomeRecord) -> StoredOutcome:
    return StoredOutcome(
        id=r.id,
        northeast=r.northeast,
        east=r.east,
        indicator=r.indicator,
        value=r.value,
        date=r.date,
        channels=tuple(r.channels.split(";")),
        source=r.source,
        note=r.note,
        northeast_enterprise=r.northeast_enterprise,
        east_enterprise=r.east_enterprise,
        origin=r.origin,
    )


def _target(r: TargetRecord) -> StoredTarget:
    return StoredTarget(r.id, r.northeast, r.east, r.year, r.indicator, r.value)


def _row(values: Mapping[str, Any], origin: str) -> dict[str, Any]:
    row = dict(values)
    row["channels"] = ";".join(values["channels"])
    row["origin"] = origin
    return row


def _bump(session: Session) -> None:
    """Record a change: the revision every worker's cache compares with."""
    state = session.get(OutcomeState, 1)
    now = dt.datetime.now(dt.UTC)
    if state is None:
        session.add(OutcomeState(id=1, revision=1, seed_version=None, changed_at=now))
    else:
        state.revision += 1
        state.changed_at = now
    session.flush()


def revision(session: Session) -> int:
    """The revision of outcomes and targets: one lookup by primary key, asked per request."""
    value = (
        session.connection()
        .exec_driver_sql("SELECT revision FROM outcome_state WHERE id = 1")
        .scalar()
    )
    return 0 if value is None else int(value)


def seed_version(session: Session) -> str | None:
    """The version of the shipped outcomes last seeded, if any."""
    state = session.get(OutcomeState, 1)
    return None if state is None else state.seed_version


def replace_shipped(session: Session, version: str, rows: Iterable[Mapping[str, Any]]) -> None:
    """Replace the shipped outcomes by those of `version` (recorded ones are kept)."""
    session.execute(delete(OutcomeRecord).where(OutcomeRecord.origin == SHIPPED))
    batch = [_row(values, SHIPPED) for values in rows]
    if batch:
        session.execute(insert(OutcomeRecord), batch)
    _bump(session)
    session.execute(update(OutcomeState).where(OutcomeState.id == 1).values(seed_version=version))


def insert_outcomes(session: Session, rows: Iterable[Mapping[str, Any]]) -> list[StoredOutcome]:
    """Store new outcomes (in order) and return them with their ids."""
    records = [OutcomeRecord(**_row(values, RECORDED)) for values in rows]
    session.add_all(records)
    session.flush()
    _bump(session)
    return [_outcome(r) for r in records]


def get_outcome(session: Session, outcome_id: int) -> StoredOutcome | None:
    """The outcome with this id, if any."""
    record = session.get(OutcomeRecord, outcome_id)
    return None if record is None else _outcome(record)


def replace_outcome(
    session: Session, outcome_id: int, values: Mapping[str, Any]
) -> StoredOutcome | None:
    """Replace every field of a stored outcome; None if there is none."""
    record = session.get(OutcomeRecord, outcome_id)
    if record is None:
        return None
    for key, value in _row(values, RECORDED).items():
        setattr(record, key, value)
    session.flush()
    _bump(session)
    return _outcome(record)


def delete_outcome(session: Session, outcome_id: int) -> bool:
    """Delete an outcome; False if there was none."""
    record = session.get(OutcomeRecord, outcome_id)
    if record is None:
        return False
    session.delete(record)
    _bump(session)
    return True


def list_outcomes(
    session: Session,
    *,
    northeast: str | None = None,
    east: str | None = None,
    indicator: str | None = None,
    first: dt.date | None = None,
    last: dt.date | None = None,
    limit: int,
    offset: int,
) -> tuple[list[StoredOutcome], int]:
    """A page of outcomes, oldest first, and how many match the filters."""
    query = select(OutcomeRecord)
    for column, value in (
        (OutcomeRecord.northeast, northeast),
        (OutcomeRecord.east, east),
        (OutcomeRecord.indicator, indicator),
    ):
        if value is not None:
            query = query.where(column == value)
    if first is not None:
        query = query.where(OutcomeRecord.date >= first)
    if last is not None:
        query = query.where(OutcomeRecord.date <= last)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    records = session.scalars(
        query.order_by(OutcomeRecord.date, OutcomeRecord.id).limit(limit).offset(offset)
    )
    return [_outcome(r) for r in records], int(total)


def all_outcomes(session: Session) -> list[StoredOutcome]:
    """Every stored outcome, oldest first (a worker's cache)."""
    rows = session.execute(
        select(
            OutcomeRecord.id,
            OutcomeRecord.northeast,
            OutcomeRecord.east,
            OutcomeRecord.indicator,
            OutcomeRecord.value,
            OutcomeRecord.date,
            OutcomeRecord.channels,
            OutcomeRecord.source,
            OutcomeRecord.note,
            OutcomeRecord.northeast_enterprise,
            OutcomeRecord.east_enterprise,
            OutcomeRecord.origin,
        ).order_by(OutcomeRecord.date, OutcomeRecord.id)
    )
    return [
        StoredOutcome(
            r[0], r[1], r[2], r[3], r[4], r[5], tuple(r[6].split(";")), r[7], r[8], r[9], r[10],
            r[11],
        )
        for r in rows
    ]  # fmt: skip


def upsert_target(session: Session, values: Mapping[str, Any]) -> tuple[StoredTarget, bool]:
    """Set the target of (northeast, east, year, indicator); True if it is new."""
    record = session.scalar(
        select(TargetRecord).where(
            TargetRecord.northeast == values["northeast"],
            TargetRecord.east == values["east"],
            TargetRecord.year == values["year"],
            TargetRecord.indicator == values["indicator"],
        )
    )
    created = record is None
    if record is None:
        record = TargetRecord(**values)
        session.add(record)
    else:
        record.value = values["value"]
    session.flush()
    _bump(session)
    return _target(record), created


def all_targets(session: Session) -> list[StoredTarget]:
    """Every target, by year, pair and indicator."""
    records = session.scalars(
        select(TargetRecord).order_by(
            TargetRecord.year, TargetRecord.northeast, TargetRecord.east, TargetRecord.indicator
        )
    )
    return [_target(r) for r in records]


def delete_target(session: Session, target_id: int) -> bool:
    """Delete a target; False if there was none."""
    record = session.get(TargetRecord, target_id)
    if record is None:
        return False
    session.delete(record)
    _bump(session)
    return True
