"""How large and how slow is the 422 of a request with thousands of problems?

In-process (TestClient, SQLite): `POST /rounds` with 5,000 + 5,000 integer ids (the longest
lists the schema takes, every item of the wrong type) and with 50,000 + 50,000. Each is sent 5
times with the error listing capped at `MAX_LISTED_ERRORS` (the service) and with the cap lifted
(the baseline: every problem described, as before the cap), and the median time and the answer's
size are printed side by side.

    .venv/bin/python bench/bench_errors.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from fastapi.testclient import TestClient
from measure import cpu_model, timed

import app.errors
from app.main import create_app
from app.settings import Settings

REPEAT = 5
HEADERS = {"Content-Type": "application/json"}


def main() -> None:
    """Print the figures of both ways of answering, for both request sizes."""
    print(f"machine: {cpu_model()}, Python {sys.version.split()[0]}")
    print(
        f"{'request':<24} {'listing':<10} {'status':>6} {'problems':>9} {'answer':>10} {'time':>9}"
    )
    with (
        tempfile.TemporaryDirectory() as data,
        TestClient(
            create_app(Settings(data_dir=Path(data))), raise_server_exceptions=False
        ) as client,
    ):
        for per_side in (5_000, 50_000):
            body = json.dumps({"northeast": list(range(per_side)), "east": list(range(per_side))})
            capped = app.errors.MAX_LISTED_ERRORS
            for listing, cap in (("all", 10**9), (f"first {capped}", capped)):
                app.errors.MAX_LISTED_ERRORS = cap
                try:
                    seconds, response = timed(
                        lambda b=body: client.post("/rounds", content=b, headers=HEADERS), REPEAT
                    )
                finally:
                    app.errors.MAX_LISTED_ERRORS = capped
                found = response.json()
                count = found.get("error_count", len(found.get("errors", [])))
                size = len(response.content)
                label = f"{per_side:,} + {per_side:,} ints"
                print(
                    f"{label:<24} {listing:<10} {response.status_code:>6} {count:>9,} "
                    f"{size / 1024:>8.1f} K {seconds * 1000:>7.1f} ms"
                )


if __name__ == "__main__":
    main()
