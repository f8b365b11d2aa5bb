"""A worker's index moved forward write by write answers as one built from scratch.

Every worker applies every write to its index (`IndexKeeper._advance`): the overlay of the side
a write touched is rebuilt and the base rows it supersedes are marked removed. Here one worker
writes at random (creates, changes, moves to the other side, deletes) while another follows the
change log; after each round its answers, and its removed rows, are set against a worker that
built its index from the database as it is then (the oracle).
"""

from __future__ import annotations

import numpy as np
import pytest

from matching import SIDES

NORTHEAST = ("liaoning", "jilin", "heilongjiang", "shenyang", "dalian")
EAST = ("jiangsu", "zhejiang", "guangdong", "beijing", "shanghai")
SECTORS = ("machine_tools", "heavy_machinery", "power_equipment", "automotive", "grain")


def profile(rng, ident, region):
    def sectors():
        chosen = rng.choice(SECTORS, size=int(rng.integers(1, 4)), replace=False)
        return {str(s): float(rng.integers(1, 9)) / 8 for s in chosen}

    return {
        "id": ident,
        "name": f"Enterprise {ident} {int(rng.integers(1_000_000))}",
        "region": region,
        "offers": sectors(),
        "seeks": sectors(),
        "size": str(rng.choice(("micro", "small", "medium", "large"))),
        "ownership": str(rng.choice(("state", "private", "foreign", "mixed"))),
    }


def answers(api, ids):
    found = {}
    for ident in ids:
        response = api.client.get(f"/enterprises/{ident}/partners", params={"k": 20})
        found[ident] = (
            response.status_code,
            # The cards too: a worker keeps the cards it read until their enterprise is written.
            [
                (p["id"], round(p["score"], 12), p["name"], p["region"], p["size"], p["ownership"])
                for p in response.json().get("partners", [])
            ],
        )
    return found


@pytest.mark.parametrize("seed", [1, 2])
def test_an_index_advanced_write_by_write_answers_as_one_built_afresh(
    settings, open_api, admin_headers, put_enterprises, seed
):
    rng = np.random.default_rng(seed)
    start = [profile(rng, f"n{i:02d}", str(rng.choice(NORTHEAST))) for i in range(30)]
    start += [profile(rng, f"e{i:02d}", str(rng.choice(EAST))) for i in range(30)]
    with open_api(settings) as writer:
        put_enterprises(writer, start)
        # The follower's base holds the starting population; what follows is advanced.
        with open_api(settings) as follower:
            follow(writer, follower, settings, open_api, admin_headers, rng, start)


def follow(writer, follower, settings, open_api, admin_headers, rng, start):
    """Rounds of random writes through `writer`, each followed by `follower`, checked."""
    ids = [p["id"] for p in start]
    touched: list[str] = []
    for round_ in range(4):
        for step in range(16):
            # Half the time one written before: a second change of an enterprise already in
            # the overlay (moved away, or deleted) must take it out of its side's overlay.
            pick = touched if touched and rng.random() < 0.5 else ids
            ident = str(rng.choice(pick))
            action = rng.integers(0, 5)
            if action == 0:  # a change of what it offers
                body = {"offers": profile(rng, ident, "")["offers"]}
                writer.client.patch(f"/enterprises/{ident}", json=body, headers=admin_headers)
            elif action == 4:  # a new name only: the same scores, another card
                body = {"name": f"Renamed {ident} in {round_}.{step}"}
                writer.client.patch(f"/enterprises/{ident}", json=body, headers=admin_headers)
            elif action == 1:  # a new profile, on either side
                body = profile(rng, ident, str(rng.choice(NORTHEAST + EAST)))
                writer.client.put(f"/enterprises/{ident}", json=body, headers=admin_headers)
            elif action == 2:
                writer.client.delete(f"/enterprises/{ident}", headers=admin_headers)
            else:  # a new one
                ident = f"x{round_}{step}"
                body = profile(rng, ident, str(rng.choice(NORTHEAST + EAST)))
                created = writer.client.put(
                    f"/enterprises/{ident}", json=body, headers=admin_headers
                )
                assert created.status_code == 201, created.text
                ids.append(ident)
            touched.append(ident)
            # The follower moves its index forward by this one write (a 404 syncs too).
            follower.client.get(f"/enterprises/{ident}/partners")
        followed = answers(follower, ids)
        with open_api(settings) as afresh:
            assert answers(afresh, ids) == followed
        index = follower.client.app.state.enterprises.keeper.loaded
        assert index.changed  # the follower advanced; it did not rebuild
        for side in SIDES:
            pool = index.sides[side]
            assert np.array_equal(pool.removed_rows, np.flatnonzero(pool.removed))


class VersionedCards:
    """`store.get_cards` over a history: each read answers as of the session it is given."""

    def __init__(self) -> None:
        self.names: dict[int, dict[str, str]] = {}
        self.reads = 0

    def __call__(self, session, ids):
        from app.storage.enterprises import EnterpriseCard

        self.reads += 1
        names = self.names[session]  # the "session" is the change it reads as of
        return {i: EnterpriseCard(i, names[i], "dalian", "small", "private") for i in ids}


def test_kept_cards_answer_as_the_querys_own_read_would(monkeypatch):
    from app.services import enterprise_index

    history = VersionedCards()
    monkeypatch.setattr(enterprise_index.store, "get_cards", history)
    history.names = {
        5: {"a": "A1", "b": "B1"},
        6: {"a": "A2", "b": "B1"},
        7: {"a": "A2", "b": "B1"},
    }
    cache = enterprise_index.CardCache(5)

    def names(seq, ids=("a", "b")):
        return {i: c.name for i, c in cache.read(seq, seq, ids).items()}

    assert names(5) == {"a": "A1", "b": "B1"}
    assert history.reads == 1
    assert names(5) == {"a": "A1", "b": "B1"}  # kept
    assert history.reads == 1
    cache.written(["a"], 6)  # the index advanced past a write of "a"
    # A query still on the older index reads "a" as of 5, and keeps it...
    assert names(5) == {"a": "A1", "b": "B1"}
    # ...which must not serve a query as of the write or later.
    assert names(6) == {"a": "A2", "b": "B1"}
    assert names(7) == {"a": "A2", "b": "B1"}
    reads = history.reads
    assert names(7) == {"a": "A2", "b": "B1"}
    assert history.reads == reads  # "a" as read at 6 serves 7: not written since
    # A card read as of a later change serves an earlier query only if not written between.
    cache.written(["b"], 8)
    history.names[8] = {"a": "A2", "b": "B3"}
    assert names(8) == {"a": "A2", "b": "B3"}
    assert names(7) == {"a": "A2", "b": "B1"}


def test_a_full_card_cache_starts_afresh_and_a_bulk_floor_refuses_older_reads(monkeypatch):
    from app.services import enterprise_index

    history = VersionedCards()
    monkeypatch.setattr(enterprise_index.store, "get_cards", history)
    history.names = {3: {i: f"{i}3" for i in "abcd"}, 4: {i: f"{i}4" for i in "abcd"}}
    cache = enterprise_index.CardCache(4, limit=3)
    # A read older than the cache's floor (a bulk change at 4) is answered but not kept.
    assert cache.read(3, 3, ["a"])["a"].name == "a3"
    assert cache.read(4, 4, ["a"])["a"].name == "a4"
    assert cache.read(4, 4, ["b", "c"])["c"].name == "c4"
    reads = history.reads
    assert [c.name for c in cache.read(4, 4, ["a", "b", "c"]).values()] == ["a4", "b4", "c4"]
    assert history.reads == reads
    cache.read(4, 4, ["d"])  # a fourth card: past the limit, the cache starts afresh
    cache.read(4, 4, ["a"])
    assert history.reads == reads + 2
