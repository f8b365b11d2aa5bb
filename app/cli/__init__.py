"""The ``counterpart`` command line: one module per command group, wired here."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from app.cli import whatif
from app.cli.database import db_cli
from app.cli.enterprises import batch_cli, import_cli
from app.cli.evaluation import evaluation_cli
from app.cli.generate import generate_cli
from app.cli.keys import keys_cli
from app.errors import USER_ERRORS
from app.http_protocol import CoalescingHttpToolsProtocol
from app.observability import configure_logging
from app.services.dataset_build import build_dataset, shipped_path
from app.services.datasets import read_dataset, stability
from app.services.schema import DatabaseUnreachable, upgrade_database
from app.settings import get_settings

cli = typer.Typer(
    help="counterpart: matchmaking for northeast–east counterpart cooperation.",
    no_args_is_help=True,
)
dataset_cli = typer.Typer(help="Work with dataset files.", no_args_is_help=True)
cli.add_typer(dataset_cli, name="dataset")
cli.add_typer(generate_cli, name="generate")
cli.add_typer(import_cli, name="import")
cli.add_typer(batch_cli, name="batch")
cli.add_typer(evaluation_cli, name="evaluation")
cli.add_typer(keys_cli, name="keys")
cli.add_typer(db_cli, name="db")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Start the HTTP service (migrates the database's schema, seeds it on first start).

    Logs are JSON lines (``COUNTERPART_LOG_JSON=false`` for plain text). With several workers,
    their metrics are gathered in a folder of the data directory so that ``GET /metrics`` of any
    worker answers for all of them. On SIGTERM, requests under way get 20 s to finish.
    """
    settings = get_settings()
    # Migrated once here, before the workers start, so that an unreachable database or a failed
    # migration stops the command with one message (each worker's start checks it again).
    try:
        upgrade_database(settings)
    except DatabaseUnreachable as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        folder = settings.data_dir / "metrics"
        shutil.rmtree(folder, ignore_errors=True)  # counts of a previous run's workers
        folder.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder.resolve())
    uvicorn.run(
        "app.main:app",
        host=host,
        port=port,
        workers=workers,
        log_config=configure_logging(settings.log_level, json_lines=settings.log_json),
        timeout_graceful_shutdown=20,
        # httptools, writing each answer's head with its body: one send, not two.
        http=CoalescingHttpToolsProtocol,
        # No WebSocket routes: an upgrade request is answered as plain HTTP (the head it holds
        # back would otherwise be a handshake's, handed to a WebSocket protocol).
        ws="none",
        # uvicorn (0.37 and newer) kills a worker that leaves its ping unanswered this long; its
        # 5 s default killed workers over and over on a loaded machine, before they had even
        # imported the app, and during a 1.2M-enterprise index build.
        timeout_worker_healthcheck=settings.worker_healthcheck_seconds,
    )


@dataset_cli.command("validate")
def validate(path: Annotated[Path, typer.Argument(help="A dataset JSON file.")]) -> None:
    """Validate a dataset file the way PUT /dataset would, naming the first problem."""
    try:
        dataset = read_dataset(path)
    except USER_ERRORS as exc:
        typer.echo(f"invalid: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    except (OSError, UnicodeDecodeError) as exc:
        typer.echo(f"cannot read {path}: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    typer.echo(
        f"valid: dataset {dataset.version!r}, {len(dataset.regions)} regions, "
        f"{len(dataset.ties)} ties"
    )


@cli.command("what-if")
def what_if(
    scenario_file: Annotated[
        Path, typer.Argument(help="A scenario JSON (POST /scenarios/evaluate).")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON instead.")] = False,
    dataset: Annotated[
        Path | None, typer.Option(help="A dataset file (default: the shipped dataset).")
    ] = None,
    sweep: Annotated[
        str | None,
        typer.Option(
            help="Sweep one weight, e.g. agriculture=0:3:0.5, and tabulate how the plan changes."
        ),
    ] = None,
) -> None:
    """Evaluate a what-if scenario and print its plan, diff and sensitivity."""
    try:
        state = whatif.load_state(dataset)
        body = whatif.read_scenario(scenario_file)
        if sweep is None:
            result = whatif.evaluate(state, body)
            typer.echo(result.model_dump_json(indent=2)) if as_json else whatif.print_result(result)
        else:
            rows = whatif.sweep(state, body, sweep)
            if as_json:
                typer.echo(whatif.sweep_json(rows))
            else:
                whatif.print_sweep(rows, sweep)
    except whatif.WhatIfError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc


@dataset_cli.command("build")
def build(
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 if the file differs.")
    ] = False,
    output: Annotated[
        Path | None, typer.Option(help="Where to write (default: the shipped regions.json).")
    ] = None,
) -> None:
    """Build the dataset from its source tables and hand-written inputs (matching/data)."""
    where = output or shipped_path()
    if check:
        if not build_dataset(output, check=True):
            typer.echo(
                f"{where}: differs from the build; run `counterpart dataset build`", err=True
            )
            raise typer.Exit(code=1)
        typer.echo(f"{where}: up to date")
        return
    build_dataset(output)
    typer.echo(f"wrote {where}")


#: What reading a dataset file can raise besides a bug.
READ_ERRORS: tuple[type[Exception], ...] = (*USER_ERRORS, OSError, UnicodeDecodeError)


@dataset_cli.command("stability")
def stability_table(
    k: Annotated[int, typer.Option(min=1, max=20, help="Suggestions per region.")] = 3,
    draws: Annotated[int, typer.Option(min=1, max=100_000, help="Perturbed datasets.")] = 1000,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the draws.")] = 0,
    dataset: Annotated[
        Path | None, typer.Option(help="A dataset file (default: the shipped dataset).")
    ] = None,
) -> None:
    """How stable each region's top suggestions are under the estimates' stated uncertainty.

    Every estimated value is drawn uniformly within its range, `draws` times; measured and
    derived values stay as published.
    """
    try:
        rows = stability(k=k, draws=draws, seed=seed, path=dataset)
    except READ_ERRORS as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    typer.echo(f"| region | top {k} suggestions | same top {k} | same best |")
    typer.echo("|---|---|---|---|")
    for row in rows:
        typer.echo(
            f"| {row.region} | {', '.join(row.top)} | {row.same_set:.0%} | {row.same_best:.0%} |"
        )
