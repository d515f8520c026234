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
from ontology.vocabulary import BY_PARAM

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
    drill: tuple[tuple[str, str], ...] = ()
    """(case-list filter, column): the filters that list the cases behind one bar, from its row."""


CHARTS = (
    ChartSpec(
        "knelpunttypen",
        "Knelpunttypen",
        "Aantal casussen per soort knelpunt.",
        "11-knelpunttypen-tellen",
        "bar",
        lambda r: r["knelpunt"],
        drill=(("knelpunttype", "knelpunttype"),),
    ),
    ChartSpec(
        "levensgebieden",
        "Levensgebieden",
        "Aantal casussen per levensgebied (Zelfredzaamheid-Matrix).",
        "12-levensgebieden-tellen",
        "bar",
        lambda r: r["gebied"],
        horizontal=True,
        drill=(("levensgebied", "levensgebied"),),
    ),
    ChartSpec(
        "levensgebieden-samen",
        "Levensgebieden die samen voorkomen",
        "Paren van levensgebieden in dezelfde casus: waar problemen zich opstapelen.",
        "16-levensgebieden-samen",
        "bar",
        lambda r: f"{r['naamA']} + {r['naamB']}",
        horizontal=True,
        drill=(("levensgebied", "gebiedA"), ("levensgebied", "gebiedB")),
    ),
    ChartSpec(
        "wetten",
        "Wetten",
        "De twintig wetten die het vaakst een rol spelen.",
        "13-wetten-tellen",
        "bar",
        lambda r: r["naam"],
        horizontal=True,
        drill=(("law", "wet"),),
    ),
    ChartSpec(
        "samen",
        "Wetten die samen voorkomen",
        "Paren van wetten die in dezelfde casus spelen: hier raken regelingen elkaar.",
        "08-wetten-samen",
        "bar",
        lambda r: f"{r['naamA']} + {r['naamB']}",
        horizontal=True,
        drill=(("law", "wetA"), ("law", "wetB")),
    ),
    ChartSpec(
        "voorzieningen",
        "Ingezette voorzieningen",
        "De voorzieningen die het vaakst deel zijn van de oplossing of de interventies.",
        "17-voorzieningen-tellen",
        "bar",
        lambda r: r["naam"],
        horizontal=True,
        drill=(("voorziening", "voorziening"),),
    ),
    ChartSpec(
        "leerordes",
        "Leerordes",
        "Casussen met leerpunten per leerorde: 1e orde lost de casus op, "
        "2e orde helpt sneller zonder systeemaanpassing, 3e orde vraagt een systeemaanpassing.",
        "04-casussen-per-leerorde",
        "bar",
        lambda r: r["orde"],
        drill=(("leerorde", "leerorde"),),
    ),
    ChartSpec(
        "jaren",
        "Casussen per jaar en status",
        "Hoeveel casussen per jaar zijn opgelost, lopen nog of zijn niet opgelost.",
        "09-casussen-per-jaar-en-status",
        "bar",
        lambda r: str(r["jaar"]),
        series="status",
        drill=(("jaar", "jaar"), ("status", "status")),
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
    """Rows -> Chart.js labels and datasets (one dataset, or one per value of `series`).

    `drill` runs parallel to the datasets: for each bar, the case-list filters (param, value) behind it,
    or None for an empty cell of a stacked chart.
    """
    if spec.series is None:
        labels = [spec.label(r) for r in rows]
        return {
            "labels": labels,
            "datasets": [{"label": "Casussen", "data": [int(r[spec.value]) for r in rows]}],
            "drill": [[drill_filters(spec, r) for r in rows]],
        }
    labels = list(dict.fromkeys(spec.label(r) for r in rows))
    series = sorted({str(r[spec.series]) for r in rows})
    data = {s: [0] * len(labels) for s in series}
    drill: dict[str, list[list[tuple[str, str]] | None]] = {s: [None] * len(labels) for s in series}
    for row in rows:
        at = labels.index(spec.label(row))
        data[str(row[spec.series])][at] = int(row[spec.value])
        drill[str(row[spec.series])][at] = drill_filters(spec, row)
    return {
        "labels": labels,
        "datasets": [{"label": s, "data": data[s]} for s in series],
        "drill": [drill[s] for s in series],
    }


def drill_filters(spec: ChartSpec, row: dict[str, Any]) -> list[tuple[str, str]]:
    """The case-list filters that select the cases counted in `row`: [(param, IRI or value)]."""
    return [(param, str(row[column])) for param, column in spec.drill if row.get(column) is not None]


def year_bounds(kg, limits: Limits) -> tuple[int | None, int | None]:
    """The first and last year of any case (placeholders for the year fields)."""
    rows = select(kg, year_range_query(), limits)
    first = rows.rows[0] if rows.rows else {}
    return first.get("min"), first.get("max")


# --- the cases behind a bar ------------------------------------------------------------------------

# Case-list filter -> the path from a case to the concept it names.
CASE_PATHS: dict[str, str] = {
    **{param: kind.predicate for param, kind in BY_PARAM.items() if kind.predicate},
    "knelpunttype": "mw:knelpunt/mw:knelpuntType",
    "leerorde": "mw:leerpunt/mw:leerorde",
}
NO_STATUS = "onbekend"  # what query 09 calls a case without a status


@dataclass(frozen=True)
class CaseFilter:
    """Which cases a drill-down lists: every concept must be linked (law A and law B), one status, a year range."""

    concepts: tuple[tuple[str, str], ...] = ()  # (param of CASE_PATHS, concept IRI)
    status: str | None = None
    year_from: int | None = None
    year_to: int | None = None


def case_list_query(selection: CaseFilter) -> str:
    """The SPARQL that lists the cases behind a bar: shown on the case-list page, and run by `case_list`."""
    patterns = [f"  ?casus {CASE_PATHS[param]} <{_iri(value)}> ." for param, value in selection.concepts]
    if selection.status == NO_STATUS:
        patterns.append("  FILTER NOT EXISTS { ?casus mw:status ?s }")
    elif selection.status:
        patterns.append(f"  ?casus mw:status {_string(selection.status)} .")
    patterns.append("  OPTIONAL { ?casus mw:status ?status }")
    query = f"""PREFIX mw: <https://w3id.org/maatwerk/def#>
PREFIX dcterms: <http://purl.org/dc/terms/>

SELECT ?casus ?id ?titel ?jaar ?status
WHERE {{
  ?casus a mw:Casus ;
         dcterms:identifier ?id ;
         dcterms:title ?titel .
  OPTIONAL {{ ?casus mw:jaar ?jaar }}
{chr(10).join(patterns)}
  {YEAR_PLACEHOLDER}
}}
ORDER BY DESC(?jaar) ?id
"""
    return with_year_filter(query, selection.year_from, selection.year_to)


def case_list(kg, selection: CaseFilter, limits: Limits) -> Rows:
    """The cases behind a bar, whole or refused (503): a list that claims to be the cases must not miss some."""
    return select(kg, case_list_query(selection), limits, complete=True)


def _iri(value: str) -> str:
    if not re.fullmatch(r"https?://[^\s<>\"{}|\\^`]+", value):
        raise ValueError(f"not an IRI: {value!r}")
    return value


def _string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- the yearly report ---------------------------------------------------------------------------


def leerpunten(kg, query: str, limits: Limits) -> Rows:
    """Every leerpunt of the (year-filtered) query 18 with its order and follow-up, whole or refused (503)."""
    return select(kg, query, limits, complete=True)


def totals_per_year(chart: Chart) -> list[tuple[int, int]]:
    """The per-year-and-status chart summed per year: the trend line of the report."""
    totals: dict[int, int] = {}
    for row in chart.rows:
        totals[int(row["jaar"])] = totals.get(int(row["jaar"]), 0) + int(row["casussen"])
    return sorted(totals.items())
