# counterpart: the HTTP service and its web app on the embedded defaults (SQLite in /app/var,
# shipped dataset); set COUNTERPART_DATABASE_URL for PostgreSQL (see compose.yaml).
#   docker build -t counterpart .
#   docker run -p 8000:8000 -e COUNTERPART_ADMIN_KEY=$(openssl rand -hex 16) -v counterpart-data:/app/var counterpart

# The web app is typed from the service's own OpenAPI spec, so its build needs both Node.js and
# the service (Debian bookworm's python3 is 3.11).
FROM node:20-bookworm-slim AS web
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
COPY matching ./matching
COPY schemas ./schemas
RUN python3 -m venv /venv && /venv/bin/pip install --quiet .
COPY web ./web
RUN /venv/bin/python -m app.openapi > web/openapi.json \
    && cd web && npm ci --no-audit --no-fund && npm run build

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    COUNTERPART_DATA_DIR=/app/var

WORKDIR /app
COPY pyproject.toml README.md ./
COPY app ./app
COPY matching ./matching
COPY schemas ./schemas
COPY --from=web /src/app/static ./app/static
RUN pip install . \
    && useradd --create-home --uid 10001 counterpart \
    && mkdir -p /app/var \
    && chown counterpart:counterpart /app/var

USER counterpart
VOLUME ["/app/var"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"
CMD ["counterpart", "serve", "--host", "0.0.0.0", "--port", "8000"]
