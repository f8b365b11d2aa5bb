"""``counterpart db``: the database's schema and its change log."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Annotated

import typer

from app.services.schema import (
    DatabaseUnreachable,
    prune_change_log,
    upgrade_database,
    write_revision,
)
from app.settings import get_settings

__all__ = ["db_cli"]

db_cli = typer.Typer(
    help="The database (COUNTERPART_DATABASE_URL): its schema and its change log.",
    no_args_is_help=True,
)


@contextmanager
def _reported(*errors: type[Exception]) -> Iterator[None]:
    """Any of `errors` as one line on stderr and exit code 1."""
    try:
        yield
    except errors as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc


@db_cli.command("upgrade")
def upgrade() -> None:
    """Migrate the database's schema to the newest revision (the service also does on start).

    A database created before migrations (0.2.0 and earlier) is adopted: the tables it lacks
    are created, the others kept with their rows.
    """
    with _reported(DatabaseUnreachable):
        before, after = upgrade_database(get_settings())
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
    with _reported(DatabaseUnreachable, ValueError):
        path = write_revision(get_settings(), message)
    typer.echo(f"wrote {path}")


@db_cli.command("prune-log")
def prune_log(
    keep_days: Annotated[
        float,
        typer.Option(
            "--keep-days",
            min=0,
            max=36_500,
            help="Keep the changes of the last this many days (a fraction of a day is fine).",
        ),
    ],
) -> None:
    """Remove old entries of the enterprise change log, which grows by one row per write.

    Workers read the log past their partner index; the newest removed entry stays as a
    horizon, and an index older than it is built afresh (or mapped from a newer snapshot)
    before it answers. Keep at least as long as any instance may go without a partner query,
    and longer than its index snapshot has stood: one as of a removed change is rebuilt at the
    next start (said here for this data directory's). The log's last change is always kept.
    Safe while the service runs.
    """
    settings = get_settings()
    with _reported(DatabaseUnreachable):
        pruned = prune_change_log(settings, timedelta(days=keep_days))
    if pruned.horizon is None:
        typer.echo(f"no change logged more than {keep_days:g} days ago: nothing removed")
        return
    typer.echo(
        f"removed {pruned.removed} changes; change {pruned.horizon} now marks where the log starts"
    )
    if pruned.outdated is not None:
        typer.echo(
            f"note: the index snapshot in {settings.index_dir} (as of change {pruned.outdated}) "
            "predates it: the next worker to start from it builds its index from every row, "
            "then writes a new snapshot"
        )
