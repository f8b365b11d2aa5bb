"""Fuzzing every operation of the OpenAPI document with schemathesis: no request gets a 500.

Schemathesis generates requests from the app's own OpenAPI document, valid ones and (in negative
mode) ones that break it, and sends them in-process through its ASGI transport, which runs the
app's lifespan. Every 4xx must come back in the error shape, every 2xx must match its documented
schema, and a write (an operation the document marks as secured) without the key must be a 401.
Generation is derandomised, so a run is reproducible.
"""

from __future__ import annotations

from pathlib import Path

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck
from schemathesis import GenerationMode
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import response_schema_conformance

from app.main import create_app
from app.settings import Settings

# Reading the OpenAPI document builds no state: the lifespan (database, dataset) does not run.
DOCUMENT = create_app(Settings(data_dir=Path("never-created"))).openapi()


def fuzz_cases():
    for path, item in DOCUMENT["paths"].items():
        for method, spec in item.items():
            has_inputs = bool(spec.get("parameters") or spec.get("requestBody"))
            # A key the operation requires (an optional one, `{}` among the alternatives, only
            # shows more of a read).
            write = spec.get("security") == [{"HTTPBearer": []}]
            for mode in GenerationMode:
                if mode is GenerationMode.NEGATIVE and not has_inputs:
                    continue
                yield pytest.param(
                    method.upper(), path, mode, write, id=f"{method.upper()} {path} {mode.value}"
                )


FUZZ_SETTINGS = hypothesis.settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def fuzz_schema(settings):
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(settings))
    yield schema
    shutdown_lifespans()


@pytest.mark.slow
@pytest.mark.parametrize(("method", "path", "mode", "write"), list(fuzz_cases()))
def test_no_request_gets_a_server_error(fuzz_schema, check_error_shape, method, path, mode, write):
    operation = fuzz_schema[path][method]
    statuses = []

    @FUZZ_SETTINGS
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def send(case):
        response = case.call()
        statuses.append(response.status_code)
        request = case.as_curl_command()
        assert response.status_code < 500, f"{request}\n{response.text}"
        # The fuzzer sends no key: every write is a 401, whatever its body.
        if write:
            assert response.status_code == 401, f"{request}\n{response.text}"
        if 400 <= response.status_code < 500:
            check_error_shape(response.json())
        elif response.status_code < 300:
            case.validate_response(response, checks=[response_schema_conformance])

    send()

    assert statuses, "the fuzzer sent no request"
