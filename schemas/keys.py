"""Schemas of API keys: creating one (its secret shown once), listing and revoking them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from schemas.common import Schema
from schemas.enterprises import EnterpriseId

__all__ = ["KeyCreated", "KeyIn", "KeyList", "KeyOut", "RoleName"]

RoleName = Literal["admin", "planner", "enterprise"]


class KeyIn(Schema):
    """A key to create."""

    role: RoleName = Field(
        description=(
            "`admin`: everything (the dataset, the keys); `planner`: scenarios, outcomes and "
            "targets; `enterprise`: the profiles of `enterprises` only."
        )
    )
    label: Annotated[str, StringConstraints(max_length=200, strip_whitespace=True)] = Field(
        default="", description="Who or what holds the key.", examples=["Harbin planning office"]
    )
    enterprises: list[EnterpriseId] = Field(
        default_factory=list,
        max_length=1000,
        description=(
            "The enterprises an `enterprise` key may create, edit and delete (required for that "
            "role, refused for the others); their profiles need not exist yet."
        ),
    )


class KeyOut(Schema):
    """A stored key: never its secret, only the secret's first characters."""

    id: int = Field(description="What `DELETE /keys/{id}` and `counterpart keys revoke` take.")
    prefix: str = Field(
        description="The secret's first characters, to tell keys apart.", examples=["ck_Xy3kQ9aZ"]
    )
    role: RoleName
    label: str
    enterprises: list[str]
    created_at: datetime
    revoked_at: datetime | None = Field(description="null while the key is valid.")


class KeyCreated(KeyOut):
    """A new key, with its secret: shown this once, stored only as a digest."""

    key: str = Field(description="The secret, for `Authorization: Bearer <key>`; not shown again.")


class KeyList(Schema):
    """Every key, revoked ones too, oldest first."""

    keys: list[KeyOut]
