"""Alembic's environment: migrations run on the connection `app.storage.migrate` hands over.

The caller owns the transaction (and with it the write lock); there is no URL here and no
logging set-up, so that the service's own logging stays as configured.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from app.storage.migrate import METADATA

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("counterpart's migrations run on a connection: use `counterpart db upgrade`")
context.configure(
    connection=connection,
    target_metadata=METADATA,
    compare_type=True,
    # SQLite alters a table by copying it: Alembic's batch mode does that for later revisions.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
