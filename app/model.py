"""The active model: the dataset version in use, its network and its component scores.

Every worker process keeps the model of the active dataset in memory. Before serving a request it
asks the database which version is active (one indexed lookup); when another worker has replaced
the dataset, it rebuilds. A `ModelState` is immutable, so a request that started on one version
finishes on it even if the dataset is replaced meanwhile.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.errors import Conflict
from app.storage import datasets as store
from app.storage.database import Sessions
from matching import (
    ComponentScores,
    Dataset,
    Network,
    Taxonomy,
    Weights,
    network_from_dataset,
    parse_dataset,
    score_components,
)
from matching.dataset import dataset_document

__all__ = ["ModelState", "ModelStore", "document_digest", "shipped_document", "standalone_model"]

SHIPPED_ORIGIN = "shipped"
UPLOADED_ORIGIN = "uploaded"


def document_digest(document: Any) -> str:
    """SHA-256 of a JSON document in canonical form (sorted keys, no spaces)."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True, eq=False)
class ModelState:
    """Everything computed from one dataset version."""

    record_id: int
    digest: str
    origin: str
    activated_at: datetime
    document: dict[str, Any]
    dataset: Dataset
    network: Network
    components: ComponentScores

    @property
    def version(self) -> str:
        """The dataset version every result names."""
        return self.dataset.version

    @property
    def taxonomy(self) -> Taxonomy:
        """The taxonomy the dataset was validated against."""
        return self.dataset.taxonomy

    def weights(self, changes: dict[str, float] | None = None) -> Weights:
        """Default weights with `changes` applied (raises ValueError naming a bad one)."""
        return Weights.resolve(self.taxonomy, changes)


def _model(stored: store.StoredDataset, document: dict[str, Any], dataset: Dataset) -> ModelState:
    network = network_from_dataset(dataset)
    return ModelState(
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


def standalone_model(document: dict[str, Any], taxonomy: Taxonomy, *, origin: str) -> ModelState:
    """A model of a dataset document outside any database (for the command line)."""
    dataset = parse_dataset(document, taxonomy=taxonomy, origin=origin)
    stored = store.StoredDataset(
        id=0,
        version=dataset.version,
        digest=document_digest(document),
        origin=origin,
        document=json.dumps(document, ensure_ascii=False),
        activated_at=datetime.now(UTC),
    )
    return _model(stored, document, dataset)


class ModelStore:
    """Holds the current `ModelState` and keeps it in step with the database."""

    def __init__(self, sessions: Sessions, taxonomy: Taxonomy) -> None:
        self._sessions = sessions
        self._taxonomy = taxonomy
        self._lock = threading.Lock()
        self._state: ModelState | None = None

    def start(self) -> ModelState:
        """Seed the shipped dataset on first start (or when a newer one ships) and load it."""
        document = shipped_document()
        # Validate before anything is written: a broken shipped file must not reach the database.
        dataset = parse_dataset(document, taxonomy=self._taxonomy, origin="shipped dataset")
        with self._sessions.begin() as session:
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

    def current(self) -> ModelState:
        """The model of the active dataset, rebuilt if another process replaced it."""
        with self._sessions() as session:
            active_id = store.active_dataset_id(session)
        state = self._state
        if state is not None and state.record_id == active_id:
            return state
        with self._lock:
            if self._state is None or self._state.record_id != active_id:
                with self._sessions() as session:
                    stored = store.active_dataset(session)
                if stored is None:
                    raise RuntimeError("no active dataset: the store was not started")
                document = json.loads(stored.document)
                dataset = parse_dataset(
                    document, taxonomy=self._taxonomy, origin=f"dataset {stored.version!r}"
                )
                self._state = _model(stored, document, dataset)
            return self._state

    def replace(self, document: Any) -> ModelState:
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
        with self._lock, self._sessions.begin() as session:
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
        self._state = _model(stored, document, dataset)
        return self._state
