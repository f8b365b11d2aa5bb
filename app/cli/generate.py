"""``counterpart generate``: synthetic data for demos, tests and benchmarks."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from app.enterprise_files import write_csv, write_jsonl
from app.errors import USER_ERRORS
from app.services.synthetic import synthetic_enterprises

__all__ = ["FileFormat", "generate_cli"]

generate_cli = typer.Typer(
    help="Generate synthetic data for demos, tests and benchmarks.", no_args_is_help=True
)

#: Records between two refreshes of the progress bar (a refresh per record would cost seconds).
_PROGRESS_STEP = 10_000

_T = TypeVar("_T")


class FileFormat(StrEnum):
    """Import formats the generator writes."""

    csv = "csv"
    jsonl = "jsonl"


@generate_cli.callback()
def _group() -> None:
    # A callback keeps `enterprises` a subcommand even while it is the only one.
    pass


def _format_of(output: Path | None) -> FileFormat:
    if output is not None and output.suffix.lower() in (".jsonl", ".ndjson"):
        return FileFormat.jsonl
    return FileFormat.csv


def _with_progress(items: Iterable[_T], progress: Progress, total: int) -> Iterator[_T]:
    task = progress.add_task("enterprises", total=total)
    done = 0
    for done, item in enumerate(items, start=1):
        yield item
        if done % _PROGRESS_STEP == 0:
            progress.update(task, completed=done)
    progress.update(task, completed=done)


@generate_cli.command("enterprises")
def enterprises(
    count: Annotated[int, typer.Option(min=0, help="Number of enterprises.")] = 1000,
    seed: Annotated[int, typer.Option(min=0, help="Random seed: same seed, same file.")] = 0,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File to write (default: standard output)."),
    ] = None,
    file_format: Annotated[
        FileFormat | None,
        typer.Option(
            "--format",
            help="File format (default: from the output's extension, .jsonl or .ndjson for "
            "JSON Lines, else csv).",
        ),
    ] = None,
    dataset: Annotated[
        Path | None, typer.Option(help="A dataset file (default: the shipped dataset).")
    ] = None,
) -> None:
    """Write a realistic synthetic enterprise population in the import format.

    Regions follow GDP, offers and seeks the regions' strengths and needs; sizes, ownership and
    founding years follow plausible distributions (see matching.generate_enterprises).
    """
    try:
        records = synthetic_enterprises(count, seed=seed, dataset=dataset)
    except USER_ERRORS as exc:
        typer.echo(f"invalid dataset: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    except OSError as exc:
        typer.echo(f"cannot read {dataset}: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    kind = file_format or _format_of(output)
    write = write_csv if kind is FileFormat.csv else write_jsonl
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=output is None,
    )
    try:
        with progress:
            written = write(_with_progress(records, progress, count), output or sys.stdout)
    except OSError as exc:
        typer.echo(f"cannot write {output}: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    typer.echo(f"wrote {written} enterprises as {kind.value} to {output or 'stdout'}", err=True)
