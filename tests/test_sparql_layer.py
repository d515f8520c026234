"""Example list queries answered from the analytics layer (graph/sparql_layer.py): the rows Oxigraph gives for the
same text, only when the text is exactly the example's and the layer is in step with the graph."""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import replace

import duckdb
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from graph import sparql_layer
from graph.analytics import OLD_FILES, Analytics
from graph.charts import with_year_filter
from graph.sparql import _options, run_query
from graph.sparql_eval import check_and_evaluate, differs_from_python
from graph.store import ANALYTICS_FILE, KnowledgeGraph
from tests.conftest import SMALL_CASES, open_core

YEAR_RANGES = ((None, None), (2019, 2021), (2022, None), (None, 2020))
JSON = "application/sparql-results+json"


def example(query_id: str) -> str:
    return (sparql_layer.QUERY_DIR / f"{query_id}.rq").read_text(encoding="utf-8")


def comparable(rows: list[list], concat_as_set: bool = False) -> list[list]:
    """Rows as N-Triples terms; the last column as its set of names if `concat_as_set` (a GROUP_CONCAT)."""
    out: list[list] = [[None if t is None else str(t) for t in row] for row in rows]
    if concat_as_set:
        out = [[*shown[:-1], sorted(row[-1].value.split(", ")), row[-1].language] for shown, row in zip(out, rows)]
    return out


def on_the_graph(kg: KnowledgeGraph, text: str, limit: int):
    return check_and_evaluate(kg.store, text, _options((), ()), limit, None, 10**9)


def assert_layer_equals_graph(kg: KnowledgeGraph, limit: int = 10_000) -> dict[str, int]:
    """Every layer query, for several year ranges: the same variables, rows (in order) and truncation.

    Query 20's addressees are joined in another (equally valid) order, so that column compares as a set."""
    seen: dict[str, int] = {}
    for query in sparql_layer.LAYER_QUERIES:
        for years in YEAR_RANGES:
            text = with_year_filter(example(query.id), *years)
            answered = sparql_layer.answer(kg, text, limit)
            assert answered is not None, (query.id, years)
            expected = on_the_graph(kg, text, limit)
            assert answered.variables == expected.variables, query.id
            as_set = query.id.startswith("20-")
            got, want = comparable(answered.solutions, as_set), comparable(expected.solutions, as_set)
            assert got == want, (query.id, years)
            assert answered.truncated == expected.truncated, (query.id, years)
            if not as_set:  # the JSON the endpoint sends (18's written by DuckDB): Oxigraph's answer's bytes
                written = run_query(kg, text, limit=limit, media_type=JSON).body
                assert written == expected.serialize(JSON), (query.id, years)
            seen[query.id] = seen.get(query.id, 0) + len(got)
    return seen


def test_layer_answers_equal_the_graph_on_the_demo(demo_core):
    seen = assert_layer_equals_graph(demo_core.kg)
    assert all(seen[q.id] > 0 for q in sparql_layer.LAYER_QUERIES), seen  # the demo has rows for each


def test_layer_answers_stay_equal_after_a_reimport_and_a_cut_by_the_row_limit(empty_core, tmp_path):
    empty_core.import_file(SMALL_CASES)
    records = [json.loads(line) for line in SMALL_CASES.read_text().splitlines()]
    changed = [{**r, "laws": ["Wmo 2015", "Zvw", "Jeugdwet"], "year": 2020} for r in records[:4]]
    (tmp_path / "changed.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in changed) + "\n")
    empty_core.import_file(tmp_path / "changed.jsonl")
    assert empty_core.kg.check_analytics() == []
    assert assert_layer_equals_graph(empty_core.kg)["02-wmo-en-zvw-samen"] >= 4
    assert_layer_equals_graph(empty_core.kg, limit=2)


def test_only_the_exact_example_text_is_answered_from_the_layer(demo_core):
    text = example("02-wmo-en-zvw-samen")
    assert sparql_layer.recognise(text) is not None
    assert sparql_layer.recognise("# my own comment\n" + "  ".join(text.split(" "))) is not None
    assert sparql_layer.recognise(text.replace("LIMIT 200", "LIMIT 199")) is None
    assert sparql_layer.recognise(text.replace("zvw>", "wlz>")) is None
    spaced = example("20-leerpunten-open-na-een-jaar").replace('separator=", "', 'separator=",  "')
    assert sparql_layer.recognise(spaced) is None, "whitespace inside a string literal is part of the query"
    assert sparql_layer.recognise(with_year_filter(example("18-leerpunten-met-opvolging"), 2020, None)) is not None
    result = run_query(demo_core.kg, text.replace("LIMIT 200", "LIMIT 199"))
    assert result.answered_by is None and result.solutions


def test_a_layer_behind_the_graph_is_not_used(small_dir, tmp_path):
    data_dir = tmp_path / "data"
    shutil.copytree(small_dir, data_dir)
    db = duckdb.connect(str(data_dir / "store" / ANALYTICS_FILE))
    db.execute("UPDATE meta SET value = 'elsewhere' WHERE key = 'revision'")
    db.close()
    kg = KnowledgeGraph(data_dir / "store")  # the kubus is in step, so opening does not look at DuckDB
    try:
        assert sparql_layer.answer(kg, example("10-leerpunten-3e-orde"), 100) is None
    finally:
        kg.close()


def test_a_layer_of_an_older_schema_is_rebuilt_on_open(small_dir, tmp_path):
    data_dir = tmp_path / "data"
    shutil.copytree(small_dir, data_dir)
    store = data_dir / "store"
    (store / ANALYTICS_FILE).rename(store / OLD_FILES[0])
    kg = KnowledgeGraph(store)
    try:
        assert (store / ANALYTICS_FILE).exists() and not (store / OLD_FILES[0]).exists()
        assert kg.check_analytics() == []
        assert sparql_layer.answer(kg, example("18-leerpunten-met-opvolging"), 100) is not None
    finally:
        kg.close()


# What each earlier schema lacks of the current one: the SQL that takes a current layer back to it.
TO_V3 = ("DROP TABLE graphs",)
TO_V2 = (
    *TO_V3,
    "ALTER TABLE cases DROP COLUMN wetten",
    "ALTER TABLE leerpunten DROP COLUMN id",
    "ALTER TABLE leerpunten DROP COLUMN jaar",
)


@pytest.mark.parametrize(("old_file", "back"), [("analytics-v3.duckdb", TO_V3), ("analytics-v2.duckdb", TO_V2)])
def test_a_layer_of_an_earlier_schema_is_upgraded_without_a_rebuild_on_open(
    small_dir, tmp_path, monkeypatch, old_file, back
):
    data_dir = tmp_path / "data"
    shutil.copytree(small_dir, data_dir)
    store = data_dir / "store"
    db = duckdb.connect(str(store / ANALYTICS_FILE))
    for statement in back:
        db.execute(statement)
    db.close()
    assert old_file in OLD_FILES
    (store / ANALYTICS_FILE).rename(store / old_file)

    def no_rebuild(*args):
        raise AssertionError("upgraded, not rebuilt")

    monkeypatch.setattr(Analytics, "rebuild", no_rebuild)
    kg = KnowledgeGraph(store)
    try:
        assert (store / ANALYTICS_FILE).exists() and not (store / old_file).exists()
        assert kg.analytics.totals(kg.revision()) is not None, "the layer is in step: /health reads it"
        monkeypatch.undo()  # check-analytics builds its comparison with `rebuild`
        assert kg.check_analytics() == []  # the graph sizes too, and /health's counts against a scan
        assert_layer_equals_graph(kg)
    finally:
        kg.close()


@pytest.mark.parametrize("accept", ["application/sparql-results+json", "text/csv", "application/sparql-results+xml"])
@pytest.mark.parametrize("query_id", ["15-overgang-18-min-18-plus", "18-leerpunten-met-opvolging"])
def test_the_endpoint_serves_the_layer_answer_in_each_format_and_says_so(small_dir, tmp_path, accept, query_id):
    """Byte for byte what Oxigraph's answer serialises to; 18's JSON is written by DuckDB, the rest by Python."""
    data_dir = tmp_path / "data"
    shutil.copytree(small_dir, data_dir)
    text = example(query_id)
    with TestClient(create_app(replace(Settings(), data_dir=data_dir))) as client:
        answer = client.get("/sparql", params={"query": text}, headers={"Accept": accept})
        assert answer.status_code == 200, answer.text
        assert answer.headers["x-maatwerk-bron"].startswith(sparql_layer.SOURCE)
        kg = client.app.state.maatwerk.kg
        expected = on_the_graph(kg, text, 10_000).serialize(accept)
    assert answer.content == expected


@pytest.mark.slow
def test_layer_answers_equal_the_graph_on_10k_cases(tmp_path):
    from ingest.generate import write

    core = open_core(tmp_path / "data")
    try:
        core.init(demo=True)
        write(tmp_path / "10k.jsonl", 10_000, seed=7)
        core.import_file(tmp_path / "10k.jsonl")
        seen = assert_layer_equals_graph(core.kg)
        assert seen["18-leerpunten-met-opvolging"] > 10_000 and seen["02-wmo-en-zvw-samen"] > 500
    finally:
        core.close()


@pytest.mark.parametrize("query_id", ["10-leerpunten-3e-orde", "18-leerpunten-met-opvolging"])
def test_bounded_queries_give_the_first_rows_for_any_row_limit(demo_core, monkeypatch, query_id):
    """10 and 18 sort only the rows below a bound (a year; sparql_layer._bound); the cut falls inside and at
    the ends of a year or label, and a bound that keeps too few rows falls back to sorting all of them."""
    kg, text = demo_core.kg, example(query_id)
    every = len(on_the_graph(kg, text, 10_000).solutions)
    assert every > 6, "the demo has leerpunten of several orders and years"

    def same_rows(limit: int) -> None:
        answered = sparql_layer.answer(kg, text, limit)
        expected = on_the_graph(kg, text, limit)
        assert answered is not None and comparable(answered.solutions) == comparable(expected.solutions), limit
        assert answered.truncated == expected.truncated, limit
        written = run_query(kg, text, limit=limit, media_type=JSON)  # 18's by DuckDB
        assert written.body == expected.serialize(JSON), limit
        assert written.truncated == expected.truncated, limit

    for limit in sorted({1, 2, 3, every // 3, every // 2, every - 1, every, every + 1}):
        same_rows(limit)
    monkeypatch.setattr(sparql_layer, "_bound", lambda r, source, params: (" AND p.id < ?", [""]))
    same_rows(every // 2)  # (10 does not use _bound: the same rows again)


def _stored(order: str, ids: list[str]) -> list[tuple[str, str]]:
    """(id, leerorde) rows in the order a table holds them: label "a" for two ids in three, "b" for the rest."""
    rows = [(i, "b" if n % 3 == 0 else "a") for n, i in enumerate(ids)]
    if order == "reversed":
        rows.reverse()
    elif order == "shuffled":
        random.Random(5).shuffle(rows)
    elif order == "other label first":
        rows.sort(key=lambda row: row[1] != "b")
    return rows


@pytest.mark.parametrize("order", ["id order", "reversed", "shuffled", "other label first"])
def test_the_cut_of_18_is_the_needed_id_however_the_rows_are_stored(order):
    """sparql_layer._cut_id guesses from the rows stored first (cases mostly arrive in id order), counts, and
    widens the guess until it holds enough rows; whatever the order, the id it returns has `need` rows up to it."""
    db = duckdb.connect()
    db.execute("CREATE TABLE leerpunten (id VARCHAR, leerorde VARCHAR)")
    db.executemany("INSERT INTO leerpunten VALUES (?, ?)", _stored(order, [f"c{n:05d}" for n in range(3000)]))
    reading = sparql_layer.Reading(db, None, (None, None), 0)  # type: ignore[arg-type]  # no labels needed
    source = "FROM leerpunten p JOIN (VALUES ('a', 'a')) AS v(k, v) ON v.k = p.leerorde WHERE v.v = 'a'"
    for need in (1, 7, 150, 1999, 2000):
        cut = sparql_layer._cut_id(reading, source, [], need, 2000)
        ((up_to_cut,),) = db.execute(f"SELECT COUNT(*) {source} AND p.id <= ?", [cut]).fetchall()
        assert up_to_cut == need, (order, need)


def test_json_written_by_duckdb_is_used_only_where_it_equals_pythons():
    """DuckDB's `to_json` escapes as `json.dumps(ensure_ascii=False)` does, but for the hex digits of \\u00XX."""
    plain = "".join(chr(c) for c in range(0x20, 0x80)) + '\n\t\r\b\f é \u2028 😀 / \\ "'
    db = duckdb.connect()
    try:
        written = db.execute("SELECT to_json($1::VARCHAR)", [plain]).fetchone()[0]
        assert written == json.dumps(plain, ensure_ascii=False)
        assert not differs_from_python(written.encode())
        for control in ("\x00", "\x0b", "\x1f"):
            assert differs_from_python(db.execute("SELECT to_json($1::VARCHAR)", [control]).fetchone()[0].encode())
    finally:
        db.close()
