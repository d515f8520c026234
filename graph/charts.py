"""The Systeemleren charts: aggregate queries over every case, turned into Chart.js data.

Each chart is one of the example queries (their text lives with the SPARQL page,
which shows them), optionally limited to a range of years. The queries read the
counts kept at import time in the kubus graph (graph/analytics.py), so they cost
milliseconds whatever the number of cases; they still run under the endpoint's
limits (`graph.limited`), like any query a user can run.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graph.analytics import year_range_query
from graph.limited import Limits, Rows, select

YEAR_PLACEHOLDER = "#JAARFILTER"


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
    ChartSpec(
        "knelpunttypen",
        "Knelpunttypen",
        "Aantal casussen per soort knelpunt.",
        "11-knelpunttypen-tellen",
        "bar",
        lambda r: r["knelpunt"],
    ),
    ChartSpec(
        "levensgebieden",
        "Levensgebieden",
        "Aantal casussen per levensgebied (Zelfredzaamheid-Matrix).",
        "12-levensgebieden-tellen",
        "bar",
        lambda r: r["gebied"],
        horizontal=True,
    ),
    ChartSpec(
        "wetten",
        "Wetten",
        "De twintig wetten die het vaakst een rol spelen.",
        "13-wetten-tellen",
        "bar",
        lambda r: r["naam"],
        horizontal=True,
    ),
    ChartSpec(
        "samen",
        "Wetten die samen voorkomen",
        "Paren van wetten die in dezelfde casus spelen: hier raken regelingen elkaar.",
        "08-wetten-samen",
        "bar",
        lambda r: f"{r['naamA']} + {r['naamB']}",
        horizontal=True,
    ),
    ChartSpec(
        "leerordes",
        "Leerordes",
        "Casussen met leerpunten per leerorde: 1e orde lost de casus op, "
        "2e orde helpt sneller zonder systeemaanpassing, 3e orde vraagt een systeemaanpassing.",
        "04-casussen-per-leerorde",
        "bar",
        lambda r: r["orde"],
    ),
    ChartSpec(
        "jaren",
        "Casussen per jaar en status",
        "Hoeveel casussen per jaar zijn opgelost, lopen nog of zijn niet opgelost.",
        "09-casussen-per-jaar-en-status",
        "bar",
        lambda r: str(r["jaar"]),
        series="status",
    ),
)


@dataclass(frozen=True)
class Chart:
    """One drawn chart: the rows its query gave and the same numbers as Chart.js data."""

    spec: ChartSpec
    query: str
    rows: tuple[dict[str, Any], ...]
    data: dict[str, Any]
    truncated: bool = False


def with_year_filter(query: str, year_from: int | None, year_to: int | None) -> str:
    """Replace the #JAARFILTER line by a filter on the year.

    A plain `#JAARFILTER` filters the case `?casus` on mw:jaar; `#JAARFILTER ?obs kubus:jaar`
    names the subject and year property to filter on (the kubus queries filter observations).
    """
    conditions = [c for c in (year_from and f"?jaar >= {int(year_from)}", year_to and f"?jaar <= {int(year_to)}") if c]
    placeholder = re.compile(r"[ \t]*" + YEAR_PLACEHOLDER + r"(?:[ \t]+(\?\w+)[ \t]+(\S+))?[ \t]*\n")
    if not conditions:  # people reading the query need not see the placeholder
        return placeholder.sub("", query)

    def clause(match: re.Match[str]) -> str:
        indent = match.group(0)[: len(match.group(0)) - len(match.group(0).lstrip())]
        subject, year = match.group(1) or "?casus", match.group(2) or "mw:jaar"
        return f"{indent}{subject} {year} ?jaar . FILTER({' && '.join(conditions)})\n"

    return placeholder.sub(clause, query)


def draw(kg, spec: ChartSpec, query: str, limits: Limits) -> Chart:
    """Run the chart's (year-filtered) query under `limits`; SparqlError 503 when it does not finish in time."""
    rows: Rows = select(kg, query, limits)
    return Chart(spec, query, rows.rows, chart_data(spec, list(rows)), rows.truncated)


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


def year_bounds(kg, limits: Limits) -> tuple[int | None, int | None]:
    """The first and last year of any case (placeholders for the year fields)."""
    rows = select(kg, year_range_query(), limits)
    first = rows.rows[0] if rows.rows else {}
    return first.get("min"), first.get("max")
