"""Scratch space of imports: a folder per import, and a SQLite file its checked rows wait in.

An import parses and checks its whole file before it takes the database's write lock, so that
other writes wait only for the short write phase. The checked rows wait on disk, not in memory, in
a `StagedRows` file of the import's `workspace`; the id is its primary key, which finds a
repeated id in a file of millions without holding a set of them.

Every workspace holds an exclusive `flock` on a file inside it while it lives. A process that
starts (`clear_workspaces`) removes every workspace whose lock it can take: what a killed import
left behind, never the workspace of an import still running in another worker or command.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["StagedRows", "clear_workspaces", "workspace"]

_LOCK = ".lock"


@contextmanager
def workspace(parent: Path) -> Iterator[Path]:
    """A new folder under `parent`, locked while the block runs and removed after it."""
    parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="import-", dir=parent))
    descriptor = os.open(folder / _LOCK, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        os.close(descriptor)


def clear_workspaces(parent: Path) -> list[str]:
    """Remove what imports that no longer run left in `parent`; return the names removed."""
    if not parent.is_dir():
        return []
    removed = []
    for entry in sorted(parent.iterdir()):
        if entry.is_dir() and not entry.is_symlink() and (entry / _LOCK).exists():
            try:
                descriptor = os.open(entry / _LOCK, os.O_RDWR)
            except FileNotFoundError:  # its import just finished and removed it
                continue
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # a live import in another process
                os.close(descriptor)
                continue
            shutil.rmtree(entry, ignore_errors=True)
            os.close(descriptor)
        elif entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry.name)
    return removed


class StagedRows:
    """Rows keyed by id in a scratch SQLite file, read back in the order they were added.

    The file is scratch: no journal, no fsync (a crash loses only what the next start removes).
    """

    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        if columns[0] != "id":
            raise ValueError(f"`columns` must start with 'id', got {columns[0]!r}")
        self.columns = tuple(columns)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        others = ", ".join(f'"{c}"' for c in self.columns[1:])
        self._db.execute(f'CREATE TABLE staged (id TEXT PRIMARY KEY, "row" INTEGER, {others})')
        marks = ", ".join("?" * (len(self.columns) + 1))
        self._insert = f"INSERT OR IGNORE INTO staged VALUES ({marks})"
        self.count = 0

    def add(self, rows: Sequence[tuple[int, tuple[Any, ...]]]) -> dict[int, int]:
        """Stage (row number, values) pairs; return {row number: first row} of repeated ids.

        A repeated id (in this batch or an earlier one) is not staged: its first row stays.
        """
        self._db.execute("BEGIN")
        before = self._db.total_changes
        self._db.executemany(self._insert, [(v[0], n, *v[1:]) for n, v in rows])
        self._db.execute("COMMIT")
        added = self._db.total_changes - before
        self.count += added
        if added == len(rows):
            return {}
        repeated: dict[int, int] = {}
        for start in range(0, len(rows), 900):
            chunk = rows[start : start + 900]
            marks = ", ".join("?" * len(chunk))
            first = dict(
                self._db.execute(
                    f'SELECT id, "row" FROM staged WHERE id IN ({marks})', [v[0] for _, v in chunk]
                ).fetchall()
            )
            repeated.update({n: first[v[0]] for n, v in chunk if first[v[0]] != n})
        return repeated

    def batches(self, size: int) -> Iterator[list[tuple[Any, ...]]]:
        """The staged rows' values (without row numbers) in the order added, `size` at a time."""
        columns = ", ".join(f'"{c}"' for c in self.columns)
        after = 0
        while True:
            found = self._db.execute(
                f"SELECT rowid, {columns} FROM staged WHERE rowid > ? ORDER BY rowid LIMIT ?",
                (after, size),
            ).fetchall()
            if not found:
                return
            after = found[-1][0]
            yield [r[1:] for r in found]

    def close(self) -> None:
        """Close the file (the workspace removes it); closing twice is allowed."""
        self._db.close()
