"""Schemas of the dataset endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from schemas.common import Schema

__all__ = ["DatasetInfo", "HealthOut", "SourceOut"]


class SourceOut(Schema):
    """A source of dataset values."""

    title: str
    kind: str
    url: str | None = None
    published: str | None = None


class DatasetInfo(Schema):
    """The active dataset."""

    version: str
    digest: str = Field(description="SHA-256 of the dataset document.")
    title: str
    description: str
    origin: str = Field(description="`shipped` (the package's dataset) or `uploaded`.")
    activated_at: datetime
    regions: int
    ties: int
    sources: dict[str, SourceOut]


class HealthOut(Schema):
    """Liveness and the dataset in use."""

    status: str = Field(examples=["ok"])
    dataset_version: str
    regions: int
