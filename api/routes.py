"""The JSON API (SPEC section 7): similar cases, cases, imports and reference data.

Routes that touch the graph or the index are plain `def`s, so FastAPI runs them
in its threadpool and the event loop stays free for other requests.
"""

from __future__ import annotations

import hmac
import re
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import Field, TypeAdapter

from api.models import (
    BAD_BODY,
    ERRORS,
    NOT_FOUND,
    CaseDetail,
    CaseInput,
    CaseList,
    ConceptMatch,
    ErrorResponse,
    Health,
    ImportRejectedResponse,
    ImportResponse,
    Law,
    Organisation,
    SimilarCasesRequest,
    SimilarCasesResponse,
    SimilarToCaseResponse,
    Voorziening,
)
from graph import Settings
from graph.cases import case_details, case_iri, knelpunten_and_leerpunten
from graph.concepts import KINDS, fold
from ingest.cases import BadInput, ImportRejected, checked, load_json
from search.text import is_blank

router = APIRouter()

MAX_LISTED_MATCHES = 1000  # /api/cases?q= ranks at most this many cases
AUTOCOMPLETE_LIMIT = 20
# check_k enforces this range with a clear message; the OpenAPI document states it.
K_RANGE = {"minimum": 1, "maximum": Settings.max_k}

# The import format, documented on POST /api/cases although the route reads the body
# itself (authentication comes before parsing, and the importer reports problems its own way).
CASES_BODY_SCHEMA = TypeAdapter(CaseInput | Annotated[list[CaseInput], Field(min_length=1)]).json_schema(
    ref_template="#/components/schemas/{model}")


class ApiError(Exception):
    """An error meant for the client: status, a clear message and optional details."""

    def __init__(self, status: int, error: str, detail: Any = None, headers: dict | None = None, **extra: Any):
        super().__init__(error)
        self.status, self.error, self.detail, self.headers, self.extra = status, error, detail, headers, extra


def maatwerk(request: Request):
    return request.app.state.maatwerk


def check_text(request: Request, text: str, what: str = "tekst") -> str:
    """Empty text is 422, text over the configured limit 413, with a message that says so."""
    limit = request.app.state.settings.max_text_chars
    if len(text) > limit:
        raise ApiError(413, f"De {what} is te lang", f"{len(text)} tekens; hoogstens {limit} toegestaan")
    if is_blank(text):
        raise ApiError(422, f"De {what} is leeg", "Beschrijf de situatie in een paar zinnen")
    return text


def check_k(request: Request, k: int) -> int:
    limit = request.app.state.settings.max_k
    if not 1 <= k <= limit:
        raise ApiError(422, "Ongeldige k", f"k moet tussen 1 en {limit} liggen, niet {k}")
    return k


# --- status ---------------------------------------------------------------------------


@router.get("/health", response_model=Health, tags=["status"], summary="Status en omvang van de graaf")
def health(request: Request):
    return maatwerk(request).health()


# --- similar cases --------------------------------------------------------------------------


@router.post("/api/similar-cases", response_model=SimilarCasesResponse, responses={**BAD_BODY, **ERRORS},
             tags=["zoeken"],
             summary="Vergelijkbare casussen bij een beschreven situatie")
def similar_cases(request: Request, body: SimilarCasesRequest):
    check_text(request, body.text)
    check_k(request, body.k)
    filters = body.filters.model_dump(exclude_none=True)
    return maatwerk(request).search().search(body.text, body.k, filters, body.mode)


@router.get("/api/cases/{case_id}/similar", response_model=SimilarToCaseResponse, responses={**ERRORS, **NOT_FOUND},
            tags=["zoeken"], summary="Casussen die lijken op een opgeslagen casus (zonder de casus zelf)")
def similar_to_case(request: Request, case_id: str,
                    k: int = Query(10, description="Aantal casussen", json_schema_extra=K_RANGE)):
    check_k(request, k)
    response = maatwerk(request).search().similar(case_id, k)
    own = response["case"]["uri"]
    response["results"] = [r for r in response["results"] if r["uri"] != own]
    return response


# --- cases ------------------------------------------------------------------------------------


@router.get("/api/cases", response_model=CaseList, responses=ERRORS, tags=["casussen"],
            summary="Casussen opvragen en filteren (met q: op relevantie)")
def list_cases(
    request: Request,
    levensgebied: list[str] = Query([], description="Label, slug of IRI; herhaalbaar"),
    law: list[str] = Query([], description="Wet: naam, afkorting, BWB-id, slug of IRI"),
    organisation: list[str] = Query([]),
    voorziening: list[str] = Query([]),
    knelpunttype: list[str] = Query([]),
    status: list[str] = Query([], description="opgelost, lopend of niet opgelost"),
    year_from: int | None = Query(None),
    year_to: int | None = Query(None),
    q: str | None = Query(None, description="Zoektekst: sorteert op gelijkenis"),
    page: int = Query(1, ge=1),
    page_size: int = Query(20, ge=1, le=100),
):
    filters = {"levensgebied": levensgebied, "law": law, "organisation": organisation, "voorziening": voorziening,
               "knelpunttype": knelpunttype, "status": status, "year_from": year_from, "year_to": year_to}
    service = maatwerk(request).search()
    rows = _filtered_rows(service, filters)
    start = (page - 1) * page_size
    if q is not None and q.strip():
        check_text(request, q, "zoektekst")
        items, total = _searched_page(service, q, filters, start, page_size), min(len(rows), MAX_LISTED_MATCHES)
    else:
        iris = [service.index.facets.iris[r] for r in rows[start:start + page_size]]
        details = case_details(maatwerk(request).kg, iris, maatwerk(request).concepts)
        items, total = [_summary(details[i]) for i in iris if i in details], len(rows)
    return {"total": total, "page": page, "page_size": page_size, "items": items}


def _filtered_rows(service, raw_filters: dict) -> list[int]:
    """Index rows passing the filters, newest year first: the same filter meaning as search."""
    filters = service.filters(raw_filters)
    # The ranker's candidate mask is what search filters by; reusing it keeps both meanings equal.
    mask = service.ranker.allowed_rows(filters)
    order = _row_order(service.index)
    return order[mask[order]].tolist()


_order_cache: list = [None, None, None]  # [index, (revision, rows), order]


def _row_order(index) -> np.ndarray:
    """All rows by year (newest first) then id; cached until the index changes."""
    version = (index.revision, len(index.facets.ids))
    if _order_cache[0] is not index or _order_cache[1] != version:
        facets = index.facets
        order = sorted(range(len(facets.ids)), key=lambda r: (-(facets.year[r] or 0), facets.ids[r]))
        _order_cache[:] = [index, version, np.asarray(order, dtype=np.int64)]
    return _order_cache[2]


def _searched_page(service, q: str, filters: dict, start: int, size: int) -> list[dict]:
    if start >= MAX_LISTED_MATCHES:
        return []
    k = min(start + size, MAX_LISTED_MATCHES)
    results = service.search(q, k, filters)["results"][start:start + size]
    return [_summary(r, r["score"]) for r in results]


def _summary(case: dict, score: float | None = None) -> dict:
    keys = ("id", "uri", "title", "situation", "status", "year", "laws", "levensgebieden")
    return {**{key: case[key] for key in keys}, "score": score}


@router.get("/api/cases/{case_id}", response_model=CaseDetail, responses=NOT_FOUND, tags=["casussen"],
            summary="Eén casus met al zijn koppelingen")
def get_case(request: Request, case_id: str):
    kg = maatwerk(request).kg
    iri = case_iri(case_id)
    details = case_details(kg, [iri], maatwerk(request).concepts).get(iri)
    if details is None:
        raise ApiError(404, f"Onbekende casus: {case_id}")
    extra = knelpunten_and_leerpunten(kg, iri)
    return {**details, "knelpunten": extra.get("knelpunten", []), "leerpunten": extra.get("leerpunten", []),
            "interventions": [i["text"] for i in extra.get("interventions", [])]}


@router.post(
    "/api/cases", response_model=ImportResponse, tags=["casussen"],
    summary="Casussen importeren (alles of niets), met sleutel",
    description="Eén casus of een lijst in het importformaat. Persoonsgegevens worden geweigerd (422 met de "
                "bevindingen), of met `redact=true` vervangen. Vereist `Authorization: Bearer <sleutel>`.",
    responses={401: {"model": ErrorResponse, "description": "Geen of verkeerde sleutel"},
               403: {"model": ErrorResponse, "description": "Schrijven is uitgeschakeld (geen sleutels ingesteld)"},
               413: {"model": ErrorResponse, "description": "Body te groot"},
               422: {"model": ImportRejectedResponse, "description": "Geweigerd; niets opgeslagen"}},
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
        "schema": {k: v for k, v in CASES_BODY_SCHEMA.items() if k != "$defs"}}}}},
)
async def post_cases(request: Request, redact: bool = Query(False, description="Persoonsgegevens vervangen in plaats van weigeren")):
    authorise(request)
    records = _records(await request.body())
    core = maatwerk(request)

    def write():
        with request.app.state.write_lock:  # one import at a time; each is all-or-nothing
            return core.import_records(records, redact=redact)
    result = await run_in_threadpool(write)
    return {"imported": len(result.cases), "revision": result.revision,
            "cases": [{"id": c.id, "uri": c.iri, "title": c.title} for c in result.cases],
            "redactions": [{"case": r.case, "field": r.field, "kind": r.kind} for r in result.redactions]}


def authorise(request: Request) -> None:
    """Bearer key against every configured key in constant time; no keys means no writes at all."""
    keys = request.app.state.settings.api_keys
    if not keys:
        raise ApiError(403, "Schrijven via de API is uitgeschakeld",
                       "Er zijn geen API-sleutels ingesteld; zet MAATWERK_API_KEYS om imports toe te staan.")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    # Starlette decodes header bytes as latin-1; encoding back gives the bytes the client sent,
    # so a key with non-ASCII characters (UTF-8 on the wire) matches the configured key's UTF-8.
    given = token.strip().encode("latin-1")
    valid = False
    for key in keys:  # no early exit: the time taken does not depend on which key matched
        valid |= hmac.compare_digest(given, key.encode())
    if scheme.lower() != "bearer" or not given or not valid:
        raise ApiError(401, "Niet aangemeld", "Stuur een geldige sleutel mee: Authorization: Bearer <sleutel>",
                       headers={"WWW-Authenticate": 'Bearer realm="maatwerk"'})


def _records(body: bytes) -> list[tuple[str, Any]]:
    """The cases in the body, read like an import file reads them (same number and text rules)."""
    try:
        data = load_json(body.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise _bad_body("De body is geen geldige UTF-8", f"byte {exc.start}: {exc.reason}") from exc
    except BadInput as exc:
        raise _bad_body("Geen geldige JSON", str(exc)) from exc
    if isinstance(data, dict):
        return [checked("body", data)]
    if isinstance(data, list) and data:
        return [checked(f"body[{i}]", item) for i, item in enumerate(data)]
    raise _bad_body("Verwacht één casus (object) of een niet-lege lijst van casussen")


def _bad_body(error: str, detail: str | None = None) -> ApiError:
    # Shaped like an import refusal (with findings), as the OpenAPI document promises for 422 here.
    finding = {"case": "body", "field": "body", "kind": "invalid", "message": detail or error, "span": None}
    return ApiError(422, error, detail, findings=[finding])


def rejected_response(exc: ImportRejected) -> JSONResponse:
    findings = [{"case": p.case, "field": p.field, "kind": p.kind, "message": p.message, "span": p.span}
                for p in exc.problems]
    return JSONResponse({"error": "Import geweigerd; er is niets opgeslagen", "detail": str(exc),
                         "findings": findings}, status_code=422)


# --- reference data -------------------------------------------------------------------------


@router.get("/api/laws", response_model=list[Law], tags=["referentiedata"], summary="Wetten met BWB-id en koppelingen")
def laws(request: Request):
    return _cached(request, "laws", _laws)


@router.get("/api/organisations", response_model=list[Organisation], tags=["referentiedata"],
            summary="Organisaties met rol, contact en de wetten die ze uitvoeren")
def organisations(request: Request):
    return _cached(request, "organisations", _organisations)


@router.get("/api/voorzieningen", response_model=list[Voorziening], tags=["referentiedata"],
            summary="Voorzieningen met hun wetten en bevoegde organisaties")
def voorzieningen(request: Request):
    return _cached(request, "voorzieningen", _voorzieningen)


def _cached(request: Request, name: str, build) -> list[dict]:
    """Reference lists change only with a commit, so they are cached per store revision."""
    kg = maatwerk(request).kg
    cache = request.app.state.reference_cache
    key = (name, kg.revision())
    if key not in cache:
        for old in [k for k in cache if k[0] == name]:
            del cache[old]
        cache[key] = build(kg)
    return cache[key]


_BWB = 'OPTIONAL { ?o dcterms:identifier ?bwb FILTER(STRSTARTS(STR(?bwb), "BWBR")) }'


def _basics(kg, rdf_type: str, optional: str) -> dict[str, dict]:
    items: dict[str, dict] = {}
    for row in kg.select(f"SELECT * WHERE {{ ?s a {rdf_type} ; skos:prefLabel ?label . {optional} }}"):
        items.setdefault(row["s"], {"id": _slug(row["s"]), "uri": row["s"], **row})
    for row in kg.select(f"SELECT ?s ?alt WHERE {{ ?s a {rdf_type} ; skos:altLabel ?alt }} ORDER BY ?alt"):
        if row["s"] in items and row["alt"] not in items[row["s"]].setdefault("alt_labels", []):
            items[row["s"]]["alt_labels"].append(row["alt"])
    return items


def _links(kg, rdf_type: str, pattern: str) -> dict[str, list[dict]]:
    """Subject -> linked resources (id, uri, label, bwb_id); `pattern` relates ?s to ?o."""
    links: dict[str, list[dict]] = {}
    for row in kg.select(f"""SELECT DISTINCT ?s ?o ?label ?bwb WHERE {{
        ?s a {rdf_type} . {pattern} ?o skos:prefLabel ?label . {_BWB} }} ORDER BY LCASE(?label)"""):
        link = {"id": _slug(row["o"]), "uri": row["o"], "label": row["label"], "bwb_id": row["bwb"]}
        if link["uri"] not in [li["uri"] for li in links.setdefault(row["s"], [])]:
            links[row["s"]].append(link)
    return links


def _counts(kg, query: str) -> dict[str, int]:
    return {row["o"]: int(row["n"]) for row in kg.select(query)}


def _case_counts(kg, predicate: str) -> dict[str, int]:
    return _counts(kg, f"SELECT ?o (COUNT(DISTINCT ?c) AS ?n) WHERE {{ ?c a mw:Casus ; {predicate} ?o }} GROUP BY ?o")


def _laws(kg) -> list[dict]:
    items = _basics(kg, "eli:LegalResource", """OPTIONAL { ?s eli:title ?title }
        OPTIONAL { ?s dcterms:identifier ?bwb FILTER(STRSTARTS(STR(?bwb), "BWBR")) }
        OPTIONAL { ?s rdfs:seeAlso ?see FILTER(STRSTARTS(STR(?see), "https://wetten.overheid.nl/")) }
        OPTIONAL { ?s dcterms:description ?description }""")
    articles = _counts(kg, "SELECT ?o (COUNT(DISTINCT ?a) AS ?n) WHERE { ?a eli:is_part_of ?o . ?o a eli:LegalResource } GROUP BY ?o")
    cases = _case_counts(kg, "mw:betreftWet")
    voorzieningen = _links(kg, "eli:LegalResource", "?o cv:hasLegalResource ?s .")
    organisations = _links(kg, "eli:LegalResource", "?o mw:voertUit ?s .")
    return sorted(({
        "id": it["id"], "uri": it["uri"], "label": it["label"], "title": it["title"], "bwb_id": it["bwb"],
        "url": it["see"] or (f"https://wetten.overheid.nl/{it['bwb']}" if it["bwb"] else None),
        "alt_labels": it.get("alt_labels", []), "description": it["description"],
        "article_count": articles.get(s, 0), "case_count": cases.get(s, 0),
        "voorzieningen": voorzieningen.get(s, []), "organisations": organisations.get(s, []),
    } for s, it in items.items()), key=_by_label)


def _organisations(kg) -> list[dict]:
    items = _basics(kg, "org:Organization", """OPTIONAL { ?s mw:rol ?role } OPTIONAL { ?s mw:contact ?contact }
        OPTIONAL { ?s foaf:homepage ?homepage }""")
    types = _links(kg, "org:Organization", "?s org:classification ?o .")
    laws = _links(kg, "org:Organization", "?s mw:voertUit ?o .")
    voorzieningen = _links(kg, "org:Organization", "?o cv:hasCompetentAuthority ?s .")
    cases = _case_counts(kg, "mw:betrokkenOrganisatie")
    return sorted(({
        "id": it["id"], "uri": it["uri"], "label": it["label"], "alt_labels": it.get("alt_labels", []),
        "type": (types.get(s) or [None])[0], "role": it["role"] or "", "contact": it["contact"] or "",
        "homepage": it["homepage"], "laws": laws.get(s, []), "voorzieningen": voorzieningen.get(s, []),
        "case_count": cases.get(s, 0),
    } for s, it in items.items()), key=_by_label)


def _voorzieningen(kg) -> list[dict]:
    items = _basics(kg, "cpsv:PublicService", "OPTIONAL { ?s dcterms:description ?description }")
    categories = _links(kg, "cpsv:PublicService", "?s mw:categorie ?o .")
    laws = _links(kg, "cpsv:PublicService", "?s cv:hasLegalResource ?o .")
    organisations = _links(kg, "cpsv:PublicService", "?s cv:hasCompetentAuthority ?o .")
    cases = _case_counts(kg, "mw:betreftVoorziening")
    return sorted(({
        "id": it["id"], "uri": it["uri"], "label": it["label"], "alt_labels": it.get("alt_labels", []),
        "description": it["description"], "category": (categories.get(s) or [None])[0],
        "laws": laws.get(s, []), "organisations": organisations.get(s, []), "case_count": cases.get(s, 0),
    } for s, it in items.items()), key=_by_label)


def _slug(uri: str) -> str:
    return uri.rsplit("/", 1)[1]


def _by_label(item: dict) -> str:
    return fold(item["label"])


# --- autocomplete -------------------------------------------------------------------------


@router.get("/api/concepts", response_model=list[ConceptMatch], responses=ERRORS, tags=["referentiedata"],
            summary="Autocomplete over namen en synoniemen van alle begrippen")
def concepts(request: Request, q: str = Query("", max_length=200, description="Begin of deel van een naam"),
             kind: list[str] = Query([], description=f"Beperk tot soorten: {', '.join(KINDS)}",
                                     json_schema_extra={"items": {"type": "string", "enum": list(KINDS)}}),
             limit: int = Query(AUTOCOMPLETE_LIMIT, ge=1, le=50)):
    unknown = [k for k in kind if k not in KINDS]
    if unknown:
        raise ApiError(422, f"Onbekende soort: {', '.join(unknown)}", f"Kies uit {', '.join(KINDS)}")
    needle = _normal(q)
    if not needle:
        return []
    best: dict[str, tuple[tuple, dict]] = {}
    for label, folded, concept in _label_table(maatwerk(request).concepts):
        if kind and concept.kind not in kind:
            continue
        rank = _match_rank(needle, folded)
        if rank is None:
            continue
        key = (rank, label != concept.label, len(folded), folded)
        if concept.iri not in best or key < best[concept.iri][0]:
            best[concept.iri] = (key, {"id": concept.slug, "uri": concept.iri, "label": concept.label,
                                       "matched_label": label, "kind": concept.kind})
    return [match for _, match in sorted(best.values(), key=lambda x: x[0])[:limit]]


_label_cache: list = [None, []]  # [concept index, table]


def _label_table(index) -> list[tuple[str, str, Any]]:
    """(label, folded label, concept) for every label; rebuilt when the concept index is replaced."""
    if _label_cache[0] is not index:
        _label_cache[:] = [index, [(label, _normal(label), c) for label, c in index.labels()]]
    return _label_cache[1]


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", fold(text)).strip()


def _match_rank(needle: str, folded: str) -> int | None:
    """0: the label starts with it, 1: a word starts with it, 2: somewhere inside, None: no match."""
    if folded.startswith(needle):
        return 0
    position = folded.find(needle)
    if position < 0:
        return None
    return 1 if not folded[position - 1].isalnum() else 2
