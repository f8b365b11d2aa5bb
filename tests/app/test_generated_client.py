"""A Python client generated from the live spec works as a front-end developer would use it.

openapi-python-client pins versions of httpx and typer older than the service's, so it cannot
share the project's environment: `make test` installs it apart, under `.venv/tools/` (see the
Makefile), and this test runs it there. The client it generates imports in the test's own
environment (httpx and attrs) and talks to the app through the test client.
"""

from __future__ import annotations

import datetime as dt
import enum
import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ADMIN_KEY

GENERATOR = Path(sys.prefix) / "tools" / "openapi-python-client"
PACKAGE = "counterpart_client"
# The generator reads JSON, text/* and application/octet-stream answers only: a client says how
# to read the service's other media types (its documented `content_type_overrides`).
CONFIG = f"""\
post_hooks: []
package_name_override: {PACKAGE}
content_type_overrides:
  application/graphml+xml: text/plain
  image/svg+xml: application/octet-stream
  image/png: application/octet-stream
"""
# openapi-python-client 0.29 cannot send a text body (text/csv, application/x-ndjson): these
# two operations are left out of a generated client, and nothing else may be.
UNSUPPORTED_BODIES = {
    "POST /enterprises/import": ["text/csv", "application/x-ndjson"],
    "POST /outcomes/import": ["text/csv", "application/x-ndjson"],
}


def warnings(report: str) -> dict[str, list[str]]:
    """The generator's warnings by operation: what it could not read of each."""
    found: dict[str, list[str]] = {}
    operation = None
    for line in report.splitlines():
        match = re.match(r"WARNING parsing (\w+ \S+) within", line)
        if match:
            operation = match.group(1)
            found[operation] = []
        elif operation and line.startswith(("Unsupported content type ", "Cannot parse")):
            found[operation].append(line.removeprefix("Unsupported content type "))
    return found


@pytest.fixture
def generated_client(api, tmp_path, monkeypatch):
    """The package openapi-python-client generates from the app's `/openapi.json`."""
    if not (GENERATOR / "openapi_python_client").is_dir():
        pytest.fail(f"openapi-python-client is not installed in {GENERATOR}: run `make test`")
    (tmp_path / "openapi.json").write_text(json.dumps(api.get("/openapi.json")))
    (tmp_path / "config.yaml").write_text(CONFIG)
    command = [sys.executable, "-m", "openapi_python_client", "generate", "--path", "openapi.json"]
    command += ["--meta", "none", "--output-path", PACKAGE, "--config", "config.yaml"]
    generated = subprocess.run(
        command,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(GENERATOR)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = generated.stdout + generated.stderr
    assert generated.returncode == 0, report
    # A schema the generator cannot read is dropped from the client, with every model using it.
    assert "Unable to parse schema" not in report, report
    assert "Unable to process schema" not in report, report
    # Every operation's answers are read: none is typed `Any` for want of a schema.
    assert warnings(report) == UNSUPPORTED_BODIES, report
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    yield tmp_path / PACKAGE
    for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
        del sys.modules[name]


def test_a_generated_python_client_gets_a_link_and_parses_it(api, generated_client):
    assert (generated_client / "api" / "links" / "get_link.py").is_file()
    client_module = importlib.import_module(PACKAGE)
    get_link = importlib.import_module(f"{PACKAGE}.api.links.get_link")
    models = importlib.import_module(f"{PACKAGE}.models")
    client = client_module.Client(base_url="http://testserver").set_httpx_client(api.client)

    found = get_link.sync_detailed(client=client, northeast_id="harbin", east_id="beijing")

    assert found.status_code == 200
    link = found.parsed
    assert isinstance(link, models.LinkDetail)
    # Every field parsed, nothing lost or defaulted: the model gives back the server's JSON.
    assert link.to_dict() == api.get("/links/harbin/beijing")
    assert link.northeast == "harbin" and link.east == "beijing"
    term = link.explanation[0].terms[0]
    assert isinstance(term, models.LinkTermOut)
    assert isinstance(term.direction, enum.Enum)

    missing = get_link.sync_detailed(client=client, northeast_id="nowhere", east_id="beijing")
    assert missing.status_code == 404
    assert isinstance(missing.parsed, models.ErrorBody)
    assert missing.parsed.error.value == "UnknownRegion"


def test_a_generated_python_client_keeps_a_request_echoed_in_a_response(api, generated_client):
    """A saved scenario echoes its request: both its input and output models are generated."""
    client_module = importlib.import_module(PACKAGE)
    save = importlib.import_module(f"{PACKAGE}.api.scenarios.save_scenario")
    models = importlib.import_module(f"{PACKAGE}.models")
    # The client sends what its httpx client sends: here the test client, with the admin key.
    api.client.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
    client = client_module.Client(base_url="http://testserver").set_httpx_client(api.client)
    body = models.SavedScenarioIn(name="capacity 1", scenario=models.ScenarioIn(capacity=1))

    saved = save.sync_detailed(client=client, body=body)

    assert saved.status_code == 201, saved.content
    assert isinstance(saved.parsed, models.SavedScenarioOut)
    assert saved.parsed.scenario.capacity == 1
    sent, parsed = json.loads(saved.content), saved.parsed.to_dict()
    # The same instant, written `Z` by the server and `+00:00` by the client.
    assert dt.datetime.fromisoformat(parsed.pop("created_at")) == dt.datetime.fromisoformat(
        sent.pop("created_at")
    )
    assert parsed == sent


def test_a_generated_python_client_reads_graphml_and_charts(api, generated_client):
    client_module = importlib.import_module(PACKAGE)
    graphml = importlib.import_module(f"{PACKAGE}.api.graph.graph_graphml")
    chart = importlib.import_module(f"{PACKAGE}.api.evaluation.evaluation_chart")
    models = importlib.import_module(f"{PACKAGE}.models")
    client = client_module.Client(base_url="http://testserver").set_httpx_client(api.client)

    graph = graphml.sync_detailed(client=client)
    assert graph.status_code == 200
    assert isinstance(graph.parsed, str) and graph.parsed.startswith("<graphml")

    chart_names = list(models.EvaluationChartChart)
    png = chart.sync_detailed(chart_names[0], models.EvaluationChartFmt("png"), client=client)
    assert png.status_code == 200
    assert isinstance(png.parsed, bytes) and png.parsed.startswith(b"\x89PNG")
    svg = chart.sync_detailed(chart_names[0], models.EvaluationChartFmt("svg"), client=client)
    assert isinstance(svg.parsed, bytes) and b"<svg" in svg.parsed
