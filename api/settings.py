"""The settings registry: every tunable of the product, with its environment variable, default, type and help.

`Settings()` reads the environment and checks each value, so a bad value stops the start
with one clear line (`BadSetting`, exit 2) instead of a traceback later on. `maatwerk settings`
lists the registry. Settings live in the application layer because they hold API keys and
CORS origins; graph, search and ingest get plain parameters from here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from graph.errors import MaatwerkError


class BadSetting(MaatwerkError):
    """An environment value that cannot be used (exit 2)."""


class _Unusable(Exception):
    """Raised by a parser below: why a value cannot be used, in Dutch."""


@dataclass(frozen=True)
class Setting:
    name: str
    env: str
    default: Any
    parse: Callable[[str], Any]
    help: str
    secret: bool = False

    def from_env(self, environ: Mapping[str, str]) -> Any:
        raw = environ.get(self.env)
        if raw is None or raw.strip() == "":
            return self.default
        try:
            return self.parse(raw)
        except _Unusable as exc:
            raise BadSetting(f"Ongeldige waarde voor {self.env}: {exc}") from None


def _items(raw: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in raw.split(",") if v.strip())


def _number(kind: type, minimum: float) -> Callable[[str], Any]:
    def parse(raw: str) -> Any:
        try:  # int() or float() alone: their ValueError can only mean "not a number"
            value = kind(raw.strip())
        except ValueError:
            raise _Unusable(f"{raw.strip()!r} is geen {'geheel ' if kind is int else ''}getal") from None
        if not minimum <= value < float("inf"):  # also refuses nan
            raise _Unusable(f"{raw.strip()} moet minstens {minimum:g} zijn (en eindig)")
        return value

    return parse


def _flag(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "ja", "aan", "on", "yes"):
        return True
    if value in ("0", "false", "nee", "uit", "off", "no"):
        return False
    raise _Unusable(f"{raw.strip()!r} is geen ja/nee-waarde (gebruik 1 of 0)")


def _log_level(raw: str) -> str:
    level = raw.strip().upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise _Unusable(f"{raw.strip()!r} is geen logniveau; kies DEBUG, INFO, WARNING of ERROR")
    return level


REGISTRY: tuple[Setting, ...] = (
    Setting("data_dir", "MAATWERK_DATA_DIR", Path(".maatwerk"), Path, "data-map: de store en de zoekindex"),
    Setting(
        "encoder",
        "MAATWERK_ENCODER",
        "use-multilingual",
        str.strip,
        "`use-multilingual` (USE multilingual v3, kan Nederlands, alleen numpy) of `st:<naam-of-pad>` voor een "
        "sentence-transformers-model op schijf; bij een andere encoder wordt de index opnieuw gebouwd",
    ),
    Setting(
        "api_keys",
        "MAATWERK_API_KEYS",
        (),
        _items,
        "sleutels voor `POST /api/cases`, gescheiden door komma's; geen sleutels = schrijven uit",
        secret=True,
    ),
    Setting(
        "cors_origins",
        "MAATWERK_CORS_ORIGINS",
        (),
        _items,
        "origins die CORS toestaat, gescheiden door komma's; standaard geen (CORS uit)",
    ),
    Setting("sparql_timeout_s", "MAATWERK_SPARQL_TIMEOUT", 10.0, _number(float, 0.1), "seconden per SPARQL-query"),
    Setting(
        "sparql_result_limit",
        "MAATWERK_SPARQL_LIMIT",
        10_000,
        _number(int, 1),
        "hoogstens zoveel rijen of triples per SPARQL-antwoord",
    ),
    Setting(
        "sparql_max_bytes",
        "MAATWERK_SPARQL_MAX_BYTES",
        50_000_000,
        _number(int, 1),
        "hoogstens zoveel bytes per SPARQL-antwoord; een groter antwoord wordt geweigerd (413)",
    ),
    Setting(
        "sparql_workers",
        "MAATWERK_SPARQL_WORKERS",
        2,
        _number(int, 1),
        "SPARQL-werkprocessen (zoveel queries tegelijk); een op hol geslagen query bezet er één tot zijn tijdslimiet",
    ),
    Setting(
        "sparql_queue",
        "MAATWERK_SPARQL_QUEUE",
        8,
        _number(int, 0),
        "zoveel SPARQL-queries mogen op een werkproces wachten; meer krijgen meteen 429 met Retry-After",
    ),
    Setting(
        "sparql_worker_memory_mb",
        "MAATWERK_SPARQL_WORKER_MEMORY_MB",
        4096,
        _number(int, 64),
        "geheugen per SPARQL-werkproces (MiB): een enorme ORDER BY faalt in plaats van de server te verstikken",
    ),
    Setting(
        "shacl_import_limit",
        "MAATWERK_SHACL_IMPORT_LIMIT",
        2_000,
        _number(int, 0),
        "imports van hoogstens zoveel casussen worden ook met SHACL gecontroleerd (pySHACL is traag bij grote)",
    ),
    Setting(
        "max_text_chars",
        "MAATWERK_MAX_TEXT_CHARS",
        20_000,
        _number(int, 1),
        "hoogstens zoveel tekens in een zoektekst en in elk tekstveld van een geïmporteerde casus",
    ),
    Setting(
        "max_body_bytes",
        "MAATWERK_MAX_BODY_BYTES",
        5_000_000,
        _number(int, 1),
        "hoogstens zoveel bytes in de body van een HTTP-verzoek",
    ),
    Setting("max_k", "MAATWERK_MAX_K", 100, _number(int, 1), "hoogstens zoveel resultaten per zoekvraag"),
    Setting(
        "log_level",
        "MAATWERK_LOG_LEVEL",
        "WARNING",
        _log_level,
        "hoeveel de logboeken zeggen: WARNING, INFO (volg een import en het bijwerken van de index) of DEBUG",
    ),
    Setting(
        "publish_auth",
        "MAATWERK_PUBLISH_AUTH",
        "",
        str.strip,
        "inloggegevens voor `maatwerk publish`: `gebruiker:wachtwoord` (Basic) of `Bearer <token>`; "
        "hier in plaats van op de opdrachtregel, waar elk proces ze kan lezen",
        secret=True,
    ),
    Setting(
        "read_requires_login",
        "MAATWERK_READ_REQUIRES_LOGIN",
        False,
        _flag,
        "1: ook lezen (pagina's, API, SPARQL) vraagt een aangemelde schrijver of een API-sleutel; standaard 0 (open)",
    ),
    Setting(
        "warm_overviews",
        "MAATWERK_WARM_OVERVIEWS",
        True,
        _flag,
        "1 (standaard): de server berekent Systeemleren en de referentielijsten op de achtergrond na het "
        "starten en na elke import, zodat geen bezoeker erop wacht; 0: pas bij het eerste bezoek",
    ),
    Setting(
        "session_hours",
        "MAATWERK_SESSION_HOURS",
        8.0,
        _number(float, 0.01),
        "zoveel uur blijft een schrijver aangemeld (de sessiecookie verloopt daarna)",
    ),
)
BY_NAME: dict[str, Setting] = {s.name: s for s in REGISTRY}


def default(name: str) -> Any:
    """A setting's default, for documents that are fixed at import time (the OpenAPI schema)."""
    return BY_NAME[name].default


def _from_env(name: str) -> Any:
    return field(default_factory=lambda: BY_NAME[name].from_env(os.environ))


@dataclass(frozen=True)
class Settings:
    """The values in force: the environment's, else the defaults; `replace()` them for tests."""

    # ruff: noqa: RUF009 - `_from_env` returns a dataclasses.field with a default_factory, read at construction
    data_dir: Path = _from_env("data_dir")
    encoder: str = _from_env("encoder")
    api_keys: tuple[str, ...] = _from_env("api_keys")
    cors_origins: tuple[str, ...] = _from_env("cors_origins")
    sparql_timeout_s: float = _from_env("sparql_timeout_s")
    sparql_result_limit: int = _from_env("sparql_result_limit")
    sparql_max_bytes: int = _from_env("sparql_max_bytes")
    sparql_workers: int = _from_env("sparql_workers")
    sparql_queue: int = _from_env("sparql_queue")
    sparql_worker_memory_mb: int = _from_env("sparql_worker_memory_mb")
    shacl_import_limit: int = _from_env("shacl_import_limit")
    max_text_chars: int = _from_env("max_text_chars")
    max_body_bytes: int = _from_env("max_body_bytes")
    max_k: int = _from_env("max_k")
    log_level: str = _from_env("log_level")
    publish_auth: str = _from_env("publish_auth")
    read_requires_login: bool = _from_env("read_requires_login")
    warm_overviews: bool = _from_env("warm_overviews")
    session_hours: float = _from_env("session_hours")

    def with_data_dir(self, data_dir: Path | str | None) -> Settings:
        return self if data_dir is None else replace(self, data_dir=Path(data_dir))

    @property
    def store_dir(self) -> Path:
        return self.data_dir / "store"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def publish_dir(self) -> Path:
        """What was last published to each target, so a publish sends only what changed."""
        return self.data_dir / "publish"

    def described(self) -> list[dict[str, str]]:
        """Each setting with its current value (secrets masked), for `maatwerk settings`."""
        return [
            {
                "name": s.name,
                "env": s.env,
                "value": _shown(s, getattr(self, s.name)),
                "default": _shown(s, s.default),
                "help": s.help,
            }
            for s in REGISTRY
        ]


def _shown(setting: Setting, value: Any) -> str:
    if setting.secret and isinstance(value, str):
        return "ingesteld (verborgen)" if value else "(geen)"
    if isinstance(value, tuple):
        if setting.secret and value:
            return f"{len(value)} ingesteld (verborgen)"
        return ", ".join(value) or "(geen)"
    return str(value)
