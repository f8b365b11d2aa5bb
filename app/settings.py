"""Settings, read from the environment with the prefix ``COUNTERPART_``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["MIN_KEY_LENGTH", "Settings", "get_settings"]

#: Shortest admin key accepted.
MIN_KEY_LENGTH = 16


class Settings(BaseSettings):
    """Everything the service can be configured with.

    ``COUNTERPART_DATABASE_URL`` selects the database; by default an embedded SQLite file in
    ``COUNTERPART_DATA_DIR`` (``./var``), created and seeded with the shipped dataset on first
    start.
    """

    model_config = SettingsConfigDict(env_prefix="COUNTERPART_", extra="ignore")

    data_dir: Path = Field(default=Path("var"), description="Where the embedded database lives.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: sqlite in data_dir."
    )
    admin_key: SecretStr | None = Field(
        default=None,
        description=(
            "The bootstrap admin key (at least 16 characters); unset or empty, only keys made "
            "with `counterpart keys create` or POST /keys are accepted."
        ),
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default=[],
        description=(
            "Origins allowed by CORS, comma-separated in the environment; none by default "
            "(the service's own web app is same-origin)."
        ),
    )
    max_body_bytes: int = Field(
        default=16 * 2**20, ge=1024, description="Largest request body accepted (413 beyond)."
    )
    max_import_bytes: int = Field(
        default=256 * 2**20,
        ge=1024,
        description=(
            "Largest file an import accepts (413 beyond, nothing written); imports are streamed "
            "to disk, so this bounds disk, not memory."
        ),
    )
    write_wait_seconds: float = Field(
        default=30.0,
        gt=0,
        le=600,
        description=(
            "How long a write waits for another's lock (an import's write phase) before it is "
            "answered 503 with Retry-After."
        ),
    )
    work_seconds: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="Time budget of one heavy computation (a round, a scenario, a plan).",
    )
    work_memory_mb: int = Field(
        default=2048,
        ge=256,
        description="Memory budget of one heavy computation, run in a process of its own.",
    )
    index_snapshots: bool = Field(
        default=True,
        description=(
            "Write the partner index to data_dir/index after each full build, and start from "
            "the newest snapshot that fits the database (false: build from every row at start)."
        ),
    )
    search_threads: int = Field(
        default=2,
        ge=1,
        le=64,
        description=(
            "Partner searches one worker runs at once (the others queue): searches are CPU "
            "work, and more threads than cores only fight over the interpreter's lock."
        ),
    )
    worker_healthcheck_seconds: int = Field(
        default=120,
        ge=5,
        le=3600,
        description=(
            "With several workers, how long a worker may leave uvicorn's liveness ping "
            "unanswered before it is killed and replaced: a worker starting on a loaded machine "
            "(imports before it can answer) or building a large index must not be taken for hung."
        ),
    )

    log_level: str = Field(
        default="info",
        pattern="^(debug|info|warning|error)$",
        description="Level of the service's logs.",
    )
    log_json: bool = Field(
        default=True, description="Logs as one JSON object per line (false: plain text)."
    )

    @field_validator("admin_key", mode="before")
    @classmethod
    def _no_weak_key(cls, value: object) -> object:
        # An empty key (COUNTERPART_ADMIN_KEY=) means no key: writes refused, never "anyone".
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if isinstance(text, str):
            if not text.strip():
                return None
            if text != text.strip() or len(text) < MIN_KEY_LENGTH:
                raise ValueError(
                    f"COUNTERPART_ADMIN_KEY must be at least {MIN_KEY_LENGTH} characters without "
                    "surrounding spaces (e.g. `python -c 'import secrets; "
                    "print(secrets.token_urlsafe(32))'`)"
                )
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @property
    def import_dir(self) -> Path:
        """Where imports spool their files and stage their rows (emptied at every start)."""
        return self.data_dir / "tmp"

    @property
    def index_dir(self) -> Path:
        """Where the partner index's snapshots are written (see `index_snapshots`)."""
        return self.data_dir / "index"

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'counterpart.db'}"


@lru_cache
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return Settings()
