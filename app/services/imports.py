"""Bulk imports from CSV or JSON Lines: every row checked, all written or none.

What every import shares: reading a file's rows and parsing them (`parsed_rows`), the log of
bad rows that names each one (`ProblemLog`) and the error that lists them (`ImportFailed`).
Enterprises are checked and staged on disk first, then written under the write lock in a short
phase of its own (`import_file`); outcomes use the same pieces.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from app.enterprise_files import RecordFormat, read_rows
from app.errors import InvalidInput, Problem
from app.services.datasets import DatasetState
from app.services.enterprises import EnterpriseProfile, profile_values, reference_problems
from app.storage import enterprises as store
from app.storage.database import Database
from app.storage.staging import StagedRows, clear_workspaces, workspace

__all__ = [
    "ImportFailed",
    "ImportReport",
    "ProblemLog",
    "RowParser",
    "RowProblems",
    "import_file",
    "parsed_rows",
    "clear_workspaces",
    "stage_file",
    "workspace",
]

#: Most row errors an import lists (it counts them all).
MAX_LISTED_ERRORS = 1000
#: Rows written per statement during an import.
IMPORT_BATCH = 5000
#: Largest import whose rows are logged one by one: every worker's next query applies them to
#: its index (about 0.1 s per thousand). A larger one is logged as one bulk change, which
#: workers rebuild in the background.
LOGGED_ROWS = 1000

#: The stamp of a staged row: the write phase stamps every row with its own time.
_UNSTAMPED = datetime.min.replace(tzinfo=UTC)

_Record = TypeVar("_Record")
#: The problems of one row.
RowProblems = list[Problem]
#: Checks a row's values field by field (the API's rules for the record) and makes the record,
#: or returns the row's problems.
RowParser = Callable[[Mapping[str, Any]], _Record | RowProblems]


class ImportFailed(InvalidInput):
    """An import with bad rows: nothing was written."""

    code = "InvalidImport"


def _printable(text: str) -> str:
    """`text`, with what UTF-8 cannot encode (a lone surrogate from a JSON escape) escaped."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


class ProblemLog:
    """The bad rows of an import: counted all, listed up to `MAX_LISTED_ERRORS` problems."""

    def __init__(self) -> None:
        self.bad = 0
        self.problems: list[Problem] = []

    def add(self, row_number: int, problems: RowProblems) -> None:
        """Log a bad row's problems under its number."""
        self.bad += 1
        room = max(MAX_LISTED_ERRORS - len(self.problems), 0)
        self.problems += [
            Problem(field=_printable(p.field), error=_printable(p.error), row=row_number)
            for p in problems[:room]
        ]

    def raise_if_bad(self) -> None:
        """Raise `ImportFailed` listing the bad rows, if there were any."""
        if self.bad:
            raise ImportFailed(
                f"{self.bad} row(s) are invalid; nothing was imported", errors=self.problems
            )


def parsed_rows(
    path: Path, kind: str, parse: RowParser[_Record], record_format: RecordFormat
) -> Iterator[tuple[int, _Record | RowProblems]]:
    """Each row of a CSV or JSON Lines file with its record, or its problems, one at a time.

    A row whose cells do not read is still parsed, so that its other fields' problems are
    listed with them; a row that does not read at all (not JSON, wrong number of cells) is not.
    """
    with path.open("r", encoding="utf-8-sig", newline="") as text:
        for row_number, values, problems in read_rows(text, kind, record_format=record_format):
            if any(p.field == "row" for p in problems):
                yield row_number, problems
                continue
            parsed = parse(values)
            if not problems:
                yield row_number, parsed
                continue
            named = {p.field for p in problems}
            more = [p for p in parsed if p.field not in named] if isinstance(parsed, list) else []
            yield row_number, problems + more


@dataclass(frozen=True)
class ImportReport:
    """What an import wrote (all rows, or none)."""

    imported: int
    created: int
    updated: int


def _record(
    state: DatasetState,
    parse: RowParser[EnterpriseProfile],
    values: Mapping[str, Any],
) -> tuple[tuple[Any, ...] | None, list[Problem]]:
    parsed = parse(values)
    if isinstance(parsed, list):
        return None, parsed + reference_problems(values, state)
    if parsed.id is None:
        return None, [Problem(field="id", error="an imported row needs an id")]
    checked = profile_values(parsed)
    problems = reference_problems(checked, state)
    if problems:
        return None, problems
    checked["side"] = state.network.locate(parsed.region)[0]
    row = store.record(checked, now=_UNSTAMPED)
    return tuple(row[c] for c in store.ROW_COLUMNS), []


def _stage(
    staged: StagedRows,
    batch: list[tuple[int, tuple[Any, ...]]],
    pending: dict[int, RowProblems],
    log: ProblemLog,
) -> None:
    """Stage a batch, then log the rows of `pending` (bad rows) and repeated ids, in row order."""
    repeated = staged.add(batch)
    ids = dict(batch)
    for row, first in repeated.items():
        error = f"duplicate id {ids[row][0]!r}, first at row {first}"
        pending[row] = [Problem(field="id", error=error)]
    for row in sorted(pending):
        log.add(row, pending[row])
    batch.clear()
    pending.clear()


def stage_file(
    state: DatasetState,
    path: Path,
    kind: str,
    parse: RowParser[EnterpriseProfile],
    staged: StagedRows,
    *,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Read and check every row of a file into `staged`, holding no lock and a batch in memory.

    Raises
    ------
    ImportFailed
        Listing the bad rows as problems with their row numbers (CSV counts the header as 1).
    """
    log = ProblemLog()
    batch: list[tuple[int, tuple[Any, ...]]] = []
    pending: dict[int, RowProblems] = {}
    with path.open("r", encoding="utf-8-sig", newline="") as text:
        for row_number, values, row_problems in read_rows(text, kind, progress=progress):
            record = None
            if not row_problems:
                record, row_problems = _record(state, parse, values)
            if row_problems:
                pending[row_number] = row_problems
            else:
                assert record is not None
                batch.append((row_number, record))
            if len(batch) >= IMPORT_BATCH or len(pending) >= IMPORT_BATCH:
                _stage(staged, batch, pending, log)
        _stage(staged, batch, pending, log)
    log.raise_if_bad()


def import_file(
    database: Database,
    state: DatasetState,
    path: Path,
    kind: str,
    parse: RowParser[EnterpriseProfile],
    *,
    work_dir: Path,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Validate and write every row of a CSV or JSON Lines file, all or nothing.

    Two phases. First every row is read, checked and staged in a scratch file in `work_dir`
    (`stage_file`), without any lock: other writes go on meanwhile, and memory holds one batch.
    A bad row stops nothing: every bad row is reported and nothing is written. Then, holding the
    database's write lock, the staged rows are written in one transaction. Up to `LOGGED_ROWS`
    rows, each row's change is logged and every worker's next query applies it; beyond, one
    ``bulk`` change is, and workers rebuild their index in the background.

    Raises
    ------
    ImportFailed
        Listing the bad rows as problems with their row numbers (CSV counts the header as 1).
    """
    staged = StagedRows(work_dir / "staged.sqlite", store.ROW_COLUMNS)
    try:
        stage_file(state, path, kind, parse, staged, progress=progress)
        if not staged.count:
            return ImportReport(imported=0, created=0, updated=0)
        created = 0
        bulk = staged.count > LOGGED_ROWS
        if database.dialect == "sqlite":
            staged.close()  # its rows are read by the database's own connection
            attach = {"staging": staged.path}
            with database.write_connection(attach=attach) as connection:
                created = store.upsert_attached(connection, "staging.staged", now=store.now())
                if bulk:
                    store.log_change(connection, None, "bulk")
                else:
                    store.log_attached_changes(connection, "staging.staged")
        else:
            with database.write_connection() as connection:
                now = store.now()
                for batch in staged.batches(IMPORT_BATCH):
                    created += store.upsert_values(connection, batch, now=now)
                    if not bulk:
                        store.log_changes(connection, [row[0] for row in batch], "upsert")
                if bulk:
                    store.log_change(connection, None, "bulk")
    finally:
        staged.close()
    return ImportReport(imported=staged.count, created=created, updated=staged.count - created)
