"""Profiles change while people search: every change is visible to the next query, never half.

Workers are apps on the same data directory; threads send requests at the same time through
them. Every thread records what it saw and the main thread asserts, so that a failure in a
thread fails the test.
"""

from __future__ import annotations

import io
import math
import threading
import time

import pytest

from app.enterprise_files import write_jsonl
from matching import Enterprise, explain_match, generate_enterprises, load_dataset

SIZES = ("micro", "small", "medium", "large")
OWNERSHIPS = ("state", "private", "foreign", "mixed")
# A partner's generation sets its intensities, size and ownership: a response mixing two
# generations of one partner (a score of one, a name of another) shows a half-applied change.
INTENSITIES = (0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0)
QUERY = {
    "id": "q",
    "name": "Harbin Query",
    "region": "harbin",
    "offers": {"machine_tools": 1.0},
    "seeks": {"grain": 1.0},
}
PARTNERS = ("p0", "p1", "p2")
RUN_SECONDS = 2.0


def versioned(ident, generation):
    """Partner `ident` as written in `generation`."""
    value = INTENSITIES[generation % len(INTENSITIES)]
    return {
        "id": ident,
        "name": f"Partner {ident} generation {generation}",
        "region": "shanghai",
        "offers": {"grain": value},
        "seeks": {"machine_tools": value},
        "size": SIZES[generation % 4],
        "ownership": OWNERSHIPS[generation // 4 % 4],
    }


def generation_of(partner):
    return int(partner["name"].rsplit(" ", 1)[1])


def close(a, b):
    return math.isclose(a, b, rel_tol=0, abs_tol=1e-9)


def as_enterprise(profile):
    return Enterprise(profile["id"], profile["region"], profile["offers"], profile["seeks"])


@pytest.fixture
def explained_generation(enterprise_model):
    """The explanation of the query's match with a partner of each generation (mod 8)."""
    cache = {}

    def explained(generation):
        key = generation % len(INTENSITIES)
        if key not in cache:
            partner = as_enterprise(versioned("p", generation))
            cache[key] = explain_match(enterprise_model, as_enterprise(QUERY), partner)
        return cache[key]

    return explained


def assert_whole_generation(partner, explained):
    """The partner's name, size, ownership, score and its parts all tell the same generation."""
    generation = generation_of(partner)
    assert partner["size"] == SIZES[generation % 4], partner
    assert partner["ownership"] == OWNERSHIPS[generation // 4 % 4], partner
    expected = explained(generation)
    assert close(partner["score"], expected.score), (partner, expected)
    assert partner["contributions"].keys() == expected.contributions.keys(), partner
    for name, value in expected.contributions.items():
        assert close(partner["contributions"][name], value), (partner, expected)
    terms = {(t["sector"], t["direction"]): t["value"] for t in partner["terms"]}
    assert terms.keys() == {(s, d) for s, d, _ in expected.terms}, (partner, expected)
    assert all(close(terms[(s, d)], v) for s, d, v in expected.terms), (partner, expected)
    return generation


def assert_stored_generation(item):
    """A stored profile's name and fields tell the same generation."""
    generation = generation_of(item)
    expected = versioned(item["id"], generation)
    assert {key: item[key] for key in expected} == expected, item
    return generation


class Race:
    """Threads that start together, run until a deadline and collect what went wrong."""

    def __init__(self, parties, seconds=RUN_SECONDS):
        self.barrier = threading.Barrier(parties)
        self.seconds = seconds
        self.deadline = math.inf
        self.problems = []
        self.threads = []

    def running(self):
        return time.monotonic() < self.deadline and not self.problems

    def spawn(self, target, *args):
        def run():
            self.barrier.wait()
            self.deadline = min(self.deadline, time.monotonic() + self.seconds)
            try:
                target(*args)
            except Exception as exc:  # noqa: BLE001 - reported by the main thread
                self.problems.append(f"{target.__name__}{args[:1]}: {exc!r}")

        self.threads.append(threading.Thread(target=run))

    def run(self):
        for thread in self.threads:
            thread.start()
        for thread in self.threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in self.threads)
        assert not self.problems, self.problems[:3]


def test_a_write_through_one_worker_is_visible_to_the_next_query_through_another(
    settings, open_api, admin_headers, all_enterprises, check_error
):
    def partner_ids(api):
        return [p["id"] for p in api.get("/enterprises/q/partners", k=100)["partners"]]

    with open_api(settings) as one, open_api(settings) as two:
        assert one.client.put("/enterprises/q", json=QUERY, headers=admin_headers).is_success
        assert partner_ids(two) == []

        created = one.client.put("/enterprises/p0", json=versioned("p0", 1), headers=admin_headers)
        assert created.status_code == 201, created.text
        assert two.get("/enterprises/p0", key=True) == created.json()
        assert partner_ids(two) == ["p0"]
        assert [item["id"] for item in all_enterprises(two, side="east")] == ["p0"]

        patched = two.client.patch(
            "/enterprises/p0", json={"offers": {"grain": 0.25}}, headers=admin_headers
        )
        assert patched.status_code == 200, patched.text
        assert one.get("/enterprises/p0", key=True) == patched.json()
        scores = {
            name: api.get("/enterprises/q/partners")["partners"][0]["score"]
            for name, api in (("one", one), ("two", two))
        }
        assert scores["one"] == scores["two"]

        posted = two.client.post("/enterprises", json=versioned("p1", 2), headers=admin_headers)
        assert posted.status_code == 201, posted.text
        assert sorted(partner_ids(one)) == ["p0", "p1"]

        assert one.client.delete("/enterprises/p0", headers=admin_headers).status_code == 204
        check_error(two.client.get("/enterprises/p0"), 404, "NotFound")
        assert partner_ids(two) == ["p1"]
        assert [item["id"] for item in all_enterprises(two)] == ["p1", "q"]

        text = io.StringIO()
        write_jsonl([versioned("p2", 3), versioned("p3", 4)], text)
        imported = two.client.post(
            "/enterprises/import",
            content=text.getvalue().encode(),
            headers={**admin_headers, "content-type": "application/x-ndjson"},
        )
        assert imported.status_code == 200, imported.text
        assert sorted(partner_ids(one)) == ["p1", "p2", "p3"]

        assert two.client.delete("/enterprises/q", headers=admin_headers).status_code == 204
        check_error(one.client.get("/enterprises/q/partners"), 404, "NotFound")


def test_concurrent_readers_see_each_write_whole_and_never_an_older_one(
    settings, open_api, admin_headers, explained_generation
):
    """One writer replaces partners through two workers; readers on both check every answer.

    A reader notes which generation of each partner was committed before it sent its request
    (it must see that one or a later one) and which had been started when the answer came
    (it cannot see a later one).
    """
    with open_api(settings) as one, open_api(settings) as two:
        workers = (one, two)
        assert one.client.put("/enterprises/q", json=QUERY, headers=admin_headers).is_success
        for ident in PARTNERS:
            put = one.client.put(
                f"/enterprises/{ident}", json=versioned(ident, 0), headers=admin_headers
            )
            assert put.status_code == 201, put.text
        started = dict.fromkeys(PARTNERS, 0)
        committed = dict.fromkeys(PARTNERS, 0)
        seen = {ident: set() for ident in PARTNERS}
        reads = []
        race = Race(parties=6)

        def writer():
            generation = 0
            while race.running():
                generation += 1
                for number, ident in enumerate(PARTNERS):
                    started[ident] = generation
                    worker = workers[(generation + number) % 2]
                    response = worker.client.put(
                        f"/enterprises/{ident}",
                        json=versioned(ident, generation),
                        headers=admin_headers,
                    )
                    assert response.status_code == 200, response.text
                    committed[ident] = generation

        def read(kind, worker):
            floor = dict(committed)
            if kind == "partners":
                response = worker.client.get("/enterprises/q/partners", params={"k": 10})
            elif kind == "search":
                body = {key: QUERY[key] for key in ("region", "offers", "seeks")}
                response = worker.client.post("/partners/search", json=body)
            else:
                response = worker.client.get("/enterprises", params={"side": "east"})
            ceiling = dict(started)
            assert response.status_code == 200, response.text
            body = response.json()
            if kind == "list":
                found = {item["id"]: assert_stored_generation(item) for item in body["items"]}
            else:
                found = {
                    p["id"]: assert_whole_generation(p, explained_generation)
                    for p in body["partners"]
                }
            assert found.keys() == set(PARTNERS), body
            for ident, generation in found.items():
                assert floor[ident] <= generation <= ceiling[ident], (ident, generation, floor)
                seen[ident].add(generation)

        def reader(kind, worker):
            while race.running():
                read(kind, worker)
                reads.append(kind)

        race.spawn(writer)
        race.spawn(reader, "partners", one)
        race.spawn(reader, "partners", two)
        race.spawn(reader, "search", one)
        race.spawn(reader, "search", two)
        race.spawn(reader, "list", two)
        race.run()

        assert min(committed.values()) >= 5, committed
        assert {kind: reads.count(kind) >= 10 for kind in ("partners", "search", "list")} == {
            "partners": True,
            "search": True,
            "list": True,
        }, reads
        assert all(len(generations) >= 3 for generations in seen.values()), seen
        # After the race, both workers answer with the last generation.
        for worker in workers:
            read("partners", worker)


def test_a_delete_racing_with_queries_is_all_or_nothing(
    settings, open_api, admin_headers, explained_generation
):
    """A partner is created and deleted over and over while readers look for it."""
    with open_api(settings) as one, open_api(settings) as two:
        workers = (one, two)
        for profile in (QUERY, versioned("p0", 0)):
            put = one.client.put(
                f"/enterprises/{profile['id']}", json=profile, headers=admin_headers
            )
            assert put.status_code == 201, put.text
        # Operation n creates "d" (generation n) when n is odd and deletes it when n is even.
        operations = {"started": 0, "done": 0}
        outcomes = {"present": 0, "absent": 0}
        race = Race(parties=5)

        def writer():
            operation = 0
            while race.running():
                operation += 1
                operations["started"] = operation
                worker = workers[operation // 2 % 2]
                if operation % 2:
                    response = worker.client.put(
                        "/enterprises/d", json=versioned("d", operation), headers=admin_headers
                    )
                    assert response.status_code == 201, response.text
                else:
                    response = worker.client.delete("/enterprises/d", headers=admin_headers)
                    assert response.status_code == 204, response.text
                operations["done"] = operation

        def check(generation, done_before, started_after):
            if generation is not None:
                assert generation % 2 == 1 and done_before <= generation <= started_after
                assert generation > done_before or done_before % 2 == 1
            if done_before == started_after:  # no write overlapped the request
                assert (generation is not None) == (done_before % 2 == 1)
            outcomes["absent" if generation is None else "present"] += 1

        def reader(kind, worker):
            while race.running():
                done_before = operations["done"]
                if kind == "partners":
                    response = worker.client.get("/enterprises/q/partners", params={"k": 10})
                else:
                    response = worker.client.get("/enterprises/d")
                started_after = operations["started"]
                if kind == "partners":
                    assert response.status_code == 200, response.text
                    partners = {p["id"]: p for p in response.json()["partners"]}
                    assert "p0" in partners, partners
                    found = partners.get("d")
                    generation = None
                    if found is not None:
                        generation = assert_whole_generation(found, explained_generation)
                else:
                    assert response.status_code in (200, 404), response.text
                    generation = None
                    if response.status_code == 200:
                        generation = assert_stored_generation(response.json())
                check(generation, done_before, started_after)

        race.spawn(writer)
        race.spawn(reader, "partners", one)
        race.spawn(reader, "partners", two)
        race.spawn(reader, "detail", one)
        race.spawn(reader, "detail", two)
        race.run()

        assert operations["done"] >= 10, operations
        assert outcomes["present"] >= 5 and outcomes["absent"] >= 5, outcomes


def import_body(records):
    text = io.StringIO()
    write_jsonl(records, text)
    return text.getvalue().encode()


def test_two_imports_at_once_through_two_workers_both_succeed(
    settings, open_api, admin_headers, all_enterprises
):
    records = list(generate_enterprises(load_dataset(), 4000, seed=6))
    halves = (import_body(records[:2000]), import_body(records[2000:]))
    with open_api(settings) as one, open_api(settings) as two:
        statuses = []
        barrier = threading.Barrier(2)

        def upload(worker, body):
            barrier.wait()
            response = worker.client.post(
                "/enterprises/import",
                content=body,
                headers={**admin_headers, "content-type": "application/x-ndjson"},
            )
            statuses.append(response.status_code)

        for _ in range(3):
            threads = [
                threading.Thread(target=upload, args=(worker, body))
                for worker, body in zip((one, two), halves, strict=True)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

        assert statuses == [200] * 6, statuses
        assert len(all_enterprises(one)) == 4000


def test_posts_of_one_id_at_once_create_it_once(settings, open_api, admin_headers):
    with open_api(settings) as one, open_api(settings) as two:
        outcomes = []
        for attempt in range(40):
            statuses = []
            barrier = threading.Barrier(4)

            def post(worker, number, attempt=attempt, statuses=statuses, barrier=barrier):
                body = {"id": f"e{attempt}", "name": f"Poster {number}", "region": "harbin"}
                barrier.wait()
                statuses.append(
                    worker.client.post("/enterprises", json=body, headers=admin_headers).status_code
                )

            threads = [threading.Thread(target=post, args=((one, two)[n % 2], n)) for n in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            outcomes.append(sorted(statuses))

        assert all(statuses == [201, 409, 409, 409] for statuses in outcomes), outcomes


def test_patches_of_different_fields_at_once_all_take_effect(api, admin_headers):
    changes = ({"name": "Renamed"}, {"size": "large"}, {"ownership": "state"}, {"founded": 2001})
    lost = []
    for attempt in range(40):
        ident = f"e{attempt}"
        body = {"name": "Original", "region": "harbin"}
        assert api.client.put(f"/enterprises/{ident}", json=body, headers=admin_headers).is_success
        statuses = []
        barrier = threading.Barrier(len(changes))

        def patch(change, ident=ident, statuses=statuses, barrier=barrier):
            barrier.wait()
            response = api.client.patch(f"/enterprises/{ident}", json=change, headers=admin_headers)
            statuses.append(response.status_code)

        threads = [threading.Thread(target=patch, args=(change,)) for change in changes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        stored = api.get(f"/enterprises/{ident}", key=True)
        kept = all(stored[key] == value for change in changes for key, value in change.items())
        if statuses != [200] * len(changes) or not kept:
            lost.append((ident, statuses, stored))

    assert lost == []
