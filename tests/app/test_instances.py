"""Several instances on one database see each other's writes: two real server processes.

A province runs several instances behind a load balancer. A profile written through one must
change the partner queries of the other within a second, and a dataset swapped through one is
the dataset of both from the next request on. On SQLite the two processes share the file (as two
workers do); with COUNTERPART_TEST_DATABASE_URL they share a PostgreSQL database.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from .live import Server

#: How soon a write through one instance must be seen by the other.
VISIBLE_WITHIN = 1.0


def enterprise(ident: str, region: str, offers: dict[str, float], seeks: dict[str, float]):
    return {
        "id": ident,
        "name": f"Enterprise {ident}",
        "region": region,
        "offers": offers,
        "seeks": seeks,
        "size": "medium",
        "ownership": "private",
    }


def seen_within(check: Callable[[], bool], limit: float) -> float:
    """Seconds until `check()` holds, asked every 20 ms; fails past `limit`."""
    start = time.monotonic()
    while True:
        if check():
            return time.monotonic() - start
        if time.monotonic() - start > limit:
            raise AssertionError(f"not seen within {limit} s")
        time.sleep(0.02)


@pytest.fixture
def instances(tmp_path: Path, databases) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    environment = databases.environment(tmp_path)
    first = Server(tmp_path, environment)  # creates and migrates the database
    second = Server(tmp_path, environment)
    try:
        with first.client() as a, second.client() as b:
            yield a, b
    finally:
        first.stop()
        second.stop()


def partner_ids(client: httpx.Client, ident: str) -> list[str]:
    response = client.get(f"/enterprises/{ident}/partners", params={"k": 10})
    assert response.status_code == 200, response.text
    return [p["id"] for p in response.json()["partners"]]


@pytest.mark.server
def test_a_profile_written_on_one_instance_moves_the_others_partner_queries(instances):
    a, b = instances
    seeker = enterprise("ne-seeker", "harbin", {"robotics_intelligent_equipment": 0.9},
                        {"venture_capital": 0.8})  # fmt: skip
    investor = enterprise("ea-investor", "shanghai", {"venture_capital": 0.6}, {})
    for body in (seeker, investor):
        assert a.post("/enterprises", json=body).status_code == 201
    assert partner_ids(b, "ne-seeker") == ["ea-investor"]  # b builds its index from the store

    # A new and better partner appears on b...
    better = enterprise("ea-better", "jiangsu", {"venture_capital": 0.95},
                        {"robotics_intelligent_equipment": 0.7})  # fmt: skip
    assert a.post("/enterprises", json=better).status_code == 201
    seen_within(lambda: partner_ids(b, "ne-seeker")[:1] == ["ea-better"], VISIBLE_WITHIN)

    # ...an edit that removes the fit removes the partner there...
    edited = a.patch("/enterprises/ea-investor", json={"offers": {"grain": 0.5}})
    assert edited.status_code == 200, edited.text
    seen_within(lambda: partner_ids(b, "ne-seeker") == ["ea-better"], VISIBLE_WITHIN)

    # ...and a deletion too; the seeker's own edit, made on b, is seen by a.
    assert a.delete("/enterprises/ea-better").status_code == 204
    seen_within(lambda: partner_ids(b, "ne-seeker") == [], VISIBLE_WITHIN)
    assert b.patch("/enterprises/ne-seeker", json={"seeks": {"grain": 0.9}}).status_code == 200
    seen_within(lambda: partner_ids(a, "ne-seeker") == ["ea-investor"], VISIBLE_WITHIN)


@pytest.mark.server
def test_a_dataset_swapped_on_one_instance_is_the_dataset_of_both(instances):
    a, b = instances
    before = b.get("/links", params={"limit": 1}).json()["dataset_version"]
    document = a.get("/dataset/document").json()
    document["version"] = f"{document['version']}-swapped"
    swapped = a.put("/dataset", json=document)
    assert swapped.status_code == 200, swapped.text
    # No waiting: the next request on the other instance is computed on the new dataset.
    for client in (b, a):
        assert client.get("/dataset").json()["version"] == document["version"]
        links = client.get("/links", params={"limit": 1}).json()
        assert links["dataset_version"] == document["version"] != before
