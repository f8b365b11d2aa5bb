"""Enterprise profiles: reads through this worker's index, writes that serialise on the database.

Writes go through `Database.write()`: a write transaction that holds the write lock from its
start, so what a write reads before it writes (does the id exist, what does the profile hold now)
cannot change under it; two creates of one id, or two patches of one profile, queue instead of
racing. Every write logs a change in the same transaction (see `app.storage.enterprises`), which
is how every worker's index learns of it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from app.errors import Conflict, InvalidInput, NotFound, Problem
from app.metrics import PARTNER_READS
from app.services.datasets import ActiveDataset, DatasetState
from app.services.enterprise_index import EnterpriseIndex, IndexKeeper, StaleRead, page_ids
from app.services.index_snapshot import SnapshotStore
from app.storage import enterprises as store
from app.storage.database import Database
from app.storage.enterprises import StoredEnterprise
from matching import SIDES

__all__ = [
    "EnterprisePage",
    "EnterpriseProfile",
    "EnterpriseService",
    "NeedsTransaction",
    "ProfileChange",
    "profile_values",
    "reference_problems",
    "stored_values",
]

_T = TypeVar("_T")


class NeedsTransaction(Exception):
    """A read outside a transaction cannot answer (it needs the database as of the index)."""


_OUTSIDE, _IN_TRANSACTION, _STALE = (
    PARTNER_READS.labels(read) for read in ("outside", "transaction", "stale")
)


@dataclass(frozen=True)
class EnterpriseProfile:
    """A profile to store, its fields already checked one by one (by the request's schema)."""

    name: str
    region: str
    offers: Mapping[str, float]
    seeks: Mapping[str, float]
    size: str
    ownership: str
    founded: int | None
    description: str
    contact: str | None
    partners: Sequence[str]
    id: str | None = None


#: Makes the new profile of an enterprise from its stored one (a PATCH merges into it).
ProfileChange = Callable[[StoredEnterprise], EnterpriseProfile]


@dataclass(frozen=True)
class EnterprisePage:
    """A page of enterprises in id order; `next_cursor` is None on the last page."""

    items: list[StoredEnterprise]
    next_cursor: str | None


def reference_problems(values: Mapping[str, Any], state: DatasetState) -> list[Problem]:
    """Problems a schema cannot see: a region or sector the active dataset does not have."""
    problems = []
    region = values.get("region")
    if isinstance(region, str) and not any(
        region in state.network.side(side).index for side in SIDES
    ):
        problems.append(Problem(field="region", error=f"no region with id {region!r}"))
    sectors = state.taxonomy.sector_index
    for kind in ("offers", "seeks"):
        given = values.get(kind)
        for sector in given if isinstance(given, Mapping) else ():
            if sector not in sectors:
                problems.append(
                    Problem(field=f"{kind}.{sector}", error=f"unknown sector {sector!r}")
                )
    return problems


def partner_problems(enterprise_id: str, partners: Sequence[str]) -> list[Problem]:
    """What is wrong with an enterprise's list of partners: itself, or an id listed twice.

    An id not (yet) registered is accepted: partners may be listed before they register, and a
    partner deleted since must not block other changes.
    """
    problems = []
    if enterprise_id in partners:
        problems.append(Problem(field="partners", error="an enterprise is not its own partner"))
    twice = sorted({p for p in partners if partners.count(p) > 1})
    if twice:
        listed = ", ".join(map(repr, twice))
        problems.append(Problem(field="partners", error=f"{listed} listed more than once"))
    return problems


def _reject(problems: list[Problem]) -> None:
    if problems:
        raise InvalidInput.listing(problems)


def profile_values(profile: EnterpriseProfile) -> dict[str, Any]:
    """A profile's fields as a mapping (shallow: imports make a million of these)."""
    return dict(vars(profile))


def stored_values(profile: EnterpriseProfile, state: DatasetState) -> dict[str, Any]:
    """The values of a profile as a row stores them (with its side); 422 on a bad reference."""
    values = profile_values(profile)
    problems = reference_problems(values, state)
    if problems:
        raise InvalidInput.listing(problems)
    values["side"] = state.network.locate(profile.region)[0]
    return values


class EnterpriseService:
    """Enterprise reads and writes over the database, with this worker's index."""

    def __init__(self, database: Database, *, snapshots: SnapshotStore | None = None) -> None:
        self.database = database
        self.keeper = IndexKeeper(database.read, snapshots)

    @contextmanager
    def reading(self, state: DatasetState) -> Iterator[tuple[Connection, EnterpriseIndex]]:
        """A read transaction and the index as of its snapshot of the database."""
        with self._reading(lambda _: (state, None)) as (session, _, index):
            yield session, index

    def search_read(
        self,
        active: ActiveDataset,
        run: Callable[[Connection, DatasetState, EnterpriseIndex, bool], _T],
    ) -> _T:
        """`run(connection, state, index, outside)`: on the index as of what `connection` reads.

        First outside a transaction (`Database.statements`, `outside` true): when this worker's
        index is at the log's last change already, a partner query whose cards are kept needs
        one statement (`store.heads`), not three round trips; when a write landed since, one more
        brings the index up to date (`IndexKeeper.catch_up`). `run` raises StaleRead if it would
        read past the index's change (`CardCache.read`), NeedsTransaction if it needs a read the
        index cannot answer; it is then run again in a read transaction (`searching`), as it is
        at once when only a transaction can bring the index up to date (a bulk change).
        """
        with self.database.statements() as connection:
            active_id, seq = store.heads(connection)
            state = active.state_of(active_id)
            index = self.keeper.current(state, seq)
            if index is None:
                index = self.keeper.catch_up(connection, state)
            if index is not None:
                try:
                    answer = run(connection, state, index, True)
                except StaleRead:
                    _STALE.inc()
                except NeedsTransaction:
                    pass
                else:
                    _OUTSIDE.inc()
                    return answer
        _IN_TRANSACTION.inc()
        with self.searching(active) as (session, state, index):
            return run(session, state, index, False)

    @contextmanager
    def searching(
        self, active: ActiveDataset
    ) -> Iterator[tuple[Connection, DatasetState, EnterpriseIndex]]:
        """A read transaction, the dataset active in its snapshot and the index as of it.

        One statement for both: a partner query asks the database once which dataset is active
        and how far the change log goes, in its own snapshot (`store.heads`).
        """

        def heads(session: Connection) -> tuple[DatasetState, int]:
            active_id, seq = store.heads(session)
            return active.state_of(active_id), seq

        with self._reading(heads) as found:
            yield found

    @contextmanager
    def _reading(
        self, heads: Callable[[Connection], tuple[DatasetState, int | None]]
    ) -> Iterator[tuple[Connection, DatasetState, EnterpriseIndex]]:
        for _ in range(100):
            with self.database.snapshot() as session:
                state, seq = heads(session)
                try:
                    index = self.keeper.sync(session, state, seq)
                except StaleRead:
                    continue
                yield session, state, index
                return
        raise RuntimeError("the index kept moving past every read; too many writes at once")

    # Reads ------------------------------------------------------------------------------------

    def get(self, enterprise_id: str) -> StoredEnterprise:
        """One stored enterprise; 404 if there is none."""
        with self.database.read() as session:
            stored = store.get_enterprises(session, [enterprise_id]).get(enterprise_id)
        if stored is None:
            raise NotFound(f"no enterprise with id {enterprise_id!r}")
        return stored

    def list_page(
        self,
        state: DatasetState,
        *,
        cursor: str | None,
        limit: int,
        region: str | None,
        side: str | None,
        sector: str | None,
        ownership: str | None,
        size: str | None,
    ) -> EnterprisePage:
        """A page of enterprises in id order, filtered."""
        if sector is not None and sector not in state.taxonomy.sector_index:
            raise InvalidInput(f"`sector`: unknown sector {sector!r}")
        sides: tuple[str, ...] = SIDES if side is None else (side,)
        region_code = None
        if region is not None:
            region_side, region_code = state.network.locate(region, field="region")
            sides = tuple(s for s in sides if s == region_side)
        sector_features = None
        if sector is not None:
            s = state.taxonomy.sector_index[sector]
            sector_features = (s, len(state.taxonomy.sectors) + s)
        with self.reading(state) as (session, index):
            ids: list[str] = []
            for name in sides:
                ids += page_ids(
                    index.sides[name],
                    after=cursor or "",
                    limit=limit + 1,
                    region=region_code,
                    sector_features=sector_features,
                    ownership=ownership,
                    size=size,
                )
            ids = sorted(ids)[: limit + 1]
            rows = store.get_enterprises(session, ids[:limit])
        items = [rows[i] for i in ids[:limit] if i in rows]
        return EnterprisePage(items=items, next_cursor=ids[limit - 1] if len(ids) > limit else None)

    # Writes -----------------------------------------------------------------------------------

    def _write(
        self,
        state: DatasetState,
        enterprise_id: str,
        make: Callable[[Session], EnterpriseProfile],
    ) -> tuple[StoredEnterprise, bool]:
        """Write the profile `make` builds from what is stored, in one serialised transaction."""
        with self.database.write() as session:
            profile = make(session)
            _reject(partner_problems(enterprise_id, profile.partners))
            values = stored_values(profile, state)
            values["id"] = enterprise_id
            created = store.upsert_enterprises(session, [store.record(values, now=store.now())])
            stored = store.get_enterprises(session, [enterprise_id])[enterprise_id]
        return stored, created == 1

    def create(self, state: DatasetState, profile: EnterpriseProfile) -> StoredEnterprise:
        """Store a new enterprise; 409 if its id is taken. Without an id, the server makes one."""
        enterprise_id = profile.id or f"e{secrets.token_hex(8)}"

        def new(session: Session) -> EnterpriseProfile:
            if store.get_enterprises(session, [enterprise_id]):
                raise Conflict(f"an enterprise with id {enterprise_id!r} already exists")
            return profile

        return self._write(state, enterprise_id, new)[0]

    def replace(
        self, state: DatasetState, enterprise_id: str, profile: EnterpriseProfile
    ) -> tuple[StoredEnterprise, bool]:
        """Create or replace the enterprise at this id; whether it was created."""
        if profile.id is not None and profile.id != enterprise_id:
            raise InvalidInput(
                f"`id`: the body says {profile.id!r} but the path says {enterprise_id!r}"
            )
        return self._write(state, enterprise_id, lambda _: profile)

    def update(
        self, state: DatasetState, enterprise_id: str, change: ProfileChange
    ) -> StoredEnterprise:
        """Change a stored enterprise: `change` makes the new profile from the stored one."""

        def changed(session: Session) -> EnterpriseProfile:
            current = store.get_enterprises(session, [enterprise_id]).get(enterprise_id)
            if current is None:
                raise NotFound(f"no enterprise with id {enterprise_id!r}")
            return change(current)

        return self._write(state, enterprise_id, changed)[0]

    def delete(self, enterprise_id: str) -> None:
        """Delete an enterprise; 404 if there is none."""
        with self.database.write() as session:
            if not store.delete_enterprise(session, enterprise_id):
                raise NotFound(f"no enterprise with id {enterprise_id!r}")
