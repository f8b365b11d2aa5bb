"""API keys with roles: created (the secret shown once), listed, revoked, and checked.

A key's secret is 32 random bytes (``ck_`` and 43 URL-safe characters). Only its SHA-256 digest
is stored, and a request's key is looked up by that digest: a key with 256 bits of entropy needs
no slow hash, and a lookup by digest takes the same time whatever the secret. The bootstrap key
(``COUNTERPART_ADMIN_KEY``) is an admin key that lives in the settings, not the database; it is
compared in constant time.

Roles:

* ``admin``: everything, the dataset and the keys included;
* ``planner``: scenarios, outcomes and targets;
* ``enterprise``: the profiles of the enterprises it is bound to (and their contacts).
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pydantic import SecretStr

from app.errors import InvalidInput, NotFound, Unauthorized
from app.settings import Settings
from app.storage import keys as store
from app.storage.database import Database, connect
from app.storage.keys import StoredKey

__all__ = [
    "KEY_PREFIX",
    "MAX_BOUND_ENTERPRISES",
    "CreatedKey",
    "KeyService",
    "Principal",
    "Role",
    "digest_of",
    "open_keys",
]

#: How every generated key begins (so that a leaked one is easy to recognise and search for).
KEY_PREFIX = "ck_"
#: Characters of a key kept in the clear to tell keys apart: the marker and 8 of the secret's 43.
SHOWN_CHARACTERS = len(KEY_PREFIX) + 8
#: Most enterprises one key can be bound to.
MAX_BOUND_ENTERPRISES = 1000


class Role(enum.StrEnum):
    """What a key may do."""

    ADMIN = "admin"
    PLANNER = "planner"
    ENTERPRISE = "enterprise"


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: a key's role, and for an enterprise key the enterprises it holds."""

    role: Role
    #: The stored key's id; None for the bootstrap key.
    key_id: int | None = None
    enterprises: frozenset[str] = frozenset()

    def may_edit(self, enterprise_id: str) -> bool:
        """Whether this key may create, change or delete this enterprise's profile."""
        return self.role is Role.ADMIN or (
            self.role is Role.ENTERPRISE and enterprise_id in self.enterprises
        )

    def sees_contact(self, enterprise_id: str) -> bool:
        """Whether this key may read this enterprise's contact (planners and admins see all)."""
        return self.role in (Role.ADMIN, Role.PLANNER) or enterprise_id in self.enterprises


@dataclass(frozen=True)
class CreatedKey:
    """A new key: what is stored, and its secret, which is shown this once and never again."""

    stored: StoredKey
    secret: str


def digest_of(secret: str) -> str:
    """The stored form of a key: SHA-256 of its UTF-8 bytes, hex."""
    return hashlib.sha256(secret.encode("utf-8", "surrogateescape")).hexdigest()


class KeyService:
    """The keys of one database, and the bootstrap admin key of the settings."""

    def __init__(self, database: Database, bootstrap: SecretStr | None = None) -> None:
        self._database = database
        self._bootstrap = None if bootstrap is None else bootstrap.get_secret_value().encode()

    def create(self, role: str, *, label: str = "", enterprises: Iterable[str] = ()) -> CreatedKey:
        """Store a new key; an enterprise key needs enterprises, other roles take none."""
        bound = sorted(set(enterprises))
        try:
            kind = Role(role)
        except ValueError as exc:
            roles = ", ".join(r.value for r in Role)
            raise InvalidInput(f"`role` must be one of {roles}, got {role!r}") from exc
        if kind is Role.ENTERPRISE and not bound:
            raise InvalidInput("an enterprise key needs the enterprise ids it may edit")
        if kind is not Role.ENTERPRISE and bound:
            raise InvalidInput(f"a {kind} key is bound to no enterprise: leave out `enterprises`")
        if len(bound) > MAX_BOUND_ENTERPRISES:
            raise InvalidInput(
                f"a key can be bound to at most {MAX_BOUND_ENTERPRISES} enterprises, "
                f"got {len(bound)}"
            )
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        with self._database.write() as session:
            stored = store.insert_key(
                session,
                digest=digest_of(secret),
                prefix=secret[:SHOWN_CHARACTERS],
                role=kind.value,
                label=label,
                enterprises=bound,
            )
        return CreatedKey(stored, secret)

    def list(self) -> list[StoredKey]:
        """Every key, revoked ones too, oldest first."""
        with self._database.read() as session:
            return store.list_keys(session)

    def revoke(self, key_id: int) -> StoredKey:
        """Revoke a key: from the next request on it is refused (on every worker)."""
        with self._database.write() as session:
            revoked = store.revoke_key(session, key_id)
        if revoked is None:
            raise NotFound(f"no key with id {key_id}")
        return revoked

    def is_bootstrap(self, secret: str) -> bool:
        """Whether this is the bootstrap admin key (constant time; never touches the database)."""
        return self._bootstrap is not None and secrets.compare_digest(
            secret.encode("utf-8", "surrogateescape"), self._bootstrap
        )

    def authenticate(self, secret: str) -> Principal:
        """Who this key is; `Unauthorized` for an unknown or revoked key.

        The database is read on every call, so that a revocation holds from the next request on
        in every process.
        """
        if self.is_bootstrap(secret):
            return Principal(Role.ADMIN)
        digest = digest_of(secret)
        with self._database.read() as session:
            found = store.find_key(session, digest)
        # Found by equality on the digest already; compared again in constant time so that the
        # check does not rest on how the database compares strings.
        if found is None or not secrets.compare_digest(found[0], digest):
            raise Unauthorized("the API key is not valid")
        key = found[1]
        if key.revoked_at is not None:
            raise Unauthorized(
                f"the API key {key.prefix}… was revoked on {key.revoked_at:%Y-%m-%d}"
            )
        return Principal(Role(key.role), key.id, frozenset(key.enterprises))


@contextmanager
def open_keys(settings: Settings) -> Iterator[KeyService]:
    """The keys of the settings' database, for the command line (no dataset loaded)."""
    database = connect(settings.resolved_database_url)
    try:
        yield KeyService(database, settings.admin_key)
    finally:
        database.dispose()
