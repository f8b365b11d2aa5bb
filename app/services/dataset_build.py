"""Build ``matching/data/regions.json`` from the source tables and the hand-written inputs.

The I/O around `matching.profiles.build_dataset_document`: read the CSV tables of
``matching/data/sources`` and ``matching/data/profile_inputs.json`` from the package, build the
document, and write it (pretty, keys in a stable order, UTF-8 as is) or check that the committed
file equals it::

    python -m app.dataset_build            # rewrite matching/data/regions.json
    python -m app.dataset_build --check    # exit 1 if the committed file differs
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from matching.profiles import build_dataset_document

__all__ = ["build_dataset", "dataset_text", "load_inputs", "load_tables", "main"]

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


def _shipped_path() -> Path:
    return Path(str(_DATA.joinpath("regions.json")))


def build_dataset(output: Path | None = None, *, check: bool = False) -> bool:
    """Write the built dataset to `output` (default: the package's ``regions.json``).

    With ``check=True`` nothing is written: the result says whether the file at `output`
    already equals the build (True) or not (False).
    """
    path = output or _shipped_path()
    text = dataset_text()
    if check:
        return path.exists() and path.read_text("utf-8") == text
    path.write_text(text, "utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m app.dataset_build [--check] [--output PATH]``."""
    parser = argparse.ArgumentParser(prog="python -m app.dataset_build", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file differs")
    parser.add_argument("--output", type=Path, default=None, help="default: regions.json")
    args = parser.parse_args(argv)
    ok = build_dataset(args.output, check=args.check)
    where = args.output or _shipped_path()
    if args.check:
        print(f"{where}: {'up to date' if ok else 'differs from the build; run the build'}")
        return 0 if ok else 1
    print(f"wrote {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
