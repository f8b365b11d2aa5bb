"""A partner query on a current index reads outside a transaction, and never mixes two states.

When a worker's index is at the change log's last change, a partner query needs the database for
one statement (which dataset is active, how far the log goes) and for the cards it does not keep;
it runs them outside a transaction (`EnterpriseService.search_read`), each statement a snapshot
of its own. The card read carries the log's last change: if a write landed since the first
statement, the query is answered again in a read transaction, as of the write. Both databases
(the PostgreSQL run sets COUNTERPART_TEST_DATABASE_URL).
"""

from __future__ import annotations

import re

from sqlalchemy import event

from app.services import enterprise_index

PROFILES = [
    {"id": "pr-n1", "name": "N1", "region": "harbin", "offers": {"grain": 1.0},
     "seeks": {"machine_tools": 0.6}},
    {"id": "pr-e1", "name": "E1", "region": "shanghai", "seeks": {"grain": 0.9}},
    {"id": "pr-e2", "name": "E2", "region": "beijing", "seeks": {"grain": 0.5}},
    {"id": "pr-e3", "name": "E3", "region": "guangdong", "seeks": {"grain": 0.3},
     "offers": {"machine_tools": 0.4}},
]  # fmt: skip


def _reads(api, read):
    text = api.client.get("/metrics").text
    match = re.search(rf'^counterpart_partner_reads_total{{read="{read}"}} (\S+)$', text, re.M)
    return float(match.group(1)) if match else 0.0


def _partners(api, ident):
    response = api.client.get(f"/enterprises/{ident}/partners", params={"k": 10})
    assert response.status_code == 200, response.text
    return [
        (p["id"], round(p["score"], 12), p["name"], p["region"], p["size"], p["ownership"])
        for p in response.json()["partners"]
    ]


class Statements:
    """The SQL statements an app's database runs while the block runs."""

    def __init__(self, api):
        self.engine = api.client.app.state.database.engine
        self.seen: list[str] = []

    def _count(self, _conn, _cursor, statement, *_args):
        self.seen.append(statement)

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self.seen

    def __exit__(self, *_exc):
        event.remove(self.engine, "before_cursor_execute", self._count)


def test_a_query_on_a_current_index_with_its_cards_kept_is_one_statement(api, put_enterprises):
    put_enterprises(api, PROFILES)
    reads = {read: _reads(api, read) for read in ("outside", "transaction", "stale")}
    first = _partners(api, "pr-n1")  # the index catches up with the writes, the cards are read
    assert {p[0] for p in first} == {"pr-e1", "pr-e2", "pr-e3"}
    with Statements(api) as statements:
        again = _partners(api, "pr-n1")
    assert again == first
    # Which dataset is active and how far the log goes: no BEGIN, no card read, no COMMIT.
    assert len(statements) == 1, statements
    assert _reads(api, "outside") - reads["outside"] == 2
    assert _reads(api, "transaction") == reads["transaction"]
    assert _reads(api, "stale") == reads["stale"]


def test_a_query_after_another_workers_write_catches_up_outside_a_transaction(
    settings, open_api, admin_headers, put_enterprises
):
    with open_api(settings) as writer, open_api(settings) as reader:
        put_enterprises(writer, PROFILES)
        before = {p[0]: p for p in _partners(reader, "pr-n1")}
        assert before.keys() == {"pr-e1", "pr-e2", "pr-e3"}
        reads = {read: _reads(reader, read) for read in ("outside", "transaction", "stale")}
        # Another worker renames a partner and cuts what it seeks of what the query offers.
        body = {"name": "Renamed", "seeks": {"grain": 0.1}}
        patched = writer.client.patch("/enterprises/pr-e1", json=body, headers=admin_headers)
        assert patched.status_code == 200, patched.text
        with Statements(reader) as statements:
            after = _partners(reader, "pr-n1")
        # The log's head; the changes past the index with the profiles they name; the one card
        # the write made stale, with the log's head again. No transaction.
        assert len(statements) == 3, statements
        assert _reads(reader, "outside") - reads["outside"] == 1
        assert _reads(reader, "transaction") == reads["transaction"]
        assert _reads(reader, "stale") == reads["stale"]
        renamed = {p[0]: p for p in after}["pr-e1"]
        assert renamed[2] == "Renamed"
        assert renamed[1] < before["pr-e1"][1]
        # The answer of a worker that starts after the write.
        with open_api(settings) as afresh:
            assert after == _partners(afresh, "pr-n1")


def test_a_write_between_the_two_statements_sends_the_query_to_a_transaction(
    settings, open_api, admin_headers, put_enterprises, monkeypatch
):
    with open_api(settings) as writer, open_api(settings) as reader:
        put_enterprises(writer, PROFILES)
        # The reader's index catches up, and it keeps the northeast cards (an east query's).
        assert [p[0] for p in _partners(reader, "pr-e1")] == ["pr-n1"]
        stale = _reads(reader, "stale")
        original = enterprise_index.store.get_cards_at_head
        written: list[str] = []

        def write_first(connection, ids):
            # Another worker writes after this query read the log, before it reads the cards:
            # the best partner now offers nothing the query seeks, and has a new name.
            ids = list(ids)
            if not written:
                written.append(ids[0])
                body = {"name": "Renamed", "seeks": {"power_equipment": 0.2}}
                response = writer.client.patch(
                    f"/enterprises/{ids[0]}", json=body, headers=admin_headers
                )
                assert response.status_code == 200, response.text
            return original(connection, ids)

        monkeypatch.setattr(enterprise_index.store, "get_cards_at_head", write_first)
        answer = _partners(reader, "pr-n1")
        assert written == ["pr-e1"]
        assert _reads(reader, "stale") - stale == 1
        monkeypatch.undo()
        # The answer is the one a worker that starts after the write gives: scores and cards
        # of one state, not the old scores beside the new name.
        with open_api(settings) as afresh:
            assert answer == _partners(afresh, "pr-n1")


def test_a_query_the_index_cannot_answer_is_read_in_a_transaction_and_not_counted_stale(
    api, put_enterprises
):
    put_enterprises(api, PROFILES)
    _partners(api, "pr-n1")  # the index is current from here on
    reads = {read: _reads(api, read) for read in ("outside", "transaction", "stale")}
    # An id the index does not hold: only the database can say whether it exists.
    response = api.client.get("/enterprises/pr-nobody/partners")
    assert response.status_code == 404, response.text
    assert "pr-nobody" in response.json()["detail"]
    assert _reads(api, "transaction") - reads["transaction"] == 1
    assert _reads(api, "stale") == reads["stale"]
    assert _reads(api, "outside") == reads["outside"]
