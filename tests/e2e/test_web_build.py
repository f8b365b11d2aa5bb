"""The web app's types follow the API's spec: a change of the spec the app relies on fails tsc.

Needs the web app's npm packages (`make web`); runs with the browser tests (`make e2e`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.browser

WEB = ROOT / "web"


def typecheck(tmp: Path, spec: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    """Generate the types from `spec` into a copy of the app and run tsc --strict on it."""
    copy = tmp / "web"
    shutil.copytree(WEB / "src", copy / "src")
    shutil.copy(WEB / "tsconfig.json", copy)
    shutil.copy(WEB / "vite.config.ts", copy)
    (copy / "node_modules").symlink_to(WEB / "node_modules")
    (copy / "openapi.json").write_text(json.dumps(spec))
    bin_ = WEB / "node_modules" / ".bin"
    subprocess.run(
        [str(bin_ / "openapi-typescript"), "openapi.json", "-o", "src/schema.d.ts"],
        cwd=copy, check=True, capture_output=True,
    )  # fmt: skip
    return subprocess.run(
        [str(bin_ / "tsc"), "--noEmit", "-p", "tsconfig.json"],
        cwd=copy, capture_output=True, text=True,
    )  # fmt: skip


def live_spec() -> dict[str, Any]:
    from app.main import create_app
    from app.settings import Settings

    return create_app(Settings()).openapi()


def test_the_app_compiles_against_the_live_spec(tmp_path: Path) -> None:
    result = typecheck(tmp_path, live_spec())
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_field_the_app_reads_missing_from_the_spec_fails_the_build(tmp_path: Path) -> None:
    spec = live_spec()
    schemas = spec["components"]["schemas"]
    # The plan's objective, which the What-if page shows: gone from every plan result schema.
    changed = 0
    for schema in schemas.values():
        if "objective" in schema.get("properties", {}) and "pairs" in schema["properties"]:
            del schema["properties"]["objective"]
            schema["required"] = [f for f in schema.get("required", []) if f != "objective"]
            changed += 1
    assert changed
    result = typecheck(tmp_path, spec)
    assert result.returncode != 0
    assert "objective" in result.stdout
