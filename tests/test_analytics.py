"""The analytics layer (graph/analytics.py): counts and the kubus graph equal a recomputation from the graph,
and every example query gives the same rows as its plain version over the case graphs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pyoxigraph as ox
import pytest

from api.ui.sparql import QUERY_DIR
from graph.analytics import GRAPH_CUBE, KUBUS
from graph.charts import CHARTS, with_year_filter
from graph.store import ANALYTICS_FILE, KnowledgeGraph
from ingest.generate import write
from tests.conftest import SMALL_CASES, open_core

MAATWERK = Path(sys.executable).with_name("maatwerk")
YEAR_RANGES = ((None, None), (2019, 2021), (2022, None))


def status_counts(kg: KnowledgeGraph) -> dict[str, int]:
    """Cases per status read from the kubus graph (the numbers query 09 and the year chart show)."""
    rows = kg.select(
        f"SELECT ?s (SUM(?n) AS ?c) WHERE {{ GRAPH <{GRAPH_CUBE}> {{ ?o <{KUBUS}status> ?s ; <{KUBUS}casussen> ?n ; "
        "<http://purl.org/linked-data/cube#dataSet> <https://w3id.org/maatwerk/id/kubus/status> } } GROUP BY ?s"
    )
    return {r["s"]: r["c"] for r in rows}


def revised(records: list[dict]) -> list[dict]:
    """The same cases with other laws, status and year: a re-import must subtract what they were."""
    return [{**r, "laws": ["Participatiewet"], "status": "niet opgelost", "year": 2011} for r in records]


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    return path


def test_imports_and_reimports_keep_the_counts_equal_to_a_recomputation(empty_core, tmp_path):
    kg = empty_core.kg
    assert kg.check_analytics() == []
    empty_core.import_file(SMALL_CASES)
    assert kg.check_analytics() == []
    before = status_counts(kg)
    records = [json.loads(line) for line in SMALL_CASES.read_text().splitlines()]
    empty_core.import_file(write_jsonl(tmp_path / "revised.jsonl", revised(records[:3])))
    assert kg.check_analytics() == []
    after = status_counts(kg)
    assert sum(after.values()) == sum(before.values()), "a re-import added its cases twice"
    moved = sum(r.get("status") != "niet opgelost" for r in records[:3])
    assert after["niet opgelost"] == before.get("niet opgelost", 0) + moved
    rows = kg.select(
        f"SELECT ?n WHERE {{ GRAPH <{GRAPH_CUBE}> {{ "
        f"?o <{KUBUS}wet> <https://w3id.org/maatwerk/id/wet/participatiewet> ; "
        f"<{KUBUS}jaar> 2011 ; <{KUBUS}casussen> ?n ;"
        " <http://purl.org/linked-data/cube#dataSet> <https://w3id.org/maatwerk/id/kubus/wet> } }"
    )
    assert rows == [{"n": 3}]


def test_check_analytics_finds_a_tampered_count_and_a_tampered_cube(small_dir, tmp_path):
    data_dir = tmp_path / "data"
    shutil.copytree(small_dir, data_dir)
    assert subprocess.run([MAATWERK, "check-analytics", "--data-dir", data_dir], capture_output=True).returncode == 0

    db = duckdb.connect(str(data_dir / "store" / ANALYTICS_FILE))
    db.execute("UPDATE counts SET casussen = casussen + 1 WHERE cube = 'wet' AND a LIKE '%wmo-2015'")
    db.close()
    done = subprocess.run([MAATWERK, "check-analytics", "--data-dir", data_dir], capture_output=True, text=True)
    assert done.returncode == 1 and "tellingen" in done.stderr, done.stderr

    db = duckdb.connect(str(data_dir / "store" / ANALYTICS_FILE))
    db.execute("UPDATE counts SET casussen = casussen - 1 WHERE cube = 'wet' AND a LIKE '%wmo-2015'")
    db.close()
    kg = KnowledgeGraph(data_dir / "store")
    assert kg.check_analytics() == []
    quad = next(kg.store.quads_for_pattern(None, ox.NamedNode(KUBUS + "casussen"), None, ox.NamedNode(GRAPH_CUBE)))
    kg.store.remove(quad)
    found = kg.check_analytics()
    kg.close()
    assert any("kubusgraaf" in f for f in found), found


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE cases SET wetten = list_filter(wetten, lambda w: w NOT LIKE '%wmo-2015') WHERE list_contains(wetten, "
        "'https://w3id.org/maatwerk/id/wet/wmo-2015')",
        "UPDATE leerpunten SET jaar = jaar + 1",
    ],
)
def test_check_analytics_compares_the_copied_columns_too(small_dir, tmp_path, tamper):
    """The columns that repeat facts for the list queries (a case's laws, its id and year on its leerpunten) are
    compared like the rest: a stale copy would give the list queries other rows than the graph."""
    data_dir = tmp_path / "data"
    shutil.copytree(small_dir, data_dir)
    db = duckdb.connect(str(data_dir / "store" / ANALYTICS_FILE))
    assert db.execute(tamper).fetchall()[0][0] > 0, "the small set has such rows"
    db.close()
    kg = KnowledgeGraph(data_dir / "store")
    try:
        found = kg.check_analytics()
    finally:
        kg.close()
    assert found and all(f.startswith(("tabel cases", "tabel leerpunten")) for f in found), found


def test_a_missing_analytics_file_is_rebuilt_on_open(small_dir, tmp_path):
    data_dir = tmp_path / "data"
    shutil.copytree(small_dir, data_dir)
    (data_dir / "store" / ANALYTICS_FILE).unlink()
    kg = KnowledgeGraph(data_dir / "store")
    try:
        assert kg.check_analytics() == []
        assert sum(status_counts(kg).values()) == kg.case_count()
    finally:
        kg.close()


def test_the_charts_run_the_kubus_queries():
    """Systeemleren shows the queries that run: each chart's example query reads the kubus graph."""
    for spec in CHARTS:
        assert GRAPH_CUBE in (QUERY_DIR / f"{spec.query_id}.rq").read_text(), spec.query_id


def test_year_filter_names_its_subject():
    query = "SELECT * WHERE {\n  ?obs ?p ?o .\n  #JAARFILTER ?obs kubus:jaar\n}\n"
    filtered = with_year_filter(query, 2019, 2020)
    assert "?obs kubus:jaar ?jaar . FILTER(?jaar >= 2019 && ?jaar <= 2020)" in filtered
    assert "#JAARFILTER" not in with_year_filter(query, None, None)
    assert "?casus mw:jaar ?jaar" in with_year_filter("{\n  #JAARFILTER\n}\n", 2019, None)


def assert_same_rows_as_plain(kg: KnowledgeGraph) -> int:
    """Every example query equals its plain version (where it has one) for several year ranges; returns rows seen."""
    seen = 0
    with_plain = 0
    for fast in sorted(QUERY_DIR.glob("*.rq")):
        plain = QUERY_DIR / "plain" / fast.name
        if not plain.exists():
            continue
        with_plain += 1
        for years in YEAR_RANGES:
            rows = kg.select(with_year_filter(fast.read_text(), *years))
            assert rows == kg.select(with_year_filter(plain.read_text(), *years)), (fast.stem, years)
            seen += len(rows)
    assert with_plain >= 10
    return seen


def test_example_queries_give_the_rows_of_their_plain_versions_on_the_demo(demo_core):
    assert assert_same_rows_as_plain(demo_core.kg) > 500


@pytest.mark.slow
def test_example_queries_give_the_rows_of_their_plain_versions_on_10k_cases(tmp_path):
    core = open_core(tmp_path / "data")
    try:
        core.init(demo=True)
        write(tmp_path / "10k.jsonl", 10_000, seed=7)
        core.import_file(tmp_path / "10k.jsonl")
        assert core.kg.check_analytics() == []
        assert assert_same_rows_as_plain(core.kg) > 1000
    finally:
        core.close()


# --- /health's counts (KnowledgeGraph.sizes: cases and triples from the layer) ---------------------------------


def assert_sizes_from_the_layer(kg: KnowledgeGraph) -> tuple[int, int]:
    """The layer is in step and gives what the scans give: the SPARQL case count and every quad in the store."""
    revision = kg.revision()
    assert revision is not None and kg.analytics.totals(revision) is not None, "the layer is behind the graph"
    sizes = kg.sizes()
    assert sizes == (kg.case_count(), len(kg.store))
    return sizes


def test_health_counts_stay_exact_through_init_import_reimport_and_deletion(empty_core, tmp_path):
    kg = empty_core.kg
    cases, triples = assert_sizes_from_the_layer(kg)  # ontology and reference data only
    assert cases == 0 and triples > 1000
    empty_core.import_file(SMALL_CASES)
    cases, triples = assert_sizes_from_the_layer(kg)
    records = [json.loads(line) for line in SMALL_CASES.read_text().splitlines()]
    assert cases == len(records)
    empty_core.import_file(write_jsonl(tmp_path / "revised.jsonl", revised(records[:3])))  # replaced, not added
    assert assert_sizes_from_the_layer(kg)[0] == cases
    empty_core.init(demo=False)  # the ontology and reference graphs replaced by themselves
    assert assert_sizes_from_the_layer(kg)[0] == cases
    # No route deletes a case; at the graph level a commit may drop a case graph and add nothing.
    gone = kg.select("SELECT ?c WHERE { ?c a mw:Casus } ORDER BY ?c LIMIT 1")[0]["c"]
    kg.commit([], drop_graphs=[gone])
    assert assert_sizes_from_the_layer(kg)[0] == cases - 1
    health = empty_core.health()
    assert (health["cases"], health["triples"]) == (cases - 1, len(kg.store)) and health["status"] == "ok"
    assert kg.check_analytics() == []


def test_health_counts_on_the_demo(demo_core):
    cases, triples = assert_sizes_from_the_layer(demo_core.kg)
    assert cases > 10
    health = demo_core.health()
    assert (health["cases"], health["triples"]) == (cases, triples)


def test_health_counts_scan_while_the_layer_is_behind_and_check_analytics_compares_the_sizes(small_dir, tmp_path):
    """A layer stamped with another revision is not read: the counts come from the scans. The same tampered
    sizes, once stamped in step, are what `sizes` reports, and what check-analytics finds."""
    data_dir = tmp_path / "data"
    shutil.copytree(small_dir, data_dir)
    layer = data_dir / "store" / ANALYTICS_FILE
    db = duckdb.connect(str(layer))
    revision = db.execute("SELECT value FROM meta WHERE key = 'revision'").fetchone()[0]
    db.execute("UPDATE graphs SET quads = quads + 1000 WHERE graph = (SELECT min(graph) FROM cases)")
    db.execute("UPDATE meta SET value = 'an-older-revision' WHERE key = 'revision'")
    db.close()
    kg = KnowledgeGraph(data_dir / "store")  # the kubus is in step: the open leaves DuckDB alone
    try:
        assert kg.revision() == revision and kg.analytics.totals(revision) is None
        scanned = (kg.case_count(), len(kg.store))
        assert kg.sizes() == scanned
        kg.analytics.db.execute("UPDATE meta SET value = ? WHERE key = 'revision'", [revision])
        assert kg.sizes() == (scanned[0], scanned[1] + 1000)
        found = kg.check_analytics()
    finally:
        kg.close()
    assert found and found[0].startswith("tabel graphs"), found
