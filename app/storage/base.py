"""The declarative base every table derives from, and the one rule for stored times."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import DeclarativeBase

__all__ = ["Base", "as_utc"]


class Base(DeclarativeBase):
    """Declarative base of counterpart's tables."""


def as_utc(moment: datetime) -> datetime:
    """A stored time as an aware UTC datetime (SQLite keeps no time zone; we store UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
