"""Example list queries answered from the analytics layer: the same SPARQL text, the same rows, in milliseconds.

Why: the list queries among the examples (02, 10, 15: cases with some laws, 3e-orde leerpunten;
18-20: leerpunten and their follow-up) have no count to keep in the kubus graph. Oxigraph answers
them by visiting every case or leerpunt, so they grow with the number of cases (about 0.2-0.9 s at
10k, seconds at 100k). DuckDB has the same facts in columns (graph/analytics.py) and answers
them in milliseconds at a million cases.

How: when the text of a query sent to the endpoint is, after dropping comment lines and
whitespace, exactly one of these example queries (optionally with the year filter that
`graph.charts.with_year_filter` writes), and no dataset is named, `answer` runs its SQL
counterpart on the DuckDB layer and returns the rows as RDF terms, made as plain tuples
(graph.sparql_eval's cells); graph.sparql_eval serialises them (JSON, XML, CSV, TSV) under the same
row and byte limits as any answer. Query 18, which returns up to the row limit, has DuckDB write
its SPARQL JSON. Only when
DuckDB reflects the graph's current revision; otherwise (a commit half done, a layer being
rebuilt) the query runs on the graph as usual. Any other text, even one character different,
runs on the graph. The tests check on the demo data and on 10,000 generated cases that each
answer has the rows Oxigraph gives for the same text. Documented in docs/sparql.md and on the
SPARQL page; the response says so in the `X-Maatwerk-Bron` header.

One liberty, within SPARQL's meaning: GROUP_CONCAT has no defined order. Query 15 joins the law
names in the order its VALUES lists the laws, as Oxigraph does; query 20 joins the addressees'
names in code point order (Oxigraph's order there follows its index, which is by hash).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from graph.sparql_eval import Cell, cell, cell_json, term_of
from ontology import ID, term

if TYPE_CHECKING:
    import duckdb

# The example queries' text lives with the SPARQL page (api/queries/); read as data, not imported.
QUERY_DIR = Path(__file__).resolve().parents[1] / "api" / "queries"
SOURCE = "analyselaag"
_XSD_INTEGER = term("xsd:integer")
_XSD_DATE = term("xsd:date")
_PREF_LABEL = ox.NamedNode(term("skos:prefLabel"))
_WET = ID + "wet/"
NOT_RECORDED = "niet vastgelegd"  # query 19's name for a leerpunt without a follow-up status label
_YEAR_FROM, _YEAR_TO = 1111, 2222  # stand-ins for the years when the year-filtered templates are built
Row = list[Cell | None]  # graph.sparql_eval's cells: made per row for up to 10,000 rows, so plain tuples
Years = tuple[int | None, int | None]


@dataclass(frozen=True)
class Reading:
    """What an answer may read: one DuckDB connection (a consistent snapshot) and the store, for labels."""

    db: duckdb.DuckDBPyConnection
    store: ox.Store
    years: Years
    wanted: int  # rows to fetch: the endpoint's row limit + 1, to know whether it cut the answer
    _labels: dict[str, list[Cell]] = field(default_factory=dict)

    def labels(self, iri: str) -> list[Cell]:
        """Every skos:prefLabel of `iri` in the union of the graphs, each term once (looked up once per answer)."""
        if iri not in self._labels:
            found = {q.object for q in self.store.quads_for_pattern(ox.NamedNode(iri), _PREF_LABEL, None, None)}
            literals = {cell(t) for t in found if isinstance(t, ox.Literal)}
            self._labels[iri] = sorted(literals, key=lambda c: (c[1], c[2] or ""))
        return self._labels[iri]

    def rows(self, sql: str, params: list[Any]) -> list[tuple]:
        return self.db.execute(sql, params).fetchall()


@dataclass(frozen=True)
class LayerQuery:
    id: str  # the example's file name without .rq
    variables: tuple[str, ...]
    rows: Callable[[Reading], list[Row]]
    limit: int | None = None  # the query's own LIMIT
    # The same rows as SPARQL JSON binding objects written by DuckDB, for a query that returns thousands of rows:
    # converting them to Python values alone took longer than finding them.
    json_rows: Callable[[Reading], list[str]] | None = None


@dataclass
class LayerAnswer:
    variables: list[str]
    rows: list[Row]
    truncated: bool
    revision: str | None
    json_rows: list[str] | None = None  # when asked for and the query has them: `rows` is then empty

    @property
    def solutions(self) -> list[list[ox.NamedNode | ox.Literal | None]]:
        """The rows as pyoxigraph terms (for callers that read terms; the endpoint writes JSON from the cells)."""
        return [[term_of(c) for c in row] for row in self.rows]


# --- from facts to terms -----------------------------------------------------------------------


def _uri(value: str) -> Cell:
    return ("uri", value)


def _text(value: str | None, language: str | None) -> Cell | None:
    return None if value is None else ("literal", value, language or None, None)


def _integer(value: int | None) -> Cell | None:
    return None if value is None else ("literal", str(value), None, _XSD_INTEGER)


def _plain(value: str | None) -> Cell | None:
    return None if value is None else ("literal", value, None, None)


def _concat(terms: list[Cell], ordered: bool = False) -> Cell:
    """GROUP_CONCAT(DISTINCT ...; separator=", ") as Oxigraph writes it: one language kept only if all share it.

    In code point order, or `ordered` as given."""
    unique = list(dict.fromkeys(terms)) if ordered else sorted(set(terms), key=lambda t: (t[1], t[2] or ""))
    text = ", ".join(t[1] for t in unique)
    languages = {t[2] for t in unique}
    language = languages.pop() if len(languages) == 1 else None
    return ("literal", text, language if unique else None, None)


def _year_condition(years: Years, column: str = "c.jaar") -> tuple[str, list[int]]:
    """The SQL of the year filter `?casus mw:jaar ?jaar . FILTER(...)`: the case has a year, in the range."""
    start, end = years
    if start is None and end is None:
        return "", []
    parts, params = [f"{column} IS NOT NULL"], []
    if start is not None:
        parts.append(f"{column} >= ?")
        params.append(start)
    if end is not None:
        parts.append(f"{column} <= ?")
        params.append(end)
    return " AND " + " AND ".join(parts), params


def _values(pairs: list[tuple[str, Any]], with_json: bool = False, alias: str = "v") -> tuple[str, list[str]]:
    """A two-column VALUES table for SQL, with parameters (one dummy row that matches nothing when empty).

    `with_json`: pairs of (IRI, label cell), as the columns k, v (the label's text) and f (its SPARQL JSON)."""
    rows: list[tuple] = [(k, label[1], cell_json(label)) for k, label in pairs] if with_json else list(pairs)
    width = 3 if with_json else 2
    names = f"{alias}(k, v, f)" if with_json else f"{alias}(k, v)"
    if not rows:
        return f"(VALUES ({', '.join(['NULL'] * width)})) AS {names}", []
    row = "(" + ", ".join(["?"] * width) + ")"
    return f"(VALUES {', '.join([row] * len(rows))}) AS {names}", [x for values in rows for x in values]


# --- the queries ---------------------------------------------------------------------------------

_CASE_ORDER = "c.jaar DESC NULLS LAST, c.titel, c.graph"  # ORDER BY DESC(?jaar) ?titel ?casus


def _cases_with_laws(laws: tuple[str, ...]) -> Callable[[Reading], list[Row]]:
    """02: the cases that name every law in `laws`, with title, year and status (a filter on the case's laws)."""

    def rows(r: Reading) -> list[Row]:
        years, params = _year_condition(r.years)
        found = r.rows(
            "SELECT c.graph, c.titel, c.titel_taal, c.jaar, c.status FROM cases c WHERE "
            + " AND ".join("list_contains(c.wetten, ?)" for _ in laws)
            + f" AND c.titel IS NOT NULL {years} ORDER BY {_CASE_ORDER} LIMIT ?",
            [*laws, *params, r.wanted],
        )
        return [[_uri(g), _text(t, lang), _integer(j), _plain(s)] for g, t, lang, j, s in found]

    return rows


def _third_order_points(r: Reading) -> list[Row]:
    """10: every 3e-orde leerpunt's text with its case's title and year.

    Joined with `cases` (for the title) only from the year of the `r.wanted`-th leerpunt on: the rows of
    earlier years sort after all of those (year descending), so if at least the wanted rows pass, they are
    the first ones; otherwise (cases without a title dropped too many) everything is joined and sorted."""
    order, (years, params) = ID + "leerorde/3", _year_condition(r.years, "p.jaar")
    where = f"WHERE p.leerorde = ? AND p.tekst IS NOT NULL {years}"
    last = r.rows(f"SELECT p.jaar FROM leerpunten p {where} ORDER BY p.jaar DESC NULLS LAST LIMIT 1 OFFSET ?",
                  [order, *params, r.wanted - 1])  # fmt: skip
    bound = last[0][0] if last else None  # None: fewer rows than wanted, or the cut among cases without a year

    def first(cut: str, cut_params: list) -> list[tuple]:
        return r.rows(
            "SELECT c.graph, c.titel, c.titel_taal, c.jaar, p.tekst, p.tekst_taal "
            f"FROM leerpunten p JOIN cases c ON c.graph = p.graph {where} {cut} AND c.titel IS NOT NULL "
            f"ORDER BY {_CASE_ORDER}, p.tekst LIMIT ?",
            [order, *params, *cut_params, r.wanted],
        )

    found = first("AND p.jaar >= ?", [bound]) if bound is not None else []
    if len(found) < r.wanted:
        found = first("", [])
    return [[_uri(g), _text(t, tl), _integer(j), _text(x, xl)] for g, t, tl, j, x, xl in found]


_ADULT_LAWS = tuple(_WET + w for w in ("wmo-2015", "zvw", "wlz", "participatiewet"))


def _transition_18(r: Reading) -> list[Row]:
    """15: cases with the Jeugdwet and one or more laws for adults, those laws' names joined."""
    labelled = [law for law in _ADULT_LAWS if r.labels(law)]  # `?wet skos:prefLabel ?wetNaam` drops the others
    if not labelled:
        return []
    years, params = _year_condition(r.years)
    found = r.rows(
        "SELECT c.graph, c.titel, c.titel_taal, c.jaar, c.status, c.wetten FROM cases c "
        # One list_contains per law: list_has_any was twice as slow at 1M cases.
        "WHERE list_contains(c.wetten, ?) AND ("
        + " OR ".join("list_contains(c.wetten, ?)" for _ in labelled)
        + f") AND c.titel IS NOT NULL {years} ORDER BY {_CASE_ORDER} LIMIT ?",
        [_WET + "jeugdwet", *labelled, *params, r.wanted],
    )
    return [
        [_uri(g), _text(t, lang), _integer(j), _plain(s), _concat(_law_names(r, laws), ordered=True)]
        for g, t, lang, j, s, laws in found
    ]


def _law_names(r: Reading, laws: list[str]) -> list[Cell]:
    """The names of those of `laws` (all of a case's laws) that the query's VALUES lists, in its order: the order
    Oxigraph joins them in."""
    return [name for law in _ADULT_LAWS if law in laws for name in r.labels(law)]


def _follow_up_name(r: Reading, status: str | None, is_iri: bool | None) -> str | None:
    """18's SAMPLE(STR(COALESCE(?statusLabel, ?status))): a status concept's label, else the value itself."""
    if status is None:
        return None
    names = [label[1] for label in r.labels(status)] if is_iri else []
    return names[0] if names else status


_POINT_COLUMNS = "p.leerorde, p.v, p.graph, p.id, p.leerpunt, p.tekst, p.tekst_taal, p.opvolgstatus, p.opvolgstatus_iri"


def _first_points(r: Reading, columns: str, extra: str = "", extra_params: tuple = ()) -> tuple[list[tuple], dict]:
    """18's rows: `columns` of its first `r.wanted` leerpunten in its order, and each (order, label value)'s label.

    `extra` joins more tables to those rows (after the cut, so only to the rows returned)."""
    orders = [(order, label) for order in _leerorden(r) for label in r.labels(order)]
    if not orders:
        return [], {}
    labels = {(o, label[1]): label for o, label in orders}
    table, order_params = _values([(o, label) for o, label in orders], with_json=True)
    years, params = _year_condition(r.years, "p.jaar")
    source = (
        f"FROM leerpunten p JOIN {table} ON v.k = p.leerorde WHERE p.tekst IS NOT NULL AND p.id IS NOT NULL {years}"
    )
    bound, bound_params = _bound(r, source, [*order_params, *params])

    def first(cut: str, cut_params: list) -> list[tuple]:
        inner = f"SELECT p.*, v.v, v.f {source} {cut} ORDER BY v.v, p.id, p.leerpunt LIMIT ?"
        return r.rows(
            f"SELECT {columns} FROM ({inner}) p {extra} ORDER BY p.v, p.id, p.leerpunt",
            [*order_params, *params, *cut_params, r.wanted, *extra_params],
        )

    found = first(bound, bound_params)
    if bound and len(found) < r.wanted:  # the bound kept too few rows (see _bound): sort them all
        found = first("", [])
    return found, labels


def _points_with_follow_up(r: Reading) -> list[Row]:
    """18: every leerpunt with its leerorde (and that order's label), case, text and follow-up."""
    found, labels = _first_points(r, _POINT_COLUMNS)
    follow_up: dict[tuple, Cell | None] = {}
    for *_, status, is_iri in found:
        if (status, is_iri) not in follow_up:
            follow_up[(status, is_iri)] = _plain(_follow_up_name(r, status, is_iri))
    return [
        [
            _uri(order),
            labels[(order, label)],
            _uri(g),
            _plain(ident),
            _uri(point),
            _text(text, language),
            follow_up[(status, is_iri)],
        ]
        for order, label, g, ident, point, text, language, status, is_iri in found
    ]


def _points_json(r: Reading) -> list[str]:
    """18's rows as SPARQL JSON binding objects, written by DuckDB (graph.sparql_eval.json_text checks them)."""
    statuses = r.rows("SELECT DISTINCT opvolgstatus FROM leerpunten WHERE opvolgstatus_iri", [])
    names = [(s, cell_json(_plain(_follow_up_name(r, s, True)))) for (s,) in statuses]  # type: ignore[arg-type]
    table, name_params = _values(names, alias="s")

    def literal(value: str, language: str = "NULL") -> str:
        lang = f"CASE WHEN {language} <> '' THEN ', \"xml:lang\": ' || to_json({language}) ELSE '' END || "
        return f"""'{{"type": "literal", "value": ' || to_json({value}) || {lang}'}}'"""

    def uri(value: str) -> str:
        return f"""'{{"type": "uri", "value": ' || to_json({value}) || '}}'"""

    follow_up = (
        """CASE WHEN p.opvolgstatus IS NULL THEN '' WHEN p.opvolgstatus_iri THEN ', "opvolging": ' || s.v """
        f"""ELSE ', "opvolging": ' || {literal("p.opvolgstatus")} END"""
    )
    binding = (
        f"""'{{"leerorde": ' || {uri("p.leerorde")} || ', "orde": ' || p.f || ', "casus": ' || {uri("p.graph")} || """
        f"""', "id": ' || {literal("p.id")} || ', "leerpunt": ' || {uri("p.leerpunt")} || """
        f"""', "tekst": ' || {literal("p.tekst", "p.tekst_taal")} || {follow_up} || '}}'"""
    )
    found, _ = _first_points(r, binding, f"LEFT JOIN {table} ON s.k = p.opvolgstatus", tuple(name_params))
    return [row[0] for row in found]


def _bound(r: Reading, source: str, params: list[Any]) -> tuple[str, list[Any]]:
    """A condition keeping query 18's first `r.wanted` rows in its order (label, id, leerpunt), and few others.

    Why: at 1M cases, sorting every leerpunt to return the first 10,001 took most of the query's time (DuckDB
    sorts in full when the limit is above 0.7 % of the rows). Instead: count the rows per label; the first
    labels whose rows all fit are kept whole; in the label where the cut falls, the rows up to the id below
    which about the rows still wanted lie (`_cut_id`). If at least the wanted rows pass, they are exactly the
    first ones: any row beyond the bound sorts after all of them. The caller checks that and sorts everything
    otherwise. No condition when all rows are wanted. When the cut falls in the first label the condition is
    a plain range on the id, which lets DuckDB skip the row groups whose ids all lie above it (an OR with the
    label would make it read them all: 165 against 32 ms at 1M).
    """
    kept = 0
    for label, n in r.rows(f"SELECT v.v, COUNT(*) {source} GROUP BY v.v ORDER BY v.v", params):
        if kept + n >= r.wanted:
            last_id = _cut_id(r, f"{source} AND v.v = ?", [*params, label], r.wanted - kept, n)
            if kept == 0:
                return " AND v.v = ? AND p.id <= ?", [label, last_id]
            return " AND (v.v < ? OR (v.v = ? AND p.id <= ?))", [label, label, last_id]
        kept += n
    return "", []


def _cut_id(r: Reading, source: str, params: list[Any], need: int, rows: int) -> str:
    """About the `need`-th smallest id of the `rows` rows of `source` (the caller checks that enough pass).

    A selection over all of them (`quantile_disc`) reads every row: 40-100 ms for a label at 1M cases. Cases
    are mostly imported in the order of their ids, so the largest id among the first rows stored (by rowid,
    which DuckDB reads without the rest) usually bounds the need-th smallest: if counting the rows up to it
    (again a range DuckDB can skip most of) finds enough, the selection runs over those few only. Otherwise
    (ids stored out of order) the window grows fourfold, and once it spans the table the selection reads all.
    """
    ((stored,),) = r.rows("SELECT COUNT(*) FROM leerpunten", [])
    window = 2 * need
    while window < stored:
        ((candidate,),) = r.rows(f"SELECT max(p.id) {source} AND p.rowid < ?", [*params, window])
        if candidate is not None:
            ((below,),) = r.rows(f"SELECT COUNT(*) {source} AND p.id <= ?", [*params, candidate])
            if below >= need:
                return _quantile_id(r, f"{source} AND p.id <= ?", [*params, candidate], need / below)
        window *= 4
    return _quantile_id(r, source, params, need / rows)


def _quantile_id(r: Reading, source: str, params: list[Any], share: float) -> str:
    ((found,),) = r.rows(f"SELECT quantile_disc(p.id, ?) {source}", [share, *params])
    return found


def _leerorden(r: Reading) -> list[str]:
    return [row[0] for row in r.rows("SELECT DISTINCT leerorde FROM leerpunten WHERE leerorde IS NOT NULL", [])]


def _status_labels(r: Reading, status: str | None, is_iri: bool | None) -> list[str]:
    """The labels query 19 and 20 reach by `mw:opvolgstatus/skos:prefLabel` (none for a plain value)."""
    return list(dict.fromkeys(label[1] for label in r.labels(status))) if status is not None and is_iri else []


def _names(r: Reading, organisation: str) -> list[str]:
    """STR(COALESCE(?label, ?organisatie)) for each label, or the IRI itself."""
    return list(dict.fromkeys(label[1] for label in r.labels(organisation))) or [organisation]


def _per_addressee(r: Reading) -> list[Row]:
    """19: leerpunten per addressed organisation and follow-up status label."""
    found = r.rows(
        "SELECT g.organisatie, p.opvolgstatus, p.opvolgstatus_iri, COUNT(DISTINCT g.leerpunt) FROM geadresseerden g "
        "JOIN leerpunten p ON p.graph = g.graph AND p.leerpunt = g.leerpunt GROUP BY ALL",
        [],
    )
    counts: dict[tuple[str, str, str], int] = {}
    for organisation, status, is_iri, n in found:
        # A leerpunt has at most one follow-up status (graph/case.py writes one), so summing is exact.
        for name in _names(r, organisation):
            for follow_up in _status_labels(r, status, is_iri) or [NOT_RECORDED]:
                key = (organisation, name, follow_up)
                counts[key] = counts.get(key, 0) + n
    ordered = sorted(counts.items(), key=lambda item: (item[0][1], item[0][2], item[0][0]))
    return [[_uri(org), _plain(name), _plain(follow_up), _integer(n)] for (org, name, follow_up), n in ordered][
        : r.wanted
    ]


_STILL_OPEN = ("open", "voorgelegd")


def _open_after_a_year(r: Reading) -> list[Row]:
    """20: leerpunten still open or laid before someone, a year after they were presented (or their case's year)."""
    statuses = r.rows("SELECT DISTINCT opvolgstatus FROM leerpunten WHERE opvolgstatus_iri", [])
    pairs = [(s, name) for (s,) in statuses for name in _status_labels(r, s, True) if name in _STILL_OPEN]
    if not pairs:
        return []
    now = dt.datetime.now(dt.UTC)  # NOW() in the query; its date part, a year back, as JJJJ-MM-DD
    year_ago = f"{now.year - 1}{now.isoformat()[4:10]}"
    table, status_params = _values(pairs)
    found = r.rows(
        "SELECT c.graph, c.titel, c.titel_taal, c.jaar, p.leerpunt, p.tekst, p.tekst_taal, v.v, p.voorgelegd_op, "
        "(SELECT list(g.organisatie) FROM geadresseerden g WHERE g.graph = p.graph AND g.leerpunt = p.leerpunt) "
        f"FROM leerpunten p JOIN cases c ON c.graph = p.graph JOIN {table} ON v.k = p.opvolgstatus "
        "WHERE p.opvolgstatus_iri AND p.tekst IS NOT NULL AND c.titel IS NOT NULL AND CASE "
        "WHEN p.voorgelegd_op IS NOT NULL THEN p.voorgelegd_op < ? ELSE c.jaar IS NOT NULL AND c.jaar < ? END "
        "ORDER BY p.voorgelegd_op NULLS FIRST, c.jaar NULLS FIRST, c.titel, p.leerpunt, v.v LIMIT ?",
        [*status_params, year_ago, now.year - 1, r.wanted],
    )
    return [
        [
            _uri(g),
            _text(t, tl),
            _integer(j),
            _uri(point),
            _text(x, xl),
            _plain(follow_up),
            None if presented is None else ("literal", presented, None, _XSD_DATE),
            _concat([("literal", name, None, None) for org in (addressees or []) for name in _names(r, org)]),
        ]
        for g, t, tl, j, point, x, xl, follow_up, presented, addressees in found
    ]


LAYER_QUERIES = (
    LayerQuery("02-wmo-en-zvw-samen", ("casus", "titel", "jaar", "status"),
               _cases_with_laws((_WET + "wmo-2015", _WET + "zvw")), limit=200),
    LayerQuery("10-leerpunten-3e-orde", ("casus", "titel", "jaar", "leerpunt"), _third_order_points, limit=200),
    LayerQuery("15-overgang-18-min-18-plus", ("casus", "titel", "jaar", "status", "volwassenenwetten"),
               _transition_18, limit=200),
    LayerQuery("18-leerpunten-met-opvolging", ("leerorde", "orde", "casus", "id", "leerpunt", "tekst", "opvolging"),
               _points_with_follow_up, json_rows=_points_json),
    LayerQuery("19-leerpunten-per-geadresseerde", ("organisatie", "naam", "opvolging", "leerpunten"),
               _per_addressee),
    LayerQuery("20-leerpunten-open-na-een-jaar",
               ("casus", "titel", "jaar", "leerpunt", "tekst", "opvolging", "voorgelegdOp", "geadresseerden"),
               _open_after_a_year),
)  # fmt: skip


# --- recognising the text ------------------------------------------------------------------------


_STRING = re.compile(r"""("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')""")
MAX_CHARS = 20_000  # far longer than any of these queries: longer texts are not even normalised


def normalised(text: str) -> str:
    """The query without comment lines and with each whitespace run outside string literals as one space."""
    lines = " ".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    parts = _STRING.split(lines)  # odd positions: the string literals, kept exactly
    return "".join(part if i % 2 else re.sub(r"\s+", " ", part) for i, part in enumerate(parts)).strip()


@functools.cache
def _patterns() -> tuple[tuple[re.Pattern[str], LayerQuery, tuple[bool, bool]], ...]:
    """Per layer query, one pattern for each year-filter shape: none, from, to, from and to."""
    from graph.charts import with_year_filter  # charts reads through graph.sparql, which imports this module

    found = []
    for query in LAYER_QUERIES:
        text = (QUERY_DIR / f"{query.id}.rq").read_text(encoding="utf-8")
        for has_from, has_to in ((False, False), (True, False), (False, True), (True, True)):
            filled = normalised(with_year_filter(text, _YEAR_FROM if has_from else None, _YEAR_TO if has_to else None))
            pattern = re.escape(filled).replace(str(_YEAR_FROM), r"(-?\d+)").replace(str(_YEAR_TO), r"(-?\d+)")
            found.append((re.compile(pattern), query, (has_from, has_to)))
    return tuple(found)


def recognise(text: str) -> tuple[LayerQuery, Years] | None:
    """The layer query `text` is, and its year range; None for any other text."""
    if len(text) > MAX_CHARS:
        return None
    flat = normalised(text)
    for pattern, query, (has_from, has_to) in _patterns():
        match = pattern.fullmatch(flat)
        if match:
            numbers = iter(int(g) for g in match.groups())
            return query, (next(numbers) if has_from else None, next(numbers) if has_to else None)
    return None


def answer(kg, text: str, limit: int, as_json: bool = False) -> LayerAnswer | None:
    """The rows of `text` from the analytics layer, or None: not one of these queries, or no layer in step.

    `as_json`: as SPARQL JSON binding objects (`json_rows`) if the query can write them."""
    known = recognise(text)
    analytics = getattr(kg, "analytics", None)
    if known is None or analytics is None:
        return None
    query, years = known
    wanted = limit + 1 if query.limit is None else min(query.limit, limit + 1)
    db = analytics.reader()
    try:
        db.execute("BEGIN TRANSACTION")  # one snapshot for the revision and the rows
        stamp = db.execute("SELECT value FROM meta WHERE key = 'revision'").fetchone()
        revision = kg.revision()
        if stamp is None or stamp[0] != revision:
            return None
        reading = Reading(db, kg.store, years, wanted)
        if as_json and query.json_rows is not None:
            written = query.json_rows(reading)
            return LayerAnswer(list(query.variables), [], len(written) > limit, revision, written[:limit])
        rows = query.rows(reading)
        db.execute("ROLLBACK")
    finally:
        db.close()
    return LayerAnswer(list(query.variables), rows[:limit], len(rows) > limit, revision)
