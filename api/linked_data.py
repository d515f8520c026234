"""Linked data: every IRI https://w3id.org/maatwerk/id/{type}/{slug} is served at /id/{type}/{slug}.

Browsers get HTML (the web UI's page when there is one); other clients get the
resource's own triples plus the labels of what it points to, as Turtle,
JSON-LD, N-Triples or RDF/XML by Accept. Nodes that belong to the resource
(a case's knelpunten and leerpunten, IRIs under its own) come along, as in a
Concise Bounded Description.
"""

from __future__ import annotations

import html
import inspect

import pyoxigraph as ox
from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from api.routes import ApiError, maatwerk
from api.sparql_protocol import FORMAT_NAMES, RDF_PREFIXES, RDF_TYPES, TURTLE, content_type, negotiate, wants_html
from graph.sparql import GRAPH_TYPES
from ontology import ID, PREFIXES, term

router = APIRouter(tags=["linked data"])

_LABELS = [ox.NamedNode(term(p)) for p in ("skos:prefLabel", "rdfs:label", "dcterms:title")]


@router.get("/id/{kind}/{slug:path}", response_class=Response, summary="Een resource als linked data",
            responses={200: {"content": {t: {} for t in [*RDF_TYPES, "text/html"]},
                             "description": "Turtle, JSON-LD, N-Triples, RDF/XML of HTML, naar Accept"},
                       404: {"description": "Onbekende resource"}})
async def resource(request: Request, kind: str, slug: str):
    uri = f"{ID}{kind}/{slug}"
    store = maatwerk(request).kg.store
    triples = await run_in_threadpool(describe, store, uri)
    browser = wants_html(request, RDF_TYPES) and not request.query_params.get("format")
    if not triples:
        if browser:
            return HTMLResponse(_page("Niet gevonden", f"<p>Er is geen resource {html.escape(uri)}.</p>"), 404)
        raise ApiError(404, f"Onbekende resource: {uri}")
    if browser:
        return await _html(request, kind, slug, uri, triples)
    media = _media(request)
    body = ox.serialize(triples, format=GRAPH_TYPES[media], prefixes=RDF_PREFIXES)
    return Response(body, media_type=content_type(media), headers={"Vary": "Accept"})


def _media(request: Request) -> str:
    name = (request.query_params.get("format") or "").strip().lower()
    if name in FORMAT_NAMES and FORMAT_NAMES[name][1]:
        return FORMAT_NAMES[name][1]
    media = negotiate(request.headers.get("accept"), [*RDF_TYPES, "application/json"], TURTLE)
    return "application/ld+json" if media == "application/json" else media


def describe(store: ox.Store, uri: str) -> list[ox.Triple]:
    """The resource's triples, those of nodes under its IRI, and labels of everything they point to."""
    try:
        node = ox.NamedNode(uri)
    except ValueError:  # not even a valid IRI: certainly not in the store
        return []
    found = _outgoing(store, node)
    if not found:
        return []
    owned = {t.object for t in found if isinstance(t.object, ox.NamedNode) and t.object.value.startswith(uri + "/")}
    for child in owned:
        found |= _outgoing(store, child)
    for obj in {t.object for t in found if isinstance(t.object, ox.NamedNode)} - owned - {node}:
        for predicate in _LABELS:
            found |= {ox.Triple(q.subject, q.predicate, q.object)
                      for q in store.quads_for_pattern(obj, predicate, None, None)}
    return sorted(found, key=lambda t: (t.subject != node, str(t.subject), str(t.predicate), str(t.object)))


def _outgoing(store: ox.Store, node: ox.NamedNode) -> set[ox.Triple]:
    # A resource may sit in several named graphs (reference data, an imported law): take the union.
    return {ox.Triple(q.subject, q.predicate, q.object) for q in store.quads_for_pattern(node, None, None, None)}


async def _html(request: Request, kind: str, slug: str, uri: str, triples: list[ox.Triple]) -> Response:
    from api.app import ui_module

    ui = ui_module()
    if ui is not None and hasattr(ui, "resource_page"):
        page = ui.resource_page(request, kind, slug)
        return await page if inspect.isawaitable(page) else page
    return HTMLResponse(_fallback(uri, triples))


# --- the minimal page when the web UI is not installed -------------------------------------


def _fallback(uri: str, triples: list[ox.Triple]) -> str:
    subject = ox.NamedNode(uri)
    labels = {t.subject.value: t.object.value for t in triples if t.predicate in _LABELS}
    title = labels.get(uri, uri.rsplit("/", 1)[1])
    rows = "".join(
        f"<tr><td>{html.escape(_short(t.predicate.value))}</td><td>{_object(t.object, labels)}</td></tr>"
        for t in triples if t.subject == subject)
    body = (f"<p><code>{html.escape(uri)}</code> · <a href=\"?format=turtle\">Turtle</a> · "
            f"<a href=\"?format=jsonld\">JSON-LD</a></p><table>{rows}</table>")
    return _page(title, body)


def _object(term_: ox.NamedNode | ox.Literal | ox.BlankNode, labels: dict[str, str]) -> str:
    if isinstance(term_, ox.NamedNode):
        text = html.escape(labels.get(term_.value, _short(term_.value)))
        href = "/id/" + term_.value[len(ID):] if term_.value.startswith(ID) else term_.value
        return f'<a href="{html.escape(href)}">{text}</a>'
    return html.escape(term_.value)


def _short(uri: str) -> str:
    for prefix, namespace in PREFIXES.items():
        if uri.startswith(namespace):
            return f"{prefix}:{uri[len(namespace):]}"
    return uri


def _page(title: str, body: str) -> str:
    return (f'<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>{html.escape(title)} – maatwerk-kg'
            f"</title></head><body><h1>{html.escape(title)}</h1>{body}</body></html>")
