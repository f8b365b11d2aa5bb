"""Enterprise files in the import format: CSV and JSON Lines, written one record at a time.

JSON Lines
    One enterprise profile per line as a compact JSON object, UTF-8.
CSV
    The header `ENTERPRISE_FIELDS`, then one row per enterprise (UTF-8, minimal quoting, newline
    line ends). `offers` and `seeks` are ``sector:value;sector:value`` with values as Python
    writes them (``0.8``), `partners` is ``id;id``, and a null `contact` or `founded` is an
    empty cell.

Writers take any iterable of records (plain mappings such as
`matching.synthetic_enterprises.generate_enterprises` yields) and never hold more than one, so a
file of a million enterprises streams in constant memory.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import IO, Any

__all__ = ["ENTERPRISE_FIELDS", "write_csv", "write_jsonl"]

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


def _csv_rows(records: Iterable[Mapping[str, Any]], file: IO[str]) -> int:
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
    return _write(records, path_or_file, _csv_rows)


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
