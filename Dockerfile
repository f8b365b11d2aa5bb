# counterpart: the HTTP service on its embedded defaults (SQLite in /app/var, shipped dataset).
#   docker build -t counterpart .
#   docker run -p 8000:8000 -e COUNTERPART_ADMIN_KEY=$(openssl rand -hex 16) -v counterpart-data:/app/var counterpart
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
RUN pip install . \
    && useradd --create-home --uid 10001 counterpart \
    && mkdir -p /app/var \
    && chown counterpart:counterpart /app/var

USER counterpart
VOLUME ["/app/var"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"
CMD ["counterpart", "serve", "--host", "0.0.0.0", "--port", "8000"]
