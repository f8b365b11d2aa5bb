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
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ADMIN_KEY

GENERATOR = Path(sys.prefix) / "tools" / "openapi-python-client"
PACKAGE = "counterpart_client"


@pytest.fixture
def generated_client(api, tmp_path, monkeypatch):
    """The package openapi-python-client generates from the app's `/openapi.json`."""
    if not (GENERATOR / "openapi_python_client").is_dir():
        pytest.fail(f"openapi-python-client is not installed in {GENERATOR}: run `make test`")
    (tmp_path / "openapi.json").write_text(json.dumps(api.get("/openapi.json")))
    (tmp_path / "config.yaml").write_text(f"post_hooks: []\npackage_name_override: {PACKAGE}\n")
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
