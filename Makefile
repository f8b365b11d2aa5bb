# The two quick-start commands are `make run` and `make test`; both set up .venv first.
# `make run` also builds the web app (web/, Node.js 20 and npm from the committed lock file).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
NPM ?= npm
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# The PostgreSQL server of `make test-pg`: a database to connect to; the run creates its own.
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test

# The web app's build: rebuilt when its sources, its lock file or the API (routers, schemas) change.
WEB_BUILT := app/static/index.html
WEB_DEPS := web/node_modules/.package-lock.json
WEB_SOURCES := $(shell find web/src web/scripts web/public-src -type f ! -name schema.d.ts 2>/dev/null) \
	web/index.html web/vite.config.ts web/tsconfig.json web/package.json \
	$(wildcard app/routers/*.py schemas/*.py app/main.py app/errors.py)

.PHONY: setup run test test-pg lint lint-spec bench clean web browser e2e

setup: $(STAMP) web

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

web: $(WEB_BUILT)

$(WEB_DEPS): web/package-lock.json
	cd web && $(NPM) ci --no-audit --no-fund

# The app's types come from the live spec: the build fails when the app and the API disagree.
$(WEB_BUILT): $(STAMP) $(WEB_DEPS) $(WEB_SOURCES)
	$(BIN)/python -m app.openapi > web/openapi.json
	cd web && $(NPM) run build

# Debian's Chromium for the browser tests (Playwright drives it; it downloads no browser), and a
# CJK font so that the Chinese pages render (and their screenshots show) the characters.
browser:
	@command -v chromium >/dev/null && fc-list :lang=zh | grep -q . || { apt-get update -qq \
	  && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk; }

run: $(STAMP) web
	$(BIN)/counterpart serve --host $(HOST) --port $(PORT)

# openapi-python-client, whose client tests/app/test_generated_client.py generates from the live
# spec, pins httpx and typer below the service's: it is installed apart, where that test runs it.
CLIENT_GENERATOR := $(VENV)/tools/openapi-python-client
$(CLIENT_GENERATOR)/.installed: $(STAMP)
	rm -rf $(CLIENT_GENERATOR)
	$(BIN)/pip install --quiet --target $(CLIENT_GENERATOR) 'openapi-python-client==0.29.1'
	touch $@

test: $(STAMP) $(CLIENT_GENERATOR)/.installed
	$(BIN)/pytest -n 2

# The storage and API suite again, on a fresh PostgreSQL database that the run creates and drops
# (one per xdist worker); a server that cannot be reached fails the run.
test-pg: $(STAMP) $(CLIENT_GENERATOR)/.installed
	COUNTERPART_TEST_DATABASE_URL=$(PG_URL) $(BIN)/pytest -n 2 tests/app

# The web app in a real browser against a live server; screenshots go to docs/screenshots/.
e2e: $(STAMP) web browser
	COUNTERPART_E2E=1 $(BIN)/pytest tests/e2e -p no:randomly -p no:xdist -s -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The live spec against Redocly's recommended rules (what front-end generators rely on).
lint-spec: web
	cd web && $(NPM) exec --no -- redocly lint --extends recommended-strict openapi.json

bench: $(STAMP)
	$(BIN)/python bench/bench_core.py
	$(BIN)/python bench/bench_scenarios.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache app/static web/node_modules
