"""The case contract (graph/case.py) in both directions, the same through `maatwerk import-cases` and
`POST /api/cases`: the accepted forms, the privacy gate on every text field, field names in and out.
Also the lists derived from ontology/vocabulary.py and the settings registry."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import fields, replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import REGISTRY, Settings
from graph.case import CaseDetail, CaseInput, case_iri, gated_texts, read_case
from ingest.problems import ImportRejected
from ontology.vocabulary import CASE_LINKS, FILTER_PARAMS
from tests.conftest import open_core

MAATWERK = [sys.executable, "-m", "api.cli"]
KEY = "contract-sleutel-51c9"
AUTH = {"Authorization": f"Bearer {KEY}"}
SITUATION = "Een vrouw met een chronische ziekte wacht maanden op een beslissing van de gemeente over hulp."
EMAIL = "jan.jansen@example.nl"


def cli(*args: str, data_dir: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*MAATWERK, *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "250", **(env or {})},
    )


@pytest.fixture
def data_dir(small_dir, tmp_path) -> Path:
    shutil.copytree(small_dir, tmp_path / "data")
    return tmp_path / "data"


@pytest.fixture
def client(data_dir):
    with TestClient(create_app(replace(Settings(), data_dir=data_dir, api_keys=(KEY,)))) as client:
        yield client


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def stored(data_dir: Path, case_id: str) -> dict | None:
    core = open_core(data_dir)
    try:
        return read_case(core.kg, case_iri(case_id), core.concepts)
    finally:
        core.close()


# --- derived lists ------------------------------------------------------------------------------------------


def test_lists_come_from_the_vocabulary_and_the_registry():
    from api.models import SearchFilters

    assert {k.field for k in CASE_LINKS} <= set(CaseInput.model_fields) & set(CaseDetail.model_fields)
    assert set(SearchFilters.model_fields) == set(FILTER_PARAMS)
    assert "learning_points" in CaseDetail.model_fields and "leerpunten" not in CaseDetail.model_fields
    assert [f.name for f in fields(Settings)] == [s.name for s in REGISTRY]


def test_gated_texts_cover_every_text_of_the_contract():
    record = {
        "id": "x",
        "title": "t",
        "situation": "s",
        "solution": "o",
        "source": "b",
        "status": "lopend",
        "interventions": ["i0", "i1"],
        "knelpunten": ["samenwerking", {"type": "regels", "text": "k"}],
        "learning_points": ["l0", {"text": "l1", "order": 2}],
        "laws": ["Wmo 2015"],
        "year": 2020,
    }
    assert dict(gated_texts(record)) == {
        "id": "x",
        "title": "t",
        "situation": "s",
        "solution": "o",
        "source": "b",
        "interventions[0]": "i0",
        "interventions[1]": "i1",
        "knelpunten[1].text": "k",
        "learning_points[0]": "l0",
        "learning_points[1].text": "l1",
    }


# --- one behaviour for the forms the import format allows -------------------------------------------------------

# Each of these passed the checker and failed the API's model before; now both accept them, as CSV gives them.
LENIENT = [
    ({"id": 4711}, lambda case: case["id"] == "4711"),
    ({"laws": "Wmo 2015"}, lambda case: [law["id"] for law in case["laws"]] == ["wmo-2015"]),
    (
        {"learning_points": ["Bel eerst samen voordat je een brief stuurt."]},
        lambda case: (
            case["learning_points"]
            == [
                {
                    "text": "Bel eerst samen voordat je een brief stuurt.",
                    "order": 1,
                    "type": "1e orde",
                    "addressees": [],
                    "follow_up": None,
                    "presented_on": None,
                    "response_on": None,
                    "response": None,
                }
            ]
        ),
    ),
    ({"status": "Opgelost"}, lambda case: case["status"] == "opgelost"),
]


def lenient_records() -> list[dict]:
    return [
        {"id": f"vorm-{n}", "situation": f"{SITUATION} Variant {n}.", **form} for n, (form, _) in enumerate(LENIENT)
    ]


def test_lenient_forms_pass_the_model_and_the_checker(empty_core):
    records = lenient_records()
    for record in records:
        CaseInput.model_validate(record)
    assert len(empty_core.import_records([(str(n), r) for n, r in enumerate(records)]).cases) == len(records)


def test_lenient_forms_through_the_cli(data_dir, tmp_path):
    records = lenient_records()
    done = cli("import-cases", str(write_jsonl(tmp_path / "vormen.jsonl", records)), data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    for record, (_, check) in zip(records, LENIENT):
        case = stored(data_dir, str(record["id"]))
        assert case is not None and check(case), case


def test_lenient_forms_through_http(client):
    records = lenient_records()
    response = client.post("/api/cases", json=records, headers=AUTH)
    assert response.status_code == 200, response.text
    for record, (_, check) in zip(records, LENIENT):
        case = client.get(f"/api/cases/{record['id']}").json()
        assert check(case), case


@pytest.mark.parametrize(
    "form", [{"status": "open"}, {"year": "volgend jaar"}, {"learning_points": [{"text": "x", "order": 4}]}]
)
def test_what_the_model_refuses_the_checker_refuses(empty_core, form):
    record = {"id": "fout", "situation": SITUATION, **form}
    with pytest.raises(ValueError):
        CaseInput.model_validate(record)
    with pytest.raises(ImportRejected):
        empty_core.import_records([("r", record)])


# Edge records: the model (the OpenAPI schema) and the checker (what an import does) accept the same ones.
EDGES = [
    {},
    {"id": True},
    {"id": 1.5},
    {"id": "x" * 201},
    {"id": "x" * 200},
    {"id": "  "},
    {"title": "ab"},
    {"title": " ab "},
    {"title": "abc"},
    {"situation": " " + "x" * 19 + " "},
    {"status": " Lopend "},
    {"status": "open"},
    {"year": "2020"},
    {"year": 2020.0},
    {"year": 2020.5},
    {"year": 1980},
    {"fictional": True},
    {"fictional": "true"},
    {"fictional": 1},
    {"fictional": None},
    {"source": 5},
    {"source": "Wijkteam Oost"},
    {"interventions": [1]},
    {"interventions": "Eén gesprek."},
    {"knelpunten": [{"text": "a"}]},
    {"knelpunten": "samenwerking"},
    {"knelpunten": [{"type": "samenwerking", "text": "Niemand belde."}]},
    {"learning_points": [{"order": 2}]},
    {"learning_points": [{"text": "  ", "order": 2}]},
    {"learning_points": {"text": "Eerder bellen.", "order": 3}},
    {"onbekend": 1},
    {"laws": ["Wmo 2015", "WIA"]},
    {"laws": {"label": "Wmo 2015"}},
]


@pytest.mark.parametrize("edge", EDGES, ids=[json.dumps(e, ensure_ascii=False)[:40] for e in EDGES])
def test_model_and_checker_accept_the_same_records(empty_core, edge):
    from ingest.checker import RecordChecker

    record = {"situation": SITUATION, **edge}
    try:
        CaseInput.model_validate(record)
        model_accepts = True
    except ValueError:
        model_accepts = False
    checker = RecordChecker(empty_core.concepts)
    checker_accepts = checker.check("r", record) is not None
    assert model_accepts == checker_accepts, checker.problems


# --- the privacy gate on every field -------------------------------------------------------------------------

# One record per gated field, each with the same e-mail address in that field only.
GATED = {
    "title": {"title": f"Mail {EMAIL}"},
    "situation": {"situation": f"{SITUATION} Mail {EMAIL}."},
    "solution": {"solution": f"Antwoord gemaild aan {EMAIL}."},
    "interventions[1]": {"interventions": ["Keukentafelgesprek.", f"Mail aan {EMAIL}."]},
    "knelpunten[0].text": {"knelpunten": [{"type": "samenwerking", "text": f"Niemand las {EMAIL}."}]},
    "learning_points[0].text": {"learning_points": [{"text": f"Bel {EMAIL} eerder.", "order": 2}]},
    "learning_points[0]": {"learning_points": [f"Bel {EMAIL} eerder."]},
    "source": {"source": f"Wijkteam, {EMAIL}"},
}


def gated_records() -> list[dict]:
    base = {"situation": SITUATION}
    return [{**base, "id": f"poort-{n}", **fields} for n, fields in enumerate(GATED.values())]


def assert_refused_per_field(findings: list[dict]) -> None:
    personal = {(f["case"], f["field"]) for f in findings if f["kind"] == "personal-data"}
    assert personal == {(f"poort-{n}", name) for n, name in enumerate(GATED)}, findings


def test_every_field_is_gated_in_process(empty_core):
    with pytest.raises(ImportRejected) as rejected:
        empty_core.import_records([(str(n), r) for n, r in enumerate(gated_records())])
    assert_refused_per_field(rejected.value.to_json()["findings"])
    assert empty_core.kg.case_count() == 0


def test_every_field_is_gated_through_http(client):
    before = client.get("/health").json()["cases"]
    response = client.post("/api/cases", json=gated_records(), headers=AUTH)
    assert response.status_code == 422, response.text
    assert_refused_per_field(response.json()["findings"])
    assert client.get("/health").json()["cases"] == before


def test_every_field_is_gated_through_the_cli(data_dir, tmp_path):
    done = cli("import-cases", str(write_jsonl(tmp_path / "poort.jsonl", gated_records())), data_dir=data_dir)
    assert done.returncode == 2, done.stdout + done.stderr
    for n, name in enumerate(GATED):
        assert f"poort-{n} [{name}] Dit lijkt een e-mailadres" in done.stderr, done.stderr
    assert stored(data_dir, "poort-0") is None


def assert_redacted(case: dict) -> None:
    assert EMAIL not in json.dumps(case, ensure_ascii=False) and "[E-MAIL]" in json.dumps(case, ensure_ascii=False)


def test_redact_covers_every_field_through_http(client):
    response = client.post("/api/cases", params={"redact": "true"}, json=gated_records(), headers=AUTH)
    assert response.status_code == 200, response.text
    assert {(r["case"], r["field"]) for r in response.json()["redactions"]} == {
        (f"poort-{n}", name) for n, name in enumerate(GATED)
    }
    for n in range(len(GATED)):
        assert_redacted(client.get(f"/api/cases/poort-{n}").json())


def test_redact_covers_every_field_through_the_cli(data_dir, tmp_path):
    done = cli(
        "import-cases", "--redact", str(write_jsonl(tmp_path / "poort.jsonl", gated_records())), data_dir=data_dir
    )
    assert done.returncode == 0, done.stderr
    for n in range(len(GATED)):
        assert_redacted(stored(data_dir, f"poort-{n}"))


BAD_ID = f"dossier {EMAIL}"


@pytest.mark.parametrize("redact", [False, True])
def test_an_id_with_personal_data_is_refused_never_redacted(empty_core, redact):
    with pytest.raises(ImportRejected) as rejected:
        empty_core.import_records([("r", {"id": BAD_ID, "situation": SITUATION})], redact=redact)
    [problem] = rejected.value.problems
    assert (problem.field, problem.kind) == ("id", "personal-data") and "nooit vervangen" in problem.message
    assert problem.case == "r"  # the refused id is not repeated as the case's name
    assert empty_core.kg.case_count() == 0


def test_an_id_with_personal_data_is_refused_through_http(client):
    response = client.post(
        "/api/cases", params={"redact": "true"}, json={"id": BAD_ID, "situation": SITUATION}, headers=AUTH
    )
    assert response.status_code == 422, response.text
    [finding] = response.json()["findings"]
    assert finding["field"] == "id" and "nooit vervangen" in finding["message"]


def test_an_id_with_personal_data_is_refused_through_the_cli(data_dir, tmp_path):
    path = write_jsonl(tmp_path / "id.jsonl", [{"id": BAD_ID, "situation": SITUATION}])
    done = cli("import-cases", "--redact", str(path), data_dir=data_dir)
    assert done.returncode == 2 and "[id] Het id bevat persoonsgegevens (E-MAIL)" in done.stderr, done.stderr


# --- order of texts ------------------------------------------------------------------------------------------


def test_interventions_keep_their_order_past_ten(empty_core):
    from ingest.checker import RecordChecker

    steps = [f"Stap {n}: overleg met de volgende partij." for n in range(12)]
    raw = {"id": "volgorde", "situation": SITUATION, "interventions": steps}
    checked = RecordChecker(empty_core.concepts).check("r", raw)
    assert checked is not None and checked.interventions == steps
    [case] = empty_core.import_records([("r", raw)]).cases
    assert sorted(read_case(empty_core.kg, case.iri, empty_core.concepts)["interventions"]) == sorted(steps)


# --- settings and the CLI's error mapping ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "variable, value",
    [("MAATWERK_SPARQL_TIMEOUT", "abc"), ("MAATWERK_MAX_K", "0"), ("MAATWERK_SHACL_IMPORT_LIMIT", "veel")],
)
def test_a_bad_setting_is_one_line_and_exit_2(tmp_path, variable, value):
    done = cli("serve", data_dir=tmp_path / "nergens", env={variable: value})
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and variable in lines[0] and "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "nergens").exists()


def test_settings_are_listed_with_keys_masked(tmp_path):
    secret = "zeer-geheime-sleutel-8d1"
    done = subprocess.run(
        [*MAATWERK, "settings", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "MAATWERK_API_KEYS": secret, "MAATWERK_SPARQL_TIMEOUT": "3"},
    )
    assert done.returncode == 0, done.stderr
    listed = {row["env"]: row for row in json.loads(done.stdout)}
    assert set(listed) == {s.env for s in REGISTRY} and secret not in done.stdout
    timeout = listed["MAATWERK_SPARQL_TIMEOUT"]
    assert (timeout["value"], timeout["default"]) == ("3.0", "10.0")
    assert all(row["help"] for row in listed.values())


def test_cli_search_filters_by_voorziening(small_dir, tmp_path):
    data_dir = tmp_path / "data"
    shutil.copytree(small_dir, data_dir)
    done = cli("search", "hulpmiddel voor thuis", "--json", "--voorziening", "rolstoel", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)["results"]
    assert results and all("rolstoel" in {v["id"] for v in r["voorzieningen"]} for r in results), results
    refused = cli("search", "hulpmiddel", "--voorziening", "vliegende schotel", data_dir=data_dir)
    assert refused.returncode == 2 and "Onbekend voorziening 'vliegende schotel'" in refused.stderr, refused.stderr
