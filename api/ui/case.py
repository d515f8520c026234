"""Casus (`/casus/{id}`): one case, its links, a picture of what it shares with similar cases.

`Accept: application/json` (or `?format=json`) gives the same data as JSON: the case as
/api/cases/{id} has it, the similar cases and the picture's nodes and edges.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.http import ApiError, maatwerk
from api.models import CaseDetail
from api.ui.pages import json_twin, local_url, not_found, page, wants_json
from graph import reference
from graph.case import case_iri, read_case
from graph.limited import over_limit
from graph.sparql import SparqlError
from ontology.vocabulary import CASE_LINKS
from search.service import UnknownCase

router = APIRouter(include_in_schema=False)

SIMILAR_ON_CASE_PAGE = 6
# The kinds drawn around a case in its picture, inside out: (case field, kind).
GRAPH_GROUPS = tuple(
    (k.field, k.kind) for k in CASE_LINKS if k.field and k.kind in ("wet", "voorziening", "organisatie", "levensgebied")
)


@router.get("/casus/{case_id}", response_class=HTMLResponse, name="casus")
def casus(request: Request, case_id: str):
    core = maatwerk(request)
    uri = case_iri(case_id)
    case = read_case(core.kg, uri, core.concepts)
    if case is None:
        if wants_json(request):
            raise ApiError(404, f"Onbekende casus: {case_id}")
        return not_found(request, f"Er is geen casus met kenmerk ‘{case_id}’.")
    similar = _similar(core, uri)
    if wants_json(request):
        return json_twin({"case": _as_api(case), "similar": similar, "graph": neighbourhood(case, similar)})
    try:
        leerordes = core.cached("leerorde definitions", lambda: reference.leerorde_definitions(core.kg, core.limits))
    except SparqlError as exc:
        if not over_limit(exc):
            raise
        leerordes = {}  # only the tooltips on the leerorde labels go missing
    return page(
        request,
        "casus.html",
        {
            "nav": "",
            "case": case,
            "knelpunten": case["knelpunten"],
            "learning_points": case["learning_points"],
            "interventions": case["interventions"],
            "leerordes": leerordes,
            "similar": similar,
            "graph": neighbourhood(case, similar),
            "back_to_results": _search_referrer(request),
        },
    )


def _search_referrer(request: Request) -> str:
    """The search results this page was opened from (path and query), or '' when it was not a search."""
    referrer = urlsplit(request.headers.get("referer", ""))
    if referrer.netloc != request.url.netloc or referrer.path != "/" or "q=" not in referrer.query:
        return ""
    return f"/?{referrer.query}"


def _as_api(case: dict[str, Any]) -> dict[str, Any]:
    """The case exactly as GET /api/cases/{id} answers it."""
    return CaseDetail.model_validate(case).model_dump(mode="json")


def _similar(core, uri: str) -> list[dict[str, Any]]:
    try:
        return core.search().similar(uri, SIMILAR_ON_CASE_PAGE)["results"]
    except UnknownCase:  # stored but not (yet) in the index
        return []


def neighbourhood(case: dict[str, Any], similar: list[dict[str, Any]]) -> dict[str, list]:
    """Nodes and edges for the case picture: the case, its concepts, and similar cases sharing them."""
    nodes = [
        {"id": case["uri"], "label": case["title"], "kind": "casus", "url": local_url(case["uri"]), "centre": True}
    ]
    edges = []
    mine: set[str] = set()
    for key, kind in GRAPH_GROUPS:
        for link in case[key]:
            if link["uri"] not in mine:
                mine.add(link["uri"])
                nodes.append({"id": link["uri"], "label": link["label"], "kind": kind, "url": local_url(link["uri"])})
                edges.append({"source": case["uri"], "target": link["uri"]})
    for other in similar:
        shared = {link["uri"] for key, _ in GRAPH_GROUPS for link in other.get(key, [])} & mine
        if not shared:
            continue
        nodes.append(
            {"id": other["uri"], "label": other["title"], "kind": "anderecasus", "url": local_url(other["uri"])}
        )
        edges += [{"source": uri, "target": other["uri"]} for uri in sorted(shared)]
    return {"nodes": nodes, "edges": edges}
