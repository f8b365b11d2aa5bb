"""Saved scenarios: each the request that defined it, by a unique name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import DateTime, String, Text, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.storage.base import ID, Base, as_utc

__all__ = [
    "DuplicateName",
    "ScenarioRecord",
    "StoredScenario",
    "count_scenarios",
    "delete_scenario",
    "get_scenario",
    "insert_scenario",
    "list_scenarios",
]


class DuplicateName(Exception):
    """A scenario with this name already exists."""


class ScenarioRecord(Base):
    """A saved scenario: its name, description and the request body that defines it."""

    __tablename__ = "scenarios"
    # AUTOINCREMENT: an id is never given again after a delete, so a stale link cannot show
    # another scenario.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class StoredScenario:
    """A saved scenario as read from storage."""

    id: int
    name: str
    description: str
    body: str
    created_at: datetime


def _stored(record: ScenarioRecord) -> StoredScenario:
    return StoredScenario(
        id=record.id,
        name=record.name,
        description=record.description,
        body=record.body,
        created_at=as_utc(record.created_at),
    )


def insert_scenario(session: Session, *, name: str, description: str, body: str) -> StoredScenario:
    """Save a new scenario; `DuplicateName` if the name is taken."""
    record = ScenarioRecord(
        name=name,
        description=description,
        body=body,
        created_at=datetime.now(UTC),
    )
    session.add(record)
    try:
        session.flush()
    except IntegrityError as exc:
        raise DuplicateName(name) from exc
    return _stored(record)


def get_scenario(session: Session, scenario_id: int) -> StoredScenario | None:
    """The saved scenario with this id, if any."""
    record = session.get(ScenarioRecord, scenario_id)
    return None if record is None else _stored(record)


def list_scenarios(session: Session, *, limit: int, offset: int) -> list[StoredScenario]:
    """A page of saved scenarios, newest first."""
    records = session.scalars(
        select(ScenarioRecord)
        .order_by(ScenarioRecord.created_at.desc(), ScenarioRecord.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [_stored(r) for r in records]


def count_scenarios(session: Session) -> int:
    """How many scenarios are saved."""
    return int(session.scalar(select(func.count()).select_from(ScenarioRecord)) or 0)


def delete_scenario(session: Session, scenario_id: int) -> bool:
    """Delete a saved scenario; False if there was none."""
    record = session.get(ScenarioRecord, scenario_id)
    if record is None:
        return False
    session.delete(record)
    return True
