"""The analytics layer: per-case facts in DuckDB, aggregate counts, and those counts as a Data Cube graph.

Why: Oxigraph answers an aggregate over every case with index nested-loop joins that
start from each case, so the Systeemleren charts and the example queries grow linearly
with the number of cases (seconds at 100k). Counts kept at commit time answer the same
questions in milliseconds whatever the number of cases.

Three parts, all derived from the case graphs and all stamped with the graph revision
they reflect (`KnowledgeGraph.commit` keeps them in step, see graph/store.py):

- DuckDB (`store/analytics-v4.duckdb`), columnar, one row per case (`cases`), per case link
  (`links`: wet, artikel, voorziening, organisatie, levensgebied, knelpunttype), per
  knelpunt (`knelpunten`) and per leerpunt (`leerpunten`); and the number of quads of every
  named graph the commits write (`graphs`), so that /health's counts of cases and triples
  cost a lookup instead of a scan of the store (10 s at 1M cases). Embedded, transactional
  and fast at the group-by queries over millions of rows that the counts need.
- `counts`: for each cube (`CUBES`: a dimension or a pair of them) and year, the number of
  distinct cases (and leerpunten). A commit subtracts the old rows of the case graphs it
  touches and adds their new rows, in one DuckDB transaction with the revision stamp.
- The named graph `GRAPH_CUBE`: the counts as W3C Data Cube `qb:Observation`s, so the
  SPARQL endpoint, the example queries and the charts read them with plain SPARQL.

Every count is COUNT(DISTINCT case) within one case graph summed over case graphs,
which is exact because each case lives in its own graph.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyoxigraph as ox

from ontology import GRAPH_META, ID, term
from ontology.vocabulary import CASE_LINKS

if TYPE_CHECKING:
    import duckdb

KUBUS = "https://w3id.org/maatwerk/def/kubus#"
QB = "http://purl.org/linked-data/cube#"
GRAPH_CUBE = ID + "graph/kubus"
_CHUNK = 20_000  # case graphs read and inserted at a time
# Graphs whose size `graphs` does not keep: written outside a commit's touched graphs (the kubus by `publish`,
# the bookkeeping graph by every commit), so a stored size would go stale. Both are small: counted when asked.
UNTRACKED = frozenset({GRAPH_CUBE, GRAPH_META})
NO_YEAR = 0  # the key for cases without a year (a primary key cannot hold NULL); never published

_RDF_TYPE = term("rdf:type")
_CASUS = term("mw:Casus")
_LINK_KIND = {term(k.predicate): k.kind for k in CASE_LINKS if k.predicate}
_P = {
    name: term(name)
    for name in ("dcterms:identifier", "dcterms:title", "mw:jaar", "mw:status", "mw:knelpunt", "mw:leerpunt")
}
_KNELPUNTTYPE = term("mw:knelpuntType")
_LEERORDE = term("mw:leerorde")
# Per leerpunt: what the leerpunten example queries (18-20) read, besides its leerorde.
_POINT = {
    term("dcterms:description"): "tekst",
    term("mw:opvolgstatus"): "opvolgstatus",
    term("mw:voorgelegdOp"): "voorgelegd_op",
}
_ADDRESSEE = term("mw:geadresseerde")


@dataclass(frozen=True)
class Cube:
    """One set of counts: cases (and leerpunten) per value of `a` (and `b`) per year."""

    id: str
    a: str  # SQL expression over the facts of one case
    source: str  # SQL FROM clause; `c` is the cases table
    b: str = "''"
    leerpunten: bool = False

    @property
    def dataset(self) -> str:
        return f"{ID}kubus/{self.id}"


def _link(kind: str, alias: str = "l") -> str:
    return f"JOIN links {alias} ON {alias}.graph = c.graph AND {alias}.kind = '{kind}'"


CUBES: tuple[Cube, ...] = (
    *(Cube(kind, "l.concept", _link(kind)) for kind in (*_LINK_KIND.values(), "knelpunttype")),
    Cube("status", "COALESCE(c.status, 'onbekend')", ""),
    Cube("leerorde", "p.leerorde", "JOIN leerpunten p ON p.graph = c.graph", leerpunten=True),
    Cube("wet-knelpunttype", "l.concept", _link("wet") + " " + _link("knelpunttype", "k"), b="k.concept"),
    Cube(
        "levensgebied-organisatie", "l.concept", _link("levensgebied") + " " + _link("organisatie", "k"), b="k.concept"
    ),
    Cube("wet-wet", "l.concept", _link("wet") + " " + _link("wet", "k") + " AND l.concept < k.concept", b="k.concept"),
    Cube(
        "levensgebied-levensgebied",
        "l.concept",
        _link("levensgebied") + " " + _link("levensgebied", "k") + " AND l.concept < k.concept",
        b="k.concept",
    ),
    Cube("knelpunttype-status", "l.concept", _link("knelpunttype"), b="COALESCE(c.status, 'onbekend')"),
)
BY_ID = {cube.id: cube for cube in CUBES}

# What each cube's `a` and `b` are, as Data Cube dimension properties (kubus:wet, ...).
_DIMENSIONS = {cube.id: tuple(cube.id.split("-")) if "-" in cube.id else (cube.id,) for cube in CUBES}
# A pair of the same kind names its second dimension apart.
_DIMENSIONS["wet-wet"] = ("wet", "andereWet")
_DIMENSIONS["levensgebied-levensgebied"] = ("levensgebied", "anderLevensgebied")
_LITERAL_DIMENSIONS = {"status"}  # values that are strings, not IRIs

# The file name carries the schema version: a store whose layer has an older schema finds no file
# under this name on open and upgrades the old one (`upgrade`: v2 and v3) or rebuilds the layer from the graph
# (graph/store.py), then drops the old one.
FILE = "analytics-v4.duckdb"
OLD_FILES = ("analytics.duckdb", "analytics-v2.duckdb", "analytics-v3.duckdb")
# Two kinds of columns repeat facts kept elsewhere, so that the example list queries (graph/sparql_layer.py) read
# one table instead of joining millions of rows on IRIs (at 1M cases a join of `links` took most of their time):
# `cases.wetten`, the case's laws (sorted), and the case's `id` and `jaar` on each of its leerpunten. They are
# written with the rest of the case's rows and deleted with them, so a replaced case leaves none behind.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS cases (graph TEXT PRIMARY KEY, titel TEXT, jaar INTEGER, status TEXT,
                                  id TEXT, titel_taal TEXT, wetten TEXT[]);
CREATE TABLE IF NOT EXISTS links (graph TEXT, kind TEXT, concept TEXT);
CREATE TABLE IF NOT EXISTS knelpunten (graph TEXT, knelpunt TEXT, knelpunttype TEXT);
CREATE TABLE IF NOT EXISTS leerpunten (graph TEXT, leerpunt TEXT, leerorde TEXT, tekst TEXT, tekst_taal TEXT,
                                       opvolgstatus TEXT, opvolgstatus_iri BOOLEAN, voorgelegd_op TEXT,
                                       id TEXT, jaar INTEGER);
CREATE TABLE IF NOT EXISTS geadresseerden (graph TEXT, leerpunt TEXT, organisatie TEXT);
CREATE TABLE IF NOT EXISTS graphs (graph TEXT PRIMARY KEY, quads BIGINT);
CREATE TABLE IF NOT EXISTS counts (cube TEXT, a TEXT, b TEXT, jaar INTEGER, casussen BIGINT, leerpunten BIGINT,
                                   PRIMARY KEY (cube, a, b, jaar));
"""
# `graphs` is kept like the case facts (replaced for the graphs a commit touches), though it has a row for every
# named graph outside UNTRACKED that holds quads, case or not (ontology, reference data, contacts, ...).
FACT_TABLES = ("cases", "links", "knelpunten", "leerpunten", "geadresseerden", "graphs")
Key = tuple[str, str, str, int]


class Analytics:
    """The DuckDB side: facts and counts, in one file (or in memory)."""

    def __init__(self, path: Path | None):
        self.path = path
        self._db: duckdb.DuckDBPyConnection | None = None
        self._readers: duckdb.DuckDBPyConnection | None = None  # the connection readers' cursors come from
        self._connecting = threading.Lock()

    @property
    def db(self) -> duckdb.DuckDBPyConnection:
        return self._connect()

    def _connect(self) -> duckdb.DuckDBPyConnection:
        """Connected on first use: importing DuckDB costs start-up time that a read-only command need not pay."""
        with self._connecting:
            if self._db is None:
                import duckdb

                self._db = duckdb.connect(str(self.path) if self.path else ":memory:", config=_CONFIG)
                self._db.execute(_SCHEMA)
                self._readers = self._db.cursor()  # made before any commit can be writing through `_db`
            return self._db

    def reader(self) -> duckdb.DuckDBPyConnection:
        """A connection of its own for one reading thread (a DuckDB connection is not shared between threads);
        it sees committed transactions only, so never a commit's half-done update. Made from a connection that
        only readers use, under a lock, so it never touches the one a commit is writing through."""
        self._connect()  # makes `_readers` on first use
        with self._connecting:
            assert self._readers is not None, "made with the connection"
            return self._readers.cursor()

    def revision(self) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'revision'").fetchone()
        return row[0] if row else None

    def totals(self, revision: str) -> tuple[int, int] | None:
        """(cases, quads in the tracked graphs) if the layer reflects `revision`, else None (it is behind)."""
        db = self.reader()
        try:
            db.execute("BEGIN TRANSACTION")  # one snapshot for the stamp and the sums
            stamp = db.execute("SELECT value FROM meta WHERE key = 'revision'").fetchone()
            if stamp is None or stamp[0] != revision:
                return None
            row = db.execute(
                "SELECT (SELECT COUNT(*) FROM cases), (SELECT COALESCE(SUM(quads), 0) FROM graphs)"
            ).fetchone()
            assert row is not None, "an aggregate always gives a row"
            return int(row[0]), int(row[1])
        finally:
            db.close()

    def update(self, store: ox.Store, graphs: Iterable[str], revision: str | None) -> list[Key]:
        """Replace the facts of `graphs` by what the store holds now; returns the count keys that changed."""
        graphs = sorted(set(graphs) - UNTRACKED)
        db = self.db
        db.execute("BEGIN TRANSACTION")
        try:
            db.execute("CREATE OR REPLACE TEMP TABLE touched (graph TEXT)")
            db.register("touched_graphs", {"graph": np.array(graphs, dtype=object)})
            db.execute("INSERT INTO touched SELECT graph FROM touched_graphs")
            db.unregister("touched_graphs")
            db.execute("CREATE OR REPLACE TEMP TABLE delta AS " + _contributions("-1", "touched"))
            for table in FACT_TABLES:
                db.execute(f"DELETE FROM {table} WHERE graph IN (SELECT graph FROM touched)")
            _load_facts(db, store, graphs)
            db.execute("INSERT INTO delta " + _contributions("1", "touched"))
            changed = _merge_delta(db)
            _stamp(db, revision)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return changed

    def rebuild(self, store: ox.Store, revision: str | None) -> None:
        """Everything from the graph, in one transaction (recovery, or a store from before this layer)."""
        db = self.db
        db.execute("BEGIN TRANSACTION")
        try:
            for table in (*FACT_TABLES, "counts"):
                db.execute(f"DELETE FROM {table}")
            _load_facts(db, store, tracked_graphs(store))
            db.execute("INSERT INTO counts " + _contributions("1", None))
            _stamp(db, revision)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def counts(self, keys: list[Key] | None = None) -> dict[Key, tuple[int, int]]:
        """Every count (or those of `keys`), as {(cube, a, b, jaar): (casussen, leerpunten)}."""
        rows = self.db.execute("SELECT cube, a, b, jaar, casussen, leerpunten FROM counts").fetchall()
        wanted = set(keys) if keys is not None else None
        return {
            (r[0], r[1], r[2], r[3]): (r[4], r[5]) for r in rows if wanted is None or (r[0], r[1], r[2], r[3]) in wanted
        }

    def facts(self) -> dict[str, list[tuple]]:
        """All fact rows, sorted (for comparing with a recomputation)."""
        return {t: sorted(self.db.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in FACT_TABLES}

    def close(self) -> None:
        if self._readers is not None:
            self._readers.close()
        if self._db is not None:
            self._db.close()


def upgrade(folder: Path, store: ox.Store) -> bool:
    """Carry a layer of an earlier schema (v2 or v3) in `folder` over to this one; False if there is none.

    v3 added columns that repeat facts v2 holds (a case's laws; its id and year on its leerpunten), made in SQL;
    v4 added `graphs`, the size of each graph, counted once from the store in one SPARQL group-by (4 s at 100k
    cases, 49 s at 1M), where a rebuild from the graph takes minutes (about 10 at 1M cases). Written
    under a temporary name and renamed when complete, so a kill leaves either no new file (and a rebuild or
    another upgrade follows) or a whole one. The revision stamp comes along: the store's checks treat the result
    as they would the old layer (in step: the sizes, counted from the same store, are too; else rebuilt).
    """
    new = folder / FILE
    old = next((folder / name for name in reversed(OLD_FILES[1:]) if (folder / name).exists()), None)
    if old is None or new.exists():
        return False
    temp = folder / (FILE + ".upgrade")
    temp.unlink(missing_ok=True)
    layer = Analytics(temp)
    try:
        db = layer.db
        db.execute(f"ATTACH '{old}' AS old (READ_ONLY)")
        db.execute("BEGIN TRANSACTION")
        if old.name == OLD_FILES[1]:  # v2: make the columns v3 added
            db.execute(
                "INSERT INTO cases SELECT c.*, COALESCE(w.wetten, []) FROM old.cases c LEFT JOIN (SELECT graph, "
                "list(concept ORDER BY concept) AS wetten FROM old.links WHERE kind = 'wet' GROUP BY graph) w "
                "USING (graph)"
            )
            db.execute(
                "INSERT INTO leerpunten SELECT p.*, c.id, c.jaar FROM old.leerpunten p JOIN old.cases c USING (graph)"
            )
        else:
            for table in ("cases", "leerpunten"):
                db.execute(f"INSERT INTO {table} SELECT * FROM old.{table}")
        for table in ("meta", "links", "knelpunten", "geadresseerden", "counts"):
            db.execute(f"INSERT INTO {table} SELECT * FROM old.{table}")
        _insert_facts(db, Facts([], [], [], [], [], graph_sizes(store)))
        db.execute("COMMIT")
        db.execute("DETACH old")
    finally:
        layer.close()
    temp.rename(new)
    return True


def graph_sizes(store: ox.Store) -> list[tuple[str, int]]:
    """(graph, quads) of every tracked graph that holds quads, in one pass over the store."""
    rows = store.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    assert isinstance(rows, ox.QuerySolutions), "a SELECT gives solutions"
    sizes = ((_value(row["g"]), int(_value(row["n"]))) for row in rows)
    return sorted((graph, n) for graph, n in sizes if graph not in UNTRACKED)


# --- facts from the graph --------------------------------------------------------------------


# DuckDB takes up to 80 % of RAM by default: the update after a first import of 1M cases grew the
# importing process from 4.6 to 8.6 GB. Bounded, it spills to `<file>.tmp` instead.
_CONFIG: dict[str, str | bool | int | float | list[str]] = {"memory_limit": "1GB"}


def tracked_graphs(store: ox.Store) -> list[str]:
    """Every named graph whose facts and size the layer keeps: all but UNTRACKED (a graph without a case gives
    only its size)."""
    return sorted(name for graph in store.named_graphs() if (name := _value(graph)) not in UNTRACKED)


def untracked_quads(store: ox.Store) -> int:
    """The quads outside the tracked graphs: UNTRACKED's and the default graph's (which none of ours writes).
    About 18,000 at 100k cases (the kubus has one observation per count): counted in Oxigraph, 15-45 ms (in
    Python, iterating the quads, 180 ms)."""
    graphs = " ".join(f"<{graph}>" for graph in sorted(UNTRACKED))
    in_graphs = f"{{ VALUES ?g {{ {graphs} }} GRAPH ?g {{ ?s ?p ?o }} }}"
    rows = store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {in_graphs} UNION {{ ?s ?p ?o }} }}")  # default graph
    assert isinstance(rows, ox.QuerySolutions), "a SELECT gives solutions"
    return int(_value(next(rows)["n"]))


@dataclass
class Facts:
    cases: list[tuple]
    links: list[tuple]
    knelpunten: list[tuple]
    leerpunten: list[tuple]
    geadresseerden: list[tuple]
    graphs: list[tuple]


def extract_facts(store: ox.Store, graphs: Iterable[str]) -> Facts:
    """The fact rows of the cases in `graphs` (graphs without a case give none), read straight from the quads."""
    facts = Facts([], [], [], [], [], [])
    for graph in graphs:
        _case_facts(store, graph, facts)
    return facts


def _case_facts(store: ox.Store, graph: str, facts: Facts) -> None:
    quads = list(store.quads_for_pattern(None, None, None, ox.NamedNode(graph)))
    if quads:  # a dropped graph has no row, as it has no quads
        facts.graphs.append((graph, len(quads)))
    case = graph
    if not any(
        _value(q.subject) == case and _value(q.predicate) == _RDF_TYPE and _value(q.object) == _CASUS for q in quads
    ):
        return
    single: dict[str, Any] = {}
    node_kind: dict[str, str] = {}  # knelpunt/leerpunt node -> "knelpunt" | "leerpunt"
    node_value: dict[str, str] = {}
    point: dict[str, dict[str, Any]] = {}  # leerpunt node -> its _POINT values (terms)
    addressees: set[tuple[str, str]] = set()
    links: set[tuple[str, str]] = set()
    for q in quads:
        p, o, s = _value(q.predicate), _value(q.object), _value(q.subject)
        if s == case:
            if p in _LINK_KIND:
                links.add((_LINK_KIND[p], o))
            elif p == _P["mw:knelpunt"]:
                node_kind[o] = "knelpunt"
            elif p == _P["mw:leerpunt"]:
                node_kind[o] = "leerpunt"
            elif p in (_P["dcterms:title"], _P["mw:status"], _P["mw:jaar"], _P["dcterms:identifier"]):
                single[p] = q.object
        elif p in (_KNELPUNTTYPE, _LEERORDE):
            node_value[s] = o
        elif p in _POINT:
            point.setdefault(s, {})[_POINT[p]] = q.object
        elif p == _ADDRESSEE:
            addressees.add((s, o))
    title, year = single.get(_P["dcterms:title"]), single.get(_P["mw:jaar"])
    number, identifier = int(year.value) if year else None, _lexical(single.get(_P["dcterms:identifier"]))
    laws = sorted(concept for kind, concept in links if kind == "wet")
    facts.cases.append(
        (graph, _lexical(title), number, _lexical(single.get(_P["mw:status"])), identifier, _language(title), laws)
    )
    for node, kind in node_kind.items():
        value = node_value.get(node)
        if kind == "knelpunt":
            facts.knelpunten.append((graph, node, value))
            if value:
                links.add(("knelpunttype", value))
        else:
            values = point.get(node, {})
            status = values.get("opvolgstatus")
            facts.leerpunten.append(
                (
                    graph,
                    node,
                    value,
                    _lexical(values.get("tekst")),
                    _language(values.get("tekst")),
                    _lexical(status),
                    None if status is None else isinstance(status, ox.NamedNode),
                    _lexical(values.get("voorgelegd_op")),
                    identifier,
                    number,
                )
            )
    facts.links.extend((graph, kind, concept) for kind, concept in sorted(links))
    facts.geadresseerden.extend(
        (graph, node, org) for node, org in sorted(addressees) if node_kind.get(node) == "leerpunt"
    )


def _lexical(node: Any) -> str | None:
    return None if node is None else node.value


def _language(node: Any) -> str | None:
    return getattr(node, "language", None) if node is not None else None


def _load_facts(db: duckdb.DuckDBPyConnection, store: ox.Store, graphs: list[str]) -> None:
    """The facts of `graphs` into the tables, a chunk at a time (a million cases' rows would not fit in memory)."""
    for start in range(0, len(graphs), _CHUNK):
        _insert_facts(db, extract_facts(store, graphs[start : start + _CHUNK]))


def _value(node: Any) -> str:
    """The IRI or lexical form of a term (our case graphs hold no RDF-star triples)."""
    return node.value


def _insert_facts(db: duckdb.DuckDBPyConnection, facts: Facts) -> None:
    """Bulk insert through DuckDB's scan of NumPy columns (executemany is row by row: minutes at 1M)."""
    for table in FACT_TABLES:
        rows = getattr(facts, table)
        if rows:
            # fromiter: np.array would make a 2-D array of a list column whose lists have one length
            columns = {
                f"c{i}": np.fromiter(column, dtype=object, count=len(rows))
                for i, column in enumerate(zip(*rows, strict=True))
            }
            db.register("new_rows", columns)
            try:
                db.execute(f"INSERT INTO {table} SELECT * FROM new_rows")
            finally:
                db.unregister("new_rows")


# --- counts ----------------------------------------------------------------------------------


def _contributions(sign: str, only: str | None) -> str:
    """SELECT of every cube's counts (times `sign`) over all cases, or only those whose graph is in table `only`."""
    where = f"WHERE c.graph IN (SELECT graph FROM {only})" if only else ""
    parts = []
    for cube in CUBES:
        leerpunten = "COUNT(DISTINCT p.leerpunt)" if cube.leerpunten else "0"
        parts.append(
            f"SELECT '{cube.id}' AS cube, {cube.a} AS a, {cube.b} AS b, COALESCE(c.jaar, {NO_YEAR}) AS jaar, "
            f"{sign} * COUNT(DISTINCT c.graph) AS casussen, {sign} * {leerpunten} AS leerpunten "
            f"FROM cases c {cube.source} {where} GROUP BY ALL HAVING a IS NOT NULL"
        )
    return " UNION ALL ".join(parts)


def _merge_delta(db: duckdb.DuckDBPyConnection) -> list[Key]:
    db.execute(
        "CREATE OR REPLACE TEMP TABLE net AS SELECT cube, a, b, jaar, SUM(casussen) AS casussen, "
        "SUM(leerpunten) AS leerpunten FROM delta GROUP BY ALL HAVING SUM(casussen) <> 0 OR SUM(leerpunten) <> 0"
    )
    db.execute(
        "INSERT INTO counts SELECT * FROM net ON CONFLICT DO UPDATE SET "
        "casussen = counts.casussen + EXCLUDED.casussen, leerpunten = counts.leerpunten + EXCLUDED.leerpunten"
    )
    db.execute("DELETE FROM counts WHERE casussen = 0 AND leerpunten = 0")
    return [(r[0], r[1], r[2], r[3]) for r in db.execute("SELECT cube, a, b, jaar FROM net").fetchall()]


def _stamp(db: duckdb.DuckDBPyConnection, revision: str | None) -> None:
    db.execute("INSERT OR REPLACE INTO meta VALUES ('revision', ?)", [revision])


def recompute(store: ox.Store) -> Analytics:
    """A fresh in-memory copy built from the graph alone (for `check-analytics` and the tests)."""
    fresh = Analytics(None)
    fresh.rebuild(store, None)
    return fresh


# --- the Data Cube graph ---------------------------------------------------------------------


def observation_iri(key: Key) -> str:
    return f"{ID}kubus/obs/{hashlib.sha1('|'.join(map(str, key)).encode()).hexdigest()[:20]}"


def observation_quads(key: Key, casussen: int, leerpunten: int) -> list[ox.Quad]:
    """One qb:Observation: its cube, its dimension values, the year and the measures."""
    cube_id, a, b, jaar = key
    graph = ox.NamedNode(GRAPH_CUBE)
    obs = ox.NamedNode(observation_iri(key))

    def quad(p: str, o: ox.NamedNode | ox.Literal) -> ox.Quad:
        return ox.Quad(obs, ox.NamedNode(p), o, graph)

    quads = [
        quad(_RDF_TYPE, ox.NamedNode(QB + "Observation")),
        quad(QB + "dataSet", ox.NamedNode(BY_ID[cube_id].dataset)),
        quad(KUBUS + "casussen", ox.Literal(str(casussen), datatype=ox.NamedNode(term("xsd:integer")))),
    ]
    for name, value in zip(_DIMENSIONS[cube_id], (a, b), strict=False):  # b only in pair cubes
        literal = name in _LITERAL_DIMENSIONS
        quads.append(quad(KUBUS + name, ox.Literal(value) if literal else ox.NamedNode(value)))
    if BY_ID[cube_id].leerpunten:
        quads.append(
            quad(KUBUS + "leerpunten", ox.Literal(str(leerpunten), datatype=ox.NamedNode(term("xsd:integer"))))
        )
    if jaar != NO_YEAR:
        quads.append(quad(KUBUS + "jaar", ox.Literal(str(jaar), datatype=ox.NamedNode(term("xsd:integer")))))
    return quads


def publish(store: ox.Store, analytics: Analytics, changed: list[Key] | None, stamp: ox.Quad) -> None:
    """Bring the cube graph to the counts: only the `changed` observations, or all of them (None).

    `stamp` (the store's bookkeeping quad saying which revision the cube reflects, kept
    outside the cube so that a commit that changes no count leaves the cube graph as it
    was) replaces any earlier quad with its subject, predicate and graph. One SPARQL
    Update, which Oxigraph runs as one transaction: readers see the old or the new cube.
    """
    graph = f"<{GRAPH_CUBE}>"
    if changed is None:
        delete = f"DROP SILENT GRAPH {graph} ;\n"
    else:
        values = " ".join(f"<{observation_iri(k)}>" for k in changed)
        delete = (
            f"DELETE {{ GRAPH {graph} {{ ?o ?p ?v }} }} "
            f"WHERE {{ VALUES ?o {{ {values} }} GRAPH {graph} {{ ?o ?p ?v }} }} ;\n"
        )
    stamp_graph, subject, predicate = (_value(t) for t in (stamp.graph_name, stamp.subject, stamp.predicate))
    delete += f"DELETE WHERE {{ GRAPH <{stamp_graph}> {{ <{subject}> <{predicate}> ?r }} }} ;\n"
    quads = [q for key, (n, m) in analytics.counts(changed).items() for q in observation_quads(key, n, m)]
    store.update(delete + _insert_data(quads) + " ;\n" + _insert_data([stamp]))


def _insert_data(quads: list[ox.Quad]) -> str:
    """INSERT DATA for quads that all share one graph."""
    if not quads:
        return "INSERT DATA { }"
    triples = ox.serialize((ox.Triple(q.subject, q.predicate, q.object) for q in quads), format=ox.RdfFormat.N_TRIPLES)
    return f"INSERT DATA {{ GRAPH <{_value(quads[0].graph_name)}> {{ {(triples or b'').decode()} }} }}"


def cases_per_concept_query(kind: str) -> str:
    """SPARQL for ?o (a concept of a link `kind`: wet, organisatie, ...) and ?n, its number of cases."""
    return f"""SELECT ?o (SUM(?k) AS ?n) WHERE {{ GRAPH <{GRAPH_CUBE}> {{
        ?obs <{QB}dataSet> <{BY_ID[kind].dataset}> ; <{KUBUS}{kind}> ?o ; <{KUBUS}casussen> ?k }} }} GROUP BY ?o"""


def year_range_query() -> str:
    """SPARQL for ?min and ?max, the first and last year of any case."""
    return f"""SELECT (MIN(?j) AS ?min) (MAX(?j) AS ?max) WHERE {{ GRAPH <{GRAPH_CUBE}> {{
        ?obs <{QB}dataSet> <{BY_ID["status"].dataset}> ; <{KUBUS}jaar> ?j }} }}"""


# --- checking ----------------------------------------------------------------------------------


def differences(
    store: ox.Store, analytics: Analytics, graph_revision: str | None, cube_revision: str | None
) -> list[str]:
    """What differs between the layer and a recomputation from the graph (empty: consistent)."""
    found = []
    for name, stamp in (("DuckDB", analytics.revision()), ("kubusgraaf", cube_revision)):
        if stamp != graph_revision:
            found.append(f"{name} staat op revisie {stamp}, de graaf op {graph_revision}")
    fresh = recompute(store)
    try:
        kept, expected = analytics.facts(), fresh.facts()
        for table in FACT_TABLES:
            if kept[table] != expected[table]:
                found.append(f"tabel {table}: {_diff(kept[table], expected[table])}")
        counts, expected_counts = analytics.counts(), fresh.counts()
        if counts != expected_counts:
            found.append(f"tellingen: {_diff(list(counts.items()), list(expected_counts.items()))}")
        cube = store.quads_for_pattern(None, None, None, ox.NamedNode(GRAPH_CUBE))
        published = set(cube)
        wanted = {q for key, (n, m) in expected_counts.items() for q in observation_quads(key, n, m)}
        if published != wanted:
            found.append(f"kubusgraaf: {len(published - wanted)} triples te veel, {len(wanted - published)} te weinig")
    finally:
        fresh.close()
    return found


def _diff(kept: list, expected: list) -> str:
    # Compared by repr: a row may hold a list (`cases.wetten`), which a set cannot.
    kept_rows, expected_rows = {repr(r): r for r in kept}, {repr(r): r for r in expected}
    extra = [r for key, r in kept_rows.items() if key not in expected_rows]
    missing = [r for key, r in expected_rows.items() if key not in kept_rows]
    example = next(iter(extra or missing), None)
    return f"{len(extra)} rijen te veel, {len(missing)} te weinig (bijvoorbeeld {example})"
