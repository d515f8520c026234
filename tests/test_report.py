"""Issue 17 points 3-6 through the HTTP API on the demo corpus: the yearly report, drill-down and
exports, the maatwerkregister and feedback on search results."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from urllib.parse import parse_qsl, urlparse

import openpyxl
import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from api.feedback import FeedbackStore, export_pairs
from api.settings import Settings
from graph.charts import CHARTS
from graph.contacts import GRAPH_REGISTER, contact_points
from graph.errors import InvalidInput, MaatwerkError
from ontology import ID
from tests.conftest import open_core

YEAR = 2023
UWV, SVB = ID + "organisatie/uwv", ID + "organisatie/svb"
SPARQL_JSON = "application/sparql-results+json"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("report") / "data"
    core = open_core(data_dir)
    core.init(demo=True)
    core.close()
    return data_dir


@pytest.fixture(scope="module")
def client(data_dir):
    with TestClient(create_app(Settings().with_data_dir(data_dir))) as client:
        yield client


def count(client, query: str) -> int:
    """A single number from our own SPARQL endpoint: the check beside the report's numbers."""
    response = client.get("/sparql", params={"query": query}, headers={"accept": SPARQL_JSON})
    assert response.status_code == 200, response.text
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


# --- the yearly report -------------------------------------------------------------------------


def test_report_json_twin_matches_sparql_counts(client):
    report = client.get("/systeemleren/rapport", params={"jaar": YEAR, "format": "json"}).json()
    cases = count(client, f"SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {{ ?c a mw:Casus ; mw:jaar {YEAR} }}")
    assert report["casussen"] == cases > 0
    assert {"jaar": YEAR, "casussen": cases} in report["trend"]
    knelpunten = next(f for f in report["figuren"] if f["id"] == "knelpunttypen")
    for bar in knelpunten["staven"]:
        expected = count(
            client,
            f"""SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {{ ?c a mw:Casus ; mw:jaar {YEAR} ;
                mw:knelpunt/mw:knelpuntType/skos:prefLabel "{bar["label"]}"@nl }}""",
        )
        assert bar["waarde"] == expected, bar["label"]
    points = sum(len(o["leerpunten"]) for o in report["leerpunten"])
    assert points == count(
        client, f"SELECT (COUNT(DISTINCT ?l) AS ?n) WHERE {{ ?c a mw:Casus ; mw:jaar {YEAR} ; mw:leerpunt ?l }}"
    )
    assert all(lp["opvolging"] == "niet vastgelegd" for o in report["leerpunten"] for lp in o["leerpunten"])


def test_report_page_has_every_section_and_names_each_query(client):
    chosen = client.get("/systeemleren/rapport", params={"jaar": YEAR, "format": "json"}).json()["kandidaten"][0]
    page = client.get("/systeemleren/rapport", params={"jaar": YEAR, "voorbeeld": chosen["id"]})
    assert page.status_code == 200
    for heading in (
        "Jaarrapportage systeemleren 2023",
        "Aantal casussen",
        "Knelpunten",
        "Levensgebieden",
        "Wetten",
        "Leerpunten",
        "Voorbeeldcasussen",
        "Bijlage: de SPARQL-queries",
    ):
        assert heading in page.text, heading
    assert chosen["titel"] in page.text
    for query_id in (
        "09-casussen-per-jaar-en-status",
        "11-knelpunttypen-tellen",
        "16-levensgebieden-samen",
        "08-wetten-samen",
        "17-voorzieningen-tellen",
        "18-leerpunten-met-opvolging",
    ):
        assert f"<code>{query_id}</code>" in page.text, query_id
    assert page.text.count('href="/sparql?vraag=') >= 9
    assert "<script" not in page.text.split("</header>", 1)[1].split("<footer", 1)[0], "figures need no script"


def test_report_refuses_a_bad_year(client):
    assert client.get("/systeemleren/rapport", params={"jaar": "twee", "format": "json"}).status_code == 422


# --- drill-down and export ----------------------------------------------------------------------


@pytest.mark.parametrize("chart", CHARTS, ids=lambda c: c.id)
def test_every_bar_lists_exactly_the_cases_it_counts(client, chart):
    data = client.get(f"/systeemleren/grafiek/{chart.id}", params={"year_from": YEAR, "year_to": YEAR}).json()
    assert data["rijen"], "no bars in 2023"
    if "Lijst van casussen" not in data["kolommen"]:  # stacked: the page links each cell; check them there
        page = client.get("/systeemleren", params={"year_from": YEAR, "year_to": YEAR}).text
        assert "/systeemleren/casussen?jaar=" not in page
        return
    for row in data["rijen"][:6]:
        link, value = row[-1], row[1]
        listed = client.get(link + "&format=json").json()
        assert listed["aantal"] == value, (row[0], link)
        assert dict(parse_qsl(urlparse(link).query))["year_from"] == str(YEAR)


def test_stacked_year_cells_link_to_their_cases(client):
    page = client.get("/systeemleren").text
    link = "/systeemleren/casussen?status=opgelost&amp;year_from=2022&amp;year_to=2022"
    assert link in page
    listed = client.get(link.replace("&amp;", "&") + "&format=json").json()
    solved = count(client, 'SELECT (COUNT(?c) AS ?n) WHERE { ?c a mw:Casus ; mw:jaar 2022 ; mw:status "opgelost" }')
    assert listed["aantal"] == solved
    assert {"filter": "Status", "waarde": "opgelost"} in listed["filters"]


def test_chart_exports_as_csv_and_xlsx_with_the_same_rows(client):
    params = {"year_from": YEAR, "year_to": YEAR}
    rows = client.get("/systeemleren/grafiek/knelpunttypen", params=params).json()["rijen"]
    response = client.get("/systeemleren/grafiek/knelpunttypen", params={**params, "format": "csv"})
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="grafiek-knelpunttypen-2023-2023.csv"'
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert table[0] == ["Knelpunttypen", "Casussen", "Lijst van casussen"]
    assert [[r[0], int(r[1]), r[2]] for r in table[1:]] == rows

    response = client.get("/systeemleren/grafiek/knelpunttypen", params={**params, "format": "xlsx"})
    assert response.headers["content-disposition"].endswith('.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert cells[0] == table[0]
    assert cells[1:] == rows


def test_case_list_exports(client):
    params = {"law": "wmo-2015", "levensgebied": "financien", "year_from": YEAR, "year_to": YEAR}
    listed = client.get("/systeemleren/casussen", params={**params, "format": "json"}).json()
    assert listed["filters"][:2] == [
        {"filter": "Wet", "waarde": "Wmo 2015"},
        {"filter": "Levensgebied", "waarde": "financiën"},
    ]
    expected = count(
        client,
        f"""SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {{ ?c a mw:Casus ; mw:jaar {YEAR} ;
            mw:betreftWet <{ID}wet/wmo-2015> ; mw:levensgebied <{ID}levensgebied/financien> }}""",
    )
    assert listed["aantal"] == expected > 0
    csv_text = client.get("/systeemleren/casussen", params={**params, "format": "csv"}).content.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(csv_text)))
    assert table[0] == ["Casus", "Titel", "Jaar", "Status", "Adres"]
    assert sorted(r[0] for r in table[1:]) == sorted(c["id"] for c in listed["casussen"])
    xlsx = client.get("/systeemleren/casussen", params={**params, "format": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.max_row == expected + 1
    assert [c.value for c in sheet[1]] == table[0]
    html = client.get("/systeemleren/casussen", params=params).text
    assert "Wmo 2015" in html and "financiën" in html and "format=xlsx" in html


def test_case_list_refuses_unknown_filters(client):
    response = client.get("/systeemleren/casussen", params={"law": "geen-wet", "format": "json"})
    assert response.status_code == 422
    assert "geen-wet" in json.dumps(response.json())
    assert client.get("/systeemleren/casussen", params={"status": "weg", "format": "csv"}).status_code == 422


def test_spreadsheet_cells_never_become_formulas():
    from api.export import _neutral

    assert _neutral('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert _neutral(-3) == -3


# --- the maatwerkregister -----------------------------------------------------------------------

HEADER = "organisatie,rol,kanaal,adres,omschrijving,toestemming_naam,naam,naam_email,naam_telefoon\n"


def test_demo_contacts_are_loaded_and_shown_on_the_organisation_page(client):
    page = client.get("/id/organisatie/uwv", headers={"accept": "text/html"}).text
    assert "Contactpunten voor maatwerk" in page
    assert 'href="mailto:maatwerk@uwv.voorbeeld.nl"' in page
    assert "Maatwerkfunctionaris" in page and "Escalatiepunt" in page


def test_import_contacts_replaces_one_organisations_points_only(empty_core, tmp_path):
    first = tmp_path / "a.csv"
    first.write_text(
        HEADER + "UWV,maatwerkfunctionaris,functionele mailbox,mw@uwv.voorbeeld.nl,,nee,,,\n"
        "UWV,escalatiepunt,telefoon,088 000 0101,,nee,,,\n"
        "SVB,regievoerder,webformulier,https://svb.voorbeeld.nl/f,,ja,Ada Voorbeeld,ada@svb.voorbeeld.nl,\n",
        encoding="utf-8",
    )
    result = empty_core.import_contacts(first)
    assert (len(result.organisations), result.points) == (2, 3)
    again = tmp_path / "b.csv"
    again.write_text(HEADER + "UWV,regievoerder,telefoon,+31 88 000 0999,,nee,,,\n", encoding="utf-8")
    empty_core.import_contacts(again)
    points = contact_points(empty_core.kg, [UWV, SVB])
    assert [(p.role, p.address) for p in points[UWV]] == [("regievoerder", "tel:+31880000999")]
    assert points[SVB][0].person == "Ada Voorbeeld" and points[SVB][0].person_email == "ada@svb.voorbeeld.nl"
    assert empty_core.validate().conforms


@pytest.mark.parametrize(
    "row, message",
    [
        ("Onbekende Dienst,maatwerkfunctionaris,telefoon,088 000 0101,,nee,,,", "staat niet in de graaf"),
        ("UWV,baas,telefoon,088 000 0101,,nee,,,", "rol 'baas'"),
        ("UWV,maatwerkfunctionaris,functionele mailbox,geen-adres,,nee,,,", "geen e-mailadres"),
        ("UWV,maatwerkfunctionaris,telefoon,12,,nee,,,", "geen geldig telefoonnummer"),
        ("UWV,maatwerkfunctionaris,webformulier,javascript:alert(1),,nee,,,", "geen webadres"),
        ("UWV,maatwerkfunctionaris,telefoon,088 000 0101,,nee,Jan Voorbeeld,,", "alleen met toestemming_naam = ja"),
    ],
)
def test_import_contacts_refuses_bad_rows_and_changes_nothing(empty_core, tmp_path, row, message):
    before = set(empty_core.kg.store.quads_for_pattern(None, None, None, ox.NamedNode(GRAPH_REGISTER)))
    path = tmp_path / "c.csv"
    path.write_text(HEADER + "SVB,maatwerkfunctionaris,functionele mailbox,m@svb.voorbeeld.nl,,nee,,,\n" + row + "\n")
    with pytest.raises(InvalidInput) as refused:
        empty_core.import_contacts(path)
    assert any(message in line and line.startswith("regel 3") for line in refused.value.detail), refused.value.detail
    after = set(empty_core.kg.store.quads_for_pattern(None, None, None, ox.NamedNode(GRAPH_REGISTER)))
    assert after == before, "a refused file must change nothing, also not its good rows"


def test_import_contacts_cli_exit_code(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("organisatie,rol\nUWV,maatwerkfunctionaris\n", encoding="utf-8")
    command = [sys.executable, "-m", "api.cli", "import-contacts", str(path), "--data-dir", str(tmp_path / "data")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "kolom ontbreekt: kanaal" in result.stderr


POST_TTL = """
@prefix org: <http://www.w3.org/ns/org#> . @prefix vcard: <http://www.w3.org/2006/vcard/ns#> .
@prefix mw: <https://w3id.org/maatwerk/def#> . @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@base <https://w3id.org/maatwerk/id/> .
<organisatie/uwv> a org:Organization ; org:hasPost <contactpunt/uwv/9> .
<contactrol/regievoerder> a org:Role . <contactkanaal/telefoon> a skos:Concept .
<contactpunt/uwv/9> a org:Post ; org:role <contactrol/regievoerder> ; mw:kanaal <contactkanaal/telefoon> ;
    vcard:hasTelephone <tel:+31880000101> ; mw:toestemmingNaam CONSENT ; org:heldBy <contactpunt/uwv/9/persoon> .
<contactpunt/uwv/9/persoon> a vcard:Individual ; vcard:fn "Jan Voorbeeld" .
"""


@pytest.mark.parametrize("consent, allowed", [("false", False), ("true", True)])
def test_a_named_person_needs_consent_in_the_shapes(consent, allowed):
    from graph.validate import validate_triples

    triples = list(ox.parse(POST_TTL.replace("CONSENT", consent), format=ox.RdfFormat.TURTLE))
    on_post = [v for v in validate_triples(triples).violations if v.focus == ID + "contactpunt/uwv/9"]
    assert (not on_post) == allowed, on_post


def test_a_contacts_mailbox_pasted_into_a_case_is_refused(empty_core):
    case = {
        "id": "lek-1",
        "title": "Contactgegevens in een casus",
        "situation": "Een vrouw loopt vast bij haar uitkering; de melder schreef: mail maatwerk@uwv.voorbeeld.nl of "
        "bel 088 000 0101 voor overleg over de WW.",
        "laws": ["WW"],
        "fictional": True,
    }
    with pytest.raises(MaatwerkError) as refused:
        empty_core.import_records([("lek-1", case)])
    assert "E-MAIL" in json.dumps(refused.value.to_json(), ensure_ascii=False).upper()
    assert empty_core.kg.case_count() == 0


# --- feedback ----------------------------------------------------------------------------------


def test_feedback_is_stored_gated_and_exported(client, data_dir, tmp_path):
    store = FeedbackStore(data_dir)
    before = len(store.rows())
    ok = client.post(
        "/api/feedback", json={"query": "rolstoel past niet op het werk", "case_id": "demo-007", "vote": "gezocht"}
    )
    assert ok.status_code == 201 and ok.json() == {"opgeslagen": True, "query_bewaard": True}
    client.post(
        "/api/feedback", json={"query": "rolstoel past niet op het werk", "case_id": "demo-013", "vote": "nuttig"}
    )
    gated = client.post(
        "/api/feedback", json={"query": "mevrouw met BSN 111222333 zoekt hulp", "case_id": "demo-007", "vote": "nuttig"}
    )
    assert gated.status_code == 201 and gated.json()["query_bewaard"] is False
    rows = store.rows()[before:]
    assert rows == [
        ("rolstoel past niet op het werk", "demo-007", "gezocht"),
        ("rolstoel past niet op het werk", "demo-013", "nuttig"),
        (None, "demo-007", "nuttig"),
    ]
    assert "111222333" not in store.path.read_bytes().decode("latin-1")
    for bad in (
        {"query": "x", "case_id": "bestaat-niet", "vote": "nuttig"},
        {"query": "x", "case_id": "demo-007", "vote": "geweldig"},
        {"query": " ", "case_id": "demo-007", "vote": "nuttig"},
    ):
        assert client.post("/api/feedback", json=bad).status_code in (404, 422), bad

    out = tmp_path / "feedback.jsonl"
    result = CliRunner().invoke(cli, ["feedback", "export", "--out", str(out), "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    mine = next(line for line in lines if line["query"] == "rolstoel past niet op het werk")
    assert mine == {
        "query": "rolstoel past niet op het werk",
        "relevant": ["demo-007"],
        "partial": ["demo-013"],
        "kind": "precedent",
        "not_relevant": [],
        "source": "feedback",
    }
    page = client.get("/systeemleren").text
    assert "Feedback op zoekresultaten per week" in page and "-W" in page


def test_export_pairs_weighs_votes():
    rows = [
        ("q", "a", "nuttig"),
        ("q", "a", "niet_nuttig"),
        ("q", "b", "nuttig"),
        ("q", "c", "niet_nuttig"),
        (None, "d", "gezocht"),
    ]
    assert export_pairs(rows) == [
        {
            "query": "q",
            "relevant": ["b"],
            "partial": [],
            "kind": "precedent",
            "not_relevant": ["c"],
            "source": "feedback",
        }
    ]
