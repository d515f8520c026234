"""Leerpunt follow-up on the systeemleren page (issue 17, point 2): per addressee and status, and still open a year on."""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from graph.leerpunten import NOT_RECORDED

TODAY = date.today()
LONG_AGO = (TODAY - timedelta(days=400)).isoformat()
RECENT = (TODAY - timedelta(days=30)).isoformat()


def point(text: str, addressees: list[str], status: str | None = None, presented_on: str | None = None) -> dict:
    found = {"text": text, "order": 2, "addressees": addressees}
    if status:
        found["follow_up"] = status
    if presented_on:
        found["presented_on"] = presented_on
    return found


def case(case_id: str, year: int, points: list[dict]) -> dict:
    return {
        "id": case_id,
        "title": f"Opvolging {case_id}",
        "year": year,
        "situation": "Een gezin krijgt van gemeente en UWV tegenstrijdige brieven over dezelfde uitkering.",
        "learning_points": points,
    }


CASES = [
    case(
        "opv-1",
        TODAY.year,
        [
            point("Oud open leerpunt over brieven die elkaar tegenspreken.", ["UWV", "gemeente"], "open", LONG_AGO),
            point("Recent voorgelegd leerpunt over de termijnen.", ["UWV"], "voorgelegd", RECENT),
            point("Oud en al doorgevoerd leerpunt over de kosten.", ["UWV"], "doorgevoerd", LONG_AGO),
        ],
    ),
    case(
        "opv-2",
        TODAY.year - 3,
        [
            point("Leerpunt zonder datum uit een oude casus.", ["SVB"], "voorgelegd"),
            point("Leerpunt zonder opvolgstatus voor de SVB.", ["SVB"]),
        ],
    ),
    case("opv-3", TODAY.year, [point("Leerpunt zonder datum uit een casus van dit jaar.", ["gemeente"], "open")]),
]

OPEN_A_YEAR_ON = {
    "Oud open leerpunt over brieven die elkaar tegenspreken.",
    "Leerpunt zonder datum uit een oude casus.",
}


@pytest.fixture(scope="module")
def client(tmp_path_factory, small_dir):
    data_dir = tmp_path_factory.mktemp("leerpunten") / "data"
    shutil.copytree(small_dir, data_dir)
    app = create_app(Settings().with_data_dir(data_dir))
    with TestClient(app) as client:
        app.state.maatwerk.import_records([("test", c) for c in CASES])
        yield client


def expected_counts() -> Counter:
    counts: Counter = Counter()
    for c in CASES:
        for p in c["learning_points"]:
            for organisation in p["addressees"]:
                counts[(organisation.casefold(), p.get("follow_up", NOT_RECORDED))] += 1
    return counts


def test_counts_per_addressee_and_status_equal_the_imported_data(client):
    follow_up = client.get("/systeemleren?format=json").json()["leerpunten"]
    table = follow_up["per_geadresseerde"]
    assert table["error"] is None and "mw:geadresseerde" in table["query"]
    counts = Counter(
        {(row["naam"].casefold(), status): n for row in table["rijen"] for status, n in row["aantallen"].items()}
    )
    assert counts == expected_counts()
    uwv = next(row for row in table["rijen"] if row["naam"] == "UWV")
    assert uwv["totaal"] == 3


def test_each_number_links_to_its_leerpunten(client):
    table = client.get("/systeemleren?format=json").json()["leerpunten"]["per_geadresseerde"]
    svb = next(row for row in table["rijen"] if row["naam"] == "SVB")
    listed = client.get(svb["lijsten"][NOT_RECORDED] + "&format=json").json()
    assert [p["leerpunt"] for p in listed["leerpunten"]] == ["Leerpunt zonder opvolgstatus voor de SVB."]
    uwv = next(row for row in table["rijen"] if row["naam"] == "UWV")
    page = client.get(uwv["lijsten"]["open"])
    assert page.status_code == 200 and "Oud open leerpunt over brieven" in page.text
    assert "Recent voorgelegd" not in page.text and "/casus/opv-1" in page.text
    assert client.get("/systeemleren/leerpunten?geadresseerde=uwv&opvolging=misschien").status_code == 422


def test_only_leerpunten_open_a_year_on_are_listed(client):
    listed = client.get("/systeemleren?format=json").json()["leerpunten"]["open_na_een_jaar"]
    assert listed["error"] is None
    assert {p["leerpunt"] for p in listed["leerpunten"]} == OPEN_A_YEAR_ON
    old = next(p for p in listed["leerpunten"] if p["voorgelegd_op"])
    assert old["voorgelegd_op"] == LONG_AGO and old["opvolging"] == "open" and old["adres"] == "/casus/opv-1"
    assert sorted(old["geadresseerden"].split(", ")) == ["UWV", "gemeente"]


def test_page_shows_both_overviews_with_their_queries(client):
    page = client.get("/systeemleren")
    assert page.status_code == 200
    html = page.text
    assert 'id="kop-leerpunten"' in html and 'id="kop-open-leerpunten"' in html
    assert "/systeemleren/leerpunten?geadresseerde=" in html
    assert "Oud open leerpunt over brieven" in html and "Recent voorgelegd leerpunt" not in html
    assert "Oud en al doorgevoerd" not in html and "Leerpunt zonder datum uit een casus van dit jaar" not in html
    assert "mw:voorgelegdOp" in html  # the query that runs is shown
    assert "<script>" not in html and " onclick=" not in html  # CSP: no inline scripts
