"""What every page of the web UI shares: the templates, links to our IRIs, number formatting, page parameters."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from api.http import negotiate
from graph.concepts import tokens
from ontology import ID
from ontology.vocabulary import RESOURCE_LABELS

API_DIR = Path(__file__).resolve().parents[1]
templates = Jinja2Templates(directory=str(API_DIR / "templates"))

WETTEN = "https://wetten.overheid.nl/"
# GET /sparql?query= is the SPARQL protocol (it answers with results), so the editor page
# takes the query to show under its own parameter.
EDITOR_PARAM = "vraag"
# Page parameters before the UI took the API's names; old links are redirected to the new names.
LEGACY_PARAMS = {
    "wet": "law",
    "organisatie": "organisation",
    "knelpunt": "knelpunttype",
    "jaar_van": "year_from",
    "jaar_tot": "year_to",
    "aantal": "page_size",
}


# --- links -------------------------------------------------------------------------------------


def local_url(uri: str | None) -> str:
    """Where an IRI of ours is shown in this app; cases get their own page."""
    if not uri or not uri.startswith(ID):
        return uri or ""
    path = uri[len(ID) :]
    if path.startswith("casus/"):
        return "/casus/" + quote(path.split("/", 1)[1])
    return "/id/" + quote(path)


def wetten_url(bwb_id: str | None) -> str:
    return WETTEN + bwb_id if bwb_id else ""


def sparql_link(query: str) -> str:
    return "/sparql?" + urlencode({EDITOR_PARAM: query})


# --- text --------------------------------------------------------------------------------------


def getal(value: Any, digits: int = 2) -> str:
    """Dutch decimal comma: 0,63."""
    if isinstance(value, float):
        return f"{value:.{digits}f}".replace(".", ",")
    return str(value)


def highlight(text: str, terms: list[str], concepts: list[str] | None = None) -> Markup:
    """Escape the passage, then wrap words whose stem matched the query in <mark>.

    The stems come from the search's own tokenizer, so "behandeling" is marked for
    the matched term "behandel"; shared concept labels are marked as whole phrases.
    """
    spans = _term_spans(text, set(terms)) + _phrase_spans(text, concepts or [])
    out, last = [], 0
    for start, end, cls in _merge(spans):
        out.append(html.escape(text[last:start]))
        out.append(f'<mark class="{cls}">{html.escape(text[start:end])}</mark>')
        last = end
    out.append(html.escape(text[last:]))
    return Markup("".join(out))


def _term_spans(text: str, stems: set[str]) -> list[tuple[int, int, str]]:
    try:
        found = tokens(text)
    except Exception:  # highlighting is a nicety; never let it break a result card
        return []
    return [(s, e, "term") for stem, s, e in found if stem in stems and e <= len(text)]


def _phrase_spans(text: str, phrases: list[str]) -> list[tuple[int, int, str]]:
    spans = []
    for phrase in phrases:
        if len(phrase) < 3:
            continue
        for m in re.finditer(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)", text, re.I):
            spans.append((m.start(), m.end(), "concept"))
    return spans


def _merge(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Non-overlapping spans in order; a concept phrase wins over the words inside it."""
    merged: list[tuple[int, int, str]] = []
    for start, end, cls in sorted(spans, key=lambda s: (s[0], -(s[1] - s[0]))):
        if merged and start < merged[-1][1]:
            continue
        merged.append((start, end, cls))
    return merged


templates.env.globals.update(
    local_url=local_url, wetten_url=wetten_url, sparql_link=sparql_link, kind_names=RESOURCE_LABELS
)
templates.env.filters.update(getal=getal)


# --- pages -------------------------------------------------------------------------------------


def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    context = {"request": request, "json_url": json_url(request), **context}
    response = templates.TemplateResponse(request, name, context, status_code=status)
    response.headers["Vary"] = "Accept"  # the same address answers JSON to clients that ask for it
    return response


# --- JSON twins (datasette style): the data of a page at the same address ----------------------


def wants_json(request: Request) -> bool:
    """`?format=json`, or an Accept header preferring JSON over HTML."""
    if request.query_params.get("format") == "json":
        return True
    accept = request.headers.get("accept")
    return negotiate(accept, ["text/html", "application/json"], "text/html") == "application/json"


def json_url(request: Request) -> str:
    """This page's address with format=json: the `<link rel="alternate">` in the page head."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "format"]
    return f"{request.url.path}?{urlencode([*params, ('format', 'json')])}"


def json_twin(data: Any) -> JSONResponse:
    return JSONResponse(jsonable_encoder(data), headers={"Vary": "Accept"})


def not_found(request: Request, message: str) -> HTMLResponse:
    return page(request, "fout.html", {"title": "Niet gevonden", "message": message, "nav": ""}, 404)


def legacy_redirect(request: Request) -> RedirectResponse | None:
    """A permanent redirect to the same page with today's parameter names, when an old link used the old ones."""
    params = request.query_params.multi_items()
    if not any(name in LEGACY_PARAMS for name, _ in params):
        return None
    renamed = [(LEGACY_PARAMS.get(name, name), value) for name, value in params]
    return RedirectResponse(f"{request.url.path}?{urlencode(renamed)}", status_code=301)


def year_param(raw: str, label: str, errors: list[str]) -> int | None:
    """A year typed into a URL: ASCII digits only, at most four ('²'.isdigit() is true, but int() refuses it)."""
    if not raw:
        return None
    if raw.isascii() and raw.isdigit() and len(raw) <= 4:
        return int(raw)
    errors.append(f"{label} moet een jaartal zijn, bijvoorbeeld 2023.")
    return None
