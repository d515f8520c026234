"""Systeemleren (`/systeemleren`): what keeps coming back, as charts over every case, with their queries.

`Accept: application/json` (or `?format=json`) gives the charts' numbers and queries as JSON.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.http import maatwerk
from api.ui.pages import json_twin, legacy_redirect, page, wants_json, year_param
from api.ui.sparql import example_queries
from graph.charts import CHARTS, ChartSpec, draw, with_year_filter, year_bounds
from graph.limited import over_limit
from graph.sparql import SparqlError
from ontology.vocabulary import YEAR_PARAMS

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
    charts = [_chart(core, spec, with_year_filter(queries[spec.query_id], year_from, year_to)) for spec in CHARTS]
    try:
        min_year, max_year = core.cached("year bounds", lambda: year_bounds(core.kg, core.limits))
    except SparqlError as exc:
        if not over_limit(exc):
            raise
        min_year = max_year = None
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
        },
    )


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


def _chart(core, spec: ChartSpec, query: str) -> dict[str, Any]:
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
        },
    }
