"""Stored dataset versions: the active one is what the service computes on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Boolean, DateTime, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.storage.base import ID, Base, as_utc

__all__ = [
    "DatasetRecord",
    "StoredDataset",
    "active_dataset",
    "active_dataset_id",
    "find_version",
    "store_dataset",
]


class DatasetRecord(Base):
    """One version of the dataset, stored as its JSON document."""

    __tablename__ = "datasets"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(String(200), unique=True)
    digest: Mapped[str] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(20))
    document: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    activated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class StoredDataset:
    """A dataset version as read from storage."""

    id: int
    version: str
    digest: str
    origin: str
    document: str
    activated_at: datetime


def _stored(record: DatasetRecord) -> StoredDataset:
    return StoredDataset(
        id=record.id,
        version=record.version,
        digest=record.digest,
        origin=record.origin,
        document=record.document,
        activated_at=as_utc(record.activated_at),
    )


def active_dataset_id(session: Session) -> int | None:
    """Id of the active dataset version: one indexed lookup, asked on every request.

    Plain SQL through the driver: the expression language would cost ten times the lookup.
    """
    value = session.connection().exec_driver_sql("SELECT id FROM datasets WHERE active").scalar()
    return None if value is None else int(value)


def active_dataset(session: Session) -> StoredDataset | None:
    """The active dataset version, if any."""
    record = session.scalar(select(DatasetRecord).where(DatasetRecord.active))
    return None if record is None else _stored(record)


def find_version(session: Session, version: str) -> StoredDataset | None:
    """The stored dataset with this version string, if any."""
    record = session.scalar(select(DatasetRecord).where(DatasetRecord.version == version))
    return None if record is None else _stored(record)


def store_dataset(
    session: Session, *, version: str, digest: str, origin: str, document: str
) -> StoredDataset:
    """Store a version (or reuse the stored one with this version) and make it the active one.

    The caller commits: deactivating the old version and activating the new one happen in the
    same transaction, so readers see either the old dataset or the new one, never neither.
    """
    record = session.scalar(select(DatasetRecord).where(DatasetRecord.version == version))
    session.execute(update(DatasetRecord).values(active=False))
    now = datetime.now(UTC)
    if record is None:
        record = DatasetRecord(
            version=version,
            digest=digest,
            origin=origin,
            document=document,
            active=True,
            activated_at=now,
        )
        session.add(record)
    else:
        record.active = True
        record.activated_at = now
    session.flush()
    return _stored(record)
