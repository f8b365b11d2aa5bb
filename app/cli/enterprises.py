"""``counterpart import enterprises`` and ``counterpart batch partners``.

Both work on the service's database directly (the settings' COUNTERPART_DATABASE_URL), so they
run on the machine that hosts it; a running service sees the result on its next query.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from app import convert
from app.enterprise_files import file_format
from app.errors import AppError
from app.services.batch import CSV_HEADER, PARTITION, partner_lines
from app.services.context import open_services
from app.services.datasets import DatasetState
from app.services.enterprise_index import EnterpriseIndex
from app.services.enterprises import EnterpriseService
from app.services.imports import ImportFailed, import_file, workspace
from app.settings import get_settings

__all__ = ["batch_cli", "import_cli"]

import_cli = typer.Typer(help="Import data into the service's database.", no_args_is_help=True)
batch_cli = typer.Typer(help="Batch jobs over the stored enterprises.", no_args_is_help=True)
console = Console(stderr=True)


@contextmanager
def _service(*, build_index: bool) -> Iterator[tuple[EnterpriseService, DatasetState]]:
    with open_services(get_settings(), build_index=build_index) as services:
        yield services.enterprises, services.active.current()


@import_cli.command("enterprises")
def import_enterprises(
    file: Annotated[Path, typer.Argument(help="A CSV or JSON Lines file (by its extension).")],
    given_format: Annotated[
        str | None, typer.Option("--format", help="csv or jsonl, if the extension does not say.")
    ] = None,
) -> None:
    """Import enterprises, all or nothing: one bad row and nothing is written."""
    try:
        kind = given_format or file_format(None, file.name)
        if kind not in ("csv", "jsonl"):
            raise typer.BadParameter("--format must be csv or jsonl")
        size = file.stat().st_size
    except AppError as exc:
        console.print(f"error: {exc.detail}")
        raise typer.Exit(code=1) from exc
    except OSError as exc:
        console.print(f"error: cannot read {file}: {exc}")
        raise typer.Exit(code=1) from exc
    started = time.perf_counter()
    with (
        _service(build_index=False) as (service, state),
        workspace(get_settings().import_dir) as work,
        _bytes_progress(size) as update,
    ):
        try:
            report = import_file(
                service.database,
                state,
                file,
                kind,
                convert.profile_from_row,
                work_dir=work,
                progress=update,
            )
        except ImportFailed as exc:
            console.print(f"error: {exc.detail}")
            for error in (exc.errors or [])[:20]:
                console.print(f"  row {error.row}: {error.field}: {error.error}")
            raise typer.Exit(code=1) from exc
    console.print(
        f"imported {report.imported:,} enterprises ({report.created:,} new, "
        f"{report.updated:,} updated) in {time.perf_counter() - started:.1f} s"
    )


@contextmanager
def _progress(label: str, amount: ProgressColumn, total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar showing `amount`; yields the function that sets how much is done."""
    with Progress(
        TextColumn(label),
        BarColumn(),
        amount,
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        task = progress.add_task(label, total=total)

        def update(done: int) -> None:
            progress.update(task, completed=done)

        yield update


def _bytes_progress(total: int) -> AbstractContextManager[Callable[[int], None]]:
    return _progress("importing", DownloadColumn(), total)


#: Enterprises between two progress updates of a batch.
_PROGRESS_STEP = 500

# What a forked batch worker inherits from its parent: the index (copy-on-write, never pickled)
# and the shared progress counter.
_BATCH_INDEX: EnterpriseIndex | None = None
_BATCH_COUNTER: Any = None


def _batch_part(args: tuple[str, int, int, int, str]) -> int:
    side, start, stop, k, path = args
    index, counter = _BATCH_INDEX, _BATCH_COUNTER
    assert index is not None and counter is not None
    written = 0
    with open(path, "w", newline="", encoding="utf-8") as out:
        for step in range(start, stop, _PROGRESS_STEP):
            done, lines = partner_lines(index, side, step, min(step + _PROGRESS_STEP, stop), k=k)
            out.write(lines)
            written += done
            with counter.get_lock():
                counter.value += done
    return written


def _count_progress(total: int) -> AbstractContextManager[Callable[[int], None]]:
    return _progress("partners", MofNCompleteColumn(), total)


@batch_cli.command("partners")
def batch_partners(
    k: Annotated[int, typer.Option(min=1, max=100, help="Partners per enterprise.")] = 10,
    output: Annotated[Path, typer.Option(help="CSV: enterprise,rank,partner,score.")] = Path(
        "partners.csv"
    ),
    side: Annotated[str, typer.Option(help="Whose partners: northeast or east.")] = "northeast",
    workers: Annotated[
        int | None, typer.Option(min=1, max=64, help="Processes (default: the machine's cores).")
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="A Dask scheduler's address (tcp://host:port): run on its cluster instead of "
            "local processes. Needs counterpart[dask], and the same counterpart on every worker."
        ),
    ] = None,
    partition: Annotated[
        int, typer.Option(min=1, help="With --scheduler: enterprises per task on the cluster.")
    ] = PARTITION,
) -> None:
    """Top-k partners of every enterprise of one side, written to a CSV file."""
    global _BATCH_INDEX
    if side not in ("northeast", "east"):
        raise typer.BadParameter("--side must be northeast or east")
    if scheduler is not None and workers is not None:
        raise typer.BadParameter(
            "--workers counts local processes; with --scheduler the cluster's workers run the batch"
        )
    started = time.perf_counter()
    with _service(build_index=True) as (service, state), service.reading(state) as (_, index):
        _BATCH_INDEX = index
    # A fresh index has every stored enterprise in its base (its overlay is empty).
    total = len(index.sides[side].base)
    console.print(
        f"index ready in {time.perf_counter() - started:.1f} s: {total:,} {side} enterprises"
    )
    if scheduler is None:
        done = _batch_locally(side, k, output, total, workers or os.cpu_count() or 1)
    else:
        done = _batch_on_cluster(index, side, k, output, total, scheduler, partition)
    console.print(
        f"{done:,} enterprises, top {k} partners each, written to {output} in "
        f"{time.perf_counter() - started:.1f} s"
    )


def _batch_locally(side: str, k: int, output: Path, total: int, processes: int) -> int:
    """Forked processes, each writing a part file of consecutive rows, then joined in order."""
    global _BATCH_COUNTER
    bounds = [total * p // processes for p in range(processes + 1)]
    context = multiprocessing.get_context("fork")
    counter = _BATCH_COUNTER = context.Value("q", 0)
    parts = [f"{output}.part{p}" for p in range(processes)]
    jobs = [(side, bounds[p], bounds[p + 1], k, parts[p]) for p in range(processes)]
    with _count_progress(total) as update, context.Pool(processes) as pool:
        pending = pool.map_async(_batch_part, jobs)
        while not pending.ready():
            pending.wait(0.5)
            update(counter.value)
        done = sum(pending.get())
        update(done)
    with open(output, "w", newline="", encoding="utf-8") as out:
        out.write(CSV_HEADER)
        for part in parts:
            with open(part, encoding="utf-8") as chunk:
                for line in chunk:
                    out.write(line)
            os.remove(part)
    return done


def _warn(message: str) -> None:
    console.print(f"warning: {message}", markup=False)


def _batch_on_cluster(
    index: EnterpriseIndex,
    side: str,
    k: int,
    output: Path,
    total: int,
    scheduler: str,
    partition: int,
) -> int:
    """The same file from a Dask cluster's workers, written as its parts arrive, in order.

    It goes to a `.partial` file renamed at the end: a failed run leaves no half-written output.
    """
    try:
        # Imported here: without --scheduler, the batch neither needs dask nor loads it.
        from app.services.batch_cluster import ClusterUnavailable, cluster_partner_lines
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in ("dask", "distributed"):
            raise
        console.print(
            "error: --scheduler needs dask: pip install 'counterpart[dask]'", markup=False
        )
        raise typer.Exit(code=1) from exc
    partial = output.with_name(output.name + ".partial")
    done = 0
    try:
        with (
            _count_progress(total) as update,
            open(partial, "w", newline="", encoding="utf-8") as out,
        ):
            out.write(CSV_HEADER)
            for count, lines in cluster_partner_lines(
                index, side, k=k, scheduler=scheduler, partition=partition, warn=_warn
            ):
                out.write(lines)
                done += count
                update(done)
    except ClusterUnavailable as exc:
        partial.unlink(missing_ok=True)
        console.print(f"error: {exc}", markup=False)
        raise typer.Exit(code=1) from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, output)
    return done
