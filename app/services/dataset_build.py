"""Build ``matching/data/regions.json`` from the source tables and the hand-written inputs.

The I/O around `matching.build_dataset_document`: read the CSV tables of
``matching/data/sources`` and ``matching/data/profile_inputs.json`` from the package, build the
document, and write it (pretty, keys in a stable order, UTF-8 as is) or check that the committed
file equals it (``counterpart dataset build [--check]``).
"""

from __future__ import annotations

import csv
import io
import json
from importlib import resources
from pathlib import Path
from typing import Any

from matching import build_dataset_document

__all__ = ["build_dataset", "dataset_text", "load_inputs", "load_tables", "shipped_path"]

_DATA = resources.files("matching").joinpath("data")


def load_inputs() -> dict[str, Any]:
    """The parsed ``profile_inputs.json`` shipped with the package."""
    data: dict[str, Any] = json.loads(_DATA.joinpath("profile_inputs.json").read_text("utf-8"))
    return data


def load_tables(inputs: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    """Rows of every table the inputs name, read from ``matching/data/sources``."""
    tables: dict[str, list[dict[str, str]]] = {}
    for name, spec in inputs["tables"].items():
        text = _DATA.joinpath("sources", spec["file"]).read_text("utf-8-sig")
        tables[name] = list(csv.DictReader(io.StringIO(text)))
    return tables


def dataset_text() -> str:
    """The dataset document the build produces, as the text committed in ``regions.json``."""
    inputs = load_inputs()
    document = build_dataset_document(load_tables(inputs), inputs)
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def shipped_path() -> Path:
    """Where the package's dataset file is."""
    return Path(str(_DATA.joinpath("regions.json")))


def build_dataset(output: Path | None = None, *, check: bool = False) -> bool:
    """Write the built dataset to `output` (default: the package's ``regions.json``).

    With ``check=True`` nothing is written: the result says whether the file at `output`
    already equals the build (True) or not (False).
    """
    path = output or shipped_path()
    text = dataset_text()
    if check:
        return path.exists() and path.read_text("utf-8") == text
    path.write_text(text, "utf-8")
    return True
