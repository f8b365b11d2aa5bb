"""Shared pieces of the HTTP schemas: the base model, errors, weights and region pairs."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from matching import MAX_WEIGHT

__all__ = [
    "NO_NUL",
    "DatasetStamped",
    "ErrorBody",
    "ErrorItem",
    "RegionPair",
    "Schema",
    "WeightsIn",
]


def _without_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain the NUL character (\\u0000)")
    return value


#: For text the service stores: PostgreSQL's text cannot hold the NUL character, so that no
#: database takes it (a 422 naming the field, the same on SQLite and PostgreSQL).
NO_NUL = AfterValidator(_without_nul)


class Schema(BaseModel):
    """Base of every request and response model: unknown fields are an error, not ignored."""

    model_config = ConfigDict(extra="forbid")


class ErrorItem(Schema):
    """One problem of a request: where it is and what is wrong."""

    field: str = Field(description="Where the problem is, e.g. `body.weights.channels.tourism`.")
    error: str = Field(description="What is wrong, in a sentence a user can read.")
    row: int | None = Field(default=None, description="Row of an uploaded file, counting from 1.")


class ErrorBody(Schema):
    """The one error shape of the API."""

    error: str = Field(description="A stable machine-readable code.", examples=["UnknownRegion"])
    detail: str = Field(
        description="A message a front-end can show.", examples=["no region with id 'xx'"]
    )
    errors: list[ErrorItem] | None = Field(
        default=None, description="Every problem found, for requests with several."
    )


class DatasetStamped(Schema):
    """A result computed on one version of the dataset."""

    dataset_version: str = Field(
        description="Version of the dataset the result was computed on.",
        examples=["2017-plan.1"],
    )


FiniteWeight = Annotated[float, Field(ge=0, le=MAX_WEIGHT, allow_inf_nan=False)]


class WeightsIn(Schema):
    """Changes to the default weights; components not named keep their defaults."""

    channels: dict[str, FiniteWeight] = Field(
        default_factory=dict,
        description="Channel id to weight (>= 0). See GET /taxonomy for ids and defaults.",
        examples=[{"agriculture": 0.3}],
    )
    factors: dict[str, FiniteWeight] = Field(
        default_factory=dict,
        description="Factor id to weight (>= 0).",
        examples=[{"cooperation_status": 0.0}],
    )


RegionPair = Annotated[
    tuple[str, str],
    Field(description="[northeast id, east id]", examples=[["harbin", "beijing"]]),
]
