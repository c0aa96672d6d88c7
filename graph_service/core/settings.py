"""Settings, read from the environment (``INNOGRAPH_*``, ``NEO4J_*``) through a cached factory."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ATOMIC_LOAD_LIMIT", "Neo4jSettings", "Settings", "default_data_dir", "get_settings"]

ATOMIC_LOAD_LIMIT = 100_000
"""Default of ``NEO4J_ATOMIC_LOAD_LIMIT``. A load's transaction holds about 3.6 KiB of the server's
transaction memory per node or relationship (measured, see RELIABILITY.md): 100,000 take some 350 MiB,
half of what a 1 GiB heap (docker-compose.yml) lets transactions use, leaving the rest to readers."""


def default_data_dir() -> Path:
    """Where the embedded snapshot lives unless ``INNOGRAPH_DATA_DIR`` says otherwise."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "innograph"


class Neo4jSettings(BaseSettings):
    """How to reach Neo4j: ``NEO4J_URI``, ``NEO4J_USER``, ``NEO4J_PASSWORD``, ``NEO4J_DATABASE``."""

    model_config = SettingsConfigDict(env_prefix="NEO4J_", extra="ignore")

    uri: str = Field(default="bolt://127.0.0.1:7687", description="bolt:// or neo4j:// address.")
    user: str = "neo4j"
    password: SecretStr = SecretStr("")
    database: str = "neo4j"
    timeout: float = Field(default=30.0, gt=0, description="Transaction time limit, seconds.")
    connect_timeout: float = Field(default=5.0, gt=0, description="Seconds to wait for a connection.")
    batch_size: int = Field(
        default=10_000, ge=1, le=100_000, description="Rows per write transaction (10,000 measured best)."
    )
    atomic_load_limit: int = Field(
        default=ATOMIC_LOAD_LIMIT,
        ge=0,
        description=(
            "Most nodes plus relationships a load writes in one transaction, so that readers see it all "
            "at once; past this the rest is committed batch by batch (0: always batch by batch)."
        ),
    )
    load_timeout: float = Field(
        default=600.0, gt=0, description="Time limit, seconds, of the one transaction a load runs in."
    )


class Settings(BaseSettings):
    """Everything the service and the command line read from their environment."""

    model_config = SettingsConfigDict(env_prefix="INNOGRAPH_", extra="ignore")

    backend: Literal["embedded", "neo4j"] = "embedded"
    data_dir: Path = Field(default_factory=default_data_dir)
    neo4j: Neo4jSettings = Field(default_factory=Neo4jSettings)
    api_key: SecretStr | None = Field(
        default=None,
        description="Key for write routes (header X-API-Key); write routes are off without it.",
    )
    max_upload_bytes: int = Field(
        default=50 * 1024 * 1024,
        ge=1,
        description="Largest upload accepted; a larger declared or sent body is refused with 413 at once.",
    )
    load_timeout: float = Field(
        default=120.0,
        gt=0,
        le=86_400,
        description="Seconds an upload's load may take; past it the load is cancelled and the graph is unchanged.",
    )
    max_cells: int = Field(
        default=2_000_000,
        ge=1,
        description="Most workbook cells (and rows) one upload may hold, counted as they are read.",
    )
    request_timeout: float = Field(
        default=30.0, gt=0, le=3600, description="Seconds a question may take before the API answers 503."
    )
    max_file_bytes: int = Field(
        default=500 * 1024 * 1024, ge=1, description="Largest source file a load reads."
    )
    answer_cache_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=0,
        description="Memory the API may keep repeated answers in (0 turns the answer cache off).",
    )
    answer_cache_entries: int = Field(default=4096, ge=1, description="Most answers the API keeps.")

    @property
    def snapshot_path(self) -> Path:
        """The embedded store's snapshot file."""
        return self.data_dir / "graph.json"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once; tests clear the cache or pass their own."""
    return Settings()
