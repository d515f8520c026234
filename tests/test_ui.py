"""The web UI without a browser: example queries, page rendering, highlighting, local assets.

The browser tests (test_browser.py) need Chromium; these run everywhere and catch a
broken template or query before anyone opens a page.
"""

from __future__ import annotations

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
    assert {p["name"] for p in listed} == {"q", "page", "page_size", *FILTER_PARAMS}


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
