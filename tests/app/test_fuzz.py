"""Fuzzing every operation of the OpenAPI document with schemathesis: the contract holds.

Schemathesis generates requests from the app's own OpenAPI document, valid ones and (in negative
mode) ones that break it, and sends them in-process through its ASGI transport, which runs the
app's lifespan. Every operation is fuzzed without the admin key and with it, and every answer
passes schemathesis's checks:

* `not_a_server_error`: no 5xx;
* `status_code_conformance`: the status is one the document lists for the operation;
* `content_type_conformance`: the content type is one it documents for that status;
* `response_schema_conformance`: the body matches the documented schema (errors included).

On top of them every 4xx comes back in the error shape, and a write (an operation the document
marks as secured) without the key is a 401. Generation is seeded and bounded (`FUZZ_SEED`,
`FUZZ_SETTINGS`): a run is reproducible and takes about a minute on two cores.
"""

from __future__ import annotations

from pathlib import Path

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.main import create_app
from app.settings import Settings

from .conftest import ADMIN_KEY

# Reading the OpenAPI document builds no state: the lifespan (database, dataset) does not run.
DOCUMENT = create_app(Settings(data_dir=Path("never-created"))).openapi()

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
#: The seed of every run (what `schemathesis run --hypothesis-seed` would take).
FUZZ_SEED = 20_261_203


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
                for key in (False, True):
                    yield pytest.param(
                        method.upper(),
                        path,
                        mode,
                        write,
                        key,
                        id=f"{method.upper()} {path} {mode.value} {'key' if key else 'no key'}",
                    )


FUZZ_SETTINGS = hypothesis.settings(
    max_examples=12,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def fuzz_schema(tmp_path_factory):
    # One app for the module (per worker): starting one per operation cost most of the run.
    settings = Settings(data_dir=tmp_path_factory.mktemp("fuzz"), admin_key=ADMIN_KEY)
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(settings))
    yield schema
    shutdown_lifespans()


@pytest.mark.slow
@pytest.mark.parametrize(("method", "path", "mode", "write", "key"), list(fuzz_cases()))
def test_every_answer_keeps_the_contract(
    fuzz_schema, check_error_shape, method, path, mode, write, key
):
    operation = fuzz_schema[path][method]
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"} if key else {}
    statuses = []

    @FUZZ_SETTINGS
    @hypothesis.seed(FUZZ_SEED)
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def send(case):
        response = case.call(headers=headers)
        statuses.append(response.status_code)
        request = case.as_curl_command(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)
        # The fuzzer sends no key: every write is a 401, whatever its body.
        if write and not key:
            assert response.status_code == 401, f"{request}\n{response.text}"
        if 400 <= response.status_code < 500:
            check_error_shape(response.json())

    send()

    assert statuses, "the fuzzer sent no request"
