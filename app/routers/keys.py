"""API keys (admin): create one (its secret shown once), list them, revoke one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from app import convert
from app.dependencies import AdminRoute, KeyDep, KeysDep
from schemas.common import ErrorBody
from schemas.keys import KeyCreated, KeyIn, KeyList

router = APIRouter(prefix="/keys", tags=["keys"], route_class=AdminRoute)

KeyId = Annotated[int, Path(description="A key's id (GET /keys).", ge=1, le=2**62)]


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a key (admin)")
def create_key(_: KeyDep, keys: KeysDep, body: KeyIn) -> KeyCreated:
    """A new key with a role; its secret is in this answer and never again.

    Only the secret's SHA-256 digest is stored.
    """
    return convert.key_created(
        keys.create(body.role, label=body.label, enterprises=body.enterprises)
    )


@router.get("", summary="Every key (admin)")
def list_keys(_: KeyDep, keys: KeysDep) -> KeyList:
    """Every key, revoked ones too, oldest first, without secrets."""
    return convert.key_list(keys.list())


@router.delete(
    "/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke a key (admin)",
    responses={404: {"model": ErrorBody, "description": "No key with this id."}},
)
def revoke_key(_: KeyDep, keys: KeysDep, key_id: KeyId) -> Response:
    """Revoke it: refused from the next request on. Revoking a revoked key changes nothing."""
    keys.revoke(key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
