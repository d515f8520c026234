"""Cases: similar cases to a text or to a stored case, listing and filtering, one case, importing."""

from __future__ import annotations

import csv
import hmac
import io
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import Field, TypeAdapter

from api.http import ApiError, check_k, check_text, maatwerk, negotiate
from api.models import (
    BAD_BODY,
    ERRORS,
    NOT_FOUND,
    CaseDetail,
    CaseInput,
    CaseList,
    ErrorResponse,
    ImportRejectedResponse,
    ImportResponse,
    SimilarCasesRequest,
    SimilarCasesResponse,
    SimilarToCaseResponse,
)
from api.settings import default
from graph.case import case_details, case_iri, read_case
from ingest.readers import BadInput, checked, load_json

router = APIRouter()

MAX_LISTED_MATCHES = 1000  # /api/cases?q= ranks at most this many cases
# check_k enforces this range with a clear message; the OpenAPI document states it.
K_RANGE = {"minimum": 1, "maximum": default("max_k")}

# The import format, documented on POST /api/cases although the route reads the body
# itself (authentication comes before parsing, and the importer reports problems its own way).
CASES_BODY_SCHEMA = TypeAdapter(CaseInput | Annotated[list[CaseInput], Field(min_length=1)]).json_schema(
    ref_template="#/components/schemas/{model}"
)


# --- similar cases --------------------------------------------------------------------------


@router.post(
    "/api/similar-cases",
    response_model=SimilarCasesResponse,
    responses={**BAD_BODY, **ERRORS},
    tags=["zoeken"],
    summary="Vergelijkbare casussen bij een beschreven situatie",
)
def similar_cases(request: Request, body: SimilarCasesRequest):
    check_text(request, body.text)
    check_k(request, body.k)
    filters = body.filters.model_dump(exclude_none=True)
    return maatwerk(request).search().search(body.text, body.k, filters, body.mode)


@router.get(
    "/api/cases/{case_id}/similar",
    response_model=SimilarToCaseResponse,
    responses={**ERRORS, **NOT_FOUND},
    tags=["zoeken"],
    summary="Casussen die lijken op een opgeslagen casus (zonder de casus zelf)",
)
def similar_to_case(
    request: Request, case_id: str, k: int = Query(10, description="Aantal casussen", json_schema_extra=K_RANGE)
):
    check_k(request, k)
    response = maatwerk(request).search().similar(case_id, k)
    own = response["case"]["uri"]
    response["results"] = [r for r in response["results"] if r["uri"] != own]
    return response


# --- cases ------------------------------------------------------------------------------------


CSV_COLUMNS = ("id", "uri", "title", "status", "year", "laws", "levensgebieden", "score", "situation")


@router.get(
    "/api/cases",
    response_model=CaseList,
    responses={**ERRORS, 200: {"content": {"text/csv": {}}, "description": "JSON, of CSV met format=csv"}},
    tags=["casussen"],
    summary="Casussen opvragen en filteren (met q: op relevantie)",
    description="Met `format=csv` (of `Accept: text/csv`) komt dezelfde pagina als CSV, "
    "met één regel per casus; wetten en levensgebieden gescheiden door `; `.",
)
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
    output: Literal["json", "csv"] | None = Query(None, alias="format", description="json (standaard) of csv"),
):
    # The names are ontology.vocabulary.FILTER_PARAMS, as in the UI and the CLI (tests/test_ui.py checks).
    filters = {
        "levensgebied": levensgebied,
        "law": law,
        "organisation": organisation,
        "voorziening": voorziening,
        "knelpunttype": knelpunttype,
        "status": status,
        "year_from": year_from,
        "year_to": year_to,
    }
    core = maatwerk(request)
    service = core.search()
    ranker = service.ranker  # one index for the whole answer, even if a sync swaps in a new one meanwhile
    rows = filtered_rows(core, ranker, service.filters(filters))
    start = (page - 1) * page_size
    if q is not None and q.strip():
        check_text(request, q, "zoektekst")
        items, total = _searched_page(service, q, filters, start, page_size), min(len(rows), MAX_LISTED_MATCHES)
    else:
        iris = [ranker.index.facets.iris[r] for r in rows[start : start + page_size]]
        details = case_details(core.kg, iris, core.concepts)
        items, total = [_summary(details[i]) for i in iris if i in details], len(rows)
    answer = {"total": total, "page": page, "page_size": page_size, "items": items}
    if (output or negotiate(request.headers.get("accept"), ["application/json", "text/csv"], "application/json")) in (
        "csv",
        "text/csv",
    ):
        return _csv(answer)
    return answer


def _csv(answer: dict) -> Response:
    """One page of the list as CSV; the totals travel in headers, as the rows are all the body holds."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in answer["items"]:
        row = {**item, **{key: "; ".join(link["label"] for link in item[key]) for key in ("laws", "levensgebieden")}}
        writer.writerow([_cell(row[c]) for c in CSV_COLUMNS])
    headers = {
        "Content-Disposition": 'attachment; filename="casussen.csv"',
        "X-Total-Count": str(answer["total"]),
        "Vary": "Accept",
    }
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


def _cell(value: Any) -> str:
    """Text a spreadsheet shows as text: a leading =, +, - or @ would make it a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not isinstance(value, (int, float)) else text


def filtered_rows(core, ranker, filters) -> list[int]:
    """Rows of `ranker.index` passing the filters, newest year first: the same filter meaning as search.

    The mask and the order come from the same index, so a re-index between the two cannot pair a
    mask of one index with the row order of another.
    """
    # The ranker's candidate mask is what search filters by; reusing it keeps both meanings equal.
    mask = ranker.allowed_rows(filters)
    index = ranker.index
    order = core.cached("row order", lambda: _row_order(index), version=index)
    return order[mask[order]].tolist()


def _row_order(index) -> np.ndarray:
    """All rows by year (newest first) then id; read-only, because it is shared."""
    facets = index.facets
    years = np.fromiter((y or 0 for y in facets.year), dtype=np.int64, count=len(facets.ids))
    ids = np.asarray(list(facets.ids), dtype=str)  # code-point order, as Python compares str
    order = np.lexsort((ids, -years)).astype(np.int64)
    order.flags.writeable = False
    return order


def _searched_page(service, q: str, filters: dict, start: int, size: int) -> list[dict]:
    if start >= MAX_LISTED_MATCHES:
        return []
    k = min(start + size, MAX_LISTED_MATCHES)
    results = service.search(q, k, filters)["results"][start : start + size]
    return [_summary(r, r["score"]) for r in results]


def _summary(case: dict, score: float | None = None) -> dict:
    keys = ("id", "uri", "title", "situation", "status", "year", "laws", "levensgebieden")
    return {**{key: case[key] for key in keys}, "score": score}


@router.get(
    "/api/cases/{case_id}",
    response_model=CaseDetail,
    responses=NOT_FOUND,
    tags=["casussen"],
    summary="Eén casus met al zijn koppelingen",
)
def get_case(request: Request, case_id: str):
    case = read_case(maatwerk(request).kg, case_iri(case_id), maatwerk(request).concepts)
    if case is None:
        raise ApiError(404, f"Onbekende casus: {case_id}")
    return case


@router.post(
    "/api/cases",
    response_model=ImportResponse,
    tags=["casussen"],
    summary="Casussen importeren (alles of niets), met sleutel",
    description="Eén casus of een lijst in het importformaat. Persoonsgegevens worden geweigerd (422 met de "
    "bevindingen), of met `redact=true` vervangen. Vereist `Authorization: Bearer <sleutel>`.",
    responses={
        401: {"model": ErrorResponse, "description": "Geen of verkeerde sleutel"},
        403: {"model": ErrorResponse, "description": "Schrijven is uitgeschakeld (geen sleutels ingesteld)"},
        413: {"model": ErrorResponse, "description": "Body te groot"},
        422: {"model": ImportRejectedResponse, "description": "Geweigerd; niets opgeslagen"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {k: v for k, v in CASES_BODY_SCHEMA.items() if k != "$defs"}}},
        }
    },
)
async def post_cases(
    request: Request, redact: bool = Query(False, description="Persoonsgegevens vervangen in plaats van weigeren")
):
    authorise(request)
    records = _records(await request.body())
    core = maatwerk(request)
    result = await run_in_threadpool(core.import_records, records, redact=redact)
    return {
        "imported": len(result.cases),
        "revision": result.revision,
        "cases": [{"id": c.id, "uri": c.iri, "title": c.title} for c in result.cases],
        "redactions": [{"case": r.case, "field": r.field, "kind": r.kind} for r in result.redactions],
    }


def authorise(request: Request) -> None:
    """Bearer key against every configured key in constant time; no keys means no writes at all."""
    keys = request.app.state.settings.api_keys
    if not keys:
        raise ApiError(
            403,
            "Schrijven via de API is uitgeschakeld",
            "Er zijn geen API-sleutels ingesteld; zet MAATWERK_API_KEYS om imports toe te staan.",
        )
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    # Starlette decodes header bytes as latin-1; encoding back gives the bytes the client sent,
    # so a key with non-ASCII characters (UTF-8 on the wire) matches the configured key's UTF-8.
    given = token.strip().encode("latin-1")
    valid = False
    for key in keys:  # no early exit: the time taken does not depend on which key matched
        valid |= hmac.compare_digest(given, key.encode())
    if scheme.lower() != "bearer" or not given or not valid:
        raise ApiError(
            401,
            "Niet aangemeld",
            "Stuur een geldige sleutel mee: Authorization: Bearer <sleutel>",
            headers={"WWW-Authenticate": 'Bearer realm="maatwerk"'},
        )


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
