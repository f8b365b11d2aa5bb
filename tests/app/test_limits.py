"""While the heaviest request the limits allow runs, the service keeps answering.

A real server (uvicorn in a process of its own, one worker): 5,000 northeast and 5,000 eastern
enterprises are imported, then the largest round the schema allows (every one of them, 50
candidates each, up to 10 meetings each) is proposed while `/health` is asked every 20 ms.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time

import httpx
import pytest

from app.enterprise_files import write_csv
from matching import enterprises_per_side, load_dataset
from schemas.rounds import MAX_B, MAX_CANDIDATES, MAX_PARTICIPANTS

from .conftest import ADMIN_KEY
from .live import Server


@pytest.fixture
def server(tmp_path, databases):
    running = Server(tmp_path, databases.environment(tmp_path))
    try:
        yield running.url
    finally:
        running.stop()


def largest_population() -> tuple[list[str], list[str], bytes]:
    chosen = enterprises_per_side(load_dataset(), MAX_PARTICIPANTS, seed=11)
    text = io.StringIO(newline="")
    write_csv(chosen["northeast"] + chosen["east"], text)
    ids = {name: [str(r["id"]) for r in rows] for name, rows in chosen.items()}
    return ids["northeast"], ids["east"], text.getvalue().encode()


# The round is posted from a process of its own, so that receiving its answer (megabytes of
# JSON) does not hold this process while it times /health.
POST_ROUND = """
import json, sys, httpx
body = json.load(open(sys.argv[2]))
response = httpx.post(sys.argv[1] + "/rounds", json=body, timeout=300)
json.dump({"status": response.status_code, "meetings": len(response.json().get("meetings", []))},
          sys.stdout)
"""


@pytest.mark.slow
def test_health_answers_within_100_ms_while_the_largest_round_runs(server, tmp_path):
    northeast, east, csv_body = largest_population()
    key = {"Authorization": f"Bearer {ADMIN_KEY}", "Content-Type": "text/csv"}
    imported = httpx.post(
        f"{server}/enterprises/import", content=csv_body, headers=key, timeout=120
    )
    assert imported.status_code == 200, imported.text
    body = {"northeast": northeast, "east": east, "candidates": MAX_CANDIDATES, "b": MAX_B}
    request = tmp_path / "round.json"
    request.write_text(json.dumps(body))

    with httpx.Client(base_url=server, timeout=5) as client:
        client.get("/health")
        poster = subprocess.Popen(
            [sys.executable, "-c", POST_ROUND, server, str(request)], stdout=subprocess.PIPE
        )
        latencies = []
        while poster.poll() is None:
            started = time.perf_counter()
            assert client.get("/health").status_code == 200
            latencies.append(time.perf_counter() - started)
            time.sleep(0.02)

    printed, _ = poster.communicate()
    outcome = json.loads(printed)
    assert outcome["status"] == 200, outcome
    assert outcome["meetings"] > MAX_PARTICIPANTS
    assert len(latencies) > 20
    # Within 100 ms, bar the odd scheduling hiccup of a busy 2-core CI machine (a server whose
    # event loop the round held would miss by seconds, every time); bench/bench_limits.py
    # reports the full distribution.
    latencies.sort()
    assert latencies[int(0.95 * len(latencies))] < 0.1, latencies[-5:]
    assert latencies[-1] < 0.5, latencies[-5:]
