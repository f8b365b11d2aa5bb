"""The web app at `/` and the documentation pages, served from local files (no CDN).

The built app is not needed here (no Node.js): a stand-in build in a temporary folder shows what
is served where; tests/e2e drives the real build in Chromium.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import app.webapp
from app.main import create_app

from .conftest import TestDatabases

#: GETs without path parameters: each must stay the API's JSON, never the app's page.
API_GETS = [
    "/health",
    "/taxonomy",
    "/regions",
    "/links",
    "/graph",
    "/dataset",
    "/scenarios",
    "/enterprises",
    "/outcomes",
    "/targets",
    "/evaluation/report",
    "/openapi.json",
]


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    static = tmp_path / "static"
    (static / "assets").mkdir(parents=True)
    (static / "vendor" / "redoc").mkdir(parents=True)
    (static / "index.html").write_text('<!doctype html><title>counterpart</title><div id="app">')
    (static / "assets" / "index-abc.js").write_text("console.log('app')")
    (static / "vendor" / "redoc" / "redoc.standalone.js").write_text("/* redoc */")
    monkeypatch.setattr(app.webapp, "STATIC_DIR", static)
    return static


@pytest.fixture
def client(tmp_path: Path, databases: TestDatabases) -> Callable[[Path], TestClient]:
    def make(data_dir: Path) -> TestClient:
        settings = databases.settings(data_dir / "var")
        return TestClient(create_app(settings), raise_server_exceptions=False)

    return make


def test_app_is_served_at_root_and_shadows_no_api_path(
    built: Path, tmp_path: Path, client: Callable[[Path], TestClient]
) -> None:
    with client(tmp_path) as c:
        page = c.get("/")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert '<div id="app">' in page.text
        asset = c.get("/assets/index-abc.js")
        assert asset.status_code == 200 and asset.text == "console.log('app')"
        assert c.get("/vendor/redoc/redoc.standalone.js").status_code == 200
        assert c.get("/assets/missing.js").status_code == 404
        for path in API_GETS:
            answer = c.get(path)
            assert answer.status_code == 200, path
            assert answer.headers["content-type"].startswith("application/json"), path
        # The app routes by fragment: no catch-all, so an unknown path is still the API's 404.
        unknown = c.get("/what-if")
        assert unknown.status_code == 404
        assert unknown.headers["content-type"].startswith("application/json")
        paths = c.get("/openapi.json").json()["paths"]
        assert "/" not in paths and "/docs" not in paths


def test_unbuilt_app_says_how_to_build_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, client: Callable[[Path], TestClient]
) -> None:
    monkeypatch.setattr(app.webapp, "STATIC_DIR", tmp_path / "nothing")
    with client(tmp_path) as c:
        page = c.get("/")
        assert page.status_code == 503
        assert page.json()["error"] == "WebAppNotBuilt"
        assert "make web" in page.json()["detail"]
        assert c.get("/health").status_code == 200


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_documentation_pages_load_nothing_from_another_host(
    built: Path, tmp_path: Path, client: Callable[[Path], TestClient], path: str
) -> None:
    with client(tmp_path) as c:
        page = c.get(path)
        assert page.status_code == 200
        urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
        assert urls, "the page loads its scripts and styles"
        assert all(u.startswith("/vendor/") for u in urls), urls
        assert "://" not in page.text.replace("http://www.w3.org", "")
        assert "fonts.googleapis" not in page.text
        if path == "/redoc":
            # ReDoc's search worker is a blob: of this origin's script.
            assert "worker-src 'self' blob:" in page.headers["content-security-policy"]
