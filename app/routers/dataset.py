"""GET /dataset, GET /dataset/document, PUT /dataset (admin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from app import convert
from app.dependencies import ActiveDep, AdminRoute, KeyDep, StateDep
from app.parsing import StrictRoute
from schemas.common import ErrorBody
from schemas.dataset import DatasetInfo
from schemas.dataset_document import DatasetDocument

router = APIRouter(prefix="/dataset", tags=["dataset"], route_class=StrictRoute)
admin_router = APIRouter(prefix="/dataset", tags=["dataset"], route_class=AdminRoute)


@router.get("", summary="The active dataset's version and sources")
def get_dataset(state: StateDep) -> DatasetInfo:
    """Version, digest, origin and the sources every value's provenance refers to."""
    return convert.dataset_info(state)


@router.get(
    "/document",
    summary="The active dataset document",
    response_model=None,
    responses={200: {"model": DatasetDocument, "description": "The dataset document."}},
)
def get_document(state: StateDep) -> dict[str, Any]:
    """The dataset as JSON, ready to edit and upload again with PUT /dataset."""
    return state.document


@admin_router.put(
    "",
    summary="Replace the dataset (admin)",
    responses={
        409: {"model": ErrorBody, "description": "Version already stored with other content."},
        422: {"model": ErrorBody, "description": "The dataset is invalid; nothing was written."},
    },
    # The body is read as JSON and checked whole by the engine (errors naming record and field);
    # its schema documents the format for clients.
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/DatasetDocument"}}
            },
        }
    },
)
def put_dataset(
    _: KeyDep,
    active: ActiveDep,
    # Any here: the schema of the body is DatasetDocument (openapi_extra above).
    document: Annotated[Any, Body()],
) -> DatasetInfo:
    """Validate the new dataset whole, then store and activate it all-or-nothing."""
    return convert.dataset_info(active.replace(document))
