"""Enterprise files in the import format: CSV and JSON Lines, read and written a record at a time.

The readers serve every import (enterprises, outcomes): a `RecordFormat` names a record type's
columns and how its CSV cells read.

JSON Lines
    One enterprise profile per line as a compact JSON object, UTF-8.
CSV
    The header `ENTERPRISE_FIELDS`, then one row per enterprise (UTF-8, minimal quoting, newline
    line ends). `offers` and `seeks` are ``sector:value;sector:value`` with values as Python
    writes them (``0.8``), `partners` is ``id;id``, and a null `contact` or `founded` is an
    empty cell.

Writers take any iterable of records (plain mappings such as `matching.generate_enterprises`
yields) and never hold more than one, so a file of a million enterprises streams in constant
memory. Readers (`read_rows`) yield each row's number, its values as a mapping and the problems
of its cells, one row at a time; checking the values is the importer's job.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from app.errors import InvalidInput, Problem

__all__ = [
    "ENTERPRISE_FIELDS",
    "ENTERPRISE_FORMAT",
    "MAX_LINE_CHARS",
    "LineTooLong",
    "RecordFormat",
    "Row",
    "file_format",
    "import_body",
    "read_rows",
    "shown",
    "write_csv",
    "write_jsonl",
]

#: A row read from a file: its number (CSV counts the header as row 1), values and problems.
Row = tuple[int, dict[str, Any], list[Problem]]

#: Longest line a reader takes, in characters: a record is a few kB at most (sector maps of
#: every sector, a 2,000-character description), so a longer line is refused before it is held.
MAX_LINE_CHARS = 2**20
#: How much of a bad cell an error quotes.
_SHOWN_CHARS = 40

#: The fields of an enterprise record, in file order (the CSV header).
ENTERPRISE_FIELDS = (
    "id",
    "name",
    "region",
    "offers",
    "seeks",
    "size",
    "ownership",
    "founded",
    "description",
    "contact",
    "partners",
)
_KNOWN = frozenset(ENTERPRISE_FIELDS)


def _check_fields(record: Mapping[str, Any], number: int) -> None:
    if not record.keys() <= _KNOWN:
        unknown = sorted(set(record) - _KNOWN)
        raise ValueError(
            f"`records` item {number} has unknown field {unknown[0]!r}; "
            f"fields are {', '.join(ENTERPRISE_FIELDS)}"
        )


def _write(
    records: Iterable[Mapping[str, Any]],
    path_or_file: str | Path | IO[str],
    write: Callable[[Iterable[Mapping[str, Any]], IO[str]], int],
) -> int:
    if isinstance(path_or_file, str | Path):
        with open(path_or_file, "w", encoding="utf-8", newline="") as file:
            return write(records, file)
    return write(records, path_or_file)


def _sector_cell(sectors: Mapping[str, float] | None) -> str:
    return ";".join([f"{sector}:{value}" for sector, value in (sectors or {}).items()])


def _csv_lines(records: Iterable[Mapping[str, Any]], file: IO[str]) -> int:
    writer = csv.writer(file, lineterminator="\n")
    writer.writerow(ENTERPRISE_FIELDS)
    count = 0
    for count, record in enumerate(records, start=1):
        _check_fields(record, count)
        get = record.get
        writer.writerow(
            (
                get("id"),
                get("name"),
                get("region"),
                _sector_cell(get("offers")),
                _sector_cell(get("seeks")),
                get("size"),
                get("ownership"),
                get("founded"),
                get("description"),
                get("contact"),
                ";".join(get("partners") or ()),
            )
        )
    return count


def _jsonl_lines(records: Iterable[Mapping[str, Any]], file: IO[str]) -> int:
    encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
    count = 0
    for count, record in enumerate(records, start=1):
        _check_fields(record, count)
        file.write(encode(record))
        file.write("\n")
    return count


def write_csv(records: Iterable[Mapping[str, Any]], path_or_file: str | Path | IO[str]) -> int:
    """Write enterprise records as CSV with a header row; return how many were written.

    Parameters
    ----------
    records : iterable of mappings
        Enterprise records; a missing field is an empty cell (the importer's default applies).
    path_or_file : str, Path or text file
        A path (created or overwritten, UTF-8) or an open text file (opened with
        ``newline=""``, as the csv module asks; it is left open).

    Raises
    ------
    ValueError
        If a record has a field that is not in `ENTERPRISE_FIELDS`; rows before it are written.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> write_csv([{"id": "ne1", "name": "Dalian Port Co., Ltd.", "region": "dalian",
    ...             "offers": {"ports_logistics": 0.9}, "seeks": {}, "partners": ["ea2"]}], out)
    1
    >>> print(out.getvalue(), end="")
    id,name,region,offers,seeks,size,ownership,founded,description,contact,partners
    ne1,"Dalian Port Co., Ltd.",dalian,ports_logistics:0.9,,,,,,,ea2
    """
    return _write(records, path_or_file, _csv_lines)


def write_jsonl(records: Iterable[Mapping[str, Any]], path_or_file: str | Path | IO[str]) -> int:
    """Write enterprise records as JSON Lines; return how many were written.

    Parameters
    ----------
    records : iterable of mappings
        Enterprise records, written with the fields they have.
    path_or_file : str, Path or text file
        A path (created or overwritten, UTF-8) or an open text file (left open).

    Raises
    ------
    ValueError
        If a record has a field that is not in `ENTERPRISE_FIELDS`, or a value JSON cannot hold
        (NaN, infinity); lines before it are written.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> write_jsonl([{"id": "ne1", "name": "Harbin Bingxue Co., Ltd.", "region": "harbin",
    ...               "offers": {"ice_snow_tourism": 0.8}, "contact": None}], out)
    1
    >>> print(out.getvalue(), end="")
    {"id":"ne1","name":"Harbin Bingxue Co., Ltd.","region":"harbin",...,"contact":null}
    """
    return _write(records, path_or_file, _jsonl_lines)


# Reading ----------------------------------------------------------------------------------------


def file_format(content_type: str | None, filename: str | None = None) -> str:
    """`csv` or `jsonl` from a content type (or, failing that, a file name)."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind in ("text/csv", "application/csv"):
        return "csv"
    if kind in ("application/x-ndjson", "application/jsonl", "application/json-lines",
                "application/x-jsonlines", "application/ndjson"):  # fmt: skip
        return "jsonl"
    suffix = Path(filename or "").suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    raise InvalidInput(
        f"unsupported content type {content_type!r}: send text/csv or application/x-ndjson"
    )


def shown(cell: str) -> str:
    """A cell as an error quotes it: its repr, cut to a few dozen characters."""
    if len(cell) <= _SHOWN_CHARS:
        return repr(cell)
    return f"{cell[:_SHOWN_CHARS]!r}... ({len(cell)} characters)"


class LineTooLong(Exception):
    """A line of an import is longer than `MAX_LINE_CHARS`."""

    def __str__(self) -> str:
        return f"a line longer than {MAX_LINE_CHARS} characters"


def _bounded_lines(text: IO[str]) -> Iterator[str]:
    """The lines of `text`, each read only up to `MAX_LINE_CHARS` (beyond: `LineTooLong`)."""
    while True:
        line = text.readline(MAX_LINE_CHARS + 1)
        if not line:
            return
        if len(line) > MAX_LINE_CHARS:
            raise LineTooLong
        yield line


def _split_sectors(text: str) -> dict[str, float] | str:
    """`sector:value;sector:value` to a dict, or the problem as a string."""
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        sector, sep, value = part.partition(":")
        if sector.strip() in out:
            # The last would silently win, as in a JSON object with a key given twice.
            return f"sector {shown(sector.strip())} is given more than once"
        try:
            out[sector.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            return f"{shown(part)} is not sector:value (e.g. grain:0.8;forest_products:0.5)"
    return out


def _csv_record(cells: dict[str, str]) -> tuple[dict[str, Any], list[Problem]]:
    values: dict[str, Any] = {}
    problems = []
    for column, cell in cells.items():
        cell = cell.strip()
        if column in ("offers", "seeks"):
            parsed = _split_sectors(cell)
            if isinstance(parsed, str):
                problems.append(Problem(field=column, error=parsed))
            else:
                values[column] = parsed
        elif column == "partners":
            values[column] = [p.strip() for p in cell.split(";") if p.strip()]
        elif column == "founded":
            # A year is at most 4 plain digits: int() would also read "2_012" and "+2012" as
            # 2012, and fail on 5,000 digits.
            if cell.isascii() and cell.isdigit() and len(cell) <= 4:
                values[column] = int(cell)
            elif cell:
                problems.append(Problem(field=column, error=f"{shown(cell)} is not a year"))
        elif column == "contact":
            values[column] = cell or None
        elif cell or column == "description":
            values[column] = cell
    return values, problems


@dataclass(frozen=True)
class RecordFormat:
    """A record type's file format: its CSV columns, those required, and how cells read.

    `cells` turns a CSV row's cells (column to text) into values and the cells' problems; JSON
    Lines records need no such step. `notes` says how a column's CSV cell is written, for the
    import's documentation (`import_body`).
    """

    fields: tuple[str, ...]
    required: tuple[str, ...]
    cells: Callable[[dict[str, str]], tuple[dict[str, Any], list[Problem]]]
    notes: Mapping[str, str] = field(default_factory=dict)


def import_body(record_format: RecordFormat, record: str) -> dict[str, Any]:
    """The OpenAPI request body of an import in `record_format`: CSV or JSON Lines text.

    The description lists the columns from the format itself, so it cannot drift from the reader.
    """
    columns = ", ".join(
        f"`{name}`" + (" (required)" if name in record_format.required else "")
        for name in record_format.fields
    )
    notes = "".join(f" `{name}`: {note}." for name, note in record_format.notes.items())
    description = (
        f"The {record}s to import, as CSV (`text/csv`) or JSON Lines (`application/x-ndjson`), "
        f"UTF-8. Fields: {columns}. CSV: a header row naming the columns (in any order, optional "
        f"ones may be left out), then one {record} per row; an empty optional cell is left "
        f"out.{notes} JSON Lines: one {record} per line as a JSON object with these fields."
    )
    text = {"schema": {"type": "string"}}
    return {
        "required": True,
        "description": description,
        "content": {"text/csv": text, "application/x-ndjson": text},
    }


#: The enterprise import format.
ENTERPRISE_FORMAT = RecordFormat(
    ENTERPRISE_FIELDS,
    ("id", "name", "region"),
    _csv_record,
    {
        "offers": "`sector:value;sector:value`, values from 0 to 1",
        "seeks": "as `offers`",
        "partners": "enterprise ids, `id;id`",
    },
)


def _csv_rows(text: IO[str], record_format: RecordFormat) -> Iterator[Row]:
    reader = csv.reader(_bounded_lines(text))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return
    fields = record_format.fields
    unknown = [h for h in header if h not in fields]
    missing = [h for h in record_format.required if h not in header]
    repeated = sorted({h for h in header if header.count(h) > 1})
    if unknown or missing or repeated:
        faults = []
        if unknown:
            faults.append(f"unknown columns {unknown}")
        if missing:
            faults.append(f"missing columns {missing}")
        if repeated:
            faults.append(f"repeated columns {repeated}")
        raise InvalidInput(
            f"CSV header: {'; '.join(faults)}; the columns are {', '.join(fields)}",
            errors=[Problem(field="header", error="; ".join(faults), row=1)],
        )
    for row_number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            error = f"{len(cells)} cells for {len(header)} columns"
            yield row_number, {}, [Problem(field="row", error=error)]
            continue
        values, problems = record_format.cells(dict(zip(header, cells, strict=True)))
        yield row_number, values, problems


def _json_problem(line: str) -> tuple[Any, str | None]:
    try:
        return json.loads(line), None
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON: {exc.msg}"
    except RecursionError:
        return None, "not valid JSON: nested too deeply"
    except ValueError:  # an integer of more digits than Python converts (4,300)
        return None, "not valid JSON: a number with too many digits"


def _jsonl_rows(text: IO[str]) -> Iterator[Row]:
    row_number = 0
    while True:
        line = text.readline(MAX_LINE_CHARS + 1)
        if not line:
            return
        row_number += 1
        if len(line) > MAX_LINE_CHARS:
            # Skip the rest of the line, a bounded piece at a time, and go on with the next.
            while line and not line.endswith("\n"):
                line = text.readline(MAX_LINE_CHARS)
            yield row_number, {}, [Problem(field="row", error=str(LineTooLong()))]
            continue
        if not line.strip():
            continue
        values, problem = _json_problem(line)
        if problem is not None:
            yield row_number, {}, [Problem(field="row", error=problem)]
        elif not isinstance(values, dict):
            yield row_number, {}, [Problem(field="row", error="must be a JSON object")]
        else:
            yield row_number, values, []


def _readable(rows: Iterator[Row]) -> Iterator[Row]:
    """Pass rows on, ending with an error row if the file cannot be read on.

    A file that is not UTF-8, a CSV cell beyond the csv module's limit or a CSV line beyond
    `MAX_LINE_CHARS` stops the reading: the problem is reported on the row after the last one
    read. (A JSON Lines line that is too long, not JSON, nested too deeply or holding a number
    too long to convert is a bad row, and the reading goes on.)
    """
    last = 0
    try:
        for item in rows:
            last = item[0]
            yield item
    except (UnicodeDecodeError, csv.Error, LineTooLong) as exc:
        problem = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else str(exc)
        yield last + 1, {}, [Problem(field="row", error=f"unreadable: {problem}")]


def _position(text: IO[str]) -> int:
    buffer = getattr(text, "buffer", None)
    raw = getattr(buffer, "raw", buffer)
    try:
        return int(raw.tell()) if raw is not None else 0
    except (OSError, ValueError):
        return 0


def read_rows(
    text: IO[str],
    kind: str,
    *,
    progress: Callable[[int], None] | None = None,
    record_format: RecordFormat = ENTERPRISE_FORMAT,
) -> Iterator[Row]:
    """The rows of an open CSV or JSON Lines file, one at a time.

    Parameters
    ----------
    text : text file
        Opened with ``encoding="utf-8-sig", newline=""`` (a byte-order mark, as spreadsheets
        write, is not part of the header).
    kind : {"csv", "jsonl"}
        The format (see `file_format`).
    progress : callable, optional
        Called with the file position every few thousand rows, and at the end.
    record_format : RecordFormat
        The records' columns and cell reading (default: enterprises).

    Raises
    ------
    InvalidInput
        If a CSV header has unknown, missing or repeated columns.
    """
    rows = _readable(_csv_rows(text, record_format) if kind == "csv" else _jsonl_rows(text))
    for count, item in enumerate(rows, start=1):
        if progress is not None and count % 5000 == 0:
            progress(_position(text))
        yield item
    if progress is not None:
        progress(_position(text))
