"""Case import: formats, label resolution, the anonymisation gate, atomicity, idempotence, linking."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys

import pytest

from ingest.cases import ImportRejected, read_records
from tests.conftest import SMALL_CASES, open_core

MAATWERK = [sys.executable, "-m", "api.cli"]
RECORDS = [json.loads(line) for line in SMALL_CASES.read_text().splitlines()]
LIST_FIELDS = ("laws", "voorzieningen", "organisations", "levensgebieden")


def case_triples(core) -> set[tuple[str, str, str]]:
    rows = core.kg.select("""SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } ?g a mw:Casus .
                             FILTER(?p != prov:generatedAtTime) }""")
    return {(r["s"], r["p"], str(r["o"])) for r in rows}


def write_csv(path, records):
    columns = ["id", "title", "situation", "solution", "status", "year", *LIST_FIELDS, "knelpunten", "learning_points"]
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, columns)
        writer.writeheader()
        for r in records:
            row = {c: r.get(c, "") for c in columns[:6]}
            row.update({f: ";".join(r[f]) for f in LIST_FIELDS})
            row["knelpunten"] = ";".join(k["type"] for k in r["knelpunten"])
            row["learning_points"] = ";".join(f"{p['order']}:{p['text']}" for p in r["learning_points"])
            writer.writerow(row)


def test_jsonl_json_and_csv_give_the_same_graph(tmp_path):
    simple = [{k: v for k, v in r.items() if k != "fictional"} | {"knelpunten": [{"type": k["type"]} for k in r["knelpunten"]]}
              for r in RECORDS]
    (tmp_path / "c.jsonl").write_text("\n".join(json.dumps(r) for r in simple))
    (tmp_path / "c.json").write_text(json.dumps(simple))
    write_csv(tmp_path / "c.csv", simple)
    graphs = []
    for name in ("c.jsonl", "c.json", "c.csv"):
        core = open_core(tmp_path / f"data-{name}")
        core.init(demo=False)
        core.import_file(tmp_path / name)
        graphs.append(case_triples(core))
        core.close()
    assert graphs[0] == graphs[1] == graphs[2]
    assert len(graphs[0]) > 100


def test_reimport_replaces_instead_of_duplicating(small_dir, tmp_path):
    shutil.copytree(small_dir, tmp_path / "d")
    core = open_core(tmp_path / "d")
    before = case_triples(core)
    core.import_file(SMALL_CASES)
    assert case_triples(core) == before
    assert core.kg.case_count() == 6
    assert len(core.search().index.facets.ids) >= 6 and core.search().index.alive_count == 6
    core.close()


def test_unknown_label_names_value_and_closest_labels(empty_core, tmp_path):
    bad = dict(RECORDS[0], laws=["Wmo 2016"], organisations=["UVW"])
    with pytest.raises(ImportRejected) as rejected:
        empty_core.import_records([("body", bad)])
    messages = [str(p) for p in rejected.value.problems]
    assert any("Wmo 2016" in m and "Wmo 2015" in m for m in messages), messages
    assert any("UVW" in m and "UWV" in m for m in messages), messages
    assert empty_core.kg.case_count() == 0


def test_labels_resolve_by_bwb_id_slug_altlabel_case_and_accents(empty_core):
    record = dict(RECORDS[0], id="t-labels", laws=["BWBR0035362", "wmo-2015"], levensgebieden=["FINANCIEN"],
                  voorzieningen=["huursubsidie"])
    result = empty_core.import_records([("body", record)])
    links = result.cases[0].links
    assert [c.label for c in links["wet"]] == ["Wmo 2015"]
    assert [c.slug for c in links["levensgebied"]] == ["financien"]
    assert [c.slug for c in links["voorziening"]] == ["huurtoeslag"]


def test_personal_data_rejects_the_whole_file_and_stores_nothing(empty_core):
    good = RECORDS[1]
    bad = dict(RECORDS[0], situation=RECORDS[0]["situation"] + " Zijn BSN is 111222333.")
    with pytest.raises(ImportRejected) as rejected:
        empty_core.import_records([("a", good), ("b", bad)])
    finding = rejected.value.problems[0]
    assert (finding.kind, finding.field, finding.span) == ("personal-data", "situation", "111222333")
    assert "BSN" in finding.message
    assert empty_core.kg.case_count() == 0


def test_redact_leaves_no_trace_of_the_original_value(empty_core):
    bad = dict(RECORDS[0], id="t-redact", situation=RECORDS[0]["situation"] + " Bel mevrouw Jansen op 06-12345678.")
    result = empty_core.import_records([("b", bad)], redact=True)
    assert {r.kind for r in result.redactions} >= {"NAAM", "TELEFOON"}
    exported = empty_core.kg.export(__import__("pyoxigraph").RdfFormat.N_QUADS).decode()
    assert "12345678" not in exported and "Jansen" not in exported
    assert "[TELEFOON]" in exported


def test_text_alone_is_linked_to_concepts_marked_as_derived(empty_core):
    record = {"id": "t-text-only", "situation": "Na ontslag wacht een vrouw op haar WW-uitkering van het UWV; "
              "de sociale dienst wil geen bijstand geven en ze kan de huur niet betalen."}
    result = empty_core.import_records([("t", record)])
    derived = {c.slug for c in result.cases[0].derived}
    assert {"uwv", "ww-uitkering"} <= derived, derived
    rows = empty_core.kg.select("SELECT ?o WHERE { ?c dcterms:identifier 't-text-only' ; mw:afgeleidConcept ?o }")
    assert len(rows) == len(derived)


def test_cli_exit_codes(small_dir, tmp_path):
    shutil.copytree(small_dir, tmp_path / "d")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(dict(RECORDS[0], laws=["Wet die niet bestaat"])) + "\n")
    done = subprocess.run([*MAATWERK, "import-cases", str(bad), "--data-dir", str(tmp_path / "d")],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert "Wet die niet bestaat" in done.stderr


@pytest.mark.parametrize("content,suffix,message", [
    ('{"id": "x", "situation": 12}\n', ".jsonl", "Moet tekst zijn"),
    ('{"id": "x"\n', ".jsonl", "Geen geldige JSON"),
    ("id,onzin\nx,y\n", ".csv", "CSV-kolommen kloppen niet"),
    ('{"id": "x", "situation": "Een lange genoeg situatie hier.", "year": "vorig jaar"}\n', ".jsonl", "geen geheel getal"),
])
def test_bad_input_gets_a_clear_error(empty_core, tmp_path, content, suffix, message):
    path = tmp_path / f"bad{suffix}"
    path.write_text(content)
    with pytest.raises(ImportRejected) as rejected:
        empty_core.import_records(read_records(path))
    assert any(message in str(p) for p in rejected.value.problems), rejected.value.problems


def test_csv_with_bom_and_wrong_encoding(empty_core, tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffid,situation\nbom-1,Een vrouw wacht al maanden op een beslissing van het UWV.\n".encode())
    assert empty_core.import_records(read_records(path)).cases[0].id == "bom-1"
    latin = tmp_path / "latin.csv"
    latin.write_bytes("id,situation\nx,Financi\xebn en schulden bij de gemeente zijn groot.\n".encode("latin-1"))
    with pytest.raises(ImportRejected, match="probleem"):
        empty_core.import_records(read_records(latin))


def test_gate_finds_no_personal_data_in_the_illustrative_corpus():
    """False positives on the shipped corpus must be zero: every finding here would be a wrong refusal."""
    from ingest.anonymise import find_personal_data
    from ingest.cases import _text_fields
    from ontology import DEMO_CASES_FILE

    findings, fields = [], 0
    for line in DEMO_CASES_FILE.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        for name, text in _text_fields(record):
            fields += 1
            findings += [(record["id"], name, f.kind, f.text) for f in find_personal_data(text)]
    assert fields > 1000
    assert findings == []


def test_import_reports_progress_per_phase_with_a_known_total(empty_core):
    seen = []
    empty_core.import_file(SMALL_CASES, progress=lambda done, total, phase: seen.append((phase, done, total)))
    phases = [phase for phase, _, _ in seen]
    assert phases[0] == "controleren" and phases[-1] == "indexeren"
    assert phases.index("indexeren") > len(RECORDS) - 1  # checking ends before indexing starts
    assert ("controleren", len(RECORDS), len(RECORDS)) in seen and seen[-1] == ("indexeren", 6, 6)


def test_an_imported_record_gives_the_search_doc_the_graph_gives(small_dir):
    from graph.cases import case_docs
    from ingest.cases import RecordChecker

    core = open_core(small_dir)
    try:
        checker = RecordChecker(core.concepts)
        records = [checker.check(location, raw) for location, raw in read_records(SMALL_CASES)]
        from_graph = {doc.iri: doc for doc in case_docs(core.kg)}
        for record in records:
            doc = record.search_doc()
            doc.stamp = from_graph[doc.iri].stamp
            assert doc == from_graph[doc.iri]
    finally:
        core.close()
