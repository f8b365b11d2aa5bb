"""Schemas of the dataset endpoints."""

from __future__ import annotations

import datetime

from pydantic import Field

from schemas.common import Schema

__all__ = ["DatasetInfo", "HealthOut", "ReadyOut", "SourceOut"]


class SourceOut(Schema):
    """A source of dataset values."""

    title: str
    kind: str
    url: str | None = None
    published: str | None = None
    repository: str | None = Field(default=None, description="For a table: where it came from.")
    commit: str | None = None
    path: str | None = None


class DatasetInfo(Schema):
    """The active dataset."""

    version: str
    digest: str = Field(description="SHA-256 of the dataset document.")
    adopted: datetime.date = Field(
        description="The plan's adoption: the default evaluation date of every score."
    )
    title: str
    description: str
    origin: str = Field(description="`shipped` (the package's dataset) or `uploaded`.")
    activated_at: datetime.datetime
    regions: int
    ties: int
    sources: dict[str, SourceOut]


class HealthOut(Schema):
    """Liveness and the dataset in use."""

    status: str = Field(examples=["ok"])
    dataset_version: str
    regions: int


class ReadyOut(Schema):
    """Readiness of this worker: the database reachable, the dataset and the index loaded."""

    status: str = Field(examples=["ready"], description="`ready`, or `not ready` (with 503).")
    database: str = Field(examples=["ok"], description="`ok` or `unreachable`.")
    dataset_version: str | None
    indexed: dict[str, int] = Field(description="Enterprises in the partner index, by side.")
    problems: list[str] = Field(description="What keeps the worker from being ready.")
