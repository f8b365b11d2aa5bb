"""``counterpart db``: the database's schema."""

from __future__ import annotations

from typing import Annotated

import typer

from app.services.schema import DatabaseUnreachable, upgrade_database, write_revision
from app.settings import get_settings

__all__ = ["db_cli"]

db_cli = typer.Typer(
    help="The database (COUNTERPART_DATABASE_URL) and its schema.", no_args_is_help=True
)


@db_cli.command("upgrade")
def upgrade() -> None:
    """Migrate the database's schema to the newest revision (the service also does on start).

    A database created before migrations (0.2.0 and earlier) is adopted: the tables it lacks
    are created, the others kept with their rows.
    """
    try:
        before, after = upgrade_database(get_settings())
    except DatabaseUnreachable as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    if before == after:
        typer.echo(f"database already at revision {after}")
    else:
        typer.echo(f"database upgraded from revision {before or 'none'} to {after}")


@db_cli.command("revision")
def revision(
    message: Annotated[str, typer.Option("--message", "-m", help="What the revision does.")],
) -> None:
    """Write the next migration: what the tables' definitions add to the (upgraded) database.

    A draft from Alembic's autogenerate, in app/storage/migrations/versions: read it, complete
    it (data a new column needs), and test it with the suite on both databases.
    """
    try:
        path = write_revision(get_settings(), message)
    except (DatabaseUnreachable, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    typer.echo(f"wrote {path}")
