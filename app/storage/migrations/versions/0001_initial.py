"""The first schema: datasets, enterprises and their log, API keys, outcomes, targets, scenarios.

Before this revision the tables were created by SQLAlchemy's ``create_all`` on every start. A
database made that way has no ``alembic_version`` table, so it comes here as if it were empty:
this revision creates only the tables it lacks (as ``create_all`` did) and keeps the others,
rows and all; later revisions then apply as on any database.

Revision ID: 0001
Revises:
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

#: Generated ids: 64-bit everywhere (SQLite's INTEGER primary key is its 64-bit rowid).
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def _datasets() -> None:
    op.create_table(
        "datasets",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("version", sa.String(length=200), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("version"),
    )
    op.create_index("ix_datasets_active", "datasets", ["active"])


def _api_keys() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("digest"),
        sqlite_autoincrement=True,
    )


def _api_key_enterprises() -> None:
    op.create_table(
        "api_key_enterprises",
        sa.Column("key_id", ID, nullable=False),
        sa.Column("enterprise_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["key_id"], ["api_keys.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("key_id", "enterprise_id"),
    )


def _enterprise_changes() -> None:
    op.create_table(
        "enterprise_changes",
        sa.Column("seq", ID, autoincrement=True, nullable=False),
        sa.Column("enterprise_id", sa.String(length=64), nullable=True),
        sa.Column("op", sa.String(length=10), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )


def _enterprises() -> None:
    op.create_table(
        "enterprises",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("region", sa.String(length=100), nullable=False),
        sa.Column("side", sa.String(length=20), nullable=False),
        sa.Column("size", sa.String(length=10), nullable=False),
        sa.Column("ownership", sa.String(length=10), nullable=False),
        sa.Column("founded", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("contact", sa.String(length=300), nullable=True),
        sa.Column("offers", sa.Text(), nullable=False),
        sa.Column("seeks", sa.Text(), nullable=False),
        sa.Column("partners", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_enterprises_region", "enterprises", ["region"])


def _outcome_state() -> None:
    op.create_table(
        "outcome_state",
        sa.Column("id", ID, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("seed_version", sa.String(length=200), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )


def _outcomes() -> None:
    op.create_table(
        "outcomes",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("northeast", sa.String(length=200), nullable=False),
        sa.Column("east", sa.String(length=200), nullable=False),
        sa.Column("indicator", sa.String(length=50), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("channels", sa.String(length=500), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("northeast_enterprise", sa.String(length=64), nullable=True),
        sa.Column("east_enterprise", sa.String(length=64), nullable=True),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    for column in ("date", "east", "northeast"):
        op.create_index(f"ix_outcomes_{column}", "outcomes", [column])


def _scenarios() -> None:
    op.create_table(
        "scenarios",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        sqlite_autoincrement=True,
    )


def _targets() -> None:
    op.create_table(
        "targets",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("northeast", sa.String(length=200), nullable=False),
        sa.Column("east", sa.String(length=200), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("indicator", sa.String(length=50), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("northeast", "east", "year", "indicator"),
        sqlite_autoincrement=True,
    )


#: Each table of this revision and how to create it (with its indexes).
TABLES: dict[str, Callable[[], None]] = {
    "api_keys": _api_keys,
    "api_key_enterprises": _api_key_enterprises,
    "datasets": _datasets,
    "enterprise_changes": _enterprise_changes,
    "enterprises": _enterprises,
    "outcome_state": _outcome_state,
    "outcomes": _outcomes,
    "scenarios": _scenarios,
    "targets": _targets,
}


def upgrade() -> None:
    """Create every table the database lacks (all of them on a new database)."""
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name, create in TABLES.items():
        if name not in existing:
            create()


def downgrade() -> None:
    """Drop every table of this revision."""
    for name in reversed(TABLES):
        op.drop_table(name)
