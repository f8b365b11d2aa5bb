"""The database's identity: a random id made once, when its schema is created.

Files kept beside a database (the partner index's snapshots) name the database they were made
from by this id. A database that is replaced (a new SQLite file, a PostgreSQL database dropped
and created again) has another id, and its change log numbers its changes from 1 again, so a
snapshot of the old one is never taken for a state of the new one.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, String, Table, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from app.storage.base import Base

__all__ = ["database_identity", "identity"]

identity = Table(
    "database_identity",
    Base.metadata,
    Column("id", String(32), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


def database_identity(connection: Connection | Session) -> str:
    """The id of this database (revision 0002 writes it)."""
    return str(connection.execute(select(identity.c.id)).scalar_one())
