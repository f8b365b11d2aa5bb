"""Snapshots of the partner index: a restart maps one and answers as a fresh build does.

The oracle of every test is an app on the same database with snapshots off, which builds its
index from every stored row. A snapshot that does not fit the database is ignored, with a
warning naming why, and the app builds instead.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import delete, func, select, update

import app.services.enterprise_index as enterprise_index
from app.enterprise_files import write_csv
from app.services import imports
from app.services.index_snapshot import SnapshotOrigin, SnapshotStore, dataset_fingerprint
from app.settings import Settings
from app.storage.database import connect
from app.storage.enterprises import changes, prune_changes
from app.storage.identity import identity
from matching import (
    SIDES,
    Enterprise,
    build_population,
    generate_enterprises,
    load_dataset,
    network_from_dataset,
)

from .conftest import ADMIN_KEY, Api, running_api, walk_enterprises
from .live import ROOT, Server

HEADERS = {"Authorization": f"Bearer {ADMIN_KEY}"}
RECORDS = list(generate_enterprises(load_dataset(), 360, seed=11))
FIRST, LATER = RECORDS[:300], RECORDS[300:]


@pytest.fixture(autouse=True)
def bulk_imports(monkeypatch: pytest.MonkeyPatch) -> None:
    """Imports of more than 50 rows log one `bulk` change (not one per row): rebuilt whole."""
    monkeypatch.setattr(imports, "LOGGED_ROWS", 50)


def import_records(api: Api, records: list[dict[str, Any]]) -> None:
    """A bulk import (POST /enterprises/import), which logs one `bulk` change."""
    text = io.StringIO()
    write_csv(records, text)
    response = api.client.post(
        "/enterprises/import",
        content=text.getvalue().encode(),
        headers={**HEADERS, "content-type": "text/csv"},
    )
    assert response.status_code == 200, response.text


def write_some(api: Api) -> None:
    """Writes one by one: a new enterprise, a changed profile, a deletion."""
    new = {**RECORDS[0], "id": "ne-after-snapshot", "name": "After", "contact": None}
    assert api.client.put("/enterprises/ne-after-snapshot", json=new, headers=HEADERS).is_success
    changed = api.client.patch(
        f"/enterprises/{RECORDS[1]['id']}",
        json={"offers": {"grain": 1.0, "venture_capital": 0.7}, "size": "large"},
        headers=HEADERS,
    )
    assert changed.is_success, changed.text
    assert api.client.delete(f"/enterprises/{RECORDS[2]['id']}", headers=HEADERS).is_success


def answers(api: Api) -> dict[str, Any]:
    """Partner queries of enterprises of both sides, and listings under several filters."""
    out: dict[str, Any] = {}
    queried = [str(r["id"]) for r in RECORDS[:40:3]] + ["ne-after-snapshot", str(LATER[0]["id"])]
    for ident in queried:
        response = api.client.get(f"/enterprises/{ident}/partners", params={"k": 12})
        out[f"partners {ident}"] = (response.status_code, response.json())
        filtered = api.client.get(
            f"/enterprises/{ident}/partners", params={"k": 5, "ownership": "private"}
        )
        out[f"private partners {ident}"] = (filtered.status_code, filtered.json())
    for filters in ({}, {"side": "east"}, {"region": "harbin"}, {"sector": "grain"},
                    {"size": "large", "side": "northeast"}):  # fmt: skip
        out[f"list {filters}"] = walk_enterprises(api, limit=37, **filters)
    return out


@pytest.fixture
def oracle(settings: Settings) -> Callable[[], Any]:
    """What an app with snapshots off (building from every row) answers now."""

    def answer() -> dict[str, Any]:
        with running_api(settings.model_copy(update={"index_snapshots": False})) as fresh:
            return answers(fresh)

    return answer


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts full builds of the index (reads of every stored row)."""
    counted: list[int] = []
    original = enterprise_index._stored_profiles

    def counting(session: Any) -> Any:
        counted.append(1)
        return original(session)

    monkeypatch.setattr(enterprise_index, "_stored_profiles", counting)
    return counted


def snapshots(settings: Settings) -> list[Path]:
    return sorted(p for p in settings.index_dir.glob("snapshot-*"))


def manifest_of(path: Path) -> dict[str, Any]:
    return json.loads((path / "manifest.json").read_text())


def latest_seq(settings: Settings) -> int:
    database = connect(settings.resolved_database_url)
    try:
        with database.read() as session:
            return int(session.execute(select(func.max(changes.c.seq))).scalar_one())
    finally:
        database.dispose()


def wait_rebuilt(api: Api) -> None:
    keeper = api.client.app.state.enterprises.keeper  # type: ignore[attr-defined]
    deadline = time.monotonic() + 60
    while keeper.rebuilding:
        assert time.monotonic() < deadline, "the background rebuild did not end"
        time.sleep(0.05)
    keeper.stop()  # and its snapshot written


def mapped(api: Api) -> bool:
    """Whether the index serves from a snapshot's files (mapped read-only)."""
    index = api.client.app.state.enterprises.keeper.loaded  # type: ignore[attr-defined]
    return all(not pool.base.columns.data.flags.writeable for pool in index.sides.values())


@pytest.fixture
def snapshotted(settings: Settings) -> Iterator[Path]:
    """A database with FIRST imported and a snapshot of it; the snapshot's folder."""
    with running_api(settings) as api:
        import_records(api, FIRST)
    (path,) = snapshots(settings)
    yield path


def test_a_restart_maps_the_snapshot_and_answers_as_a_fresh_build(
    settings, snapshotted, builds, oracle
):
    manifest = manifest_of(snapshotted)
    assert manifest["seq"] == latest_seq(settings)
    assert {side: manifest["sides"][side]["count"] for side in SIDES} == {
        "northeast": sum(1 for r in FIRST if str(r["id"]).startswith("ne")),
        "east": sum(1 for r in FIRST if str(r["id"]).startswith("ea")),
    }
    with running_api(settings) as api:
        assert builds == [] and mapped(api)
        assert answers(api) == oracle()
        write_some(api)
        after_writes = answers(api)
    assert after_writes == oracle()
    # Restarted again: the snapshot, then the writes from the log.
    builds.clear()
    with running_api(settings) as api:
        assert builds == [] and mapped(api)
        assert answers(api) == after_writes
    assert snapshots(settings) == [snapshotted]


def test_a_bulk_import_after_the_snapshot_is_rebuilt_in_the_background(
    settings, snapshotted, builds, oracle
):
    with running_api(settings.model_copy(update={"index_snapshots": False})) as other:
        write_some(other)
        import_records(other, LATER + [{**FIRST[5], "offers": {"grain": 0.9}}])
    builds.clear()
    with running_api(settings) as api:
        # Started from the snapshot; the import is rebuilt in the background, then written.
        wait_rebuilt(api)
        assert builds == [1]
        assert answers(api) == oracle()
        assert mapped(api)
    (newer,) = snapshots(settings)
    assert newer != snapshotted and manifest_of(newer)["seq"] == latest_seq(settings)


def test_no_query_waits_for_the_rebuild_of_a_bulk_import_past_the_snapshot(
    settings, snapshotted, monkeypatch, oracle
):
    with running_api(settings.model_copy(update={"index_snapshots": False})) as other:
        write_some(other)
        import_records(other, LATER)
    # The rebuild is held until the queries below are answered.
    gate = threading.Event()
    original = enterprise_index._stored_profiles

    def held(session: Any) -> Any:
        assert gate.wait(60)
        return original(session)

    monkeypatch.setattr(enterprise_index, "_stored_profiles", held)
    with running_api(settings) as api:
        keeper = api.client.app.state.enterprises.keeper  # type: ignore[attr-defined]
        assert keeper.rebuilding and mapped(api)
        # Served meanwhile by the snapshot and the changes logged one by one after it.
        found = api.get("/enterprises/ne-after-snapshot/partners", k=5)["partners"]
        assert found and not {p["id"] for p in found} & {str(r["id"]) for r in LATER}
        assert api.client.get(f"/enterprises/{LATER[0]['id']}/partners").status_code == 200
        assert keeper.rebuilding
        gate.set()
        wait_rebuilt(api)
        assert answers(api) == oracle()


def test_every_full_build_is_written_and_then_served_mapped(settings, builds):
    with running_api(settings) as api:
        import_records(api, FIRST)
        api.client.app.state.enterprises.keeper.stop()  # type: ignore[attr-defined]
        assert mapped(api)
        first = snapshots(settings)
        import_records(api, LATER)
        api.client.app.state.enterprises.keeper.stop()  # type: ignore[attr-defined]
        (second,) = snapshots(settings)
        assert first != [second] and manifest_of(second)["seq"] == latest_seq(settings)
        assert mapped(api) and len(builds) == 3  # start, then after each import


def test_snapshots_off_writes_and_reads_none(settings, monkeypatch, builds):
    monkeypatch.setenv("COUNTERPART_INDEX_SNAPSHOTS", "false")
    assert Settings().index_snapshots is False
    off = settings.model_copy(update={"index_snapshots": False})
    with running_api(off) as api:
        import_records(api, FIRST)
    assert not settings.index_dir.exists()
    with running_api(settings) as api:
        import_records(api, LATER)
    assert snapshots(settings)
    builds.clear()
    with running_api(off) as api:
        assert builds == [1] and not mapped(api)


def test_a_snapshot_folder_that_cannot_be_made_leaves_the_service_serving(
    settings, builds, oracle, caplog
):
    with running_api(settings.model_copy(update={"index_snapshots": False})) as api:
        import_records(api, FIRST)
    settings.index_dir.write_text("a file where the folder should be")
    builds.clear()
    with caplog.at_level(logging.WARNING, logger="counterpart"), running_api(settings) as api:
        assert builds == [1]
        assert answers(api) == oracle()
    assert any("cannot be read" in r.getMessage() for r in caplog.records)


def _edit_manifest(change: Callable[[dict[str, Any]], None]) -> Callable[..., None]:
    def spoil(settings: Settings, path: Path) -> None:
        manifest = manifest_of(path)
        change(manifest)
        (path / "manifest.json").write_text(json.dumps(manifest))

    return spoil


def _in_database(statement: Callable[[int], Any]) -> Callable[..., None]:
    def spoil(settings: Settings, path: Path) -> None:
        database = connect(settings.resolved_database_url)
        try:
            with database.write() as session:
                session.execute(statement(manifest_of(path)["seq"]))
        finally:
            database.dispose()

    return spoil


def _swap_dataset(settings: Settings, path: Path) -> None:
    with running_api(settings.model_copy(update={"index_snapshots": False})) as api:
        document = api.get("/dataset/document")
        document["version"] = "a later version"
        assert api.client.put("/dataset", json=document, headers=HEADERS).is_success


def _truncate(settings: Settings, path: Path) -> None:
    file = path / "east.features_data.npy"
    os.truncate(file, file.stat().st_size // 2)


def _agree(path: Path, side: str, name: str, **described: Any) -> None:
    """The manifest made to agree with a file changed on disk: its size and SHA-256 (and more)."""
    file = path / f"{side}.{name}.npy"
    manifest = manifest_of(path)
    manifest["sides"][side]["arrays"][name].update(
        bytes=file.stat().st_size,
        sha256=hashlib.sha256(file.read_bytes()).hexdigest(),
        **described,
    )
    (path / "manifest.json").write_text(json.dumps(manifest))


def _truncate_and_hide_it(settings: Settings, path: Path) -> None:
    # The manifest agrees with the truncated file: the .npy file itself cannot be mapped whole.
    _truncate(settings, path)
    _agree(path, "east", "features_data")


def _scramble_header(settings: Settings, path: Path) -> None:
    with open(path / "northeast.ids.npy", "r+b") as handle:
        handle.write(b"\0" * 16)
    _agree(path, "northeast", "ids")


def _wrong_shape(settings: Settings, path: Path) -> None:
    # Whole files, a manifest that agrees with them, but one array a row short.
    region = np.load(path / "east.region.npy")[:-1]
    np.save(path / "east.region.npy", region)
    _agree(path, "east", "region", dtype=region.dtype.str, shape=list(region.shape))


def _flip_a_byte(settings: Settings, path: Path) -> None:
    # The same size, header, dtype and shape: one feature value of the last row a few per cent
    # off, which no check of the arrays' layout can see.
    file = path / "east.features_data.npy"
    with open(file, "r+b") as handle:
        handle.seek(-3, os.SEEK_END)
        byte = handle.read(1)[0]
        handle.seek(-3, os.SEEK_END)
        handle.write(bytes([byte ^ 0x80]))


def _prune_log(settings: Settings, path: Path) -> None:
    database = connect(settings.resolved_database_url)
    try:
        with database.write() as session:
            _, horizon = prune_changes(session, datetime.now(UTC) + timedelta(days=1))
        assert horizon is not None and horizon >= manifest_of(path)["seq"]
    finally:
        database.dispose()


SPOILED: dict[str, tuple[Callable[..., None], str]] = {
    "another format": (_edit_manifest(lambda m: m.update(format=99)), "of format 99"),
    "another dataset": (_swap_dataset, "the active one is"),
    "another fingerprint": (
        _edit_manifest(lambda m: m.update(fingerprint="0" * 64)),
        "regions or sectors differ",
    ),
    "a replaced database": (
        _in_database(lambda seq: update(identity).values(id="f" * 32)),
        "made from another database",
    ),
    "a restored backup, behind the snapshot": (
        _edit_manifest(lambda m: m.update(seq=m["seq"] + 1000)),
        "log ends at",
    ),
    "a log pruned past it": (
        _in_database(lambda seq: delete(changes).where(changes.c.seq <= seq)),
        "no longer holds change",
    ),
    "a log pruned by prune-log": (_prune_log, "no longer holds change"),
    "a log of another history": (
        _in_database(
            lambda seq: update(changes).where(changes.c.seq == seq).values(at=datetime.now(UTC))
        ),
        "no longer holds change",
    ),
    "a missing file": (lambda s, p: (p / "east.columns_indices.npy").unlink(), "is missing"),
    "a truncated file": (_truncate, "bytes, not"),
    "a flipped byte": (_flip_a_byte, "east.features_data.npy does not match its SHA-256"),
    "a truncated file the manifest agrees with": (_truncate_and_hide_it, "east:"),
    "a scrambled header": (_scramble_header, "northeast:"),
    "an array of the wrong shape": (_wrong_shape, "`region` must be an array of shape"),
    "an unreadable manifest": (
        lambda s, p: (p / "manifest.json").write_text("{"),
        "manifest is missing or unreadable",
    ),
}


@pytest.mark.parametrize("case", SPOILED.values(), ids=SPOILED)
def test_a_snapshot_that_does_not_fit_is_ignored_and_the_index_built(
    settings, snapshotted, builds, oracle, caplog, case
):
    spoil, reason = case
    with running_api(settings.model_copy(update={"index_snapshots": False})) as other:
        write_some(other)
    spoil(settings, snapshotted)
    builds.clear()
    with caplog.at_level(logging.WARNING, logger="counterpart"), running_api(settings) as api:
        assert builds == [1]
        assert answers(api) == oracle()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(snapshotted.name in w and "ignored" in w and reason in w for w in warnings), warnings
    # The build was written as the new snapshot, and the spoiled one removed.
    (newer,) = snapshots(settings)
    assert newer != snapshotted


def test_a_spoiled_snapshot_of_the_current_state_is_written_again(settings, snapshotted, builds):
    # Nothing written since: the build is of the very state the spoiled snapshot names.
    seq = manifest_of(snapshotted)["seq"]
    _truncate(settings, snapshotted)
    builds.clear()
    with running_api(settings):
        assert builds == [1]
    (again,) = snapshots(settings)
    assert again != snapshotted and manifest_of(again)["seq"] == seq
    with running_api(settings) as api:
        assert builds == [1] and mapped(api)


# The store on its own: half-written snapshots, and writers at once.


@pytest.fixture(scope="module")
def network() -> Any:
    return network_from_dataset(load_dataset())


def populations(network: Any, count: int) -> dict[str, Any]:
    """Both sides' populations of `count` synthetic enterprises."""
    by_side: dict[str, list[Enterprise]] = {side: [] for side in SIDES}
    for r in generate_enterprises(load_dataset(), count, seed=count):
        region = str(r["region"])
        by_side[network.locate(region)[0]].append(
            Enterprise(str(r["id"]), region, r["offers"], r["seeks"])  # type: ignore[arg-type]
        )
    return {side: build_population(by_side[side], network, side) for side in SIDES}


def origin(network: Any, seq: int) -> SnapshotOrigin:
    return SnapshotOrigin(
        database="d" * 32,
        dataset_id=1,
        fingerprint=dataset_fingerprint(network),
        activated_at="2026-01-01T00:00:00+00:00",
        seq=seq,
        change=("x", "upsert", f"t{seq}"),
    )


def load(store: SnapshotStore, network: Any) -> Any:
    return store.load(
        database="d" * 32,
        dataset_id=1,
        network=network,
        latest=100,
        change_at=lambda seq: ("x", "upsert", f"t{seq}"),
    )


def test_a_writer_killed_mid_way_leaves_nothing_that_is_loaded(tmp_path, network):
    store = SnapshotStore(tmp_path / "index")
    assert store.write(origin(network, 1), populations(network, 50), network) is not None
    # A writer of the state after it, killed after its first file.
    script = textwrap.dedent(
        f"""
        import time
        from pathlib import Path
        import numpy as np
        from app.services.index_snapshot import SnapshotOrigin, SnapshotStore, dataset_fingerprint
        from matching import (
            SIDES, Enterprise, build_population, generate_enterprises, load_dataset,
            network_from_dataset,
        )

        net = network_from_dataset(load_dataset())
        by_side = {{side: [] for side in SIDES}}
        for r in generate_enterprises(load_dataset(), 80, seed=80):
            by_side[net.locate(r["region"])[0]].append(
                Enterprise(r["id"], r["region"], r["offers"], r["seeks"])
            )
        built = {{side: build_population(by_side[side], net, side) for side in SIDES}}
        origin = SnapshotOrigin(
            "d" * 32, 1, dataset_fingerprint(net), "2026-01-01T00:00:00+00:00", 2,
            ("x", "upsert", "t2"),
        )
        save = np.save

        def slow(*args, **kwargs):
            save(*args, **kwargs)
            print("saved", flush=True)
            time.sleep(60)

        np.save = slow
        SnapshotStore(Path({str(tmp_path / "index")!r})).write(origin, built, net)
        """
    )
    writer = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline() == b"saved\n"
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        if writer.stdout is not None:
            writer.stdout.close()
    (partial,) = (tmp_path / "index").glob(".tmp-*")
    assert any(partial.iterdir())
    loaded = load(store, network)
    assert loaded is not None and loaded.origin.seq == 1
    # The next writer removes what the killed one left.
    store.write(origin(network, 3), populations(network, 60), network)
    assert not list((tmp_path / "index").glob(".tmp-*"))
    assert load(store, network).origin.seq == 3


def test_writers_at_once_leave_one_whole_snapshot(tmp_path, network):
    built = {seq: populations(network, 40 + seq) for seq in range(1, 7)}
    folder = tmp_path / "index"
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(built) + 1)

    def write(seq: int) -> None:
        try:
            barrier.wait()
            # Each its own store: as two workers (two open files, two flocks) would.
            SnapshotStore(folder).write(origin(network, seq), built[seq], network)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def read() -> None:
        try:
            barrier.wait()
            for _ in range(50):
                found = load(SnapshotStore(folder), network)
                if found is not None:
                    ids = found.populations["east"].ids
                    assert (ids == built[found.origin.seq]["east"].ids).all()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(seq,)) for seq in built]
    threads.append(threading.Thread(target=read))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    (kept,) = folder.glob("snapshot-*")
    assert not list(folder.glob(".tmp-*"))
    loaded = load(SnapshotStore(folder), network)
    assert loaded is not None and loaded.path == kept
    for side in SIDES:
        assert (loaded.populations[side].ids == built[loaded.origin.seq][side].ids).all()
    # The same state again is not written twice.
    again = SnapshotStore(folder).write(loaded.origin, built[loaded.origin.seq], network)
    assert again is not None and again.path == kept


def test_a_restarted_server_answers_from_its_snapshot_as_before(tmp_path, databases):
    # A small import (logged row by row), a restart that builds and writes the snapshot, and
    # one that maps it: three real processes, the same answers.
    environment = databases.environment(tmp_path)
    found = []
    for start in range(3):
        server = Server(tmp_path, environment)
        try:
            with server.client() as client:
                if start == 0:
                    text = io.StringIO()
                    write_csv(FIRST, text)
                    imported = client.post(
                        "/enterprises/import",
                        content=text.getvalue().encode(),
                        headers={"content-type": "text/csv"},
                    )
                    assert imported.status_code == 200, imported.text
                found.append(
                    [
                        client.get(f"/enterprises/{r['id']}/partners", params={"k": 10}).json()
                        for r in FIRST[:30:3]
                    ]
                )
        finally:
            server.stop()
        written = list((tmp_path / "index").glob("snapshot-*"))
        assert len(written) == (0 if start == 0 else 1)
    assert found[0] == found[1] == found[2]
