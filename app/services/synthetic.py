"""Synthetic enterprise populations drawn from a dataset's regions, for demos and benchmarks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from app.services.datasets import read_dataset
from matching import generate_enterprises

__all__ = ["synthetic_enterprises"]


def synthetic_enterprises(
    count: int, *, seed: int, dataset: Path | None = None
) -> Iterator[dict[str, Any]]:
    """`count` synthetic records in the import format, deterministic for a seed.

    See `matching.generate_enterprises`; the dataset is read before the first record is made.

    Raises
    ------
    DatasetError, OSError
        If the dataset file is invalid or cannot be read.
    """
    records = generate_enterprises(read_dataset(dataset), count, seed=seed)
    return (dict(record) for record in records)
