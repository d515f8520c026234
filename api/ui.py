"""The Dutch web UI: server-rendered pages over the same `Maatwerk` the JSON API uses.

Pages: Zoeken (`/`), Casus (`/casus/{id}`), the HTML side of `/id/{kind}/{slug}`
(`resource_page`), the SPARQL editor (`sparql_page`) and Systeemleren. Everything
the browser loads comes from /static, so the UI works on a closed network.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from graph.case import case_iri, read_case
from graph.concepts import tokens
from ontology import ID, iri
from search.service import BadFilter, UnknownCase

HERE = Path(__file__).resolve().parent
QUERY_DIR = HERE / "queries"
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(include_in_schema=False)

STATUSES = ("opgelost", "lopend", "niet opgelost")
WETTEN = "https://wetten.overheid.nl/"
YEAR_PLACEHOLDER = "#JAARFILTER"
RESULTS_PER_PAGE = 10
MORE_RESULTS = 25
SIMILAR_ON_CASE_PAGE = 6
CASES_ON_RESOURCE_PAGE = 200

# UI filter name -> (search filter key, concept kind, Dutch label)
SEARCH_FILTERS = {
    "levensgebied": ("levensgebied", "levensgebied", "Levensgebied"),
    "wet": ("law", "wet", "Wet"),
    "organisatie": ("organisation", "organisatie", "Organisatie"),
    "voorziening": ("voorziening", "voorziening", "Voorziening"),
    "knelpunt": ("knelpunttype", "knelpunttype", "Knelpunt"),
}

KIND_NAMES = {
    "wet": "Wet", "artikel": "Wetsartikel", "organisatie": "Organisatie", "voorziening": "Voorziening",
    "levensgebied": "Levensgebied", "knelpunttype": "Knelpunttype", "leerorde": "Leerorde",
    "organisatietype": "Soort organisatie", "voorzieningcategorie": "Categorie voorzieningen",
    "schema": "Begrippenlijst", "casus": "Casus",
}

# Outgoing properties worth showing, in this order, with a Dutch name.
PROPERTY_NAMES = {
    "http://data.europa.eu/eli/ontology#title": "Officiële titel",
    "http://www.w3.org/2004/02/skos/core#altLabel": "Ook bekend als",
    "http://purl.org/dc/terms/description": "Omschrijving",
    "http://www.w3.org/2004/02/skos/core#definition": "Definitie",
    "https://w3id.org/maatwerk/def#rol": "Rol",
    "https://w3id.org/maatwerk/def#contact": "Wanneer en hoe benaderen",
    "http://data.europa.eu/eli/ontology#number": "Artikelnummer",
    "http://purl.org/dc/terms/identifier": "Identificatie",
    "http://www.w3.org/2004/02/skos/core#notation": "Code",
    "http://data.europa.eu/eli/ontology#is_part_of": "Onderdeel van",
    "http://www.w3.org/ns/org#classification": "Soort organisatie",
    "https://w3id.org/maatwerk/def#voertUit": "Voert uit",
    "http://data.europa.eu/m8g/hasLegalResource": "Wettelijke grondslag",
    "http://data.europa.eu/m8g/hasCompetentAuthority": "Bevoegde organisatie",
    "https://w3id.org/maatwerk/def#categorie": "Categorie",
    "http://www.w3.org/2004/02/skos/core#inScheme": "Begrippenlijst",
    "http://www.w3.org/2004/02/skos/core#broader": "Valt onder",
    "http://www.w3.org/2002/07/owl#sameAs": "Zelfde als",
    "http://www.w3.org/2000/01/rdf-schema#seeAlso": "Officiële bron",
    "http://xmlns.com/foaf/0.1/homepage": "Website",
}
# Incoming properties: what the list of things pointing here is called.
INCOMING_NAMES = {
    "http://data.europa.eu/eli/ontology#is_part_of": "Artikelen",
    "https://w3id.org/maatwerk/def#voertUit": "Uitgevoerd door",
    "http://data.europa.eu/m8g/hasLegalResource": "Voorzieningen op grond hiervan",
    "http://data.europa.eu/m8g/hasCompetentAuthority": "Voorzieningen waarvoor bevoegd",
    "http://www.w3.org/ns/org#classification": "Organisaties van deze soort",
    "https://w3id.org/maatwerk/def#categorie": "Voorzieningen in deze categorie",
    "http://www.w3.org/2004/02/skos/core#inScheme": "Begrippen in deze lijst",
    "http://www.w3.org/2004/02/skos/core#broader": "Onderliggende begrippen",
}
EXTERNAL_PROPERTIES = {"http://www.w3.org/2000/01/rdf-schema#seeAlso", "http://xmlns.com/foaf/0.1/homepage",
                       "http://www.w3.org/2002/07/owl#sameAs"}
ARTICLE_TEXT = "https://w3id.org/maatwerk/def#tekst"


# --- helpers shared by the templates ------------------------------------------


def local_url(uri: str | None) -> str:
    """Where an IRI of ours is shown in this app; cases get their own page."""
    if not uri or not uri.startswith(ID):
        return uri or ""
    path = uri[len(ID):]
    if path.startswith("casus/"):
        return "/casus/" + quote(path.split("/", 1)[1])
    return "/id/" + quote(path)


def wetten_url(bwb_id: str | None) -> str:
    return WETTEN + bwb_id if bwb_id else ""


# GET /sparql?query= is the SPARQL protocol (it answers with results), so the editor page
# takes the query to show under its own parameter.
EDITOR_PARAM = "vraag"


def sparql_link(query: str) -> str:
    return "/sparql?" + urlencode({EDITOR_PARAM: query})


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


templates.env.globals.update(local_url=local_url, wetten_url=wetten_url, sparql_link=sparql_link,
                             kind_names=KIND_NAMES)
templates.env.filters.update(getal=getal)


def _core(request: Request):
    state = request.app.state
    return getattr(state, "maatwerk", None) or state.core


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"request": request, **context}, status_code=status)


def not_found(request: Request, message: str) -> HTMLResponse:
    return _page(request, "fout.html", {"title": "Niet gevonden", "message": message, "nav": ""}, 404)


# --- Zoeken ------------------------------------------------------------------------


@dataclass
class SearchForm:
    q: str
    values: dict[str, str]
    errors: list[str]
    filters: dict[str, Any]
    k: int = RESULTS_PER_PAGE


def _search_form(request: Request, max_chars: int) -> SearchForm:
    params = request.query_params
    q = params.get("q", "").strip()[:max_chars]
    values = {name: params.get(name, "").strip() for name in (*SEARCH_FILTERS, "status", "jaar_van", "jaar_tot")}
    errors: list[str] = []
    filters: dict[str, Any] = {SEARCH_FILTERS[n][0]: values[n] for n in SEARCH_FILTERS if values[n]}
    if values["status"]:
        filters["status"] = values["status"]
    for name, key, label in (("jaar_van", "year_from", "Jaar vanaf"), ("jaar_tot", "year_to", "Jaar tot en met")):
        year = _year(values[name], label, errors)
        if year is not None:
            filters[key] = year
    k = MORE_RESULTS if params.get("aantal") == str(MORE_RESULTS) else RESULTS_PER_PAGE
    return SearchForm(q, values, errors, filters, k)


def _filter_options(core) -> dict[str, list]:
    options = {name: core.concepts.of_kind(kind) for name, (_, kind, _) in SEARCH_FILTERS.items()}
    options["status"] = list(STATUSES)
    return options


@router.get("/", response_class=HTMLResponse, name="zoeken")
def zoeken(request: Request):
    core = _core(request)
    form = _search_form(request, core.settings.max_text_chars)
    response = None
    if form.q and not form.errors:
        try:
            response = core.search().search(form.q, form.k, form.filters)
        except BadFilter as exc:  # an unknown label typed into the URL
            form.errors.append(str(exc))
    return _page(request, "zoeken.html", {
        "nav": "zoeken", "form": form, "options": _filter_options(core), "labels": SEARCH_FILTERS,
        "response": response, "highlight": highlight,
        "more_url": _more_url(request) if response and form.k < MORE_RESULTS
        and len(response["results"]) >= form.k else "",
    })


def _more_url(request: Request) -> str:
    params = {k: v for k, v in request.query_params.items() if k != "aantal"}
    return "/?" + urlencode({**params, "aantal": MORE_RESULTS})


# --- Casus ---------------------------------------------------------------------------


@router.get("/casus/{case_id}", response_class=HTMLResponse, name="casus")
def casus(request: Request, case_id: str):
    core = _core(request)
    uri = case_iri(case_id)
    case = read_case(core.kg, uri, core.concepts)
    if case is None:
        return not_found(request, f"Er is geen casus met kenmerk ‘{case_id}’.")
    similar = _similar(core, uri)
    return _page(request, "casus.html", {
        "nav": "", "case": case, "knelpunten": case["knelpunten"], "learning_points": case["learning_points"],
        "interventions": case["interventions"],
        "leerordes": _leerorde_definitions(core.kg), "similar": similar,
        "graph": neighbourhood(case, similar),
    })


def _similar(core, uri: str) -> list[dict[str, Any]]:
    try:
        return core.search().similar(uri, SIMILAR_ON_CASE_PAGE)["results"]
    except UnknownCase:  # stored but not (yet) in the index
        return []


def _leerorde_definitions(kg) -> dict[str, str]:
    rows = kg.select("""SELECT ?label ?def WHERE {
        ?o skos:inScheme <%sschema/leerordes> ; skos:prefLabel ?label . OPTIONAL { ?o skos:definition ?def } }""" % ID)
    return {r["label"]: r["def"] or "" for r in rows}


GRAPH_GROUPS = (("laws", "wet"), ("voorzieningen", "voorziening"), ("organisations", "organisatie"),
                ("levensgebieden", "levensgebied"))


def neighbourhood(case: dict[str, Any], similar: list[dict[str, Any]]) -> dict[str, list]:
    """Nodes and edges for the case picture: the case, its concepts, and similar cases sharing them."""
    nodes = [{"id": case["uri"], "label": case["title"], "kind": "casus", "url": local_url(case["uri"]), "centre": True}]
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
        nodes.append({"id": other["uri"], "label": other["title"], "kind": "anderecasus", "url": local_url(other["uri"])})
        edges += [{"source": uri, "target": other["uri"]} for uri in sorted(shared)]
    return {"nodes": nodes, "edges": edges}


# --- /id/{kind}/{slug} for browsers ------------------------------------------------------


async def resource_page(request: Request, kind: str, slug: str) -> Response:
    """The HTML side of a linked-data IRI: what it is, its official source, what links to it, its cases.

    Called from the async linked-data route, so the store queries go to the thread pool.
    """
    return await run_in_threadpool(_resource_page, request, kind, slug)


def _resource_page(request: Request, kind: str, slug: str) -> Response:
    if kind == "casus":
        return RedirectResponse(local_url(iri(kind, slug)), status_code=303)
    kg = _core(request).kg
    uri = iri(kind, slug)
    if _UNSAFE_IRI.search(uri):  # the IRI goes into SPARQL text below
        return not_found(request, f"‘{slug}’ is geen geldig kenmerk.")
    outgoing = kg.select(f"""SELECT ?p ?o ?label WHERE {{ <{uri}> ?p ?o .
        OPTIONAL {{ ?o skos:prefLabel ?label }} }}""")
    if not outgoing:
        return not_found(request, f"Er is niets bekend over {KIND_NAMES.get(kind, kind).lower()} ‘{slug}’.")
    cases, total = _cases_involving(kg, uri)
    return _page(request, "resource.html", {
        "nav": "", "uri": uri, "kind": kind, "slug": slug, **_describe(outgoing),
        "incoming": _incoming(kg, uri), "cases": cases, "total": total,
        "search_filter": _search_filter_for(kind, slug),
    })


_UNSAFE_IRI = re.compile(r'[\s<>"{}|\\^`]')


def _describe(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Split a resource's triples into its name, readable properties, official links and article text."""
    label = next((r["o"] for r in rows if r["p"].endswith("#prefLabel")), None)
    props: dict[str, list[dict[str, str]]] = {}
    external: list[dict[str, str]] = []
    text = ""
    for row in rows:
        p, o = row["p"], row["o"]
        if p in EXTERNAL_PROPERTIES:
            external.append({"name": PROPERTY_NAMES[p], "url": o})
        elif p == ARTICLE_TEXT:
            text = str(o)
        elif p in PROPERTY_NAMES:
            value = {"text": str(row["label"] or o), "url": local_url(o) if str(o).startswith(ID) else ""}
            if value not in props.setdefault(p, []):
                props[p].append(value)
    ordered = [(PROPERTY_NAMES[p], props[p]) for p in PROPERTY_NAMES if p in props]
    return {"label": label, "properties": ordered, "external": external, "article_text": text}


def _incoming(kg, uri: str) -> list[tuple[str, list[dict[str, str]]]]:
    rows = kg.select(f"""SELECT DISTINCT ?s ?p ?label WHERE {{ ?s ?p <{uri}> . FILTER(isIRI(?s))
        FILTER NOT EXISTS {{ ?s a mw:Casus }} OPTIONAL {{ ?s skos:prefLabel ?label }} }}
        ORDER BY ?p LCASE(STR(?label)) LIMIT 1000""")
    grouped: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        name = INCOMING_NAMES.get(row["p"], "Verwijst hiernaar")
        grouped.setdefault(name, []).append({"text": row["label"] or row["s"].rsplit("/", 1)[-1], "url": local_url(row["s"])})
    return [(name, sorted(items, key=lambda i: natural_key(i["text"]))) for name, items in grouped.items()]


def natural_key(text: str) -> list:
    """'art. 2' before 'art. 10': numbers compare as numbers, dotted parts one by one."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


_CASES_INVOLVING = """
SELECT ?c ?title ?jaar ?status ?hoe WHERE {
  { ?c mw:betreftWet|mw:betreftArtikel|mw:betreftVoorziening|mw:betrokkenOrganisatie|mw:levensgebied <%(uri)s>
    BIND("gekoppeld" AS ?hoe) }
  UNION { ?c mw:afgeleidConcept <%(uri)s> BIND("herkend in de tekst" AS ?hoe) }
  UNION { ?c mw:knelpunt/mw:knelpuntType <%(uri)s> BIND("knelpunt" AS ?hoe) }
  UNION { ?c mw:leerpunt/mw:leerorde <%(uri)s> BIND("leerpunt" AS ?hoe) }
  ?c a mw:Casus ; dcterms:title ?title .
  OPTIONAL { ?c mw:jaar ?jaar } OPTIONAL { ?c mw:status ?status }
} ORDER BY DESC(?jaar) ?title LIMIT %(limit)d
"""


def _cases_involving(kg, uri: str) -> tuple[list[dict[str, Any]], int]:
    rows = kg.select(_CASES_INVOLVING % {"uri": uri, "limit": CASES_ON_RESOURCE_PAGE * 2})
    cases: dict[str, dict[str, Any]] = {}
    for row in rows:
        case = cases.setdefault(row["c"], {**row, "url": local_url(row["c"]), "how": []})
        if row["hoe"] not in case["how"]:
            case["how"].append(row["hoe"])
    listed = list(cases.values())[:CASES_ON_RESOURCE_PAGE]
    total = len(listed)
    if len(rows) >= CASES_ON_RESOURCE_PAGE * 2 or len(cases) > CASES_ON_RESOURCE_PAGE:
        total = _count_cases(kg, uri)
    return listed, total


def _count_cases(kg, uri: str) -> int:
    query = _CASES_INVOLVING.replace("SELECT ?c ?title ?jaar ?status ?hoe", "SELECT (COUNT(DISTINCT ?c) AS ?n)")
    query = query.split("ORDER BY")[0]
    return int(kg.select(query % {"uri": uri})[0]["n"])


def _search_filter_for(kind: str, slug: str) -> str:
    """A search URL pre-filtered on this concept, where the search can filter on its kind."""
    for name, (_, filter_kind, _) in SEARCH_FILTERS.items():
        if filter_kind == kind:
            return "/?" + urlencode({name: slug})
    return ""


# --- SPARQL --------------------------------------------------------------------------


@dataclass(frozen=True)
class ExampleQuery:
    id: str
    title: str
    query: str


def example_queries() -> list[ExampleQuery]:
    """api/queries/*.rq: line 1 is '# Dutch title', the rest the query (also used by tests and benchmarks)."""
    examples = []
    for path in sorted(QUERY_DIR.glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        first, _, rest = text.partition("\n")
        examples.append(ExampleQuery(path.stem, first.lstrip("#").strip(), rest.strip() + "\n"))
    return examples


def sparql_page(request: Request) -> Response:
    """YASGUI pointed at /sparql, with the example queries one click away."""
    examples = [ExampleQuery(e.id, e.title, with_year_filter(e.query, None, None)) for e in example_queries()]
    params = request.query_params
    query = params.get(EDITOR_PARAM) or params.get("query") or (examples[0].query if examples else "SELECT * WHERE { ?s ?p ?o } LIMIT 10")
    return _page(request, "sparql.html", {
        "nav": "sparql", "examples": [e.__dict__ for e in examples], "initial_query": query,
        "from_url": bool(params.get(EDITOR_PARAM) or params.get("query")),
    })


# --- Systeemleren ------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartSpec:
    id: str
    title: str
    explanation: str
    query_id: str
    kind: str  # Chart.js type
    label: Callable[[dict[str, Any]], str]
    value: str = "casussen"
    horizontal: bool = False
    series: str | None = None  # a column that splits the bars into stacked datasets


CHARTS = (
    ChartSpec("knelpunttypen", "Knelpunttypen", "Aantal casussen per soort knelpunt.",
              "11-knelpunttypen-tellen", "bar", lambda r: r["knelpunt"]),
    ChartSpec("levensgebieden", "Levensgebieden", "Aantal casussen per levensgebied (Zelfredzaamheid-Matrix).",
              "12-levensgebieden-tellen", "bar", lambda r: r["gebied"], horizontal=True),
    ChartSpec("wetten", "Wetten", "De twintig wetten die het vaakst een rol spelen.",
              "13-wetten-tellen", "bar", lambda r: r["naam"], horizontal=True),
    ChartSpec("samen", "Wetten die samen voorkomen", "Paren van wetten die in dezelfde casus spelen: "
              "hier raken regelingen elkaar.", "08-wetten-samen", "bar",
              lambda r: f"{r['naamA']} + {r['naamB']}", horizontal=True),
    ChartSpec("leerordes", "Leerordes", "Casussen met leerpunten per leerorde: 1e orde lost de casus op, "
              "2e orde helpt sneller zonder systeemaanpassing, 3e orde vraagt een systeemaanpassing.",
              "04-casussen-per-leerorde", "bar", lambda r: r["orde"]),
    ChartSpec("jaren", "Casussen per jaar en status", "Hoeveel casussen per jaar zijn opgelost, lopen nog "
              "of zijn niet opgelost.", "09-casussen-per-jaar-en-status", "bar",
              lambda r: str(r["jaar"]), series="status"),
)


def with_year_filter(query: str, year_from: int | None, year_to: int | None) -> str:
    """Replace the #JAARFILTER line (queries name the case ?casus) by a filter on mw:jaar."""
    conditions = [c for c in (year_from and f"?jaar >= {year_from}", year_to and f"?jaar <= {year_to}") if c]
    if not conditions:  # people reading the query need not see the placeholder
        return re.sub(r"[ \t]*" + YEAR_PLACEHOLDER + r"[ \t]*\n", "", query)
    clause = f"?casus mw:jaar ?jaar . FILTER({' && '.join(conditions)})"
    return query.replace(YEAR_PLACEHOLDER, clause)


def chart_data(spec: ChartSpec, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Rows -> Chart.js labels and datasets (one dataset, or one per value of `series`)."""
    if spec.series is None:
        labels = [spec.label(r) for r in rows]
        return {"labels": labels, "datasets": [{"label": "Casussen", "data": [int(r[spec.value]) for r in rows]}]}
    labels = list(dict.fromkeys(spec.label(r) for r in rows))
    series = sorted({str(r[spec.series]) for r in rows})
    data = {s: [0] * len(labels) for s in series}
    for row in rows:
        data[str(row[spec.series])][labels.index(spec.label(row))] = int(row[spec.value])
    return {"labels": labels, "datasets": [{"label": s, "data": data[s]} for s in series]}


_CHART_CACHE: dict[tuple[str | None, str], list[dict[str, Any]]] = {}
CHART_CACHE_SIZE = 128


def _cached_select(kg, query: str) -> list[dict[str, Any]]:
    """Aggregates over all cases cost time on a big store; they only change when the store does."""
    key = (kg.revision(), query)
    if key not in _CHART_CACHE:
        if len(_CHART_CACHE) >= CHART_CACHE_SIZE:
            _CHART_CACHE.clear()
        _CHART_CACHE[key] = kg.select(query)
    return _CHART_CACHE[key]


def _years(request: Request) -> tuple[int | None, int | None, list[str]]:
    values, errors = [], []
    for name, label in (("jaar_van", "Vanaf jaar"), ("jaar_tot", "Tot en met jaar")):
        values.append(_year(request.query_params.get(name, "").strip(), label, errors))
    return values[0], values[1], errors


def _year(raw: str, label: str, errors: list[str]) -> int | None:
    """A year typed into a URL: ASCII digits only, at most four ('²'.isdigit() is true, but int() refuses it)."""
    if not raw:
        return None
    if raw.isascii() and raw.isdigit() and len(raw) <= 4:
        return int(raw)
    errors.append(f"{label} moet een jaartal zijn, bijvoorbeeld 2023.")
    return None


@router.get("/systeemleren", response_class=HTMLResponse, name="systeemleren")
def systeemleren(request: Request):
    kg = _core(request).kg
    year_from, year_to, errors = _years(request)
    queries = {e.id: e.query for e in example_queries()}
    charts = []
    for spec in CHARTS:
        query = with_year_filter(queries[spec.query_id], year_from, year_to)
        rows = _cached_select(kg, query)
        data = chart_data(spec, rows)
        charts.append({"spec": spec, "query": query, "rows": rows, "data": data,
                       "config": {"horizontal": spec.horizontal},
                       "js": {"id": spec.id, "title": spec.title, "type": spec.kind, "horizontal": spec.horizontal,
                              "stacked": spec.series is not None, "data": data}})
    bounds = kg.select("SELECT (MIN(?j) AS ?min) (MAX(?j) AS ?max) WHERE { ?c a mw:Casus ; mw:jaar ?j }")[0]
    return _page(request, "systeemleren.html", {
        "nav": "systeemleren", "charts": charts, "errors": errors, "year_from": year_from, "year_to": year_to,
        "min_year": bounds["min"], "max_year": bounds["max"],
    })
