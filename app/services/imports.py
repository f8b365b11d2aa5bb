"""Bulk import of enterprises from CSV or JSON Lines: every row checked, all written or none."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from app.enterprise_files import read_rows
from app.errors import InvalidInput, Problem
from app.services.datasets import DatasetState
from app.services.enterprises import EnterpriseProfile, profile_values, reference_problems
from app.storage import enterprises as store
from app.storage.database import Database

__all__ = ["ImportFailed", "ImportReport", "RowParser", "import_file"]

#: Most row errors an import lists (it counts them all).
MAX_LISTED_ERRORS = 1000
#: Rows written per statement during an import.
IMPORT_BATCH = 5000

#: Checks a row's values field by field (the API's rules for a profile) and makes its profile,
#: or returns the row's problems.
RowParser = Callable[[Mapping[str, Any]], EnterpriseProfile | list[Problem]]


class ImportFailed(InvalidInput):
    """An import with bad rows: nothing was written."""

    code = "InvalidImport"


@dataclass(frozen=True)
class ImportReport:
    """What an import wrote (all rows, or none)."""

    imported: int
    created: int
    updated: int


def _record(
    state: DatasetState,
    parse: RowParser,
    values: Mapping[str, Any],
    row_number: int,
    seen: dict[str, int],
    now: datetime,
) -> tuple[dict[str, Any] | None, list[Problem]]:
    parsed = parse(values)
    if isinstance(parsed, list):
        return None, parsed + reference_problems(values, state)
    if parsed.id is None:
        return None, [Problem(field="id", error="an imported row needs an id")]
    first = seen.setdefault(parsed.id, row_number)
    if first != row_number:
        return None, [
            Problem(field="id", error=f"duplicate id {parsed.id!r}, first at row {first}")
        ]
    checked = profile_values(parsed)
    problems = reference_problems(checked, state)
    if problems:
        return None, problems
    checked["side"] = state.network.locate(parsed.region)[0]
    return store.record(checked, now=now), []


def import_file(
    database: Database,
    state: DatasetState,
    path: Path,
    kind: str,
    parse: RowParser,
    *,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Validate and write every row of a CSV or JSON Lines file, all or nothing.

    Rows are read one at a time from the file and written in batches inside one write
    transaction; at the first bad row writing stops, the rest is still checked so that every bad
    row is reported, and the transaction is rolled back: nothing is written. A successful import
    logs one ``bulk`` change, after which every worker rebuilds its index.

    Raises
    ------
    ImportFailed
        Listing the bad rows as problems with their row numbers (CSV counts the header as 1).
    """
    problems: list[Problem] = []
    bad = 0
    seen: dict[str, int] = {}
    batch: list[dict[str, Any]] = []
    created = written = 0
    now = store.now()
    with (
        database.write_connection() as connection,
        path.open("r", encoding="utf-8-sig", newline="") as text,
    ):
        for row_number, values, row_problems in read_rows(text, kind, progress=progress):
            record = None
            if not row_problems:
                record, row_problems = _record(state, parse, values, row_number, seen, now)
            if row_problems:
                bad += 1
                room = MAX_LISTED_ERRORS - len(problems)
                problems += [
                    Problem(field=p.field, error=p.error, row=row_number)
                    for p in row_problems[: max(room, 0)]
                ]
                continue
            if bad:
                continue
            assert record is not None
            batch.append(record)
            if len(batch) >= IMPORT_BATCH:
                created += store.upsert_enterprises(connection, batch, log=False)
                written += len(batch)
                batch = []
        if bad:
            raise ImportFailed(f"{bad} row(s) are invalid; nothing was imported", errors=problems)
        created += store.upsert_enterprises(connection, batch, log=False)
        written += len(batch)
        if written:
            store.log_change(connection, None, "bulk")
    return ImportReport(imported=written, created=created, updated=written - created)
