"""Outcome files in the import format: CSV and JSON Lines (read by `app.enterprise_files`).

JSON Lines
    One outcome per line: ``{"northeast": "harbin", "east": "shenzhen", "indicator":
    "projects_signed", "value": 119, "date": "2024-08-07", "channels": ["equipment"],
    "source": "...", "note": "..."}``.
CSV
    A header of `OUTCOME_FIELDS` (``northeast``, ``east``, ``indicator``, ``value``, ``date``,
    ``channels`` and ``source`` required), then one outcome per row; ``channels`` is
    ``equipment;emerging``, an empty optional cell is left out.
"""

from __future__ import annotations

from typing import Any

from app.enterprise_files import RecordFormat, shown
from app.errors import Problem
from matching import OUTCOME_FIELDS

__all__ = ["OUTCOME_FIELDS", "OUTCOME_FORMAT"]


def _cells(cells: dict[str, str]) -> tuple[dict[str, Any], list[Problem]]:
    values: dict[str, Any] = {}
    problems = []
    for column, cell in cells.items():
        cell = cell.strip()
        if column == "channels":
            values[column] = [c.strip() for c in cell.split(";") if c.strip()]
        elif column == "value":
            try:
                values[column] = float(cell)
            except ValueError:
                problems.append(Problem(field=column, error=f"{shown(cell)} is not a number"))
        elif cell:
            values[column] = cell
    return values, problems


#: The outcome import format.
OUTCOME_FORMAT = RecordFormat(
    OUTCOME_FIELDS,
    OUTCOME_FIELDS[:7],
    _cells,
    {"channels": "`equipment;emerging`", "date": "`YYYY-MM-DD`"},
)
