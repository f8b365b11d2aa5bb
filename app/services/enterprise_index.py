"""The in-memory enterprise index of one worker, kept in step with the database.

The index is immutable: a base `Population` per side (everything stored when it was built), a mask
of base rows that have since changed or gone, and a small overlay `Population` of the enterprises
written since. Each write in any worker logs a change; before a query, the worker reads the log past
the change its index reflects and builds a new index with those changes, within the read transaction
of the query itself, or outside one from a single statement that reads the log with the profiles it
names (`IndexKeeper.catch_up`). A query therefore works on exactly one committed state of the
database: it sees every change committed before it began, and never half of one. When the overlay
grows large, or the region dataset changes, the index is rebuilt before the query goes on.

A bulk import is the exception: rebuilding from millions of rows takes a minute, which no query
should wait for. The importing request rebuilds its own worker's index before it answers
(`IndexKeeper.refresh`); any other worker that finds a bulk change in the log goes on serving
its index with every other change applied, and rebuilds in a background thread, swapping the new
index in when it is complete. Until then that worker's searches miss what the import added or
changed (its queries still find the imported enterprise itself, from the database). One build
runs at a time, so a worker holds at most two indexes.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from app.metrics import CARDS
from app.services.datasets import DatasetState
from app.services.index_snapshot import (
    LoadedSnapshot,
    SnapshotOrigin,
    SnapshotStore,
    dataset_fingerprint,
)
from app.storage import enterprises as store
from app.storage.identity import database_identity
from matching import (
    OWNERSHIPS,
    SIDES,
    SIZE_BANDS,
    Enterprise,
    EnterpriseModel,
    PartnerPool,
    Population,
    build_population,
    update_population,
)

__all__ = ["CardCache", "EnterpriseIndex", "IndexKeeper", "StaleRead", "enterprise_of", "page_ids"]

#: Rebuild the base once this many enterprises sit in the overlay.
COMPACT_AFTER = 20_000
#: Partner cards a worker keeps (about half a kilobyte each); past it, it starts afresh.
CARDS_KEPT = 100_000

logger = logging.getLogger("counterpart")
_KEPT, _READ = CARDS.labels("kept"), CARDS.labels("read")


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


def page_ids(
    pool: PartnerPool,
    *,
    after: str,
    limit: int,
    region: int | None,
    sector_features: tuple[int, int] | None,
    ownership: str | None,
    size: str | None,
) -> list[str]:
    """Up to `limit` ids after `after`, in id order, of a pool's enterprises passing the filters."""
    codes = (
        None if ownership is None else OWNERSHIPS.index(ownership),
        None if size is None else SIZE_BANDS.index(size),
    )
    out: list[str] = []
    for population, removed in ((pool.base, pool.removed), (pool.overlay, None)):
        out += _page(population, removed, after, limit, region, sector_features, *codes)
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


class CardCache:
    """The partner cards this worker's queries read, kept until their enterprise changes.

    A partner list shows each partner's name, region, size and ownership, which the index does
    not hold: reading them was a third of a query's time. Cards are kept with the change they
    were read as of (the query's snapshot), and each index advance marks the enterprises it
    saw written. A card read as of change R serves a query as of change Q only if its enterprise
    was not written after min(R, Q): the same card the query's own read would return. One cache
    lives as long as the index's base; a bulk change, which names no enterprise, starts a new one
    (`floor`: it answers for no query or read before that change).
    """

    def __init__(self, floor: int, limit: int = CARDS_KEPT) -> None:
        self._floor = floor
        self._limit = limit
        self._cards: dict[str, tuple[int, store.EnterpriseCard]] = {}
        #: The change after which each enterprise written since `floor` was last written.
        self._written: dict[str, int] = {}

    def written(self, enterprise_ids: Iterable[str], seq: int) -> None:
        """These enterprises were written at or before change `seq` (after the last call)."""
        for ident in enterprise_ids:
            self._written[ident] = seq
            self._cards.pop(ident, None)

    def read(
        self,
        session: Connection | Session,
        seq: int,
        enterprise_ids: Iterable[str],
        *,
        outside: bool = False,
    ) -> dict[str, store.EnterpriseCard]:
        """The cards of these enterprises (those that exist) as of change `seq`, the session's.

        With `outside`, `session` reads outside a transaction (`Database.statements`): the cards
        not kept are read with the log's last change, and StaleRead is raised unless that is
        still `seq` (a write landed since the caller read it).
        """
        out: dict[str, store.EnterpriseCard] = {}
        missing: list[str] = []
        cards, written = self._cards, self._written
        for ident in enterprise_ids:
            kept = cards.get(ident)
            if kept is not None and min(kept[0], seq) >= written.get(ident, self._floor):
                out[ident] = kept[1]
            else:
                missing.append(ident)
        _KEPT.inc(len(out))
        if missing:
            if outside:
                fresh, head = store.get_cards_at_head(session, missing)
                if head != seq:
                    raise StaleRead
            else:
                fresh = store.get_cards(session, missing)
            _READ.inc(len(missing))
            out.update(fresh)
            if seq >= self._floor:
                if len(cards) + len(fresh) > self._limit:
                    cards = self._cards = {}
                for ident, card in fresh.items():
                    cards[ident] = (seq, card)
        return out


@dataclass(frozen=True, eq=False)
class EnterpriseIndex:
    """Both sides' partner pools as of change `seq`, for the dataset version `dataset_id`."""

    seq: int
    dataset_id: int
    model: EnterpriseModel
    sides: Mapping[str, PartnerPool]
    #: Enterprises written since the base was built: id to latest profile, None if deleted.
    changed: Mapping[str, Enterprise | None] = field(default_factory=dict)
    #: The partner cards read so far, shared by the indexes advanced from the same base.
    cards: CardCache = field(default_factory=lambda: CardCache(0))

    def cards_of(
        self, session: Connection | Session, enterprise_ids: Iterable[str], *, outside: bool = False
    ) -> dict[str, store.EnterpriseCard]:
        """These enterprises' cards, as `session` (a read as of this index) would read them.

        `outside`: `session` is outside a transaction (see `CardCache.read`).
        """
        return self.cards.read(session, self.seq, enterprise_ids, outside=outside)

    def profile(self, enterprise_id: str) -> Enterprise | None:
        """The scoring profile of an indexed enterprise, None if there is none."""
        if enterprise_id in self.changed:
            return self.changed[enterprise_id]
        for side in SIDES:
            pool = self.sides[side]
            row = pool.base.row_of(enterprise_id)
            if row is not None and not pool.removed[row]:
                return pool.base.profile(row, self.model.network)
        return None


def _populations(state: DatasetState, profiles: Iterable[Enterprise]) -> dict[str, Population]:
    by_side: dict[str, list[Enterprise]] = {side: [] for side in SIDES}
    network = state.network
    for profile in profiles:
        # A region the current dataset no longer has: the enterprise is not searchable.
        for side in SIDES:
            if profile.region in network.side(side).index:
                by_side[side].append(profile)
    return {side: build_population(by_side[side], network, side) for side in SIDES}


def _stored_profiles(session: Connection | Session) -> Iterable[Enterprise]:
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


#: Changes past an index that it cannot apply one by one: a bulk import (rebuilt in the
#: background) and the horizon of a pruned log (`store.prune_changes`: built before answering).
_REBUILDS = ("bulk", store.PRUNED)


def _named(log: Iterable[tuple[int, str | None, str]]) -> list[str]:
    """The enterprises a stretch of the change log names, each once, in order."""
    return list(dict.fromkeys(ident for _, ident, _ in log if ident is not None))


def _on_side(profile: Enterprise | None, regions: Mapping[str, int]) -> bool:
    return profile is not None and profile.region in regions


class IndexKeeper:
    """Holds this worker's current `EnterpriseIndex` and moves it forward with the log.

    `reader` opens a read session (for rebuilds in the background); `snapshots`, if given, is
    where full builds are written and where a start looks for one to map.
    """

    def __init__(
        self, reader: Callable[[], Session], snapshots: SnapshotStore | None = None
    ) -> None:
        self._reader = reader
        self._snapshots = snapshots
        #: The newest full build still to write as a snapshot, and the thread writing them.
        self._unwritten: tuple[EnterpriseIndex, SnapshotOrigin, DatasetState] | None = None
        self._writer: threading.Thread | None = None
        self._writer_lock = threading.Lock()
        self._lock = threading.Lock()
        self._index: EnterpriseIndex | None = None
        #: Held by the one build from a bulk change that may run at a time.
        self._building = threading.Lock()
        #: Whether a rebuild is due: the index lacks a bulk change it moved past, or its overlay
        #: grew past `COMPACT_AFTER`.
        self._rebuild_due = False
        self._background: threading.Thread | None = None

    @property
    def loaded(self) -> EnterpriseIndex | None:
        """The index this worker serves from, None before the first one is built."""
        return self._index

    @property
    def rebuilding(self) -> bool:
        """Whether a rebuild is due or running (a bulk import to catch up with, or compaction)."""
        return self._rebuild_due

    def current(self, state: DatasetState, seq: int) -> EnterpriseIndex | None:
        """The index if it is as of change `seq` on this dataset already, else None."""
        index = self._index
        if index is not None and index.seq == seq and index.dataset_id == state.record_id:
            return index
        return None

    def sync(
        self, session: Connection | Session, state: DatasetState, seq: int | None = None
    ) -> EnterpriseIndex:
        """The index as of the session's snapshot (short of a bulk import being rebuilt).

        `seq` is the log's last change as the session reads it, if the caller read it already.

        Raises
        ------
        StaleRead
            If another request already moved the index past this session's snapshot.
        """
        if seq is None:
            seq = store.latest_change(session)
        index = self.current(state, seq)
        if index is not None:
            return index
        with self._lock:
            index = self._index
            if index is not None and index.seq > seq:
                raise StaleRead
            if index is None or index.dataset_id != state.record_id:
                index = self._start(session, state, seq)
            elif index.seq < seq:
                index = self._advance(session, state, index, seq)
            self._install(index, state)
            return index

    def catch_up(self, connection: Connection, state: DatasetState) -> EnterpriseIndex | None:
        """The index advanced to the log's last change, from one statement outside a transaction.

        `connection` reads outside a transaction (`Database.statements`): the changes past the
        index and the profiles they name come in one statement, so of one state of the
        database, the one its last change names. None when only a read transaction can bring
        the index up to date (`sync`): there is no index of this dataset yet, a bulk change or
        the horizon of a pruned log is among the new ones, or another dataset is active by then.
        """
        with self._lock:
            index = self._index
            if index is None or index.dataset_id != state.record_id:
                return None
            active, log, rows = store.changes_with_profiles(connection, index.seq)
            if not log:
                return index  # already at the log's end: another request moved it there
            if active != state.record_id or any(op in _REBUILDS for _, _, op in log):
                return None
            index = self._applied(state, index, log[-1][0], log, rows)
            self._install(index, state)
            return index

    def _install(self, index: EnterpriseIndex, state: DatasetState) -> None:
        """Serve `index` from now on, and start a rebuild in the background if one is due."""
        self._index = index
        if self._rebuild_due and self._background is None:
            self._background = threading.Thread(
                target=self._rebuild_in_background,
                args=(state,),
                name="enterprise-index-rebuild",
                daemon=True,
            )
            self._background.start()

    def refresh(self, state: DatasetState) -> None:
        """Rebuild the index now if a bulk change (or a pruned log's horizon) is past it.

        The caller waits; queries meanwhile go on with the current index, and the new one
        replaces it when complete. Without either, nothing is done: the next query applies the
        log as usual.
        """
        with self._building:
            index = self._index
            if index is not None and index.dataset_id == state.record_id:
                with self._reader() as session:
                    log = store.changes_since(session, index.seq)
                if not self._rebuild_due and all(op not in _REBUILDS for _, _, op in log):
                    return
            self._rebuild(state)

    def stop(self) -> None:
        """Wait for a background rebuild and snapshot to end (before the database closes)."""
        thread = self._background
        if thread is not None:
            thread.join()
        writer = self._writer
        if writer is not None:
            writer.join()

    def _rebuild_in_background(self, state: DatasetState) -> None:
        try:
            if self._building.acquire(blocking=False):
                try:
                    if self._rebuild_due:
                        self._rebuild(state)
                finally:
                    self._building.release()
        except Exception:  # noqa: BLE001 - the next query after a bulk change tries again
            logger.exception("rebuilding the enterprise index failed")
        finally:
            with self._lock:
                self._background = None

    def _rebuild(self, state: DatasetState) -> None:
        with self._reader() as session:
            seq = store.latest_change(session)
            built = self._build(session, state, seq)
        with self._lock:
            current = self._index
            if current is not None and current.dataset_id != built.dataset_id:
                return  # the dataset changed meanwhile: that index was rebuilt for it
            if current is not None and current.seq > built.seq and not self._rebuild_due:
                return  # the current index is complete, compact and newer
            # Changes after `built.seq` (a later bulk one too) are applied by the next sync.
            self._index = built
            self._rebuild_due = False

    def _start(
        self, session: Connection | Session, state: DatasetState, seq: int
    ) -> EnterpriseIndex:
        """The first index of a dataset: from a snapshot and the log after it, else a build."""
        self._rebuild_due = False
        loaded = None if self._snapshots is None else self._load(session, state, seq)
        if loaded is None:
            return self._build(session, state, seq)
        empty = _populations(state, ())
        index = EnterpriseIndex(
            seq=loaded.origin.seq,
            dataset_id=state.record_id,
            model=state.enterprise_model,
            sides={side: PartnerPool.of(loaded.populations[side], empty[side]) for side in SIDES},
            cards=CardCache(loaded.origin.seq),
        )
        logger.info(
            "enterprise index mapped from %s (change %d), %d changes after it to apply",
            loaded.path.name,
            index.seq,
            seq - index.seq,
        )
        # A bulk change past the snapshot sets `_rebuild_due`: rebuilt in the background.
        return index if index.seq == seq else self._advance(session, state, index, seq)

    def _load(
        self, session: Connection | Session, state: DatasetState, seq: int
    ) -> LoadedSnapshot | None:
        assert self._snapshots is not None
        return self._snapshots.load(
            database=database_identity(session),
            dataset_id=state.record_id,
            network=state.network,
            latest=seq,
            change_at=lambda at: store.change_at(session, at),
        )

    def _build(
        self, session: Connection | Session, state: DatasetState, seq: int
    ) -> EnterpriseIndex:
        populations = _populations(state, _stored_profiles(session))
        empty = _populations(state, ())
        index = EnterpriseIndex(
            seq=seq,
            dataset_id=state.record_id,
            model=state.enterprise_model,
            sides={side: PartnerPool.of(populations[side], empty[side]) for side in SIDES},
            cards=CardCache(seq),
        )
        if self._snapshots is not None and seq > 0:
            origin = SnapshotOrigin(
                database=database_identity(session),
                dataset_id=state.record_id,
                fingerprint=dataset_fingerprint(state.network),
                activated_at=state.activated_at.isoformat(),
                seq=seq,
                change=store.change_at(session, seq),
            )
            self._write_snapshot(index, origin, state)
        return index

    def _write_snapshot(
        self, index: EnterpriseIndex, origin: SnapshotOrigin, state: DatasetState
    ) -> None:
        """Have the writer thread write this build (only the newest build waiting is written)."""
        with self._writer_lock:
            self._unwritten = (index, origin, state)
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._write_snapshots, name="enterprise-index-snapshot", daemon=True
                )
                self._writer.start()

    def _write_snapshots(self) -> None:
        assert self._snapshots is not None
        while True:
            with self._writer_lock:
                job, self._unwritten = self._unwritten, None
                if job is None:
                    self._writer = None
                    return
            index, origin, state = job
            bases = {side: index.sides[side].base for side in SIDES}
            try:
                written = self._snapshots.write(origin, bases, state.network)
            except Exception:  # noqa: BLE001 - the index serves on; the next build writes again
                logger.exception("writing the enterprise index snapshot failed")
                continue
            if written is not None:
                self._serve_mapped(bases, written)

    def _serve_mapped(self, bases: Mapping[str, Population], written: LoadedSnapshot) -> None:
        """Serve from the snapshot's mapped files instead of the same populations in memory.

        Only where the index still stands on the base that was written (the rows are the same,
        so its removed rows and overlay hold as they are); the copy in memory is then freed.
        """
        with self._lock:
            current = self._index
            if current is None or any(
                len(bases[side]) != len(written.populations[side]) for side in SIDES
            ):
                return
            sides = {
                side: replace(pool, base=written.populations[side])
                if pool.base is bases[side]
                else pool
                for side, pool in current.sides.items()
            }
            if any(sides[side] is not current.sides[side] for side in SIDES):
                self._index = replace(current, sides=sides)

    def _advance(
        self, session: Connection | Session, state: DatasetState, index: EnterpriseIndex, seq: int
    ) -> EnterpriseIndex:
        log = store.changes_since(session, index.seq)
        if any(op == store.PRUNED for _, _, op in log):
            # The log was pruned past the index: the changes between are gone, so the index
            # starts afresh (a snapshot as of a later change, else a build) before answering.
            return self._start(session, state, seq)
        return self._applied(state, index, seq, log, store.get_enterprises(session, _named(log)))

    def _applied(
        self,
        state: DatasetState,
        index: EnterpriseIndex,
        seq: int,
        log: list[tuple[int, str | None, str]],
        rows: Mapping[str, store.StoredEnterprise],
    ) -> EnterpriseIndex:
        """`index` with the changes `log` after it applied: as of change `seq`, the last.

        `rows` holds the stored profiles of the enterprises the log names, as of `seq`.
        """
        touched = _named(log)
        cards = index.cards
        if any(op == "bulk" for _, _, op in log):
            # Not rebuilt here: `sync` starts a rebuild in the background.
            self._rebuild_due = True
            cards = CardCache(seq)  # a bulk change does not say whose cards it changed
        else:
            cards.written(touched, seq)
        changed: dict[str, Enterprise | None] = dict(index.changed)
        for ident in touched:
            stored = rows.get(ident)
            changed[ident] = None if stored is None else enterprise_of(stored)
        if len(changed) > COMPACT_AFTER:
            self._rebuild_due = True  # compacted in the background; the overlay serves meanwhile
        # Every worker advances on every write, so only what the write touched is redone: its
        # rows of the overlay of a side whose enterprises changed, and the removed rows of the
        # base it holds (merged, never a scan of a million flags).
        network = state.network
        sides = {}
        for side in SIDES:
            pool = index.sides[side]
            regions = network.side(side).index
            was_here = [i for i in touched if _on_side(index.changed.get(i), regions)]
            now_here = [i for i in touched if _on_side(changed[i], regions)]
            base_rows = [r for i in touched if (r := pool.base.row_of(i)) is not None]
            if not (was_here or now_here or base_rows):
                sides[side] = pool
                continue
            overlay = pool.overlay
            if was_here or now_here:
                # The overlay's rows of what the write touched are replaced; the others are
                # copied as arrays (rebuilding every profile of a 20,000-enterprise overlay on
                # each write cost every worker a tenth of a second).
                overlay = update_population(
                    overlay,
                    network,
                    drop=was_here,
                    add=[p for i in now_here if (p := changed[i]) is not None],
                )
            removed, removed_rows = pool.removed, pool.removed_rows
            fresh = [r for r in base_rows if not removed[r]]
            if fresh:
                removed = removed.copy()
                removed[fresh] = True
                removed_rows = np.union1d(removed_rows, np.array(fresh, dtype=np.int64))
            sides[side] = PartnerPool(
                base=pool.base, removed=removed, overlay=overlay, removed_rows=removed_rows
            )
        return EnterpriseIndex(
            seq=seq,
            dataset_id=index.dataset_id,
            model=index.model,
            sides=sides,
            changed=changed,
            cards=cards,
        )
