"""A real server killed with SIGKILL during an import and during a dataset swap, then restarted.

Checked after each restart: every write answered 2xx before the kill is there; the import is
all there or not at all; the dataset is the old one or the new one, whole; the imports' scratch
folder is empty; SQLite's `PRAGMA integrity_check` is ok.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import threading
import time
from pathlib import Path

import httpx
import pytest

from app.enterprise_files import write_jsonl
from matching import generate_enterprises, load_dataset

from .live import Server

#: Rows of the import that is killed: enough for its write phase to take a while.
IMPORT_ROWS = 40_000


def integrity(data_dir: Path) -> str:
    with sqlite3.connect(data_dir / "counterpart.db") as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


def scratch(data_dir: Path) -> list[str]:
    """What is in the data directory beside the database: the imports' leftovers, if any.

    The partner index's snapshots (``index/``) are not leftovers: they are meant to stay.
    """
    database = {"counterpart.db", "counterpart.db-wal", "counterpart.db-shm"}
    found = []
    for folder, dirs, files in os.walk(data_dir):
        here = Path(folder)
        if here == data_dir:
            # Not walked into: a restarted server may be writing (and renaming) a snapshot there.
            dirs[:] = [d for d in dirs if d != "index"]
        found += [here / name for name in dirs + files]
    return sorted(
        str(p.relative_to(data_dir))
        for p in found
        if p.name not in database and p != data_dir / "tmp"
    )


def stored_ids(client: httpx.Client) -> set[str]:
    ids: set[str] = set()
    cursor = None
    while True:
        params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        page = client.get("/enterprises", params=params).json()
        ids |= {item["id"] for item in page["items"]}
        cursor = page["next_cursor"]
        if cursor is None:
            return ids


def acknowledged_writes(client: httpx.Client, prefix: str, count: int) -> set[str]:
    written = set()
    for n in range(count):
        ident = f"{prefix}-{n}"
        profile = {"id": ident, "name": f"Acknowledged {n}", "region": "harbin"}
        response = client.put(f"/enterprises/{ident}", json=profile)
        assert response.status_code == 201, response.text
        written.add(ident)
    return written


def in_background(call) -> threading.Thread:
    def run() -> None:
        try:
            call()
        except httpx.TransportError:
            pass  # the server was killed under it

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def wal_bytes(data_dir: Path) -> int:
    wal = data_dir / "counterpart.db-wal"
    return wal.stat().st_size if wal.exists() else 0


@pytest.mark.server
def test_sigkill_during_an_import_and_a_dataset_swap_loses_nothing_acknowledged(tmp_path):
    records = list(generate_enterprises(load_dataset(), IMPORT_ROWS, seed=11))
    text = io.StringIO()
    write_jsonl(records, text)
    body = text.getvalue().encode()
    imported_ids = {r["id"] for r in records}

    # 1. Writes acknowledged before and during an import, which is killed in its write phase.
    server = Server(tmp_path)
    try:
        with server.client() as client:
            acknowledged = acknowledged_writes(client, "before-import", 5)
            before = wal_bytes(tmp_path)
            answer: list[httpx.Response] = []
            importer = in_background(
                lambda: answer.append(
                    client.post(
                        "/enterprises/import",
                        content=body,
                        headers={"content-type": "application/x-ndjson"},
                    )
                )
            )
            # A write while the import is under way (its upload spooled to disk) goes through.
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and importer.is_alive() and not scratch(tmp_path):
                time.sleep(0.005)
            acknowledged |= acknowledged_writes(client, "during-import", 1)
            # Killed once its write has begun (the database's log grows).
            while time.monotonic() < deadline and importer.is_alive():
                if wal_bytes(tmp_path) > before + 2**20:
                    break
                time.sleep(0.005)
            assert not answer, "the import was over before the kill"
            server.kill()
            importer.join(timeout=10)
    finally:
        server.kill()
    assert integrity(tmp_path) == "ok"

    # 2. Restart: acknowledged writes are there, the import is whole or absent, no scratch left.
    server = Server(tmp_path)
    try:
        assert scratch(tmp_path) == []
        with server.client() as client:
            ids = stored_ids(client)
            assert acknowledged <= ids
            present = ids & imported_ids
            assert present in (set(), imported_ids), f"{len(present)} of {IMPORT_ROWS} imported"
            acknowledged |= acknowledged_writes(client, "before-swap", 3)

            # 3. A dataset swap killed while it runs.
            document = client.get("/dataset/document").json()
            old_version = document["version"]
            document["version"] = f"{old_version}-swapped"
            swap = json.dumps(document).encode()
            swapped: list[httpx.Response] = []
            putter = in_background(
                lambda: swapped.append(
                    client.put(
                        "/dataset", content=swap, headers={"content-type": "application/json"}
                    )
                )
            )
            time.sleep(0.05)
            server.kill()
            putter.join(timeout=10)
    finally:
        server.kill()
    assert integrity(tmp_path) == "ok"

    # 4. Restart: the old dataset or the new one, served whole; nothing acknowledged lost.
    server = Server(tmp_path)
    try:
        assert scratch(tmp_path) == []
        with server.client() as client:
            version = client.get("/dataset").json()["version"]
            assert version in (old_version, f"{old_version}-swapped")
            if swapped and swapped[0].is_success:
                assert version == f"{old_version}-swapped"
            links = client.get("/links", params={"limit": 5})
            assert links.status_code == 200, links.text
            assert links.json()["dataset_version"] == version
            assert acknowledged <= stored_ids(client)
    finally:
        server.kill()
    assert integrity(tmp_path) == "ok"
