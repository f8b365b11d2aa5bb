"""What operators rely on: readiness, metrics, request ids and JSON logs."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import time

import httpx
import pytest
from sqlalchemy.exc import OperationalError

from app.observability import JsonFormatter, request_id

from .live import ROOT, free_port


def test_ready_reports_the_database_the_dataset_and_the_index(api):
    response = api.client.get("/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["database"] == "ok"
    assert body["dataset_version"] == api.get("/health")["dataset_version"]
    assert set(body["indexed"]) == {"northeast", "east"}
    assert body["problems"] == []


def test_ready_counts_each_searchable_enterprise_once(
    settings, open_api, put_enterprises, admin_headers
):
    profile = {"id": "ready-e1", "name": "E1", "region": "shanghai", "seeks": {"grain": 0.5}}
    with open_api(settings) as writer:
        put_enterprises(writer, [profile])
        # This one's index is built with the enterprise in its base; later versions supersede
        # that row.
        with open_api(settings) as worker:

            def indexed():
                # A worker's index follows the log when it serves a query (a 404 included).
                worker.client.get("/enterprises/ready-e1/partners")
                return worker.client.get("/ready").json()["indexed"]

            assert indexed() == {"northeast": 0, "east": 1}
            put_enterprises(writer, [{**profile, "name": "E1 again"}])
            writer.client.patch(
                "/enterprises/ready-e1", json={"seeks": {"grain": 0.7}}, headers=admin_headers
            )
            assert indexed() == {"northeast": 0, "east": 1}
            response = writer.client.delete("/enterprises/ready-e1", headers=admin_headers)
            assert response.status_code == 204
            assert indexed() == {"northeast": 0, "east": 0}


def test_ready_is_a_503_naming_the_database_when_it_cannot_be_reached(api, monkeypatch):
    database = api.client.app.state.database

    def unreachable():
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(database, "read", unreachable)
    response = api.client.get("/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["database"] == "unreachable"
    assert any("connection refused" in problem for problem in body["problems"])
    # Liveness does not depend on the database: the process is alive and must not be restarted.
    assert api.client.get("/health").status_code == 200


def _sample(metrics: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus's text format (0 when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in metrics.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and ",".join(sorted(match.group(1).split(","))) == wanted:
            return float(match.group(2))
    return 0.0


def test_metrics_count_requests_by_route_template_and_status(api):
    before = api.client.get("/metrics").text
    for _ in range(3):
        assert api.client.get("/regions/liaoning").status_code == 200
    assert api.client.get("/regions/atlantis").status_code == 404
    response = api.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = response.text

    def grew(**labels: str) -> float:
        name = "counterpart_requests_total"
        return _sample(after, name, **labels) - _sample(before, name, **labels)

    # Counted by the route's template, not its path: one series however many regions exist.
    assert grew(route="/regions/{region_id}", status="200") == 3
    assert grew(route="/regions/{region_id}", status="404") == 1
    assert "counterpart_request_seconds_bucket" in after
    assert _sample(after, "counterpart_indexed_enterprises", side="east") >= 0
    assert 'counterpart_indexed_enterprises{side="northeast"}' in after


def test_metrics_count_partner_cards_kept_and_read(api, put_enterprises):
    put_enterprises(
        api,
        [
            {"id": "ops-n1", "name": "N1", "region": "harbin", "offers": {"grain": 1.0}},
            {"id": "ops-e1", "name": "E1", "region": "shanghai", "seeks": {"grain": 0.5}},
            {"id": "ops-e2", "name": "E2", "region": "beijing", "seeks": {"grain": 0.4}},
        ],
    )

    def cards(source):
        return _sample(api.client.get("/metrics").text, "counterpart_partner_cards_total",
                       source=source)  # fmt: skip

    kept, read = cards("kept"), cards("read")
    first = api.client.get("/enterprises/ops-n1/partners").json()["partners"]
    assert {p["id"] for p in first} == {"ops-e1", "ops-e2"}
    assert (cards("kept") - kept, cards("read") - read) == (0, 2)
    api.client.get("/enterprises/ops-n1/partners")
    assert (cards("kept") - kept, cards("read") - read) == (2, 2)


def test_every_answer_carries_a_request_id_and_keeps_a_sane_one_from_the_client(api):
    fresh = api.client.get("/health").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", fresh)
    assert api.client.get("/health").headers["x-request-id"] != fresh
    kept = api.client.get("/health", headers={"X-Request-ID": "trace-42.a:b"})
    assert kept.headers["x-request-id"] == "trace-42.a:b"
    # Not echoed into headers or logs when it could forge a line: replaced by a new id.
    forged = api.client.get("/health", headers={"X-Request-ID": "x\tfake"})
    assert re.fullmatch(r"[0-9a-f]{32}", forged.headers["x-request-id"])
    errors = api.client.get("/regions/atlantis", headers={"X-Request-ID": "err-1"})
    assert errors.status_code == 404 and errors.headers["x-request-id"] == "err-1"


def test_each_request_is_logged_once_with_its_id_route_status_and_duration(api, caplog):
    with caplog.at_level(logging.INFO, logger="counterpart.access"):
        api.client.get("/regions/jilin", headers={"X-Request-ID": "log-test-1"})
    lines = [record for record in caplog.records if record.name == "counterpart.access"]
    assert len(lines) == 1
    entry = json.loads(JsonFormatter().format(lines[0]))
    assert entry["message"] == "request"
    assert entry["route"] == "/regions/{region_id}"
    assert entry["path"] == "/regions/jilin"
    assert entry["status"] == 200
    assert entry["method"] == "GET"
    assert entry["duration_ms"] >= 0
    assert entry["level"] == "info"
    # The id was that of the request while it was served, and is reset after it.
    assert lines[0].__dict__.get("route") == "/regions/{region_id}"
    assert request_id() == "-"


def test_json_log_lines_carry_the_exception_and_never_break_on_odd_values():
    formatter = JsonFormatter()
    try:
        raise ValueError("bad «value»\nsecond line")
    except ValueError:
        record = logging.LogRecord(
            "counterpart", logging.ERROR, "f.py", 1, "failed %s", ("x",), None
        )
        record.exc_info = sys.exc_info()
    record.custom = {1, 2}  # not JSON: written with its str()
    line = formatter.format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "failed x"
    assert "ValueError: bad «value»" in entry["exception"]
    assert entry["custom"] == "{1, 2}"


@pytest.mark.parametrize("json_lines", [True, False])
def test_the_logging_configuration_writes_the_chosen_format_at_the_chosen_level(json_lines):
    # In a process of its own: the configuration replaces the handlers of the whole process.
    script = (
        "import logging, logging.config\n"
        "from app.observability import configure_logging\n"
        f"logging.config.dictConfig(configure_logging('warning', json_lines={json_lines}))\n"
        "logging.getLogger('counterpart.x').info('hidden')\n"
        "logging.getLogger('counterpart.x').warning('shown %d', 7)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    if json_lines:
        entry = json.loads(lines[0])
        assert (entry["level"], entry["logger"], entry["message"]) == (
            "warning",
            "counterpart.x",
            "shown 7",
        )
        assert entry["request_id"] == "-"
    else:
        assert lines[0].endswith("WARNING counterpart.x shown 7")


def test_serve_keeps_workers_that_start_slower_than_uvicorns_default_ping(tmp_path):
    """`counterpart serve --workers 2` on a loaded machine: a worker is not replaced for being slow.

    uvicorn kills a worker that leaves its ping unanswered for `timeout_worker_healthcheck`
    (5 s by default), and a spawned worker answers only once it has imported what the command
    imports: on a busy machine, or while it builds a large index, that took longer, and the
    workers were killed and respawned over and over. Here each worker's interpreter is made to
    take 7 s before it can answer.
    """
    slow = tmp_path / "slow"
    slow.mkdir()
    (slow / "sitecustomize.py").write_text(
        "import sys, time\nif '--multiprocessing-fork' in sys.argv:\n    time.sleep(7)\n"
    )
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(slow), str(ROOT)]),
        "COUNTERPART_DATA_DIR": str(tmp_path / "data"),
        "COUNTERPART_LOG_JSON": "false",
        "COUNTERPART_WORKER_HEALTHCHECK_SECONDS": "30",
    }
    env.pop("COUNTERPART_DATABASE_URL", None)
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-c", "from app.cli import cli; cli()", "serve", "--workers", "2",
             "--port", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        ready = 0
        while time.monotonic() < deadline and ready < 2:
            assert server.poll() is None, log.read_text()
            ready = log.read_text().count("Application startup complete")
            time.sleep(0.2)
        assert ready == 2, log.read_text()
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=10).status_code == 200
        text = log.read_text()
        assert "died" not in text, text
        assert text.count("Started server process") == 2, text
    finally:
        server.terminate()
        server.wait(timeout=30)
