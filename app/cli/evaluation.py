"""``counterpart evaluation report`` (the report and its charts, into a folder) and ``import``.

It reads the service's database (the settings' COUNTERPART_DATABASE_URL, seeding it on first
use like the service), so the report is the one GET /evaluation/report serves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app import convert
from app.charts import CHART_FORMATS, CHARTS
from app.enterprise_files import file_format
from app.errors import USER_ERRORS, AppError
from app.services import evaluation
from app.services.context import open_services
from app.services.imports import ImportFailed
from app.settings import get_settings

__all__ = ["evaluation_cli"]

evaluation_cli = typer.Typer(help="Evaluate the plan's effectiveness.", no_args_is_help=True)


@evaluation_cli.command("report")
def report(
    output: Annotated[Path, typer.Option(help="The folder to write into (created).")],
    first_year: Annotated[int, typer.Option("--from", min=1990, max=2100)] = 2017,
    last_year: Annotated[int, typer.Option("--to", min=1990, max=2100)] = 2026,
    northeast: Annotated[str | None, typer.Option(help="With --east: one pair's report.")] = None,
    east: Annotated[str | None, typer.Option(help="With --northeast: one pair's report.")] = None,
) -> None:
    """Write report.json, report.csv and every chart as SVG and PNG."""
    try:
        with open_services(get_settings(), build_index=False) as services:
            state = services.active.current()
            found = evaluation.report(
                state,
                services.outcomes.book(),
                first_year=first_year,
                last_year=last_year,
                northeast=northeast,
                east=east,
            )
            files = {
                "report.json": convert.report_out(state, found).model_dump_json(indent=2).encode(),
                "report.csv": convert.report_csv(found).encode(),
            }
            for chart in CHARTS:
                for fmt in CHART_FORMATS:
                    files[f"{chart}.{fmt}"] = evaluation.chart(found, chart, fmt)
    except USER_ERRORS as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    try:
        output.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            (output / name).write_bytes(content)
    except OSError as exc:
        typer.echo(f"error: cannot write to {output}: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    typer.echo(f"wrote {len(files)} files to {output} ({found.outcomes} outcomes)")


@evaluation_cli.command("import")
def import_outcomes(
    file: Annotated[Path, typer.Argument(help="A CSV or JSON Lines file (by its extension).")],
) -> None:
    """Record the outcomes of a file, all or nothing (the format of POST /outcomes/import)."""
    try:
        kind = file_format(None, file.name)
        with open_services(get_settings(), build_index=False) as services:
            imported = services.outcomes.import_file(
                services.active.current(), file, kind, convert.outcome_from_row
            )
    except ImportFailed as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        for problem in exc.errors or []:
            typer.echo(f"  row {problem.row}: {problem.field}: {problem.error}", err=True)
        raise typer.Exit(code=1) from exc
    except AppError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(code=1) from exc
    except (OSError, UnicodeDecodeError) as exc:
        typer.echo(f"error: cannot read {file}: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    typer.echo(f"imported {len(imported)} outcomes")
