"""The web app and the API's documentation pages, served offline from this package.

`web/` (TypeScript, built by Vite: ``make web``) writes the app to ``app/static/``: its
``index.html`` is served at ``/``, its bundles under ``/assets``, and the Swagger UI and ReDoc
files copied from their npm packages under ``/vendor``, so that neither the app nor ``/docs`` nor
``/redoc`` fetch anything from another host. The app routes by URL fragment (``/#/what-if``),
so no catch-all route exists that could shadow an API path.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from app.http_headers import PAGE_POLICY

__all__ = ["STATIC_DIR", "install_web"]

#: Where `make web` writes the built app (not committed: built from `web/` by `make setup`).
STATIC_DIR = Path(__file__).resolve().parent / "static"
#: URL prefixes of the built files; no API path starts with them.
ASSETS_URL = "/assets"
VENDOR_URL = "/vendor"


def install_web(app: FastAPI, static_dir: Path | None = None) -> None:
    """Serve the app at ``/`` and the documentation at ``/docs`` and ``/redoc`` from local files.

    Without the built files (``make web`` not run), ``/`` answers 503 saying so; the API works.
    """
    static_dir = static_dir or STATIC_DIR
    openapi_url = app.openapi_url or "/openapi.json"
    title = app.title

    @app.get("/", include_in_schema=False)
    def index() -> Response:
        page = static_dir / "index.html"
        if not page.is_file():
            return JSONResponse(
                status_code=503,
                content={
                    "error": "WebAppNotBuilt",
                    "detail": "the web app is not built: run `make web` (Node.js 20 and npm)",
                },
            )
        return FileResponse(page, media_type="text/html")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} API",
            swagger_js_url=f"{VENDOR_URL}/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{VENDOR_URL}/swagger-ui/swagger-ui.css",
            swagger_favicon_url=f"{VENDOR_URL}/favicon.svg",
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        page = get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title} API",
            redoc_js_url=f"{VENDOR_URL}/redoc/redoc.standalone.js",
            redoc_favicon_url=f"{VENDOR_URL}/favicon.svg",
            with_google_fonts=False,
        )
        # ReDoc's search runs in a worker it creates from a blob: of this origin's script.
        page.headers["content-security-policy"] = f"{PAGE_POLICY}; worker-src 'self' blob:"
        return page

    app.mount(
        ASSETS_URL,
        StaticFiles(directory=static_dir / "assets", check_dir=False),
        name="web-assets",
    )
    app.mount(
        VENDOR_URL,
        StaticFiles(directory=static_dir / "vendor", check_dir=False),
        name="web-vendor",
    )
