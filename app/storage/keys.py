"""API keys: their roles, the enterprises an enterprise key is bound to, never their secrets.

A key is stored as the SHA-256 digest of its secret (looked up by that digest) and a short public
prefix of the secret, so that a listing can say which key is which without holding the key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.storage.base import ID, Base, as_utc

__all__ = [
    "KeyEnterpriseRecord",
    "KeyRecord",
    "StoredKey",
    "find_key",
    "get_key",
    "insert_key",
    "list_keys",
    "revoke_key",
]


class KeyRecord(Base):
    """An API key: the digest of its secret, its role and when it was created and revoked."""

    __tablename__ = "api_keys"
    # AUTOINCREMENT: an id is never given again, so revoking by a stale id cannot hit a new key.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    #: SHA-256 of the secret, hex: what a request's key is looked up by.
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    #: The secret's first characters, for people to tell keys apart (too few to guess the rest).
    prefix: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    enterprises: Mapped[list[KeyEnterpriseRecord]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="KeyEnterpriseRecord.enterprise_id"
    )


class KeyEnterpriseRecord(Base):
    """An enterprise an enterprise key may edit (the profile need not exist yet)."""

    __tablename__ = "api_key_enterprises"

    key_id: Mapped[int] = mapped_column(
        ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True
    )
    enterprise_id: Mapped[str] = mapped_column(String(64), primary_key=True)


@dataclass(frozen=True)
class StoredKey:
    """A key as read from storage (without its secret, which is never stored)."""

    id: int
    prefix: str
    role: str
    label: str
    enterprises: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None


def _stored(record: KeyRecord) -> StoredKey:
    return StoredKey(
        id=record.id,
        prefix=record.prefix,
        role=record.role,
        label=record.label,
        enterprises=tuple(e.enterprise_id for e in record.enterprises),
        created_at=as_utc(record.created_at),
        revoked_at=None if record.revoked_at is None else as_utc(record.revoked_at),
    )


def insert_key(
    session: Session,
    *,
    digest: str,
    prefix: str,
    role: str,
    label: str,
    enterprises: Iterable[str],
) -> StoredKey:
    """Store a new key by the digest of its secret."""
    record = KeyRecord(
        digest=digest,
        prefix=prefix,
        role=role,
        label=label,
        created_at=datetime.now(UTC),
        enterprises=[KeyEnterpriseRecord(enterprise_id=e) for e in sorted(set(enterprises))],
    )
    session.add(record)
    session.flush()
    return _stored(record)


def find_key(session: Session, digest: str) -> tuple[str, StoredKey] | None:
    """The stored digest and key whose secret has this digest, if any (revoked ones too).

    One query, without the ORM's objects: every request with a stored key makes it.
    """
    key, bound = KeyRecord.__table__, KeyEnterpriseRecord.__table__
    rows = session.execute(
        select(key, bound.c.enterprise_id)
        .select_from(key.outerjoin(bound, bound.c.key_id == key.c.id))
        .where(key.c.digest == digest)
        .order_by(bound.c.enterprise_id)
    ).all()
    if not rows:
        return None
    first = rows[0]
    return first.digest, StoredKey(
        id=first.id,
        prefix=first.prefix,
        role=first.role,
        label=first.label,
        enterprises=tuple(r.enterprise_id for r in rows if r.enterprise_id is not None),
        created_at=as_utc(first.created_at),
        revoked_at=None if first.revoked_at is None else as_utc(first.revoked_at),
    )


def get_key(session: Session, key_id: int) -> StoredKey | None:
    """The key with this id, if any."""
    record = session.get(KeyRecord, key_id)
    return None if record is None else _stored(record)


def list_keys(session: Session) -> list[StoredKey]:
    """Every key, revoked ones too, oldest first."""
    return [_stored(r) for r in session.scalars(select(KeyRecord).order_by(KeyRecord.id))]


def revoke_key(session: Session, key_id: int) -> StoredKey | None:
    """Revoke a key from now on (a revoked key keeps its first revocation time); None if none."""
    record = session.get(KeyRecord, key_id)
    if record is None:
        return None
    if record.revoked_at is None:
        record.revoked_at = datetime.now(UTC)
        session.flush()
    return _stored(record)
