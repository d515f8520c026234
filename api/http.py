"""HTTP helpers every router uses: the application, error answers, content negotiation, input checks.

They live here, below every router, so no router imports another or the app.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import JSONResponse

from graph.errors import MaatwerkError
from ontology import PREFIXES
from search.text import is_blank

if TYPE_CHECKING:
    from api.core import Maatwerk


def maatwerk(request: Request) -> Maatwerk:
    """The application this request is served by (opened once at start-up)."""
    return request.app.state.maatwerk


# --- errors ----------------------------------------------------------------------------------


class ApiError(MaatwerkError):
    """An error meant for the client: status, a clear message, optional details and extra fields."""

    def __init__(self, status: int, error: str, detail: Any = None, headers: dict | None = None, **extra: Any):
        super().__init__(error, detail, status=status, headers=headers)
        self.extra = extra

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), **self.extra}


class ErrorJSONResponse(JSONResponse):
    """JSON that cannot fail to render: an error answer must never turn into a 500 of its own.

    Starlette writes UTF-8 without escapes, which raises on a lone surrogate (from a JSON "\\ud800"
    escape echoed in a message); then, and for values JSON cannot hold, it falls back to ASCII JSON
    (surrogates written as \\u escapes) with non-finite numbers as null and other objects as text.
    """

    def render(self, content) -> bytes:
        try:
            return super().render(content)
        except (ValueError, TypeError):  # UnicodeEncodeError is a ValueError
            return json.dumps(_json_safe(content), ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode(
                "ascii"
            )


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def error_response(status: int, error: str, detail=None, headers=None, **extra) -> JSONResponse:
    return ErrorJSONResponse({"error": error, "detail": detail, **extra}, status_code=status, headers=headers)


# --- input checks ----------------------------------------------------------------------------


def check_text(request: Request, text: str, what: str = "tekst") -> str:
    """Empty text is 422, text over the configured limit 413, with a message that says so."""
    limit = request.app.state.settings.max_text_chars
    if len(text) > limit:
        raise ApiError(413, f"De {what} is te lang", f"{len(text)} tekens; hoogstens {limit} toegestaan")
    if is_blank(text):  # zero-width and combining characters alone are nothing to search for
        raise ApiError(422, f"De {what} is leeg", "Beschrijf de situatie in een paar zinnen")
    return text


def check_k(request: Request, k: int) -> int:
    limit = request.app.state.settings.max_k
    if not 1 <= k <= limit:
        raise ApiError(422, "Ongeldige k", f"k moet tussen 1 en {limit} liggen, niet {k}")
    return k


# --- content negotiation ---------------------------------------------------------------------

TURTLE = "text/turtle"
# Serialisation prefixes: the `id:` prefix would turn instance IRIs into unreadable `id:casus\/x`.
RDF_PREFIXES = {p: ns for p, ns in PREFIXES.items() if p != "id"}
RDF_TYPES = [TURTLE, "application/ld+json", "application/n-triples", "application/rdf+xml"]
# `format=` / `output=` as sent by SPARQLWrapper, YASGUI and browsers: short name -> (results type, graph type)
FORMAT_NAMES = {
    "json": ("application/sparql-results+json", "application/ld+json"),
    "xml": ("application/sparql-results+xml", "application/rdf+xml"),
    "csv": ("text/csv", None),
    "tsv": ("text/tab-separated-values", None),
    "turtle": (None, TURTLE),
    "ttl": (None, TURTLE),
    "jsonld": (None, "application/ld+json"),
    "json-ld": (None, "application/ld+json"),
    "nt": (None, "application/n-triples"),
    "ntriples": (None, "application/n-triples"),
    "n-triples": (None, "application/n-triples"),
    "rdfxml": (None, "application/rdf+xml"),
}
_TEXTUAL = (
    "text/",
    "application/sparql-results",
    "application/json",
    "application/ld+json",
    "application/n-triples",
    "application/rdf+xml",
    "application/xml",
)


def parse_accept(header: str | None) -> list[str]:
    """Media ranges from an Accept header, best first (stable for equal q), q=0 dropped."""
    ranges = []
    for n, part in enumerate((header or "*/*").split(",")):
        media, *params = [p.strip() for p in part.split(";")]
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media and q > 0:
            ranges.append((-q, n, media.lower()))
    return [media for _, _, media in sorted(ranges)]


def negotiate(header: str | None, offered: list[str], default: str) -> str:
    """The offered type the client prefers; the default for */* and when nothing offered fits."""
    for media in parse_accept(header):
        if media in offered:
            return media
        if media == "*/*":
            return default
        if media.endswith("/*"):
            prefix = media[:-1]
            match = next((o for o in offered if o.startswith(prefix)), None)
            if match:
                return match
    return default  # lenient: clients with odd Accept headers still get an answer


def wants_html(request: Request, others: list[str]) -> bool:
    return negotiate(request.headers.get("accept"), ["text/html", *others], others[0]) == "text/html"


def content_type(media: str) -> str:
    return f"{media}; charset=utf-8" if media.startswith(_TEXTUAL) else media
