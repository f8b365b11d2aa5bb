"""The declarative base every table derives from, and the one rule for stored times."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import DeclarativeBase

__all__ = ["ID", "Base", "as_utc"]

#: The type of generated ids: 64 bits on every dialect, as the API's ids are (up to 2**62). On
#: SQLite an INTEGER primary key is the 64-bit rowid (and only INTEGER is); PostgreSQL's INTEGER
#: is 32 bits, so there the column is a BIGINT (a lookup of a larger id was an error, not a 404).
ID = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base of counterpart's tables."""


def as_utc(moment: datetime) -> datetime:
    """A stored time as an aware UTC datetime (SQLite keeps no time zone; we store UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
