"""``counterpart keys create | list | revoke``: API keys with roles, in the service's database.

It reads the settings' COUNTERPART_DATABASE_URL like the service, so a key made here works on
every instance at once, and a revocation holds from their next request.
"""

from __future__ import annotations

from typing import Annotated

import typer

from app import convert
from app.errors import AppError
from app.services.keys import Role, open_keys
from app.settings import get_settings

__all__ = ["keys_cli"]

keys_cli = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)


@keys_cli.command("create")
def create(
    role: Annotated[Role, typer.Option(help="What the key may do.")],
    label: Annotated[str, typer.Option(help="Who or what holds the key.")] = "",
    enterprise: Annotated[
        list[str] | None,
        typer.Option(help="An enterprise id an enterprise key may edit (repeat for several)."),
    ] = None,
) -> None:
    """Create a key and print its secret: shown this once, stored only as a digest."""
    try:
        body = convert.key_in({"role": role.value, "label": label, "enterprises": enterprise or []})
        with open_keys(get_settings()) as keys:
            created = keys.create(body.role, label=body.label, enterprises=body.enterprises)
    except AppError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(code=1) from exc
    key = created.stored
    bound = f" for {', '.join(key.enterprises)}" if key.enterprises else ""
    typer.echo(f"created key {key.id} ({key.role}{bound}); it is shown only this once:", err=True)
    typer.echo(created.secret)


@keys_cli.command("list")
def list_keys() -> None:
    """Every key, revoked ones too, oldest first (never a secret: none is stored)."""
    with open_keys(get_settings()) as keys:
        stored = keys.list()
    typer.echo("id\tprefix\trole\tlabel\tenterprises\tcreated\trevoked")
    for key in stored:
        revoked = "" if key.revoked_at is None else key.revoked_at.isoformat(timespec="seconds")
        typer.echo(
            f"{key.id}\t{key.prefix}…\t{key.role}\t{key.label}\t{','.join(key.enterprises)}"
            f"\t{key.created_at.isoformat(timespec='seconds')}\t{revoked}"
        )


@keys_cli.command("revoke")
def revoke(key_id: Annotated[int, typer.Argument(help="The key's id (keys list).", min=1)]) -> None:
    """Revoke a key: every instance refuses it from its next request on."""
    try:
        with open_keys(get_settings()) as keys:
            key = keys.revoke(key_id)
    except AppError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(code=1) from exc
    typer.echo(f"revoked key {key.id} ({key.prefix}…, {key.role})")
