"""SPARQL 1.1 Protocol at /sparql: query by GET, form POST or direct POST; read-only; a service description.

The safety rules (no updates, no SERVICE/LOAD/remote FROM, time and result
limits) live in graph.sparql; this module speaks HTTP: where the query comes
from, which dataset it runs over and in which format the answer goes back.
"""

from __future__ import annotations

import asyncio
import html
import inspect

import pyoxigraph as ox
from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from api.routes import ApiError, maatwerk
from graph.sparql import GRAPH_TYPES, RESULT_TYPES, run_query
from graph.sparql_check import FORMS
from ontology import PREFIXES

router = APIRouter(tags=["sparql"])

TURTLE = "text/turtle"
RDFLIB_DEFAULT_GRAPH = "urn:x-rdflib:default"
# Serialisation prefixes: the `id:` prefix would turn instance IRIs into unreadable `id:casus\/x`.
RDF_PREFIXES = {p: ns for p, ns in PREFIXES.items() if p != "id"}
RDF_TYPES = [TURTLE, "application/ld+json", "application/n-triples", "application/rdf+xml"]
# `format=` / `output=` as sent by SPARQLWrapper, YASGUI and browsers: short name -> (results type, graph type)
FORMAT_NAMES = {
    "json": ("application/sparql-results+json", "application/ld+json"),
    "xml": ("application/sparql-results+xml", "application/rdf+xml"),
    "csv": ("text/csv", None), "tsv": ("text/tab-separated-values", None),
    "turtle": (None, TURTLE), "ttl": (None, TURTLE), "jsonld": (None, "application/ld+json"),
    "json-ld": (None, "application/ld+json"), "nt": (None, "application/n-triples"),
    "ntriples": (None, "application/n-triples"), "n-triples": (None, "application/n-triples"),
    "rdfxml": (None, "application/rdf+xml"),
}
QUERY_FORMS = tuple(FORMS.values())
_TEXTUAL = ("text/", "application/sparql-results", "application/json", "application/ld+json",
            "application/n-triples", "application/rdf+xml", "application/xml")
_QUERY_DOC = {
    "parameters": [
        {"name": "query", "in": "query", "required": False, "schema": {"type": "string"},
         "description": "SPARQL-query (SELECT, ASK, CONSTRUCT, DESCRIBE). Zonder query: service description."},
        {"name": "default-graph-uri", "in": "query", "required": False,
         "schema": {"type": "array", "items": {"type": "string"}}},
        {"name": "named-graph-uri", "in": "query", "required": False,
         "schema": {"type": "array", "items": {"type": "string"}}},
    ],
}


# --- content negotiation ------------------------------------------------------------


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


# --- the endpoint -----------------------------------------------------------------------


@router.get("/sparql", summary="SPARQL-query (GET) of de service description",
            response_class=Response, openapi_extra=_QUERY_DOC)
async def sparql_get(request: Request):
    params = request.query_params
    if "update" in params:
        raise ApiError(403, "Dit endpoint is alleen-lezen: updates worden geweigerd")
    queries = params.getlist("query")
    if not queries:
        return await service_description(request)
    return await _answer(request, _single(queries), params.getlist("default-graph-uri"),
                         params.getlist("named-graph-uri"))


@router.post(
    "/sparql", summary="SPARQL-query (POST: formulier of application/sparql-query)", response_class=Response,
    openapi_extra={"requestBody": {"content": {
        "application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": {
            "query": {"type": "string"}, "default-graph-uri": {"type": "array", "items": {"type": "string"}},
            "named-graph-uri": {"type": "array", "items": {"type": "string"}}}, "required": ["query"]}},
        "application/sparql-query": {"schema": {"type": "string"}}}}},
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
        return await _answer(request, _single(queries),
                             [*params.getlist("default-graph-uri"), *form.getlist("default-graph-uri")],
                             [*params.getlist("named-graph-uri"), *form.getlist("named-graph-uri")])
    raise ApiError(415, "Inhoudstype niet ondersteund",
                   "Gebruik application/x-www-form-urlencoded (veld 'query') of application/sparql-query")


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
    result = await asyncio.wrap_future(request.app.state.sparql_queue.submit(
        run_query, kg, text, settings.sparql_timeout_s, settings.sparql_result_limit,
        max_bytes=settings.sparql_max_bytes, default_graphs=default_graphs, named_graphs=named_graphs,
        media_type=media))
    headers = {"Vary": "Accept"}
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
            raise ApiError(400, f"Onbekende graaf: {graph}",
                           "default-graph-uri en named-graph-uri moeten grafen in deze store zijn; "
                           "externe grafen worden niet opgehaald")
    return default_graphs, named_graphs


# --- service description -------------------------------------------------------------------


async def service_description(request: Request) -> Response:
    """sd:Service in Turtle (or JSON-LD / N-Triples) for clients; the query page for browsers."""
    if wants_html(request, RDF_TYPES):
        from api.app import ui_module

        ui = ui_module()
        if ui is not None and hasattr(ui, "sparql_page"):
            page = ui.sparql_page(request)
            return await page if inspect.isawaitable(page) else page
        return HTMLResponse(_fallback_page(str(request.url_for("sparql_get"))))
    media = negotiate(request.headers.get("accept"), RDF_TYPES, TURTLE)
    endpoint = str(request.url_for("sparql_get"))
    graphs = await run_in_threadpool(_reference_graphs, maatwerk(request).kg)
    triples = ox.parse(_description(endpoint, graphs), format=ox.RdfFormat.TURTLE)
    body = ox.serialize(triples, format=GRAPH_TYPES[media], prefixes={**RDF_PREFIXES, "sd": _SD, "formats": _FORMATS})
    return Response(body, media_type=content_type(media), headers={"Vary": "Accept"})


_SD = "http://www.w3.org/ns/sparql-service-description#"
_FORMATS = "http://www.w3.org/ns/formats/"


def _reference_graphs(kg) -> list[str]:
    # Each case has its own named graph; listing 100k of them would drown the description.
    case_prefix = PREFIXES["id"] + "casus/"
    return sorted(g.value for g in kg.store.named_graphs()
                  if isinstance(g, ox.NamedNode) and not g.value.startswith(case_prefix))


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
    dcterms:description "Alleen-lezen SPARQL 1.1 over wetten, organisaties, voorzieningen en geanonimiseerde casussen. De standaardgraaf is de vereniging van alle grafen; elke casus staat ook in een eigen benoemde graaf (de IRI van de casus). Geen updates, geen SERVICE of LOAD, met een tijds- en resultaatlimiet."@nl ;
    sd:defaultDataset [ a sd:Dataset ; sd:defaultGraph [ a sd:Graph ] {named_part} ] .
"""


def _fallback_page(endpoint: str) -> str:
    """A bare query form for browsers when the web UI is not installed."""
    example = "SELECT ?casus ?titel WHERE {\n  ?casus a mw:Casus ; dcterms:title ?titel .\n} LIMIT 10"
    return f"""<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>SPARQL – maatwerk-kg</title></head>
<body><h1>SPARQL-endpoint</h1><p>Alleen-lezen. De voorvoegsels {html.escape(', '.join(PREFIXES))} zijn al bekend.</p>
<form method="get" action="{html.escape(endpoint)}"><label for="q">Query</label><br>
<textarea id="q" name="query" rows="12" cols="80">{html.escape(example)}</textarea><br>
<label for="f">Formaat</label> <select id="f" name="format"><option>json</option><option>xml</option>
<option>csv</option><option>tsv</option><option>turtle</option></select> <button type="submit">Uitvoeren</button>
</form></body></html>"""
