"""The plan's evaluation: the effectiveness report, its charts, and calibration."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from app.charts import render_chart
from app.errors import InvalidInput, engine_errors
from app.services.datasets import DatasetState
from app.services.outcomes import OutcomeBook
from matching import (
    DEFAULT_HALF_LIFE_DAYS,
    CalibrationYear,
    EvaluationReport,
    Weights,
    calibration,
    evaluation_report,
)

__all__ = ["Calibration", "calibrate", "chart", "report"]


def _pair(northeast: str | None, east: str | None) -> tuple[str, str] | None:
    if (northeast is None) != (east is None):
        raise InvalidInput("a pair's report needs both `northeast` and `east`")
    return None if northeast is None or east is None else (northeast, east)


def report(
    state: DatasetState,
    book: OutcomeBook,
    *,
    first_year: int,
    last_year: int,
    northeast: str | None = None,
    east: str | None = None,
) -> EvaluationReport:
    """The report of the plan, or of one pair, over the years; ties counted at the range's end."""
    pair = _pair(northeast, east)
    for field, region in zip(("northeast", "east"), pair or (), strict=False):
        # Named by a filter: an unknown one is a 422 naming it (a path's would be a 404).
        state.network.locate(region, field=field)
    with engine_errors():
        end = state.dated(date(last_year, 12, 31), book.outcomes, book.revision)
        return evaluation_report(
            end.network,
            book.outcomes,
            book.targets,
            first_year=first_year,
            last_year=last_year,
            pair=pair,
        )


def chart(found: EvaluationReport, name: str, fmt: str) -> bytes:
    """One chart of a report (SVG or PNG bytes); an unknown chart or format is a 422."""
    with engine_errors():
        return render_chart(found, name, fmt)


@dataclass(frozen=True)
class Calibration:
    """The rank correlation of scores and outcomes per year, with the weights and decay used."""

    weights: Weights
    half_life: float
    years: tuple[CalibrationYear, ...]


def calibrate(
    state: DatasetState,
    book: OutcomeBook,
    changes: Mapping[str, float],
    *,
    first_year: int,
    last_year: int,
) -> Calibration:
    """Per year, how well the scores at its start ranked pairs by their outcomes during it."""
    weights = state.weights(changes)
    with engine_errors():
        rows = calibration(
            state.dataset,
            book.outcomes,
            first_year=first_year,
            last_year=last_year,
            weights=weights,
        )
    return Calibration(weights, DEFAULT_HALF_LIFE_DAYS, rows)
