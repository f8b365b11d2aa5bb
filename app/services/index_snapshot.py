"""Snapshots of the partner index on disk, so that a worker starts serving in seconds.

After every full build, a worker writes the base populations of both sides (their arrays, as
.npy files) and a manifest naming what they reflect into ``data_dir/index``; a worker starting
later maps the newest snapshot that still fits the database (``np.load(mmap_mode="r")``: the
pages come from the page cache, shared by every worker, and are read when a search reaches
them) and applies the change log past it, instead of reading every row.

A snapshot is ``index/snapshot-<seq>-<random>/``: one file per array and ``manifest.json``,
written into a ``.tmp-*`` folder first and renamed into place in one step, so a process killed
while writing leaves a ``.tmp-*`` folder that is never read (and removed by the next writer),
never a half-written snapshot. Writers queue on ``.writer.lock`` (two workers that built the
same state write it once); a writer removes the other snapshots holding ``.lock`` exclusively,
which loaders hold shared while they open one: a snapshot is never removed under a loader
(once mapped, its files may go: the mapping keeps them).

The manifest names the state it reflects: the database's identity, the dataset record and a
fingerprint of what the arrays' codes refer to (each side's regions in order, the sectors in
order), the last change applied (its seq, and the change itself as the log holds it). A
snapshot is used only if all of them hold for the database now (see `SnapshotStore.load`).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from matching import SIDES, Network, Population, population_arrays, population_from_arrays

__all__ = ["FORMAT", "SnapshotOrigin", "SnapshotStore", "dataset_fingerprint"]

#: The layout of a snapshot's folder and manifest; another is ignored (and rebuilt). 2: each
#: array's SHA-256 in the manifest.
FORMAT = 2
MANIFEST = "manifest.json"
SNAPSHOT_PREFIX = "snapshot-"
TEMPORARY_PREFIX = ".tmp-"

logger = logging.getLogger("counterpart")

#: A change as the log holds it: (enterprise id, op, time).
Change = tuple[str | None, str, str]


def dataset_fingerprint(network: Network) -> str:
    """SHA-256 of what a population's codes refer to: each side's regions, then the sectors."""
    content = {
        "regions": {side: list(network.side(side).ids) for side in SIDES},
        "sectors": list(network.taxonomy.sector_ids),
    }
    return hashlib.sha256(json.dumps(content, separators=(",", ":")).encode()).hexdigest()


@dataclass(frozen=True)
class SnapshotOrigin:
    """The state of the database an index reflects.

    `change` is the change logged as `seq`, as the log holds it (None when `seq` is 0).
    `activated_at` (when the dataset was last activated) tells which of two datasets' snapshots
    is the newer.
    """

    database: str
    dataset_id: int
    fingerprint: str
    activated_at: str
    seq: int
    change: Change | None

    def manifest(self) -> dict[str, Any]:
        """The manifest's fields naming this state."""
        return {
            "format": FORMAT,
            "database": self.database,
            "dataset_id": self.dataset_id,
            "fingerprint": self.fingerprint,
            "activated_at": self.activated_at,
            "seq": self.seq,
            "change": None if self.change is None else list(self.change),
        }

    @classmethod
    def of(cls, manifest: Mapping[str, Any]) -> SnapshotOrigin:
        """The state a manifest names (KeyError, TypeError or ValueError if it is malformed)."""
        change = manifest["change"]
        return cls(
            database=str(manifest["database"]),
            dataset_id=int(manifest["dataset_id"]),
            fingerprint=str(manifest["fingerprint"]),
            activated_at=str(manifest["activated_at"]),
            seq=int(manifest["seq"]),
            change=None if change is None else (change[0], str(change[1]), str(change[2])),
        )


@dataclass(frozen=True)
class LoadedSnapshot:
    """A snapshot mapped into memory: the state it reflects and both sides' base populations."""

    origin: SnapshotOrigin
    populations: dict[str, Population]
    path: Path


class SnapshotIgnored(Exception):
    """A snapshot does not fit the database now (the message says why)."""


class SnapshotStore:
    """The snapshots in one folder (``data_dir/index``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    # Locks ------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _flock(self, name: str, mode: int) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / name, "a+b") as handle:
            fcntl.flock(handle.fileno(), mode)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    # Reading ----------------------------------------------------------------------------------

    def _manifests(self) -> list[tuple[Path, SnapshotOrigin | None, dict[str, Any] | None]]:
        """Every snapshot folder with its origin and manifest (None if unreadable)."""
        found: list[tuple[Path, SnapshotOrigin | None, dict[str, Any] | None]] = []
        try:
            entries = sorted(self.folder.iterdir())
        except FileNotFoundError:
            return []
        for path in entries:
            if not path.name.startswith(SNAPSHOT_PREFIX) or not path.is_dir():
                continue
            try:
                manifest = json.loads((path / MANIFEST).read_text("utf-8"))
                found.append((path, SnapshotOrigin.of(manifest), manifest))
            except (OSError, ValueError, KeyError, TypeError, IndexError):
                found.append((path, None, None))
        return found

    def origins(self) -> list[SnapshotOrigin]:
        """The states the folder's snapshots reflect (those whose manifest reads), oldest first."""
        found = [origin for _, origin, _ in self._manifests() if origin is not None]
        return sorted(found, key=lambda origin: origin.seq)

    def load(
        self,
        *,
        database: str,
        dataset_id: int,
        network: Network,
        latest: int,
        change_at: Callable[[int], Change | None],
    ) -> LoadedSnapshot | None:
        """The newest snapshot that fits the database now, mapped; None if none does.

        A snapshot fits if it is of this format, of this database (`database`, its identity),
        of this dataset (its record and `network`'s fingerprint), reflects no change past the
        log's `latest`, and the log still holds the change it reflects as it was
        (`change_at(seq)`): a log pruned past it, or rewritten by a restored backup, does not.
        Its files must be whole (each as its SHA-256 in the manifest) and of its dtypes and
        shapes. Each snapshot passed over is logged as a warning naming why.
        """
        try:
            return self._load(database, dataset_id, network, latest, change_at)
        except OSError as exc:  # an unwritable data directory, say: the index is built instead
            logger.warning("index snapshots in %s cannot be read: %s", self.folder, exc)
            return None

    def _load(
        self,
        database: str,
        dataset_id: int,
        network: Network,
        latest: int,
        change_at: Callable[[int], Change | None],
    ) -> LoadedSnapshot | None:
        fingerprint = dataset_fingerprint(network)
        with self._flock(".lock", fcntl.LOCK_SH):
            candidates = self._manifests()
            candidates.sort(key=lambda c: (c[1] is not None, c[1].seq if c[1] else 0), reverse=True)
            for path, origin, manifest in candidates:
                try:
                    if origin is None or manifest is None:
                        raise SnapshotIgnored("its manifest is missing or unreadable")
                    _check_origin(origin, manifest, database, dataset_id, fingerprint, latest)
                    if origin.seq > 0 and change_at(origin.seq) != origin.change:
                        raise SnapshotIgnored(
                            f"the change log no longer holds change {origin.seq} as the "
                            "snapshot saw it (pruned, or the database restored from a backup)"
                        )
                    populations = {
                        side: _read_side(path, manifest, side, network) for side in SIDES
                    }
                except SnapshotIgnored as reason:
                    logger.warning("index snapshot %s ignored: %s", path.name, reason)
                    continue
                return LoadedSnapshot(origin, populations, path)
        return None

    # Writing ----------------------------------------------------------------------------------

    def write(
        self, origin: SnapshotOrigin, populations: Mapping[str, Population], network: Network
    ) -> LoadedSnapshot | None:
        """Write a snapshot of `populations` as of `origin`, then remove the others.

        Returns the snapshot as written, mapped (or the one another writer made of the same
        state, if it reads back whole): the caller may serve from it instead of its own copy in
        memory; None if it cannot be read back. Every other snapshot is removed, but those of
        this database's datasets activated later (a worker still on the previous dataset must
        not remove the snapshot of the next): the writer has just read the database, so its
        state is the one to start from, whatever a snapshot that claims a later seq says (a
        restored backup).
        """
        with self._flock(".writer.lock", fcntl.LOCK_EX):
            # Writers queue here, so a `.tmp-*` folder now is one a killed writer left.
            self._remove_temporary()
            for path, other, _ in self._manifests():
                if other == origin:
                    # The same state, written by another worker: kept if it reads back whole.
                    same = self._read(path, network)
                    if same is not None:
                        self._remove_others(path, origin)
                        return same
            path = self._write(origin, populations)
            self._remove_others(path, origin)
            return self._read(path, network)

    def _read(self, path: Path, network: Network) -> LoadedSnapshot | None:
        try:
            with self._flock(".lock", fcntl.LOCK_SH):
                manifest = json.loads((path / MANIFEST).read_text("utf-8"))
                populations = {side: _read_side(path, manifest, side, network) for side in SIDES}
            return LoadedSnapshot(SnapshotOrigin.of(manifest), populations, path)
        except (OSError, ValueError, KeyError, TypeError, SnapshotIgnored) as exc:
            logger.warning("index snapshot %s cannot be read back: %s", path.name, exc)
            return None

    def _write(self, origin: SnapshotOrigin, populations: Mapping[str, Population]) -> Path:
        temporary = self.folder / f"{TEMPORARY_PREFIX}{uuid.uuid4().hex}"
        temporary.mkdir(parents=True)
        try:
            sides: dict[str, Any] = {}
            for side in SIDES:
                arrays: dict[str, Any] = {}
                for name, array in population_arrays(populations[side]).items():
                    file = temporary / f"{side}.{name}.npy"
                    with open(file, "wb") as handle:
                        np.save(handle, array, allow_pickle=False)
                        handle.flush()
                        os.fsync(handle.fileno())
                    arrays[name] = {
                        "dtype": array.dtype.str,
                        "shape": list(array.shape),
                        "bytes": file.stat().st_size,
                        "sha256": _digest(file),
                    }
                sides[side] = {"count": len(populations[side]), "arrays": arrays}
            manifest = origin.manifest() | {
                "written_at": datetime.now(UTC).isoformat(),
                "sides": sides,
            }
            with open(temporary / MANIFEST, "w", encoding="utf-8") as handle:
                json.dump(manifest, handle, indent=1)
                handle.flush()
                os.fsync(handle.fileno())
            _fsync_folder(temporary)
            final = self.folder / f"{SNAPSHOT_PREFIX}{origin.seq:012d}-{uuid.uuid4().hex[:8]}"
            os.rename(temporary, final)
            _fsync_folder(self.folder)
            return final
        except BaseException:
            shutil.rmtree(temporary, ignore_errors=True)
            raise

    def _remove_temporary(self) -> None:
        for path in self.folder.glob(f"{TEMPORARY_PREFIX}*"):
            shutil.rmtree(path, ignore_errors=True)

    def _remove_others(self, kept: Path, origin: SnapshotOrigin) -> None:
        with self._flock(".lock", fcntl.LOCK_EX):
            for path, other, _ in self._manifests():
                later = (
                    other is not None
                    and other.database == origin.database
                    and other.activated_at > origin.activated_at
                )
                if path != kept and not later:
                    shutil.rmtree(path, ignore_errors=True)


def _check_origin(
    origin: SnapshotOrigin,
    manifest: Mapping[str, Any],
    database: str,
    dataset_id: int,
    fingerprint: str,
    latest: int,
) -> None:
    if manifest.get("format") != FORMAT:
        raise SnapshotIgnored(f"it is of format {manifest.get('format')!r}, not {FORMAT}")
    if origin.database != database:
        raise SnapshotIgnored(
            f"it was made from another database (identity {origin.database}, this one is "
            f"{database}): the database was replaced"
        )
    if origin.dataset_id != dataset_id:
        raise SnapshotIgnored(
            f"it is of dataset record {origin.dataset_id}, the active one is {dataset_id}"
        )
    if origin.fingerprint != fingerprint:
        raise SnapshotIgnored("the active dataset's regions or sectors differ from its own")
    if origin.seq > latest:
        raise SnapshotIgnored(
            f"it reflects change {origin.seq} but the database's log ends at {latest} "
            "(restored from a backup?)"
        )


def _read_side(path: Path, manifest: Mapping[str, Any], side: str, network: Network) -> Population:
    """One side's population from its files, mapped read-only, each checked against the manifest."""
    try:
        described = manifest["sides"][side]["arrays"]
        arrays = {}
        for name, expected in described.items():
            file = path / f"{side}.{name}.npy"
            size = file.stat().st_size
            if size != expected["bytes"]:
                raise SnapshotIgnored(f"{file.name} has {size} bytes, not {expected['bytes']}")
            # Every byte checked before a search reads any: a corrupted index array (an entry
            # out of bounds, say) would otherwise be read by compiled code at every start.
            if _digest(file) != expected["sha256"]:
                raise SnapshotIgnored(f"{file.name} does not match its SHA-256 in the manifest")
            array = np.load(file, mmap_mode="r", allow_pickle=False)
            if array.dtype.str != expected["dtype"] or list(array.shape) != expected["shape"]:
                raise SnapshotIgnored(
                    f"{file.name} holds {array.dtype.str} {list(array.shape)}, not "
                    f"{expected['dtype']} {expected['shape']}"
                )
            # A plain view of the mapped pages (the mapping lives on as its base): indexing a
            # np.memmap goes through Python (__getitem__, __array_finalize__) on every lookup,
            # some sixty per partner query.
            arrays[name] = np.asarray(array)
        return population_from_arrays(arrays, network, side)
    except SnapshotIgnored:
        raise
    except FileNotFoundError as exc:
        raise SnapshotIgnored(f"{Path(exc.filename or '?').name} is missing") from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SnapshotIgnored(f"{side}: {exc}") from exc


def _digest(file: Path) -> str:
    """The SHA-256 of a file, in hex.

    About 90 ms for the 140 MB of 1.2 million enterprises, read from the page cache.
    """
    with open(file, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
