"""The active dataset: the version in use, its network and its component scores, kept current.

Every worker process keeps the state of the active dataset in memory. Before serving a request it
asks the database which version is active (one indexed lookup); when another worker has replaced
the dataset, it rebuilds. A `DatasetState` is immutable, so a request that started on one version
finishes on it even if the dataset is replaced meanwhile.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from app.errors import Conflict, InvalidInput, engine_errors
from app.storage import datasets as store
from app.storage.database import Database
from matching import (
    ComponentScores,
    Dataset,
    EnterpriseModel,
    Network,
    Outcome,
    OutcomeEvidence,
    RegionStability,
    Taxonomy,
    Weights,
    dataset_document,
    load_dataset,
    load_taxonomy,
    network_from_dataset,
    outcome_evidence,
    parse_dataset,
    score_components,
    suggestion_stability,
)

__all__ = [
    "ActiveDataset",
    "DatasetState",
    "document_digest",
    "read_dataset",
    "stability",
    "shipped_document",
    "standalone_state",
]

SHIPPED_ORIGIN = "shipped"
UPLOADED_ORIGIN = "uploaded"


def document_digest(document: Any) -> str:
    """SHA-256 of a JSON document in canonical form (sorted keys, no spaces)."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


#: Evaluation dates (with outcome revisions) whose state each dataset state keeps: a state holds
#: the component matrices (11 x regions x regions floats), so only a few.
CACHED_DATES = 8


@dataclass(frozen=True, eq=False)
class DatasetState:
    """Everything computed from one dataset version, at one evaluation date.

    The state of the active dataset is at the plan's adoption without outcomes; `dated` gives
    the state at another date with the outcomes dated by then (cached per date and revision).
    """

    record_id: int
    digest: str
    origin: str
    activated_at: datetime
    document: dict[str, Any]
    dataset: Dataset
    network: Network
    components: ComponentScores
    evidence: OutcomeEvidence | None = None
    _dated: dict[tuple[date, int], DatasetState] = field(
        default_factory=dict, repr=False, compare=False
    )
    _dated_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def as_of(self) -> date:
        """The evaluation date: which ties are in force and which outcomes are known."""
        return self.dataset.adopted if self.evidence is None else self.evidence.as_of

    def dated(self, as_of: date | None, outcomes: Sequence[Outcome], revision: int) -> DatasetState:
        """The state at `as_of` (default: the adoption) with the outcomes dated by then.

        `revision` names the outcomes' version; a state is cached per date and revision.
        """
        when = self.dataset.adopted if as_of is None else as_of
        key = (when, revision)
        with self._dated_lock:
            cached = self._dated.get(key)
        if cached is not None:
            return cached
        if when == self.as_of and self.evidence is None and all(o.date > when for o in outcomes):
            # Nothing known by the adoption: the state is this one (no second copy).
            return self
        with engine_errors():
            network = network_from_dataset(self.dataset, as_of=when, outcomes=outcomes)
            evidence = outcome_evidence(
                outcomes, network.northeast.ids, network.east.ids, as_of=when
            )
        state = replace(
            self,
            network=network,
            components=score_components(network),
            evidence=evidence,
            _dated={},
            _dated_lock=threading.Lock(),
        )
        with self._dated_lock:
            self._dated[key] = state
            while len(self._dated) > CACHED_DATES:
                del self._dated[next(iter(self._dated))]
        return state

    @property
    def version(self) -> str:
        """The dataset version every result names."""
        return self.dataset.version

    @property
    def taxonomy(self) -> Taxonomy:
        """The taxonomy the dataset was validated against."""
        return self.dataset.taxonomy

    @cached_property
    def enterprise_model(self) -> EnterpriseModel:
        """The enterprise score model under the default weights (partner search and rounds)."""
        return EnterpriseModel.build(self.network, self.components, self.weights())

    def weights(self, changes: Mapping[str, float] | None = None) -> Weights:
        """Default weights with `changes` applied; a bad one is a 422 naming it."""
        with engine_errors():
            return Weights.resolve(self.taxonomy, changes)

    def channel(self, channel: str) -> str:
        """`channel`, if it is a channel id of the taxonomy (else a 422)."""
        if channel not in self.taxonomy.channel_ids:
            raise InvalidInput(
                f"`channel`: unknown channel {channel!r}; expected one of "
                f"{', '.join(self.taxonomy.channel_ids)}"
            )
        return channel


def _state(stored: store.StoredDataset, document: dict[str, Any], dataset: Dataset) -> DatasetState:
    network = network_from_dataset(dataset)
    return DatasetState(
        record_id=stored.id,
        digest=stored.digest,
        origin=stored.origin,
        activated_at=stored.activated_at,
        document=document,
        dataset=dataset,
        network=network,
        components=score_components(network),
    )


def shipped_document() -> dict[str, Any]:
    """The dataset document shipped with the package."""
    document: dict[str, Any] = dataset_document()
    return document


def standalone_state(
    document: dict[str, Any], *, origin: str, taxonomy: Taxonomy | None = None
) -> DatasetState:
    """The state of a dataset document outside any database (for the command line)."""
    dataset = parse_dataset(document, taxonomy=taxonomy or load_taxonomy(), origin=origin)
    stored = store.StoredDataset(
        id=0,
        version=dataset.version,
        digest=document_digest(document),
        origin=origin,
        document=json.dumps(document, ensure_ascii=False),
        activated_at=datetime.now(UTC),
    )
    return _state(stored, document, dataset)


class ActiveDataset:
    """Holds the current `DatasetState` and keeps it in step with the database."""

    def __init__(self, database: Database, taxonomy: Taxonomy | None = None) -> None:
        self._database = database
        self._taxonomy = taxonomy or load_taxonomy()
        self._lock = threading.Lock()
        self._state: DatasetState | None = None

    def start(self) -> DatasetState:
        """Seed the shipped dataset on first start (or when a newer one ships) and load it."""
        document = shipped_document()
        # Validate before anything is written: a broken shipped file must not reach the database.
        dataset = parse_dataset(document, taxonomy=self._taxonomy, origin="shipped dataset")
        with self._database.write() as session:
            active = store.active_dataset(session)
            shipped_is_newer = (
                active is not None
                and active.origin == SHIPPED_ORIGIN
                and active.version != dataset.version
            )
            if active is None or shipped_is_newer:
                store.store_dataset(
                    session,
                    version=dataset.version,
                    digest=document_digest(document),
                    origin=SHIPPED_ORIGIN,
                    document=json.dumps(document, ensure_ascii=False),
                )
        return self.current()

    def loaded(self) -> DatasetState:
        """The state this process last loaded, without asking the database (for liveness)."""
        state = self._state
        if state is None:
            raise RuntimeError("no dataset loaded: the service was not started")
        return state

    def current(self) -> DatasetState:
        """The model of the active dataset, rebuilt if another process replaced it.

        Asked in a read of its own. (A partner query learns the active dataset in its own
        snapshot, with the log's end, from `store.heads`, and turns it into a state with
        `state_of`.)
        """
        with self._database.read() as session:
            active_id = store.active_dataset_id(session)
        return self.state_of(active_id)

    def state_of(self, active_id: int | None) -> DatasetState:
        """The model of the dataset record `active_id`, which a read found active."""
        state = self._state
        if state is not None and state.record_id == active_id:
            return state
        with self._lock:
            if self._state is None or self._state.record_id != active_id:
                with self._database.read() as session:
                    stored = store.active_dataset(session)
                if stored is None:
                    raise RuntimeError("no active dataset: the store was not started")
                document = json.loads(stored.document)
                dataset = parse_dataset(
                    document, taxonomy=self._taxonomy, origin=f"dataset {stored.version!r}"
                )
                self._state = _state(stored, document, dataset)
            return self._state

    def replace(self, document: Any) -> DatasetState:
        """Validate a new dataset document whole, then store and activate it in one transaction.

        Raises
        ------
        DatasetError
            If the document is invalid; nothing is written.
        Conflict
            If its version is already stored with different content.
        """
        dataset = parse_dataset(document, taxonomy=self._taxonomy, origin="uploaded dataset")
        digest = document_digest(document)
        with self._lock, self._database.write() as session:
            existing = store.find_version(session, dataset.version)
            if existing is not None and existing.digest != digest:
                raise Conflict(
                    f"dataset version {dataset.version!r} is already stored with different "
                    "content; give the new dataset a new version"
                )
            stored = store.store_dataset(
                session,
                version=dataset.version,
                digest=digest,
                origin=UPLOADED_ORIGIN,
                document=json.dumps(document, ensure_ascii=False),
            )
        self._state = _state(stored, document, dataset)
        return self._state


def read_dataset(path: Path | None = None) -> Dataset:
    """A dataset file, validated whole (the shipped one without a path).

    Raises
    ------
    DatasetError
        Naming the file, record and field of the first problem.
    OSError, UnicodeDecodeError
        If the file cannot be read.
    """
    return load_dataset(path)


def stability(*, k: int, draws: int, seed: int, path: Path | None = None) -> list[RegionStability]:
    """How often each region's top-k suggestions survive its estimates' stated uncertainty."""
    with engine_errors():
        return suggestion_stability(read_dataset(path), k=k, draws=draws, seed=seed)
