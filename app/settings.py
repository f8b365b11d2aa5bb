"""Settings, read from the environment with the prefix ``COUNTERPART_``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["Settings", "get_settings"]


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
        default=None, description="Bearer key for writes; without it, writes are refused."
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default=["*"], description="Origins allowed by CORS, comma-separated in the environment."
    )
    max_body_bytes: int = Field(
        default=16 * 2**20, ge=1024, description="Largest request body accepted (413 beyond)."
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

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
