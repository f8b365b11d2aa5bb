"""Shared pieces of the HTTP schemas: the base model, errors, weights and region pairs."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from matching import MAX_WEIGHT, MIN_WEIGHT

__all__ = [
    "ComponentKind",
    "ErrorCode",
    "Level",
    "Side",
    "DatasetStamped",
    "IsoDate",
    "RequestSchema",
    "ErrorBody",
    "ErrorItem",
    "RegionPair",
    "Schema",
    "WeightsIn",
]


class Schema(BaseModel):
    """Base of every request and response model: unknown fields are an error, not ignored.

    A field with a default is still always sent in a response, so the spec of a response marks
    every field required (a typed client then needs no defaults of its own); the spec of a request
    keeps such fields optional.
    """

    model_config = ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True)


#: Control characters no text of a request may hold (tab, line feed and carriage return may).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _control_character(value: Any) -> str | None:
    """The first control character in a string, or in the keys and items of a container."""
    if isinstance(value, str):
        found = CONTROL_CHARACTERS.search(value)
        return found.group() if found else None
    if isinstance(value, dict):
        value = [*value.keys(), *value.values()]
    if isinstance(value, list | tuple):
        for item in value:
            if (character := _control_character(item)) is not None:
                return character
    return None


class RequestSchema(Schema):
    """Base of every request body: strict, so `"5"` and `true` are not numbers, `1` not a boolean.

    Pydantic would otherwise coerce them silently; a client sending them has a bug to be told of.
    No text may hold a control character (NUL and the like; tab and line breaks are text).
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    @field_validator("*")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        character = _control_character(value)
        if character is not None:
            # NUL named too: no database stores it (PostgreSQL's text cannot hold it).
            name = " (NUL)" if character == "\x00" else ""
            raise ValueError(f"contains the control character U+{ord(character):04X}{name}")
        return value

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """A request echoed in a response is titled apart from the request itself.

        Its output schema (every field required) and input schema would otherwise share a title,
        and clients that name models by title (openapi-python-client) drop one of the two.
        """
        schema = handler(core_schema)
        if handler.mode == "serialization":
            handler.resolve_ref_schema(schema)["title"] = f"{cls.__name__}-Output"
        return schema


def _date_text(value: Any) -> Any:
    if not isinstance(value, str | dt.date):
        raise ValueError("a date is a string YYYY-MM-DD")
    return value


#: A date in a request body: a `YYYY-MM-DD` string (strict models refuse strings for dates, and
#: lax ones take numbers as Unix times).
IsoDate = Annotated[dt.date, Field(strict=False), BeforeValidator(_date_text)]


#: Every `error` code the API answers with (a client can switch over them).
ErrorCode = Literal[
    "BadRequest",
    "Conflict",
    "DatabaseBusy",
    "Forbidden",
    "HTTPError",
    "InfeasiblePlan",
    "InternalError",
    "InvalidDataset",
    "InvalidImport",
    "InvalidRequest",
    "MethodNotAllowed",
    "NotFound",
    "PayloadTooLarge",
    "Unauthorized",
    "UnknownRegion",
    "ValidationError",
    "WebAppNotBuilt",
    "WorkLimitExceeded",
]
#: The two sides of the graph.
Side = Literal["northeast", "east"]
#: A region's administrative level.
Level = Literal["province", "city"]
#: What a weight belongs to: a channel of cooperation or a pairing factor.
ComponentKind = Literal["channel", "factor"]


class ErrorItem(Schema):
    """One problem of a request: where it is and what is wrong."""

    # Sent without `row` when the problem is not in an uploaded file.
    model_config = ConfigDict(json_schema_serialization_defaults_required=False)

    field: str = Field(description="Where the problem is, e.g. `body.weights.channels.tourism`.")
    error: str = Field(description="What is wrong, in a sentence a user can read.")
    row: int | None = Field(default=None, description="Row of an uploaded file, counting from 1.")


class ErrorBody(Schema):
    """The one error shape of the API."""

    # Sent without `errors` and `error_count` when there is no list of problems (the error
    # handlers drop what is None).
    model_config = ConfigDict(json_schema_serialization_defaults_required=False)

    error: ErrorCode = Field(
        description="A stable machine-readable code.", examples=["UnknownRegion"]
    )
    detail: str = Field(
        description="A message a front-end can show.", examples=["no region with id 'xx'"]
    )
    errors: list[ErrorItem] | None = Field(
        default=None,
        description="The problems found, the first 50 of them (`error_count` counts them all).",
    )
    error_count: int | None = Field(
        default=None, description="How many problems were found (with `errors`).", ge=0
    )


class DatasetStamped(Schema):
    """A result computed on one version of the dataset."""

    dataset_version: str = Field(
        description="Version of the dataset the result was computed on.",
        examples=["2017-plan.1"],
    )


FiniteWeight = Annotated[
    float,
    Field(
        ge=0,
        le=MAX_WEIGHT,
        allow_inf_nan=False,
        description=f"0 (off), or from {MIN_WEIGHT:g} to {MAX_WEIGHT:g}.",
    ),
]


class WeightsIn(RequestSchema):
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
    # A JSON array: strict models take only a Python tuple for a tuple.
    Field(description="[northeast id, east id]", examples=[["harbin", "beijing"]], strict=False),
]
