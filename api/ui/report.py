"""De jaarrapportage systeemleren (`/systeemleren/rapport?jaar=2023`): a printable yearly report.

Its shape follows the PMM *Jaarrapportage systeemleren*: the number of cases and the trend, the
knelpunttypen, the levensgebieden and their combinations, the laws and which go together, the
voorzieningen used, the leerpunten per order with their follow-up, and example cases the user
picks (`&voorbeeld=ID`, repeatable). Every figure is one of the Systeemleren charts (the same
queries from api/queries/), drawn on the server as SVG bars so the PDF never waits for a script,
and names its query; the appendix prints each query in full.

The same context renders the page, its JSON twin (`format=json`) and the PDF (`format=pdf`, and
`maatwerk rapport`), which Chromium prints from the rendered HTML (api/pdf.py).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from api.http import ApiError, maatwerk
from api.pdf import html_to_pdf
from api.ui.pages import API_DIR, page, templates, year_param
from api.ui.sparql import example_queries
from api.ui.systeemleren import drill_links
from graph.case import case_iri, read_case
from graph.charts import (
    CHARTS,
    CaseFilter,
    Chart,
    case_list,
    draw,
    leerpunten,
    totals_per_year,
    with_year_filter,
    year_bounds,
)

router = APIRouter(include_in_schema=False)
STATIC_CSS = API_DIR / "static" / "css"

# The report's figures, in the order of the Jaarrapportage: (section, chart id, year-filtered?)
FIGURES = (
    ("Aantal casussen", "jaren", False),
    ("Knelpunten", "knelpunttypen", True),
    ("Levensgebieden", "levensgebieden", True),
    ("Levensgebieden", "levensgebieden-samen", True),
    ("Wetten", "wetten", True),
    ("Wetten", "samen", True),
    ("Interventies en voorzieningen", "voorzieningen", True),
    ("Leerpunten", "leerordes", True),
)
LEERPUNTEN_QUERY = "18-leerpunten-met-opvolging"
NO_FOLLOW_UP = "niet vastgelegd"
MAX_EXAMPLES = 5


def report_context(core, year: int, examples: list[str]) -> dict[str, Any]:
    """Everything the report shows for `year`, as plain values (the page, the JSON twin and the PDF)."""
    queries = {e.id: e for e in example_queries()}
    specs = {c.id: c for c in CHARTS}
    figures = []
    for number, (section, chart_id, filtered) in enumerate(FIGURES, 1):
        spec = specs[chart_id]
        years = (year, year) if filtered else (None, None)
        query = with_year_filter(queries[spec.query_id].query, *years)
        chart = core.cached(("chart", query), lambda spec=spec, query=query: draw(core.kg, spec, query, core.limits))
        figures.append(_figure(number, section, chart, years, queries[spec.query_id].title))
    trend = totals_per_year(next(f["chart"] for f in figures if f["id"] == "jaren"))
    total = dict(trend).get(year, 0)
    lp_query = with_year_filter(queries[LEERPUNTEN_QUERY].query, year, year)
    points = leerpunten(core.kg, lp_query, core.limits)
    found = {i: read_case(core.kg, case_iri(i), core.concepts) for i in dict.fromkeys(examples[:MAX_EXAMPLES])}
    chosen = [case for case in found.values() if case]
    candidates = case_list(core.kg, CaseFilter(year_from=year, year_to=year), core.limits)
    return {
        "jaar": year,
        "gemaakt": datetime.now(UTC).strftime("%d-%m-%Y"),
        "casussen": total,
        "trend": [{"jaar": y, "casussen": n} for y, n in trend],
        "figuren": figures,
        "secties": _sections(figures),
        "leerpunten": _by_order(points.rows),
        "leerpunten_query": {"id": LEERPUNTEN_QUERY, "titel": queries[LEERPUNTEN_QUERY].title, "query": lp_query},
        "voorbeelden": chosen,
        "kandidaten": [{"id": r["id"], "titel": r["titel"]} for r in candidates],
        "gekozen": [c["id"] for c in chosen],
        "onbekend": [i for i, case in found.items() if case is None],
    }


def _figure(number: int, section: str, chart: Chart, years, title: str) -> dict[str, Any]:
    """One figure: its bars (label, value, share of the largest, link to its cases) and its query."""
    data = chart.data
    links = drill_links(chart, years)
    totals = [sum(ds["data"][i] for ds in data["datasets"]) for i in range(len(data["labels"]))]
    peak = max(totals, default=0) or 1
    bars = []
    for i, label in enumerate(data["labels"]):
        parts = [
            {"label": ds["label"], "waarde": ds["data"][i], "link": links[d][i] if links else None}
            for d, ds in enumerate(data["datasets"])
        ]
        bars.append({"label": label, "waarde": totals[i], "breedte": round(100 * totals[i] / peak, 1), "delen": parts})
    return {
        "nummer": number,
        "sectie": section,
        "id": chart.spec.id,
        "titel": chart.spec.title,
        "uitleg": chart.spec.explanation,
        "query_id": chart.spec.query_id,
        "query_titel": title,
        "query": chart.query,
        "gestapeld": chart.spec.series is not None,
        "series": [ds["label"] for ds in data["datasets"]],
        "staven": bars,
        "afgekapt": chart.truncated,
        "chart": chart,
    }


def _sections(figures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The figures under their section headings, in report order."""
    sections: list[dict[str, Any]] = []
    for figure in figures:
        if not sections or sections[-1]["titel"] != figure["sectie"]:
            sections.append({"nummer": len(sections) + 1, "titel": figure["sectie"], "figuren": []})
        sections[-1]["figuren"].append(figure)
    return sections


def _by_order(rows) -> list[dict[str, Any]]:
    """Leerpunten grouped per order, each with its case and follow-up, and a count per follow-up status."""
    orders: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        orders[row["orde"]].append(
            {"casus": row["id"], "tekst": row["tekst"], "opvolging": row["opvolging"] or NO_FOLLOW_UP}
        )
    grouped = []
    for order, items in sorted(orders.items()):
        statuses: dict[str, int] = defaultdict(int)
        for item in items:
            statuses[item["opvolging"]] += 1
        grouped.append({"orde": order, "leerpunten": items, "opvolging": dict(sorted(statuses.items()))})
    return grouped


def _public(context: dict[str, Any]) -> dict[str, Any]:
    """The JSON twin: the context without the chart objects (their numbers are in the bars)."""
    figures = [{k: v for k, v in f.items() if k != "chart"} for f in context["figuren"]]
    return {k: v for k, v in {**context, "figuren": figures}.items() if k != "secties"}


def render_report(context: dict[str, Any], base_url: str | None = None) -> str:
    """The report as one self-contained HTML document (styles inline) for printing to PDF."""
    css = (STATIC_CSS / "maatwerk.css").read_text(encoding="utf-8") + (STATIC_CSS / "rapport.css").read_text(
        encoding="utf-8"
    )
    return templates.get_template("rapport.html").render(
        {**context, "nav": "systeemleren", "voor_pdf": True, "inline_css": css, "base_url": base_url}
    )


@router.get("/systeemleren/rapport", name="rapport")
def rapport(request: Request, format: str = "html") -> Response:
    core = maatwerk(request)
    params = request.query_params
    errors: list[str] = []
    raw_year = params.get("jaar", "").strip()
    year = year_param(raw_year, "Jaar", errors)
    if year is None and not errors:
        year = _last_year(core)
    if errors or year is None:
        if format == "html":
            message = " ".join(errors) or "Er zijn nog geen casussen."
            return page(request, "fout.html", {"title": "Jaarrapportage", "message": message}, 422)
        raise ApiError(422, "Ongeldig jaar", errors or "Er zijn nog geen casussen.")
    context = report_context(core, year, params.getlist("voorbeeld"))
    if format == "json":
        return JSONResponse(_public(context))
    if format == "pdf":
        pdf = html_to_pdf(render_report(context, str(request.base_url)))
        headers = {"Content-Disposition": f'attachment; filename="jaarrapportage-systeemleren-{year}.pdf"'}
        return Response(pdf, media_type="application/pdf", headers=headers)
    if format != "html":
        raise ApiError(422, "Onbekend formaat", "Kies html, json of pdf")
    return page(request, "rapport.html", {**context, "nav": "systeemleren", "voor_pdf": False})


def _last_year(core) -> int | None:
    return core.cached("year bounds", lambda: year_bounds(core.kg, core.limits))[1]
