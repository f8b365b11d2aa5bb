"""Pruning the enterprise change log: old entries go, and no worker's index misses a change.

The log grows by a row per write; `counterpart db prune-log` removes the old rows and leaves the
newest of them as the horizon (`store.PRUNED`). A worker whose index predates the horizon builds
it afresh before it answers; one as of a later change goes on advancing write by write.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import insert, select
from typer.testing import CliRunner

from app.cli import cli
from app.services.index_snapshot import SnapshotOrigin, SnapshotStore
from app.services.schema import prune_change_log
from app.storage import datasets, enterprises
from app.storage.database import connect
from app.storage.identity import database_identity

from .test_enterprise_index import EAST, NORTHEAST, answers, profile
from .test_migrations import database_url


def logged(session, *days_ago: float) -> list[int]:
    """Log one change per age (days before now), oldest first; their seqs."""
    now = datetime.now(UTC)
    for number, days in enumerate(days_ago):
        session.execute(
            insert(enterprises.changes).values(
                enterprise_id=f"e{number}", op="upsert", at=now - timedelta(days=days)
            )
        )
    rows = session.execute(select(enterprises.changes.c.seq).order_by("seq")).scalars().all()
    return [int(seq) for seq in rows]


def log_of(database) -> list[tuple[int, str | None, str]]:
    with database.read() as session:
        return enterprises.changes_since(session, 0)


def test_pruning_removes_the_old_changes_and_marks_the_newest_of_them(databases, tmp_path):
    database = connect(database_url(databases, tmp_path))
    try:
        with database.write() as session:
            assert enterprises.prune_changes(session, datetime.now(UTC)) == (0, None)  # empty
            seqs = logged(session, 10, 9, 8, 1, 0)
        with database.write() as session:
            removed = enterprises.prune_changes(session, datetime.now(UTC) - timedelta(days=5))
        assert removed == (2, seqs[2])
        assert log_of(database) == [
            (seqs[2], None, enterprises.PRUNED),
            (seqs[3], "e3", "upsert"),
            (seqs[4], "e4", "upsert"),
        ]
        with database.read() as session:
            assert enterprises.latest_change(session) == seqs[4]
            # A snapshot as of the horizon no longer matches the change it recorded.
            assert enterprises.change_at(session, seqs[2])[:2] == (None, enterprises.PRUNED)
        with database.write() as session:  # the same cutoff again: nothing more to remove
            again = enterprises.prune_changes(session, datetime.now(UTC) - timedelta(days=5))
        assert again == (0, None)
        # Everything is older than tomorrow, but the log's last change is never touched.
        with database.write() as session:
            removed = enterprises.prune_changes(session, datetime.now(UTC) + timedelta(days=1))
        assert removed == (1, seqs[3])
        assert log_of(database) == [
            (seqs[3], None, enterprises.PRUNED),
            (seqs[4], "e4", "upsert"),
        ]
    finally:
        database.dispose()


def test_a_worker_behind_the_horizon_rebuilds_and_one_past_it_advances(
    settings, open_api, admin_headers, put_enterprises
):
    rng = np.random.default_rng(7)
    start = [profile(rng, f"n{i:02d}", str(rng.choice(NORTHEAST))) for i in range(20)]
    start += [profile(rng, f"e{i:02d}", str(rng.choice(EAST))) for i in range(20)]
    ids = [p["id"] for p in start]
    with open_api(settings) as writer:
        put_enterprises(writer, start)
        with open_api(settings) as idle:
            before = answers(idle, ids)  # its index as of the import; then it sees no query
            for ident in ids[::3]:
                body = {"offers": profile(rng, ident, "")["offers"]}
                changed = writer.client.patch(
                    f"/enterprises/{ident}", json=body, headers=admin_headers
                )
                assert changed.status_code == 200, changed.text
            answers(writer, ids[:1])  # the writer's index advances to the log's end
            busy = writer.client.app.state.enterprises.keeper.loaded
            assert busy.changed
            snapshots = SnapshotStore(settings.index_dir).origins()
            assert snapshots  # the import's build wrote one, as of the import's change
            pruned = prune_change_log(settings, timedelta(0))
            assert pruned.removed > 0 and pruned.horizon is not None
            # The horizon passed that snapshot: it is named, and no longer maps.
            assert pruned.outdated == snapshots[-1].seq < pruned.horizon
            # Behind the horizon: the changes up to it are gone, so the idle worker builds its
            # index afresh (its snapshot as of the import no longer fits) and answers as new.
            after = answers(idle, ids)
            assert after != before
            with open_api(settings) as afresh:
                assert answers(afresh, ids) == after
            assert not idle.client.app.state.enterprises.keeper.loaded.changed
            # Past the horizon: the writer's index goes on advancing write by write.
            new = profile(rng, "x01", str(rng.choice(EAST)))
            created = writer.client.put("/enterprises/x01", json=new, headers=admin_headers)
            assert created.status_code == 201, created.text
            assert answers(writer, ids) == answers(idle, ids)
            kept = writer.client.app.state.enterprises.keeper.loaded
            assert set(kept.changed) == set(busy.changed) | {"x01"}


@pytest.fixture
def environment(databases, tmp_path, monkeypatch):
    from app.settings import get_settings

    for name, value in databases.environment(tmp_path).items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield databases.url(tmp_path) or f"sqlite:///{tmp_path / 'counterpart.db'}"
    get_settings.cache_clear()


def test_the_prune_log_command_says_what_it_removed(environment, tmp_path):
    database = connect(environment)
    try:
        with database.write() as session:
            datasets.store_dataset(session, version="v1", digest="d", origin="test", document="{}")
            seqs = logged(session, 40, 35, 31, 2)
            identity = database_identity(session)
    finally:
        database.dispose()
    kept = CliRunner().invoke(cli, ["db", "prune-log", "--keep-days", "45"])
    assert kept.exit_code == 0, kept.output
    assert "no change logged more than 45 days ago: nothing removed" in kept.output
    # A snapshot of this data directory as of a change the pruning removes (its manifest is all
    # the command reads).
    snapshot = tmp_path / "index" / f"snapshot-{seqs[1]:012d}-0000abcd"
    snapshot.mkdir(parents=True)
    origin = SnapshotOrigin(identity, 1, "f", "2020-01-01T00:00:00+00:00", seqs[1], None)
    (snapshot / "manifest.json").write_text(json.dumps(origin.manifest()))
    pruned = CliRunner().invoke(cli, ["db", "prune-log", "--keep-days", "30"])
    assert pruned.exit_code == 0, pruned.output
    assert f"removed 2 changes; change {seqs[2]} now marks where the log starts" in pruned.output
    assert f"(as of change {seqs[1]}) predates it: the next worker" in pruned.output
    for wrong in ("-1", "1e9"):
        refused = CliRunner().invoke(cli, ["db", "prune-log", "--keep-days", wrong])
        assert refused.exit_code == 2 and "--keep-days" in refused.output
