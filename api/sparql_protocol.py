"""SPARQL 1.1 Protocol at /sparql: query by GET, form POST or direct POST; read-only; a service description.

The safety rules (no updates, no SERVICE/LOAD/remote FROM, time and result
limits) live in graph.sparql; this module speaks HTTP: where the query comes
from, which dataset it runs over and in which format the answer goes back.
"""

from __future__ import annotations

import asyncio

import pyoxigraph as ox
from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from api.http import (
    FORMAT_NAMES,
    RDF_PREFIXES,
    RDF_TYPES,
    TURTLE,
    ApiError,
    content_type,
    maatwerk,
    negotiate,
    wants_html,
)
from api.ui.sparql import sparql_page
from graph.resources import reference_graphs
from graph.sparql import GRAPH_TYPES, RESULT_TYPES, run_query
from graph.sparql_check import FORMS

router = APIRouter(tags=["sparql"])

RDFLIB_DEFAULT_GRAPH = "urn:x-rdflib:default"
QUERY_FORMS = tuple(FORMS.values())
_QUERY_DOC = {
    "parameters": [
        {
            "name": "query",
            "in": "query",
            "required": False,
            "schema": {"type": "string"},
            "description": "SPARQL-query (SELECT, ASK, CONSTRUCT, DESCRIBE). Zonder query: service description.",
        },
        {
            "name": "default-graph-uri",
            "in": "query",
            "required": False,
            "schema": {"type": "array", "items": {"type": "string"}},
        },
        {
            "name": "named-graph-uri",
            "in": "query",
            "required": False,
            "schema": {"type": "array", "items": {"type": "string"}},
        },
    ],
}


# --- the endpoint -----------------------------------------------------------------------


@router.get(
    "/sparql", summary="SPARQL-query (GET) of de service description", response_class=Response, openapi_extra=_QUERY_DOC
)
async def sparql_get(request: Request):
    params = request.query_params
    if "update" in params:
        raise ApiError(403, "Dit endpoint is alleen-lezen: updates worden geweigerd")
    queries = params.getlist("query")
    if not queries:
        return await service_description(request)
    return await _answer(
        request, _single(queries), params.getlist("default-graph-uri"), params.getlist("named-graph-uri")
    )


@router.post(
    "/sparql",
    summary="SPARQL-query (POST: formulier of application/sparql-query)",
    response_class=Response,
    openapi_extra={
        "requestBody": {
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "query": {"type": "string"},
                            "default-graph-uri": {"type": "array", "items": {"type": "string"}},
                            "named-graph-uri": {"type": "array", "items": {"type": "string"}},
                        },
                        "required": ["query"],
                    }
                },
                "application/sparql-query": {"schema": {"type": "string"}},
            }
        }
    },
)
async def sparql_post(request: Request):
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    params = request.query_params
    if kind == "application/sparql-update" or "update" in params:
        raise ApiError(403, "Dit endpoint is alleen-lezen: updates worden geweigerd")
    if kind == "application/sparql-query":
        text = _decode(await request.body())
        return await _answer(request, text, params.getlist("default-graph-uri"), params.getlist("named-graph-uri"))
    if kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()
        if "update" in form:
            raise ApiError(403, "Dit endpoint is alleen-lezen: updates worden geweigerd")
        queries = [q for q in form.getlist("query") if isinstance(q, str)]
        if not queries:
            raise ApiError(400, "Geen query meegestuurd", "Stuur het formulierveld 'query'")
        return await _answer(
            request,
            _single(queries),
            [*params.getlist("default-graph-uri"), *form.getlist("default-graph-uri")],
            [*params.getlist("named-graph-uri"), *form.getlist("named-graph-uri")],
        )
    raise ApiError(
        415,
        "Inhoudstype niet ondersteund",
        "Gebruik application/x-www-form-urlencoded (veld 'query') of application/sparql-query",
    )


def _single(queries: list[str]) -> str:
    if len(queries) != 1:
        raise ApiError(400, "Stuur precies één query", f"{len(queries)} keer 'query' ontvangen")
    return queries[0]


def _decode(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, "De query is geen geldige UTF-8") from exc


async def _answer(request: Request, text: str, default_graphs: list, named_graphs: list) -> Response:
    settings = request.app.state.settings
    kg = maatwerk(request).kg
    default_graphs, named_graphs = _dataset(kg, [str(g) for g in default_graphs], [str(g) for g in named_graphs])

    # The form is known only once the query is parsed (in the worker), so each form gets its type here
    # and the sandbox serialises the answer and sends only bytes back.
    media = {form: _result_media(request, form in ("construct", "describe")) for form in QUERY_FORMS}
    # Run on the SPARQL queue's own threads (429 when it is full): a waiting query never holds
    # a thread of the shared pool that health, search and the UI use.
    result = await asyncio.wrap_future(
        request.app.state.sparql_queue.submit(
            run_query,
            kg,
            text,
            settings.sparql_timeout_s,
            settings.sparql_result_limit,
            max_bytes=settings.sparql_max_bytes,
            default_graphs=default_graphs,
            named_graphs=named_graphs,
            media_type=media,
        )
    )
    headers = {"Vary": "Accept"}
    if result.answered_by:  # an example query answered from the analytics layer (docs/sparql.md)
        headers["X-Maatwerk-Bron"] = result.answered_by
    if result.truncated:
        headers["X-Result-Truncated"] = f"afgekapt op {settings.sparql_result_limit}"
    return Response(result.body, media_type=content_type(result.media_type), headers=headers)


def _result_media(request: Request, graph: bool) -> str:
    offered = [*RDF_TYPES, "application/json"] if graph else list(RESULT_TYPES)
    name = (request.query_params.get("format") or request.query_params.get("output") or "").strip().lower()
    if name:
        named = FORMAT_NAMES.get(name, (None, None))[1 if graph else 0] or (name if name in offered else None)
        if named:
            return named
    media = negotiate(request.headers.get("accept"), offered, TURTLE if graph else "application/sparql-results+json")
    return "application/ld+json" if graph and media == "application/json" else media


def _dataset(kg, default_graphs: list[str], named_graphs: list[str]) -> tuple[list[str], list[str]]:
    """The protocol's default-graph-uri / named-graph-uri, checked: unknown graphs are a 400."""
    # rdflib's SPARQLStore names the default graph by this IRI: it means "the default graph" here too.
    default_graphs = [g for g in default_graphs if g != RDFLIB_DEFAULT_GRAPH]
    for graph in [*default_graphs, *named_graphs]:
        if not kg.has_graph(graph):
            raise ApiError(
                400,
                f"Onbekende graaf: {graph}",
                "default-graph-uri en named-graph-uri moeten grafen in deze store zijn; "
                "externe grafen worden niet opgehaald",
            )
    return default_graphs, named_graphs


# --- service description -------------------------------------------------------------------


async def service_description(request: Request) -> Response:
    """sd:Service in Turtle (or JSON-LD / N-Triples) for clients; the query page for browsers."""
    if wants_html(request, RDF_TYPES):
        return sparql_page(request)
    media = negotiate(request.headers.get("accept"), RDF_TYPES, TURTLE)
    endpoint = str(request.url_for("sparql_get"))
    graphs = await run_in_threadpool(reference_graphs, maatwerk(request).kg)
    triples = ox.parse(_description(endpoint, graphs), format=ox.RdfFormat.TURTLE)
    body = ox.serialize(triples, format=GRAPH_TYPES[media], prefixes={**RDF_PREFIXES, "sd": _SD, "formats": _FORMATS})
    return Response(body, media_type=content_type(media), headers={"Vary": "Accept"})


_SD = "http://www.w3.org/ns/sparql-service-description#"
_FORMATS = "http://www.w3.org/ns/formats/"
_ABOUT = (
    "Alleen-lezen SPARQL 1.1 over wetten, organisaties, voorzieningen en geanonimiseerde casussen. De standaardgraaf "
    "is de vereniging van alle grafen; elke casus staat ook in een eigen benoemde graaf (de IRI van de casus). Geen "
    "updates, geen SERVICE of LOAD, met een tijds- en resultaatlimiet."
)


def _description(endpoint: str, graphs: list[str]) -> str:
    named_part = "".join(f" ; sd:namedGraph [ a sd:NamedGraph ; sd:name <{g}> ]" for g in graphs)
    return f"""
@prefix sd: <{_SD}> .
@prefix formats: <{_FORMATS}> .
@prefix dcterms: <http://purl.org/dc/terms/> .
<{endpoint}> a sd:Service ;
    sd:endpoint <{endpoint}> ;
    sd:supportedLanguage sd:SPARQL11Query ;
    sd:feature sd:UnionDefaultGraph ;
    sd:resultFormat formats:SPARQL_Results_JSON, formats:SPARQL_Results_XML, formats:SPARQL_Results_CSV,
        formats:SPARQL_Results_TSV, formats:Turtle, formats:JSON-LD, formats:N-Triples, formats:RDF_XML ;
    dcterms:title "maatwerk-kg SPARQL-endpoint"@nl ;
    dcterms:description "{_ABOUT}"@nl ;
    sd:defaultDataset [ a sd:Dataset ; sd:defaultGraph [ a sd:Graph ] {named_part} ] .
"""
