"""Systeemleren (`/systeemleren`): what keeps coming back, as charts over every case, with their queries.

Every bar opens the cases behind it (`/systeemleren/casussen?…`, the filters spelled out), and every
chart and case list downloads as CSV or .xlsx (`?format=csv|xlsx`; `format=json` is the JSON twin).
The page itself answers `Accept: application/json` (or `?format=json`) with the charts' numbers and queries.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from api.export import FORMATS, table_response
from api.http import ApiError, maatwerk
from api.ui.pages import json_twin, legacy_redirect, local_url, page, wants_json, year_param
from api.ui.sparql import example_queries
from graph.charts import (
    CASE_PATHS,
    CHARTS,
    NO_STATUS,
    CaseFilter,
    Chart,
    ChartSpec,
    case_list,
    case_list_query,
    draw,
    with_year_filter,
    year_bounds,
)
from graph.leerpunten import (
    STATUS_COLUMNS,
    AddresseeTable,
    leerpunt_list,
    leerpunt_list_query,
    open_after_a_year,
    per_addressee,
)
from graph.limited import over_limit
from graph.sparql import SparqlError
from ontology.vocabulary import BY_PARAM, STATUSES, YEAR_PARAMS

router = APIRouter(include_in_schema=False)

YEAR_LABELS = dict(zip(YEAR_PARAMS, ("Vanaf jaar", "Tot en met jaar"), strict=True))


@router.get("/systeemleren", response_class=HTMLResponse, name="systeemleren")
def systeemleren(request: Request):
    redirect = legacy_redirect(request)
    if redirect:
        return redirect
    core = maatwerk(request)
    errors: list[str] = []
    year_from, year_to = [
        year_param(request.query_params.get(name, "").strip(), YEAR_LABELS[name], errors) for name in YEAR_PARAMS
    ]
    notices: list[str] = []
    if year_from is not None and year_to is not None and year_from > year_to:
        # Someone typed the period backwards; show the period they meant, and say so.
        notices.append(
            f"‘Vanaf jaar’ ({year_from}) lag na ‘tot en met jaar’ ({year_to}). "
            f"De jaren zijn omgedraaid: hieronder staat {year_to} tot en met {year_from}."
        )
        year_from, year_to = year_to, year_from
    queries = {e.id: e.query for e in example_queries()}
    charts = [
        _chart(core, spec, with_year_filter(queries[spec.query_id], year_from, year_to), (year_from, year_to))
        for spec in CHARTS
    ]
    try:
        min_year, max_year = core.cached("year bounds", lambda: year_bounds(core.kg, core.limits))
    except SparqlError as exc:
        if not over_limit(exc):
            raise
        min_year = max_year = None
    follow_up = _follow_up(core, queries)
    if wants_json(request):
        return json_twin(
            {
                "year_from": year_from,
                "year_to": year_to,
                "min_year": min_year,
                "max_year": max_year,
                "errors": errors,
                "notices": notices,
                "charts": [_chart_json(c) for c in charts],
                "leerpunten": _follow_up_json(follow_up),
            }
        )
    return page(
        request,
        "systeemleren.html",
        {
            "nav": "systeemleren",
            "charts": charts,
            "errors": errors,
            "notices": notices,
            "year_from": year_from,
            "year_to": year_to,
            "min_year": min_year,
            "max_year": max_year,
            "feedback_weeks": core.feedback.weekly_counts(),
            "follow_up": follow_up,
            "leerpunten_url": leerpunten_url,
        },
    )


def warm(core) -> None:
    """Compute what the page shows without a year filter, so that its first view after a start or an
    import is a cache hit (at 100k cases the charts and overviews take about 0.35 s together)."""
    queries = {e.id: e.query for e in example_queries()}
    for spec in CHARTS:
        _chart(core, spec, with_year_filter(queries[spec.query_id], None, None), (None, None))
    core.cached("year bounds", lambda: year_bounds(core.kg, core.limits))
    _follow_up(core, queries)


def _chart_json(chart: dict[str, Any]) -> dict[str, Any]:
    spec = chart["spec"]
    return {
        "id": spec.id,
        "title": spec.title,
        "explanation": spec.explanation,
        "query": chart["query"],
        "data": chart["data"],
        "truncated": chart["truncated"],
        "error": chart["error"] or None,
    }


def _chart(core, spec: ChartSpec, query: str, years: tuple[int | None, int | None]) -> dict[str, Any]:
    """One chart for the template; over the SPARQL limits it says so instead of drawing."""
    try:
        chart = core.cached(("chart", query), lambda: draw(core.kg, spec, query, core.limits))
    except SparqlError as exc:
        if not over_limit(exc):
            raise
        return {
            "spec": spec,
            "query": query,
            "rows": (),
            "data": {"labels": [], "datasets": []},
            "links": [],
            "config": {"horizontal": spec.horizontal},
            "js": None,
            "truncated": False,
            "error": f"Deze grafiek kon niet worden berekend: {str(exc).rstrip('.')}. "
            "Probeer het later opnieuw, of kies een kortere periode.",
        }
    return {
        "spec": spec,
        "query": query,
        "rows": chart.rows,
        "data": chart.data,
        "links": drill_links(chart, years),
        "export": _export_link(spec, years),
        "error": "",
        "config": {"horizontal": spec.horizontal},
        "truncated": chart.truncated,
        "js": {
            "id": spec.id,
            "title": spec.title,
            "type": spec.kind,
            "horizontal": spec.horizontal,
            "stacked": spec.series is not None,
            "data": chart.data,
            "links": drill_links(chart, years),
        },
    }


# --- leerpunten: per addressee and follow-up status, and the ones still open after a year -----------

PER_ADDRESSEE_QUERY = "19-leerpunten-per-geadresseerde"
OPEN_AFTER_A_YEAR_QUERY = "20-leerpunten-open-na-een-jaar"
BUSY = "Dit overzicht kon niet worden berekend: {}. Probeer het later opnieuw."


def _follow_up(core, queries: dict[str, str]) -> dict[str, Any]:
    """Both follow-up overviews for the page; over the SPARQL limits each says so instead of failing the page.

    Query 20 compares with today (NOW()), so its cached answer is keyed by the date as well.
    """
    per_query, open_query = queries[PER_ADDRESSEE_QUERY], queries[OPEN_AFTER_A_YEAR_QUERY]
    result: dict[str, Any] = {"per_query": per_query, "open_query": open_query, "statuses": STATUS_COLUMNS}
    try:
        table: AddresseeTable = core.cached(
            ("leerpunten", per_query), lambda: per_addressee(core.kg, per_query, core.limits)
        )
        result.update(table=table, per_error="")
    except SparqlError as exc:
        if not over_limit(exc):
            raise
        result.update(table=None, per_error=BUSY.format(str(exc).rstrip(".")))
    try:
        key = ("leerpunten", open_query, date.today())
        rows = core.cached(key, lambda: open_after_a_year(core.kg, open_query, core.limits))
        result.update(open=[_open_point(r) for r in rows], open_error="")
    except SparqlError as exc:
        if not over_limit(exc):
            raise
        result.update(open=[], open_error=BUSY.format(str(exc).rstrip(".")))
    return result


def leerpunten_url(organisation: str, status: str) -> str:
    """The leerpunten behind one cell of the per-addressee table."""
    return "/systeemleren/leerpunten?" + urlencode(
        {"geadresseerde": organisation.rsplit("/", 1)[-1], "opvolging": status}
    )


def _open_point(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "casus": row["titel"],
        "adres": local_url(row["casus"]),
        "jaar": row.get("jaar"),
        "leerpunt": row["tekst"],
        "geadresseerden": row.get("geadresseerden") or "",
        "opvolging": row["opvolging"],
        "voorgelegd_op": str(row["voorgelegdOp"]) if row.get("voorgelegdOp") else None,
    }


def _follow_up_json(follow_up: dict[str, Any]) -> dict[str, Any]:
    table: AddresseeTable | None = follow_up["table"]
    return {
        "per_geadresseerde": {
            "query": follow_up["per_query"],
            "statussen": list(follow_up["statuses"]),
            "rijen": [
                {
                    "organisatie": row.organisation,
                    "naam": row.name,
                    "aantallen": row.counts,
                    "totaal": row.total,
                    "lijsten": {status: leerpunten_url(row.organisation, status) for status in row.counts},
                }
                for row in (table.rows if table else ())
            ],
            "error": follow_up["per_error"] or None,
        },
        "open_na_een_jaar": {
            "query": follow_up["open_query"],
            "leerpunten": follow_up["open"],
            "error": follow_up["open_error"] or None,
        },
    }


@router.get("/systeemleren/leerpunten", name="leerpunten-achter-tabel")
def leerpunten_behind(request: Request, geadresseerde: str = "", opvolging: str = "", format: str = "html") -> Response:
    """The leerpunten addressed to one organisation with one follow-up status, with the query that lists them."""
    core = maatwerk(request)
    found = core.concepts.resolve("organisatie", geadresseerde) if geadresseerde else []
    errors = [] if found else [f"Organisatie '{geadresseerde}' is onbekend."]
    if opvolging not in STATUS_COLUMNS:
        errors.append(f"Opvolgstatus '{opvolging}' is onbekend; kies uit {', '.join(STATUS_COLUMNS)}.")
    if errors:
        if format == "html":
            return page(request, "fout.html", {"title": "Ongeldige filters", "message": " ".join(errors)}, 422)
        raise ApiError(422, "Ongeldige filters", errors)
    organisation = found[0]
    try:
        rows = leerpunt_list(core.kg, organisation.iri, opvolging, core.limits)
    except SparqlError as exc:
        if not over_limit(exc) or format != "html":
            raise
        return page(request, "fout.html", {"title": "Te veel werk", "message": str(exc)}, 503)
    points = [
        {
            "casus": r["titel"],
            "adres": local_url(r["casus"]),
            "jaar": r.get("jaar"),
            "leerpunt": r["tekst"],
            "voorgelegd_op": str(r["voorgelegdOp"]) if r.get("voorgelegdOp") else None,
            "reactie_op": str(r["reactieOp"]) if r.get("reactieOp") else None,
            "reactie": r.get("reactie"),
        }
        for r in rows
    ]
    query = leerpunt_list_query(organisation.iri, opvolging)
    if format == "json":
        return JSONResponse(
            {
                "geadresseerde": organisation.label,
                "opvolging": opvolging,
                "aantal": len(points),
                "leerpunten": points,
                "query": query,
            }
        )
    if format != "html":
        raise ApiError(422, "Onbekend formaat", "Kies html of json")
    return page(
        request,
        "leerpunten.html",
        {"nav": "systeemleren", "organisation": organisation, "status": opvolging, "points": points, "query": query},
    )


# --- drill-down: the cases behind a bar ------------------------------------------------------------

CASE_LIST_PARAMS = (*CASE_PATHS, "status", *YEAR_PARAMS)
FILTER_NAMES = {**{p: k.label for p, k in BY_PARAM.items()}, "leerorde": "Leerorde", "status": "Status"}
_KIND_OF_PARAM = {**{p: k.kind for p, k in BY_PARAM.items()}, "leerorde": "leerorde"}


def drill_url(filters: list[tuple[str, str]], years: tuple[int | None, int | None]) -> str:
    """The case list behind one bar: concept IRIs become their slugs, a year the range of that one year."""
    year_from, year_to = years
    params: list[tuple[str, Any]] = []
    for param, value in filters:
        if param == "jaar":
            year_from = year_to = int(value)
        else:
            params.append((param, value.rsplit("/", 1)[-1] if param in CASE_PATHS else value))
    params += [(name, year) for name, year in zip(YEAR_PARAMS, (year_from, year_to), strict=True) if year is not None]
    return "/systeemleren/casussen?" + urlencode(params)


def drill_links(chart: Chart, years: tuple[int | None, int | None]) -> list[list[str | None]]:
    """Per dataset, per bar: the address of its case list (None for an empty cell)."""
    return [
        [drill_url(filters, years) if filters is not None else None for filters in dataset]
        for dataset in chart.data.get("drill", [])
    ]


def _export_link(spec: ChartSpec, years: tuple[int | None, int | None]) -> str:
    params = urlencode([(n, y) for n, y in zip(YEAR_PARAMS, years, strict=True) if y is not None])
    return f"/systeemleren/grafiek/{spec.id}" + (f"?{params}&" if params else "?")


@router.get("/systeemleren/grafiek/{chart_id}", name="grafiek-data")
def chart_export(request: Request, chart_id: str, format: str = "json") -> Response:
    """One chart's numbers: JSON (`format=json`), CSV or .xlsx, for the same period as the page."""
    spec = next((c for c in CHARTS if c.id == chart_id), None)
    if spec is None:
        raise ApiError(404, "Onbekende grafiek", f"Kies uit: {', '.join(c.id for c in CHARTS)}")
    core = maatwerk(request)
    errors: list[str] = []
    year_from, year_to = (
        year_param(request.query_params.get(n, "").strip(), YEAR_LABELS[n], errors) for n in YEAR_PARAMS
    )
    years = (year_from, year_to)
    if errors:
        raise ApiError(422, "Ongeldige periode", errors)
    query = with_year_filter({e.id: e.query for e in example_queries()}[spec.query_id], *years)
    chart = core.cached(("chart", query), lambda: draw(core.kg, spec, query, core.limits))
    columns, rows = chart_table(chart, years)
    if format in FORMATS:
        name = f"grafiek-{spec.id}" + "".join(f"-{y}" for y in years if y is not None)
        return table_response(format, name, columns, rows)
    if format != "json":
        raise ApiError(422, "Onbekend formaat", "Kies json, csv of xlsx")
    return JSONResponse({"id": spec.id, "titel": spec.title, "query": query, "kolommen": columns, "rijen": rows})


def chart_table(chart: Chart, years: tuple[int | None, int | None]) -> tuple[list[str], list[list[Any]]]:
    """A chart as a table: one row per bar label, a column per dataset, and the address of each bar's cases."""
    data = chart.data
    single = len(data["datasets"]) == 1
    columns = [chart.spec.title, *(ds["label"] if not single else "Casussen" for ds in data["datasets"])]
    links = drill_links(chart, years)
    rows = []
    for i, label in enumerate(data["labels"]):
        row: list[Any] = [label, *(ds["data"][i] for ds in data["datasets"])]
        if single:
            row.append(links[0][i] if links else "")
        rows.append(row)
    if single:
        columns.append("Lijst van casussen")
    return columns, rows


@router.get("/systeemleren/casussen", name="casussen-achter-grafiek")
def cases_behind(request: Request, format: str = "html") -> Response:
    """The cases behind a bar or cell: their filters in words, the query that lists them, CSV and .xlsx."""
    core = maatwerk(request)
    selection, described, errors = _case_filter(core, request)
    if errors:
        if format == "html":
            return page(request, "fout.html", {"title": "Ongeldige filters", "message": " ".join(errors)}, 422)
        raise ApiError(422, "Ongeldige filters", errors)
    try:
        rows = case_list(core.kg, selection, core.limits)
    except SparqlError as exc:
        if not over_limit(exc) or format != "html":
            raise
        return page(request, "fout.html", {"title": "Te veel werk", "message": str(exc)}, 503)
    cases = [
        {
            "id": r["id"],
            "titel": r["titel"],
            "jaar": r["jaar"],
            "status": r["status"] or NO_STATUS,
            "adres": local_url(r["casus"]),
        }
        for r in rows
    ]
    name = "casussen-" + "-".join(v for _, v in described) if described else "casussen"
    if format in FORMATS:
        base = str(request.base_url).rstrip("/")
        table = [[c["id"], c["titel"], c["jaar"], c["status"], base + c["adres"]] for c in cases]
        return table_response(format, name, ["Casus", "Titel", "Jaar", "Status", "Adres"], table)
    query = case_list_query(selection)
    if format == "json":
        filters = [{"filter": k, "waarde": v} for k, v in described]
        return JSONResponse({"filters": filters, "aantal": len(cases), "casussen": cases, "query": query})
    if format != "html":
        raise ApiError(422, "Onbekend formaat", "Kies html, json, csv of xlsx")
    own = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "format"])
    return page(
        request,
        "casussen.html",
        {"nav": "systeemleren", "filters": described, "cases": cases, "query": query, "export": own},
    )


def _case_filter(core, request: Request) -> tuple[CaseFilter, list[tuple[str, str]], list[str]]:
    """The address's filters resolved to concepts, with their Dutch description, or the errors."""
    params = request.query_params
    errors: list[str] = []
    concepts, described = [], []
    for param in CASE_PATHS:
        for value in params.getlist(param):
            found = core.concepts.resolve(_KIND_OF_PARAM[param], value)
            if not found:
                errors.append(f"{FILTER_NAMES[param]} '{value}' is onbekend.")
                continue
            concepts.append((param, found[0].iri))
            described.append((FILTER_NAMES[param], found[0].label))
    status = params.get("status") or None
    if status and status not in (*STATUSES, NO_STATUS):
        errors.append(f"Status '{status}' is onbekend; kies uit {', '.join((*STATUSES, NO_STATUS))}.")
    elif status:
        described.append(("Status", status))
    year_from, year_to = (year_param(params.get(n, "").strip(), YEAR_LABELS[n], errors) for n in YEAR_PARAMS)
    if year_from is not None and year_from == year_to:
        described.append(("Jaar", str(year_from)))
    else:
        described += [
            (YEAR_LABELS[n], str(y)) for n, y in zip(YEAR_PARAMS, (year_from, year_to), strict=True) if y is not None
        ]
    return CaseFilter(tuple(concepts), status, year_from, year_to), described, errors
