"""The in-memory enterprise index of one worker, kept in step with the database.

The index is immutable: a base `Population` per side (everything stored when it was built), a mask
of base rows that have since changed or gone, and a small overlay `Population` of the enterprises
written since. Each write in any worker logs a change; before a query, the worker reads the log
past the change its index reflects and builds a new index with those changes, within the read
transaction of the query itself. A query therefore works on exactly one committed state of the
database: it sees every change committed before it began, and never half of one. When the overlay
grows large, or a bulk import is logged, or the region dataset changes, the index is rebuilt.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from app.model import ModelState
from app.storage import enterprises as store
from matching import Weights
from matching.enterprises import (
    OWNERSHIPS,
    SIZE_BANDS,
    Enterprise,
    EnterpriseModel,
    Population,
    SearchFilters,
    build_population,
    search_partners,
)

__all__ = [
    "EnterpriseIndex",
    "IndexKeeper",
    "SideIndex",
    "StaleRead",
    "enterprise_of",
    "filters_for",
]

#: Rebuild the base once this many enterprises sit in the overlay.
COMPACT_AFTER = 20_000
SIDES = ("northeast", "east")


class StaleRead(Exception):
    """The index moved past the caller's read transaction: read again in a new one."""


def enterprise_of(stored: store.StoredEnterprise) -> Enterprise:
    """The scoring part of a stored enterprise."""
    return Enterprise(
        id=stored.id,
        region=stored.region,
        offers=stored.offers,
        seeks=stored.seeks,
        size=stored.size,
        ownership=stored.ownership,
    )


@dataclass(frozen=True, eq=False)
class SideIndex:
    """One side's enterprises: base rows (minus the removed ones) and the overlay."""

    base: Population
    removed: NDArray[np.bool_]
    overlay: Population
    #: The rows of `removed`, for the search (which should not scan a million flags per query).
    removed_rows: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def search(
        self,
        features: NDArray[np.int64],
        coefficients: NDArray[np.float64],
        term: NDArray[np.float64],
        *,
        k: int,
        filters: SearchFilters,
    ) -> list[tuple[str, float]]:
        """The k best (id, score), best first, equal scores in id order."""
        found = [
            (self.base.ids[m.row].decode(), m.score)
            for m in search_partners(
                self.base,
                features,
                coefficients,
                term,
                k=k,
                filters=filters,
                removed=self.removed_rows,
            )
        ]
        if len(self.overlay):
            found += [
                (self.overlay.ids[m.row].decode(), m.score)
                for m in search_partners(
                    self.overlay, features, coefficients, term, k=k, filters=filters
                )
            ]
            found.sort(key=lambda item: (-item[1], item[0]))
        return found[:k]

    def page(
        self,
        *,
        after: str,
        limit: int,
        region: int | None,
        sector_features: tuple[int, int] | None,
        ownership: int | None,
        size: int | None,
    ) -> list[str]:
        """Up to `limit` ids after `after`, in id order, that pass the filters."""
        out: list[str] = []
        for population, removed in ((self.base, self.removed), (self.overlay, None)):
            out += _page(
                population, removed, after, limit, region, sector_features, ownership, size
            )
        return sorted(out)[:limit]


def _page(
    population: Population,
    removed: NDArray[np.bool_] | None,
    after: str,
    limit: int,
    region: int | None,
    sector_features: tuple[int, int] | None,
    ownership: int | None,
    size: int | None,
) -> list[str]:
    start = int(np.searchsorted(population.ids, after.encode(), side="right")) if after else 0
    rows = np.arange(start, len(population))
    if sector_features is not None:
        rows = rows[population.holding(sector_features)[start:]]
    out: list[str] = []
    for chunk_start in range(0, len(rows), 65_536):
        chunk = rows[chunk_start : chunk_start + 65_536]
        keep = np.ones(len(chunk), dtype=bool)
        if removed is not None:
            keep &= ~removed[chunk]
        if region is not None:
            keep &= population.region[chunk] == region
        if ownership is not None:
            keep &= population.ownership[chunk] == ownership
        if size is not None:
            keep &= population.size[chunk] == size
        out += [population.ids[r].decode() for r in chunk[keep][: limit - len(out)]]
        if len(out) >= limit:
            break
    return out


@dataclass(frozen=True, eq=False)
class EnterpriseIndex:
    """Both sides' indexes as of change `seq`, for the dataset version `dataset_id`."""

    seq: int
    dataset_id: int
    model: EnterpriseModel
    sides: Mapping[str, SideIndex]
    #: Enterprises written since the base was built: id to latest profile, None if deleted.
    changed: Mapping[str, Enterprise | None] = field(default_factory=dict)

    def profile(self, enterprise_id: str) -> Enterprise | None:
        """The scoring profile of an indexed enterprise, None if there is none."""
        if enterprise_id in self.changed:
            return self.changed[enterprise_id]
        for side in SIDES:
            side_index = self.sides[side]
            row = side_index.base.row_of(enterprise_id)
            if row is not None and not side_index.removed[row]:
                return side_index.base.profile(row, self.model.network)
        return None

    def side_of_region(self, region: str) -> str | None:
        """The side of a region of the index's dataset, None if there is no such region."""
        try:
            return self.model.network.locate(region)[0]
        except KeyError:
            return None


def _model(state: ModelState) -> EnterpriseModel:
    return EnterpriseModel.build(state.network, state.components, Weights.resolve(state.taxonomy))


def _populations(state: ModelState, profiles: Iterable[Enterprise]) -> dict[str, Population]:
    by_side: dict[str, list[Enterprise]] = {side: [] for side in SIDES}
    network = state.network
    for profile in profiles:
        try:
            side, _ = network.locate(profile.region)
        except KeyError:
            continue  # a region the current dataset no longer has: not searchable
        by_side[side].append(profile)
    return {side: build_population(by_side[side], network, side) for side in SIDES}


def _stored_profiles(session: Session) -> Iterable[Enterprise]:
    for batch in store.index_rows(session):
        for ident, region, size, ownership, offers, seeks in batch:
            yield Enterprise(
                id=ident,
                region=region,
                offers=json.loads(offers),
                seeks=json.loads(seeks),
                size=size,
                ownership=ownership,
            )


class IndexKeeper:
    """Holds this worker's current `EnterpriseIndex` and moves it forward with the log."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._index: EnterpriseIndex | None = None

    def sync(self, session: Session, state: ModelState) -> EnterpriseIndex:
        """The index as of the session's snapshot of the database.

        Raises
        ------
        StaleRead
            If another request already moved the index past this session's snapshot.
        """
        seq = store.latest_change(session)
        index = self._index
        if index is not None and index.seq == seq and index.dataset_id == state.record_id:
            return index
        with self._lock:
            index = self._index
            if index is not None and index.seq > seq:
                raise StaleRead
            if index is None or index.dataset_id != state.record_id:
                index = self._build(session, state, seq)
            elif index.seq < seq:
                index = self._advance(session, state, index, seq)
            self._index = index
            return index

    def _build(self, session: Session, state: ModelState, seq: int) -> EnterpriseIndex:
        populations = _populations(state, _stored_profiles(session))
        empty = _populations(state, ())
        return EnterpriseIndex(
            seq=seq,
            dataset_id=state.record_id,
            model=_model(state),
            sides={
                side: SideIndex(
                    base=populations[side],
                    removed=np.zeros(len(populations[side]), dtype=bool),
                    overlay=empty[side],
                )
                for side in SIDES
            },
        )

    def _advance(
        self, session: Session, state: ModelState, index: EnterpriseIndex, seq: int
    ) -> EnterpriseIndex:
        log = store.changes_since(session, index.seq)
        if any(op == "bulk" for _, _, op in log):
            return self._build(session, state, seq)
        touched = list(dict.fromkeys(ident for _, ident, _ in log if ident is not None))
        rows = store.get_enterprises(session, touched)
        changed: dict[str, Enterprise | None] = dict(index.changed)
        for ident in touched:
            stored = rows.get(ident)
            changed[ident] = None if stored is None else enterprise_of(stored)
        if len(changed) > COMPACT_AFTER:
            return self._build(session, state, seq)
        overlay = _populations(state, (p for p in changed.values() if p is not None))
        sides = {}
        for side in SIDES:
            base = index.sides[side].base
            removed = index.sides[side].removed.copy()
            for ident in touched:
                row = base.row_of(ident)
                if row is not None:
                    removed[row] = True
            sides[side] = SideIndex(
                base=base,
                removed=removed,
                overlay=overlay[side],
                removed_rows=np.flatnonzero(removed),
            )
        return EnterpriseIndex(
            seq=seq,
            dataset_id=index.dataset_id,
            model=index.model,
            sides=sides,
            changed=changed,
        )


def filters_for(
    index: EnterpriseIndex,
    *,
    partner_side: str,
    region: str | None,
    ownership: str | None,
    size: str | None,
    min_score: float | None,
) -> SearchFilters:
    """Search filters in the index's codes (the caller has checked the region's side)."""
    regions = None
    if region is not None:
        regions = frozenset({index.model.network.side(partner_side).index[region]})
    return SearchFilters(
        regions=regions,
        ownership=None if ownership is None else frozenset({OWNERSHIPS.index(ownership)}),
        size=None if size is None else frozenset({SIZE_BANDS.index(size)}),
        min_score=min_score,
    )
