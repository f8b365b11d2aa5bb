"""The storage layer on the suite's database: writes are serialised on every dialect."""

from __future__ import annotations

import threading
import time
from contextlib import ExitStack

from app.storage import datasets, enterprises, outcomes
from app.storage.database import Database, DatabaseBusy, connect

from .test_migrations import database_url

WRITERS = 4
WRITES = 25


def bump_at_once(database: Database, writers: int, writes: int) -> list[BaseException]:
    """`writers` threads started together, each bumping the revision `writes` times in a write
    transaction of its own; what any of them raised."""
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            barrier.wait()
            for _ in range(writes):
                with database.write() as session:
                    outcomes._bump(session)
        except BaseException as exc:  # noqa: BLE001 - reported by the caller's assertion
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_concurrent_read_modify_writes_lose_no_update(databases, tmp_path):
    # Each write reads the revision and stores it plus one (`_bump`, as every outcome write
    # does). Two writers that both read n would both store n + 1: one update lost. The write
    # lock taken when a write begins makes them queue instead, on SQLite and PostgreSQL alike.
    database = connect(database_url(databases, tmp_path))
    try:
        assert bump_at_once(database, WRITERS, WRITES) == []
        with database.read() as session:
            assert outcomes.revision(session) == WRITERS * WRITES
    finally:
        database.dispose()


def test_a_read_sees_one_snapshot_while_writes_commit(databases, tmp_path):
    database = connect(database_url(databases, tmp_path))
    try:
        with database.write() as session:
            outcomes._bump(session)
        with database.read() as reader:
            assert outcomes.revision(reader) == 1
            with database.write() as session:
                outcomes._bump(session)
            # Still the snapshot of the read's first statement (REPEATABLE READ on PostgreSQL).
            assert outcomes.revision(reader) == 1
        with database.read() as reader:
            assert outcomes.revision(reader) == 2
    finally:
        database.dispose()


def test_as_many_requests_at_once_as_the_threadpool_has_threads_each_get_a_connection(
    databases, tmp_path
):
    # 40 reads in flight at once (uvicorn's threadpool): each needs a connection of its own.
    database = connect(database_url(databases, tmp_path))
    try:
        with ExitStack() as stack:
            sessions = [stack.enter_context(database.read()) for _ in range(40)]
            started = time.perf_counter()
            assert [outcomes.revision(session) for session in sessions] == [0] * 40
            assert time.perf_counter() - started < 10
    finally:
        database.dispose()


def test_writers_of_one_process_take_turns_and_one_kept_waiting_is_told_busy(databases, tmp_path):
    # Forty writers at once, each with a short wait: they queue on the process's turn (SQLite)
    # or the advisory lock (PostgreSQL) and all get through, none told busy, none lost.
    database = connect(database_url(databases, tmp_path), write_wait=5)
    try:
        assert bump_at_once(database, 40, 5) == []
        with database.read() as session:
            assert outcomes.revision(session) == 200
    finally:
        database.dispose()
    # A write that waits longer than `write_wait` for another's turn is refused, naming when
    # to retry, and writes nothing.
    database = connect(database_url(databases, tmp_path), write_wait=0.3)
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with database.write() as session:
            outcomes._bump(session)
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        started = time.monotonic()
        try:
            with database.write() as session:
                outcomes._bump(session)
        except DatabaseBusy as exc:
            assert "retry in 1 s" in exc.detail
            assert exc.retry_after == 1
        else:
            raise AssertionError("a write that waited past write_wait went through")
        assert 0.25 < time.monotonic() - started < 5
    finally:
        release.set()
        holder.join()
    try:
        with database.read() as session:
            assert outcomes.revision(session) == 201
    finally:
        database.dispose()


def test_heads_are_the_active_dataset_and_the_last_change_of_the_reads_snapshot(
    databases, tmp_path
):
    database = connect(database_url(databases, tmp_path))
    try:
        with database.read() as reader:
            assert enterprises.heads(reader) == (None, 0)  # not seeded: no dataset, no change
        with database.write() as session:
            datasets.store_dataset(session, version="v1", digest="d", origin="test", document="{}")
            enterprises.log_change(session, "e1", "upsert")
        with database.read() as reader:
            before = enterprises.heads(reader)
            assert before == (datasets.active_dataset_id(reader), enterprises.latest_change(reader))
            assert before[0] is not None and before[1] > 0
            with database.write() as session:
                enterprises.log_change(session, "e2", "upsert")
            assert enterprises.heads(reader) == before  # the read's own snapshot
        with database.read() as reader:
            assert enterprises.heads(reader) == (before[0], before[1] + 1)
    finally:
        database.dispose()


def test_a_sqlite_write_waits_write_wait_in_all_for_its_turn_and_the_lock(tmp_path):
    # Two Database objects on one file are two processes' writers: each has its own turn.
    url = f"sqlite:///{tmp_path / 'turns.db'}"
    other = connect(url, write_wait=2.0)
    mine = connect(url, write_wait=2.0)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:  # the other process holds SQLite's write lock
        with other.write() as session:
            outcomes._bump(session)
            held.set()
            release.wait(20)

    def write(errors: list[float]) -> None:
        started = time.monotonic()
        try:
            with mine.write() as session:
                outcomes._bump(session)
        except DatabaseBusy:
            errors.append(time.monotonic() - started)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        first: list[float] = []
        second: list[float] = []
        # The first writer takes this process's turn and waits for the lock; the second waits
        # for the turn, then for the lock: both are told busy after write_wait, not the second
        # after twice that.
        one = threading.Thread(target=write, args=(first,))
        one.start()
        time.sleep(0.3)
        two = threading.Thread(target=write, args=(second,))
        two.start()
        one.join()
        two.join()
        assert len(first) == 1 and len(second) == 1
        assert 1.5 < first[0] < 3.0
        assert second[0] < 3.0  # it waited ~1.7 s for the turn and ~0.3 s for the lock
    finally:
        release.set()
        holder.join()
        other.dispose()
        mine.dispose()
