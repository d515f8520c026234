"""The one configuration object. Everything tunable comes from the environment here."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path


def _env_list(name: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in os.environ.get(name, "").split(",") if v.strip())


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=lambda: Path(os.environ.get("MAATWERK_DATA_DIR", ".maatwerk")))
    encoder: str = field(default_factory=lambda: os.environ.get("MAATWERK_ENCODER", "use-multilingual"))
    api_keys: tuple[str, ...] = field(default_factory=lambda: _env_list("MAATWERK_API_KEYS"))
    cors_origins: tuple[str, ...] = field(default_factory=lambda: _env_list("MAATWERK_CORS_ORIGINS"))
    sparql_timeout_s: float = field(default_factory=lambda: float(os.environ.get("MAATWERK_SPARQL_TIMEOUT", "10")))
    sparql_result_limit: int = field(default_factory=lambda: int(os.environ.get("MAATWERK_SPARQL_LIMIT", "10000")))
    # SPARQL admission: this many worker processes evaluate, this many more queries wait; beyond that 429.
    sparql_workers: int = field(default_factory=lambda: int(os.environ.get("MAATWERK_SPARQL_WORKERS", "2")))
    sparql_queue: int = field(default_factory=lambda: int(os.environ.get("MAATWERK_SPARQL_QUEUE", "8")))
    sparql_max_bytes: int = field(default_factory=lambda: int(os.environ.get("MAATWERK_SPARQL_MAX_BYTES",
                                                                              "50000000")))
    max_text_chars: int = 20_000
    max_body_bytes: int = 5_000_000
    max_k: int = 100

    def with_data_dir(self, data_dir: Path | str | None) -> "Settings":
        return self if data_dir is None else replace(self, data_dir=Path(data_dir))

    @property
    def store_dir(self) -> Path:
        return self.data_dir / "store"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"
