"""Reading JSON records with errors that name the file, the record and the field.

Both the taxonomy and the dataset are plain JSON documents written by people. A mistake in one
of them must come back as one clear sentence ("regions.json: region[harbin]:
strengths.biomedicine.value: 1.3 is outside [0, 1]"), never as a KeyError from deep inside the
engine.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from matching._validate import number_problem
from matching.errors import DatasetError

__all__ = ["RecordReader", "read_document"]

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")


class RecordReader:
    """Typed, checked access to the fields of one JSON object."""

    def __init__(self, obj: Any, *, origin: str, record: str, prefix: str = "") -> None:
        if not isinstance(obj, dict):
            raise DatasetError(origin, record, prefix.rstrip("."), "must be a JSON object")
        self.obj: dict[str, Any] = obj
        self.origin = origin
        self.record = record
        self.prefix = prefix

    def error(self, field: str, problem: str) -> DatasetError:
        """Build the error for `field` of this record."""
        return DatasetError(self.origin, self.record, self.prefix + field, problem)

    def check_keys(self, allowed: Sequence[str]) -> None:
        """Reject fields this record does not know (a typo would otherwise be silently ignored)."""
        unknown = sorted(set(self.obj) - set(allowed))
        if unknown:
            raise self.error(unknown[0], f"unknown field; expected one of {sorted(allowed)}")

    def _get(self, name: str) -> Any:
        if name not in self.obj:
            raise self.error(name, "is required")
        return self.obj[name]

    def has(self, name: str) -> bool:
        """Whether the field is present and not null."""
        return self.obj.get(name) is not None

    def string(self, name: str) -> str:
        """A non-empty string field."""
        value = self._get(name)
        if not isinstance(value, str) or not value.strip():
            raise self.error(name, f"must be a non-empty string, got {value!r}")
        return value

    def optional_string(self, name: str) -> str | None:
        """A string field that may be missing or null."""
        if not self.has(name):
            return None
        return self.string(name)

    def identifier(self, name: str) -> str:
        """A lower-case ASCII id such as 'liaoning' or 'machine_tools'."""
        value = self.string(name)
        if not _IDENTIFIER.match(value):
            raise self.error(
                name, f"must be a lower-case ASCII id ([a-z][a-z0-9_]*), got {value!r}"
            )
        return value

    def choice(self, name: str, options: Sequence[str]) -> str:
        """A string that must be one of `options`."""
        value = self._get(name)
        if value not in options:
            raise self.error(name, f"must be one of {sorted(options)}, got {value!r}")
        return str(value)

    def number(
        self,
        name: str,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        exclusive_minimum: bool = False,
    ) -> float:
        """A finite number, optionally bounded."""
        value = self._get(name)
        problem = number_problem(
            value, minimum=minimum, maximum=maximum, exclusive_minimum=exclusive_minimum
        )
        if problem is not None:
            raise self.error(name, problem)
        return float(value)

    def integer(self, name: str) -> int:
        """An integer field."""
        value = self._get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(name, f"must be an integer, got {value!r}")
        return value

    def boolean(self, name: str, *, default: bool) -> bool:
        """A boolean field with a default."""
        value = self.obj.get(name, default)
        if not isinstance(value, bool):
            raise self.error(name, f"must be true or false, got {value!r}")
        return value

    def string_list(self, name: str) -> list[str]:
        """A list of strings (missing or null means empty)."""
        value = self.obj.get(name) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(name, f"must be a list of strings, got {value!r}")
        return list(value)

    def child(self, name: str, *, required: bool = True) -> RecordReader:
        """A nested object, read with the same file and record names."""
        if not required and not self.has(name):
            return RecordReader({}, origin=self.origin, record=self.record, prefix=f"{name}.")
        return RecordReader(
            self._get(name), origin=self.origin, record=self.record, prefix=f"{self.prefix}{name}."
        )

    def records(self, name: str, *, key: str, label: str | None = None) -> Iterator[RecordReader]:
        """The objects of a list field, each named by its `key`; duplicate keys are rejected."""
        items = self._get(name)
        if not isinstance(items, list):
            raise self.error(name, "must be a list")
        seen: set[Any] = set()
        for position, item in enumerate(items):
            ident = item.get(key) if isinstance(item, dict) else None
            tag = f"{label or name}[{ident if isinstance(ident, str) else position}]"
            reader = RecordReader(item, origin=self.origin, record=tag)
            if ident in seen:
                raise reader.error(key, f"duplicate id {ident!r}")
            seen.add(ident)
            yield reader


def read_document(path: str | Path | None, shipped: str, record: str) -> tuple[Any, str]:
    """A JSON document and the name errors give it: a file, or the package's `shipped` one.

    Raises
    ------
    DatasetError
        If the text is not JSON.
    """
    if path is None:
        text = resources.files("matching").joinpath(f"data/{shipped}").read_text("utf-8")
        origin = f"matching/data/{shipped}"
    else:
        text = Path(path).read_text("utf-8")
        origin = str(path)
    try:
        return json.loads(text), origin
    except json.JSONDecodeError as exc:
        raise DatasetError(origin, record, "", f"not valid JSON: {exc}") from exc
