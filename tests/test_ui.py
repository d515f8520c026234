"""The web UI without a browser: example queries, page rendering, highlighting, local assets.

The browser tests (test_browser.py) need Chromium; these run everywhere and catch a
broken template or query before anyone opens a page.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from api.ui.case import neighbourhood
from api.ui.pages import highlight, local_url
from api.ui.sparql import QUERY_DIR, example_queries
from graph.charts import CHARTS, chart_data, draw, with_year_filter
from graph.limited import Limits
from graph.sparql import run_query
from ontology.vocabulary import FILTER_PARAMS

HTML = {"Accept": "text/html"}
JSON = {"Accept": "application/json"}


# --- example queries -------------------------------------------------------------------------


def test_there_are_at_least_twelve_example_queries_with_dutch_titles():
    examples = example_queries()
    assert len(examples) >= 12
    for path in sorted(QUERY_DIR.glob("*.rq")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# ") and len(first) > 10, f"{path.name}: regel 1 is '# Nederlandse titel'"
    assert len({e.title for e in examples}) == len(examples), "titels zijn uniek"


@pytest.mark.parametrize("example", example_queries(), ids=lambda e: e.id)
def test_every_example_query_runs_on_the_demo_store_and_answers(demo_core, example):
    result = run_query(demo_core.kg, example.query)  # the endpoint's own checks and limits
    assert result.kind == "select"
    assert result.solutions, f"{example.id} geeft geen antwoord op de voorbeeldcasussen"


@pytest.mark.parametrize("chart", CHARTS, ids=lambda c: c.id)
def test_chart_queries_run_with_a_year_filter(demo_core, chart):
    query = {e.id: e.query for e in example_queries()}[chart.query_id]
    filtered = with_year_filter(query, 2021, 2023)
    assert "?jaar >= 2021 && ?jaar <= 2023" in filtered
    drawn = draw(demo_core.kg, chart, filtered, Limits())  # in the SPARQL sandbox, under its limits
    everything = draw(demo_core.kg, chart, with_year_filter(query, None, None), Limits())
    assert sum(int(r[chart.value]) for r in drawn.rows) <= sum(int(r[chart.value]) for r in everything.rows)
    assert drawn.rows == tuple(demo_core.kg.select(filtered))
    data = drawn.data
    assert data == chart_data(chart, list(drawn.rows))
    assert all(len(ds["data"]) == len(data["labels"]) for ds in data["datasets"])


def test_year_placeholder_disappears_when_there_is_no_filter():
    query = "SELECT * WHERE {\n  ?casus a mw:Casus .\n  #JAARFILTER\n}\n"
    assert "#JAARFILTER" not in with_year_filter(query, None, None)
    assert "FILTER(?jaar <= 2020)" in with_year_filter(query, None, 2020)


# --- helpers ---------------------------------------------------------------------------------


def test_highlight_escapes_before_marking():
    marked = str(
        highlight(
            "<script>alert(1)</script> De behandeling stopt & de Wmo 2015 helpt", ["behandel", "script"], ["Wmo 2015"]
        )
    )
    assert "<script>" not in marked
    assert "&lt;" in marked and "&amp;" in marked
    assert '<mark class="term">behandeling</mark>' in marked
    assert '<mark class="concept">Wmo 2015</mark>' in marked


def test_local_urls_for_our_iris():
    assert local_url("https://w3id.org/maatwerk/id/wet/wmo-2015") == "/id/wet/wmo-2015"
    assert local_url("https://w3id.org/maatwerk/id/casus/demo-001") == "/casus/demo-001"
    assert local_url("https://example.org/x") == "https://example.org/x"


def test_neighbourhood_links_similar_cases_only_through_shared_concepts():
    case = {
        "uri": "c1",
        "title": "Casus",
        "laws": [{"uri": "w1", "label": "Wmo 2015"}],
        "voorzieningen": [],
        "organisations": [{"uri": "o1", "label": "gemeente"}],
        "levensgebieden": [],
    }
    similar = [
        {
            "uri": "c2",
            "title": "Ander",
            "laws": [{"uri": "w1", "label": "Wmo 2015"}],
            "voorzieningen": [],
            "organisations": [],
            "levensgebieden": [],
        },
        {"uri": "c3", "title": "Los", "laws": [], "voorzieningen": [], "organisations": [], "levensgebieden": []},
    ]
    graph = neighbourhood(case, similar)
    assert [n["id"] for n in graph["nodes"]] == ["c1", "w1", "o1", "c2"]
    assert {"source": "w1", "target": "c2"} in graph["edges"]


# --- pages -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(small_dir, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("ui") / "data"
    shutil.copytree(small_dir, data_dir)
    with TestClient(create_app(replace(Settings(), data_dir=data_dir))) as client:
        yield client


def _only_local_assets(html: str) -> None:
    """Scripts, styles, images and fonts come from this server; only plain links may go elsewhere."""
    for tag, attr in (("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src")):
        for value in re.findall(rf"<{tag}\b[^>]*\b{attr}=\"([^\"]+)\"", html):
            assert value.startswith("/"), f"<{tag} {attr}={value}> is geen lokaal bestand"
    assert "@import" not in html and "fonts.googleapis" not in html


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/?q=rolstoel+past+niet+op+het+werk",
        "/casus/t-rolstoel-werk",
        "/id/wet/wmo-2015",
        "/id/organisatie/gemeente",
        "/id/knelpunttype/samenwerking",
        "/sparql",
        "/systeemleren",
        "/systeemleren?year_from=2022&year_to=2023",
    ],
)
def test_pages_render_in_dutch_with_local_assets(client, path):
    response = client.get(path, headers=HTML)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="nl">' in response.text
    for nav in ("Zoeken", "SPARQL", "Systeemleren", "API"):
        assert f">{nav}</a>" in response.text
    _only_local_assets(response.text)


def test_search_page_shows_cards_why_and_whom_to_contact(client):
    page = client.get("/", params={"q": "Man in rolstoel kan zijn bureau op het werk niet bereiken"}).text
    assert 'for="q">Beschrijf de situatie</label>' in page
    assert "Rolstoel past niet op de werkplek" in page
    assert "Waarom deze casus" in page and "<mark" in page
    assert "Mogelijk relevant" in page and "Wie kunt u benaderen" in page
    assert "https://wetten.overheid.nl/BWBR0035362" in page


def test_filters_come_back_from_the_url(client):
    page = client.get("/", params={"q": "rolstoel", "law": "wmo-2015", "status": "opgelost", "year_from": "2022"}).text
    assert '<option value="wmo-2015" selected>' in page
    assert '<option value="opgelost" selected>' in page
    assert 'value="2022"' in page


def test_bad_filters_get_a_dutch_message_not_an_error_page(client):
    response = client.get("/", params={"q": "rolstoel", "law": "bestaat-niet", "year_to": "vorig jaar"})
    assert response.status_code == 200
    assert "Jaar tot en met moet een jaartal zijn" in response.text


def test_case_page_has_everything_and_a_graph(client):
    page = client.get("/casus/t-rolstoel-werk").text
    for text in (
        "Situatie",
        "Oplossing",
        "Knelpunten",
        "Leerpunten",
        "2e orde",
        "fictief voorbeeld",
        "Vergelijkbare casussen",
        'id="graaf"',
        "cytoscape.min.js",
    ):
        assert text in page


def test_unknown_case_is_a_dutch_404(client):
    response = client.get("/casus/bestaat-niet", headers=HTML)
    assert response.status_code == 404
    assert "Er is geen casus" in response.text


def test_case_iri_in_a_browser_goes_to_the_case_page(client):
    response = client.get("/id/casus/t-rolstoel-werk", headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/casus/t-rolstoel-werk"


def test_law_page_shows_official_link_articles_and_cases(client):
    page = client.get("/id/wet/wmo-2015", headers=HTML).text
    assert "https://wetten.overheid.nl/BWBR0035362" in page
    assert "Rolstoel past niet op de werkplek" in page
    assert "Casussen (" in page


def test_sparql_page_embeds_yasgui_and_the_examples(client):
    page = client.get("/sparql", headers=HTML).text
    assert "/static/vendor/yasgui/yasgui.min.js" in page
    assert page.count('class="example"') == len(example_queries())
    shown = client.get("/sparql", params={"vraag": "SELECT ?x WHERE { ?x a mw:Casus }"}, headers=HTML).text
    assert "SELECT ?x WHERE { ?x a mw:Casus }" in shown


def test_vendored_assets_are_served(client):
    for path in (
        "/static/vendor/yasgui/yasgui.min.js",
        "/static/vendor/yasgui/yasgui.min.css",
        "/static/vendor/cytoscape/cytoscape.min.js",
        "/static/vendor/chartjs/chart.umd.min.js",
        "/static/css/maatwerk.css",
        "/static/js/graaf.js",
        "/static/js/sparql.js",
        "/static/js/grafieken.js",
    ):
        assert client.get(path).status_code == 200, path


# --- one name per parameter --------------------------------------------------------------------


def test_the_search_page_and_the_api_name_their_filters_alike(client):
    page = client.get("/", params={"q": "rolstoel"}).text
    fields = set(re.findall(r'<(?:select|input|textarea)\b[^>]*\bname="([^"]+)"', page))
    assert fields == {"q", *FILTER_PARAMS}
    listed = client.get("/openapi.json").json()["paths"]["/api/cases"]["get"]["parameters"]
    assert {p["name"] for p in listed} == {"q", "page", "page_size", "format", *FILTER_PARAMS}


def test_the_cli_names_its_filters_like_the_api():
    from typer.main import get_command

    from api.cli import app

    search = get_command(app).commands["search"]  # type: ignore[attr-defined]
    options = {opt for param in search.params for opt in param.opts if opt.startswith("--")}
    assert {"--" + name.replace("_", "-") for name in FILTER_PARAMS} <= options


def test_a_search_page_address_is_an_api_call(client):
    """The filters of a shared page address work unchanged on /api/cases (no unknown parameters)."""
    params = {"q": "rolstoel", "law": "wmo-2015", "status": "opgelost", "year_from": "2020", "year_to": "2024"}
    assert client.get("/", params=params).status_code == 200
    answer = client.get("/api/cases", params=params)
    assert answer.status_code == 200, answer.text
    assert answer.json()["items"], "the same filters find the same case"


# --- unknown parameters -------------------------------------------------------------------------


def test_an_unknown_parameter_is_a_422_naming_the_known_ones(client):
    response = client.get("/api/cases", params={"limit": 2})
    assert response.status_code == 422
    body = response.json()
    assert body["unknown"] == ["limit"]
    assert "page_size" in body["known"] and "law" in body["known"]
    assert "limit" in body["error"] and "page_size" in body["detail"]


def _json_api_get_routes(client) -> list[str]:
    paths = client.get("/openapi.json").json()["paths"]
    return [
        path.replace("{case_id}", "t-rolstoel-werk")
        for path, ops in paths.items()
        if "get" in ops and (path.startswith("/api/") or path == "/health")
    ]


def test_every_get_route_of_the_json_api_refuses_unknown_parameters(client):
    routes = _json_api_get_routes(client)
    assert {"/api/cases", "/api/laws", "/api/concepts", "/health"} <= set(routes)
    for path in routes:
        response = client.get(path, params={"bestaat_niet": "1"})
        assert response.status_code == 422, path
        assert response.json()["unknown"] == ["bestaat_niet"], path


def test_a_post_checks_its_key_before_its_parameters(client):
    response = client.post("/api/cases", params={"api_key": "x"}, json={})
    assert response.status_code == 403  # writes are off here: the key check answers first, as before


def test_known_parameters_still_work(client):
    assert client.get("/api/concepts", params={"q": "wmo", "kind": "wet", "limit": 3}).status_code == 200
    assert client.get("/api/cases/t-rolstoel-werk/similar", params={"k": 2}).status_code == 200


# --- CSV export and JSON twins ------------------------------------------------------------------


@pytest.mark.parametrize("how", [{"params": {"format": "csv"}}, {"headers": {"Accept": "text/csv"}}])
def test_a_result_list_exports_as_csv(client, how):
    params = {"law": "wmo-2015", "page_size": 5, **how.get("params", {})}
    response = client.get("/api/cases", params=params, headers=how.get("headers"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    listed = client.get("/api/cases", params={"law": "wmo-2015", "page_size": 5}).json()
    assert [r["id"] for r in rows] == [i["id"] for i in listed["items"]]
    assert all("Wmo 2015" in r["laws"] for r in rows)
    assert response.headers["x-total-count"] == str(listed["total"])


def test_a_csv_cell_cannot_become_a_spreadsheet_formula():
    from api.routes.cases import _cell

    assert _cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert _cell(-3) == "-3"
    assert _cell(None) == ""


def test_the_case_page_has_a_json_twin(client):
    page = client.get("/casus/t-rolstoel-werk", headers=HTML).text
    assert '<link rel="alternate" type="application/json" href="/casus/t-rolstoel-werk?format=json">' in page
    twin = client.get("/casus/t-rolstoel-werk", headers={"Accept": "application/json"})
    assert twin.headers["content-type"].startswith("application/json")
    data = twin.json()
    assert data["case"] == client.get("/api/cases/t-rolstoel-werk").json()
    assert data["graph"]["nodes"][0]["id"] == data["case"]["uri"]
    assert client.get("/casus/t-rolstoel-werk?format=json").json() == data
    assert client.get("/casus/bestaat-niet", headers={"Accept": "application/json"}).status_code == 404


def test_a_resource_page_has_a_json_twin(client):
    page = client.get("/id/wet/wmo-2015", headers=HTML).text
    assert '<link rel="alternate" type="application/json" href="/id/wet/wmo-2015?format=json">' in page
    for twin in (client.get("/id/wet/wmo-2015?format=json"), client.get("/id/wet/wmo-2015", headers=JSON)):
        assert twin.status_code == 200
        assert "Wmo 2015" in json.dumps(twin.json(), ensure_ascii=False)
    assert "/api/cases?law=wmo-2015&amp;page_size=100&amp;format=csv" in page


def test_systeemleren_has_a_json_twin_with_the_chart_data(client):
    page = client.get("/systeemleren?year_from=2021", headers=HTML).text
    assert '<link rel="alternate" type="application/json" href="/systeemleren?year_from=2021&amp;format=json">' in page
    data = client.get("/systeemleren?year_from=2021", headers=JSON).json()
    assert data["year_from"] == 2021
    assert [c["id"] for c in data["charts"]] == [c.id for c in CHARTS]
    assert all(len(ds["data"]) == len(c["data"]["labels"]) for c in data["charts"] for ds in c["data"]["datasets"])
    assert "?jaar >= 2021" in data["charts"][0]["query"]


def test_a_reversed_year_range_is_swapped_and_said_in_dutch(client):
    page = client.get("/systeemleren?year_from=2025&year_to=2020", headers=HTML).text
    assert "De jaren zijn omgedraaid" in page
    assert "Periode: 2020 tot en met 2025." in page
    data = client.get("/systeemleren?year_from=2025&year_to=2020", headers=JSON).json()
    assert (data["year_from"], data["year_to"]) == (2020, 2025)
    assert any("omgedraaid" in m for m in data["notices"]) and not data["errors"]
    assert any(c["data"]["labels"] for c in data["charts"]), "the swapped period has cases"


def test_the_case_page_links_back_to_the_search_it_came_from(client):
    search = "/?q=rolstoel+op+het+werk&law=wmo-2015"
    page = client.get("/casus/t-rolstoel-werk", headers={**HTML, "Referer": "http://testserver" + search}).text
    assert f'<a href="{search.replace("&", "&amp;")}" data-terug>' in page and "Terug naar resultaten" in page
    elsewhere = client.get("/casus/t-rolstoel-werk", headers={**HTML, "Referer": "http://elders.example/?q=x"}).text
    assert "Terug naar resultaten" not in elsewhere and '<a href="/">← Naar zoeken</a>' in elsewhere


# --- texts --------------------------------------------------------------------------------------


def test_demo_texts_address_the_reader_as_u():
    from ontology import DEMO_CASES_FILE, HERE

    cases = [json.loads(line) for line in DEMO_CASES_FILE.read_text(encoding="utf-8").splitlines()]
    leerpunten = [lp["text"] for case in cases for lp in case.get("learning_points", [])]
    contacts = re.findall(r'mw:contact "([^"]+)"', (HERE / "organisations.ttl").read_text(encoding="utf-8"))
    assert leerpunten and contacts
    for text in leerpunten + contacts:
        assert not re.search(r"\b(je|jij|jouw)\b", text, re.I), text


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (
            "/?q=rolstoel&wet=wmo-2015&knelpunt=samenwerking&jaar_van=2021&jaar_tot=2023&aantal=25",
            "/?q=rolstoel&law=wmo-2015&knelpunttype=samenwerking&year_from=2021&year_to=2023&page_size=25",
        ),
        ("/systeemleren?jaar_van=2022", "/systeemleren?year_from=2022"),
    ],
)
def test_old_page_addresses_redirect_to_the_new_parameter_names(client, old, new):
    response = client.get(old, follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["location"] == new
    assert client.get(new).status_code == 200


# --- the SPARQL limits on pages -----------------------------------------------------------------


@pytest.fixture(scope="module")
def limited(small_dir, tmp_path_factory):
    """An app whose SPARQL time limit no query can meet, as on a store far bigger than this one."""
    data_dir = tmp_path_factory.mktemp("ui-limits") / "data"
    shutil.copytree(small_dir, data_dir)
    with TestClient(create_app(replace(Settings(), data_dir=data_dir, sparql_timeout_s=1e-6))) as client:
        yield client


def test_charts_over_the_time_limit_say_so_in_dutch(limited):
    response = limited.get("/systeemleren")
    assert response.status_code == 200
    assert response.text.count("Deze grafiek kon niet worden berekend") == len(CHARTS)
    assert "<canvas" not in response.text
    _only_local_assets(response.text)


def test_a_resource_page_over_the_time_limit_says_so_in_dutch(limited):
    response = limited.get("/id/organisatie/gemeente", headers=HTML)
    assert response.status_code == 200
    assert "konden niet worden opgehaald" in response.text and "Probeer het later opnieuw" in response.text
    assert "Nog geen casussen" not in response.text
    assert limited.get("/casus/t-rolstoel-werk").status_code == 200


def test_reference_lists_over_the_limits_are_a_503_not_a_500(limited, monkeypatch):
    response = limited.get("/api/laws")
    assert response.status_code == 503 and "error" in response.json()
    core = limited.app.state.maatwerk
    monkeypatch.setattr(core, "limits", Limits(timeout_s=30, row_limit=1))
    cut = limited.get("/api/organisations")
    assert cut.status_code == 503 and "meer dan 1 rijen" in cut.json()["error"], "never a silently shorter list"
    page = limited.get("/systeemleren").text
    assert "Niet alle cijfers passen in één antwoord" in page


def test_sparql_page_offers_the_plain_version_and_explains_the_time_limit(client):
    html = client.get("/sparql", headers=HTML).text
    assert 'data-query-id="01-knelpunten-per-wet-gewoon"' in html and "gewone versie" in html
    assert "Tijdslimiet en snelle tellingen" in html and "kubus" in html
    listed = re.search(r'<script type="application/json" id="sparql-voorbeelden">(.*?)</script>', html, re.S)
    entries = {e["id"]: e for e in json.loads(listed.group(1))}
    assert "graph/kubus" in entries["01-knelpunten-per-wet"]["query"]
    assert "graph/kubus" not in entries["01-knelpunten-per-wet-gewoon"]["query"]
