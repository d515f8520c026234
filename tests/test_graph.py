"""The store: loading, idempotence, persistence, journal recovery, validation, safe SPARQL."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pyoxigraph as ox
import pytest

from graph.sparql import SparqlError, check_query, run_query
from graph.store import KnowledgeGraph
from tests.conftest import open_core

MAATWERK = [sys.executable, "-m", "api.cli"]


def test_reload_of_reference_data_is_idempotent(empty_core):
    before = empty_core.kg.triple_count()
    empty_core.kg.load_ontology_and_reference()
    assert empty_core.kg.triple_count() == before


def test_reference_data_conforms_to_shapes(empty_core):
    report = empty_core.validate()
    assert report.conforms, [str(v) for v in report.violations[:5]]


def test_broken_resource_fails_validation_with_a_clear_message(empty_core):
    kg = empty_core.kg
    voorziening = ox.NamedNode("https://w3id.org/maatwerk/id/voorziening/kapot")
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    service = ox.NamedNode("http://purl.org/vocab/cpsv#PublicService")
    kg.commit([ox.Quad(voorziening, rdf_type, service, ox.NamedNode("https://w3id.org/maatwerk/id/graph/test"))])
    report = empty_core.validate()
    assert not report.conforms
    messages = [str(v) for v in report.violations if "kapot" in v.focus]
    assert any("minstens één wet" in m for m in messages), messages


def test_second_process_sees_persisted_data(small_dir, tmp_path):
    data_dir = tmp_path / "copy"
    shutil.copytree(small_dir, data_dir)
    query = "SELECT (COUNT(?c) AS ?n) WHERE { ?c a mw:Casus }"
    done = subprocess.run(
        [*MAATWERK, "sparql", query, "--format", "json", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        check=True,
    )
    answer = json.loads(done.stdout)
    assert answer["results"]["bindings"][0]["n"]["value"] == "6"


@pytest.mark.parametrize(
    "fmt,check",
    [
        ("json", lambda s: json.loads(s)["head"]["vars"] == ["id"]),
        ("csv", lambda s: s.splitlines()[0] == "id" and len(s.splitlines()) == 7),
        ("table", lambda s: "t-zorgtoeslag" in s and "6 rij(en)" in s),
    ],
)
def test_sparql_cli_formats(small_dir, tmp_path, fmt, check):
    data_dir = tmp_path / "copy"
    shutil.copytree(small_dir, data_dir)
    query = "SELECT ?id WHERE { ?c a mw:Casus ; dcterms:identifier ?id } ORDER BY ?id"
    done = subprocess.run(
        [*MAATWERK, "sparql", query, "--format", fmt, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        env={"COLUMNS": "200", "PATH": ""},
    )
    assert done.returncode == 0, done.stderr
    assert check(done.stdout), done.stdout


def test_committed_journal_is_replayed_after_a_crash(tmp_path):
    kg = KnowledgeGraph(tmp_path / "store")
    quad = ox.Quad(
        ox.NamedNode("http://example.org/s"),
        ox.NamedNode("http://example.org/p"),
        ox.Literal("o"),
        ox.NamedNode("http://example.org/g"),
    )
    # a crash right after the commit point: the journal is in place but not applied
    kg._write_journal([], [quad], quad)
    kg.close()
    reopened = KnowledgeGraph(tmp_path / "store")
    assert reopened.store.contains_named_graph(ox.NamedNode("http://example.org/g"))
    assert not (tmp_path / "store" / "journal").exists()
    reopened.close()


def test_unfinished_journal_is_discarded(tmp_path):
    kg = KnowledgeGraph(tmp_path / "store")
    before = kg.triple_count()
    kg.close()
    (tmp_path / "store" / "journal.tmp").mkdir()
    (tmp_path / "store" / "journal.tmp" / "quads.nq").write_text('<http://x/s> <http://x/p> "o" .\n')
    reopened = KnowledgeGraph(tmp_path / "store")
    assert reopened.triple_count() == before
    assert not (tmp_path / "store" / "journal.tmp").exists()
    reopened.close()


@pytest.mark.parametrize(
    "query,status",
    [
        ("INSERT DATA { <http://x/s> <http://x/p> 1 }", 403),
        ("DROP ALL", 403),
        ("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", 400),
        ("SELECT * FROM <http://example.org/remote> WHERE { ?s ?p ?o }", 400),
        ("", 400),
    ],
)
def test_unsafe_queries_are_refused_before_evaluation(query, status):
    with pytest.raises(SparqlError) as refused:
        check_query(query, lambda graph: False)
    assert refused.value.status == status


def test_keywords_inside_literals_are_not_refused():
    assert check_query('SELECT * WHERE { ?s ?p "SERVICE en INSERT" }', lambda graph: False) == "select"


def test_run_query_limits_rows_and_reports_syntax_errors(empty_core):
    result = run_query(empty_core.kg, "SELECT ?s WHERE { ?s ?p ?o }", limit=5)
    assert len(result.solutions) == 5 and result.truncated
    with pytest.raises(SparqlError, match="Syntaxfout"):
        run_query(empty_core.kg, "SELECT ?s WHERE { ?s ?p }")


def test_store_is_locked_for_a_second_writer(empty_core):
    from graph import StoreLocked

    with pytest.raises(StoreLocked):
        open_core(empty_core.settings.data_dir)


# --- validation in batches ----------------------------------------------------------


def _n(name: str) -> ox.NamedNode:
    from ontology import term

    return ox.NamedNode(term(name))


@pytest.fixture(scope="module")
def broken_demo_kg():
    """In memory: reference data, the illustrative cases, and a few cases and a resource broken on purpose."""
    from graph.concepts import ConceptIndex
    from ingest.cases import import_cases
    from ingest.readers import read_records
    from ontology import DEMO_CASES_FILE, iri

    kg = KnowledgeGraph(None)
    kg.load_ontology_and_reference()
    import_cases(kg, read_records(DEMO_CASES_FILE), ConceptIndex.from_graph(kg))

    def rewrite(case_id: str, keep=lambda q: True, add=()):
        graph = ox.NamedNode(iri("casus", case_id))
        quads = [q for q in kg.graph_quads(graph.value) if keep(q)]
        quads += [ox.Quad(s if s is not None else graph, _n(p), o, graph) for s, p, o in add]
        kg.commit(quads, drop_graphs=[graph.value])

    rewrite("demo-001", keep=lambda q: q.predicate != _n("dcterms:title"))
    rewrite("demo-002", add=[(None, "mw:betrokkenOrganisatie", ox.NamedNode(iri("organisatie", "bestaat-niet")))])
    rewrite("demo-003", add=[(None, "mw:levensgebied", ox.NamedNode(iri("knelpunttype", "wet-en-regelgeving")))])
    rewrite(
        "demo-004",
        keep=lambda q: (
            q.predicate not in (_n("mw:status"), _n("mw:jaar"))
            and not (q.predicate == _n("mw:knelpuntType") and q.subject.value.endswith("/knelpunt/1"))
        ),
        add=[
            (None, "mw:status", ox.Literal("misschien")),
            (None, "mw:jaar", ox.Literal("1800", datatype=_n("xsd:integer"))),
        ],
    )
    rewrite(
        "demo-005",
        add=[
            (None, "mw:betreftVoorziening", ox.NamedNode(iri("voorziening", "kapot"))),
            (None, "mw:betreftWet", ox.NamedNode(iri("organisatie", "gemeente"))),
        ],
    )
    rewrite("demo-006", add=[(None, "dcterms:title", ox.Literal("Nog een titel", language="nl"))])
    # outside the cases: a voorziening without a law or authority, linked from demo-005
    test_graph = ox.NamedNode(iri("graph", "test"))
    kg.commit(
        [ox.Quad(ox.NamedNode(iri("voorziening", "kapot")), _n("rdf:type"), _n("cpsv:PublicService"), test_graph)]
    )
    return kg


def test_batched_validation_finds_the_same_violations_as_the_whole_store(broken_demo_kg):
    from graph.validate import case_graphs, validate_store, validate_triples

    whole = validate_triples(broken_demo_kg.store)  # everything in one pyshacl run, as before
    seen = []
    batched = validate_store(
        broken_demo_kg, progress=lambda done, total, phase: seen.append((done, total, phase)), batch_size=16
    )
    assert not batched.conforms and not whole.conforms
    assert batched.violations == whole.violations
    broken = {v.focus.rsplit("/", 1)[-1] for v in batched.violations}
    assert {"demo-001", "demo-002", "demo-003", "demo-004", "demo-005", "demo-006", "kapot"} <= broken
    # nested results (sh:node details) about the knelpunt and the wrongly linked concept are kept
    assert any(v.focus.endswith("demo-004/knelpunt/1") for v in batched.violations)
    assert any(v.focus.endswith("knelpunttype/wet-en-regelgeving") for v in batched.violations)
    # the linked reference data is judged once, with all its triples, not per batch with only its type
    assert sum(v.focus.endswith("voorziening/kapot") for v in batched.violations) == 3  # name, law, authority
    cases = len(case_graphs(broken_demo_kg))
    assert cases >= 160 and seen[0] == (0, 0, "referentiedata") and seen[-1] == (cases, cases, "casussen")
    assert len(seen) == 1 + -(-cases // 16)  # reference data, then one step per batch of 16


def test_batched_validation_of_a_conforming_graph():
    from graph.concepts import ConceptIndex
    from graph.validate import validate_store
    from ingest.cases import import_cases
    from ingest.readers import read_records
    from tests.conftest import SMALL_CASES

    kg = KnowledgeGraph(None)
    kg.load_ontology_and_reference()
    import_cases(kg, read_records(SMALL_CASES), ConceptIndex.from_graph(kg))
    report = validate_store(kg, batch_size=4)
    assert report.conforms and report.violations == []


def test_focused_validation_judges_nested_shapes_but_not_the_context(broken_demo_kg):
    """The import check (focus on the new cases, linked resources present with only their type)."""
    from graph.validate import context_for, validate_triples
    from ontology import iri

    case = iri("casus", "demo-004")
    quads = broken_demo_kg.graph_quads(case)
    objects = {q.object.value for q in quads if isinstance(q.object, ox.NamedNode)}
    report = validate_triples([*quads, *context_for(broken_demo_kg, objects)], focus=[case])
    assert not report.conforms
    assert {v.focus for v in report.violations} == {case, case + "/knelpunt/1"}
    assert {v.path for v in report.violations} >= {"status", "jaar", "knelpunt", "knelpuntType"}
