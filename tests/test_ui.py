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

from api import ui
from api.app import create_app
from api.settings import Settings
from graph.sparql import run_query

HTML = {"Accept": "text/html"}


# --- example queries -------------------------------------------------------------------------


def test_there_are_at_least_twelve_example_queries_with_dutch_titles():
    examples = ui.example_queries()
    assert len(examples) >= 12
    for path in sorted(ui.QUERY_DIR.glob("*.rq")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# ") and len(first) > 10, f"{path.name}: regel 1 is '# Nederlandse titel'"
    assert len({e.title for e in examples}) == len(examples), "titels zijn uniek"


@pytest.mark.parametrize("example", ui.example_queries(), ids=lambda e: e.id)
def test_every_example_query_runs_on_the_demo_store_and_answers(demo_core, example):
    result = run_query(demo_core.kg, example.query)  # the endpoint's own checks and limits
    assert result.kind == "select"
    assert result.solutions, f"{example.id} geeft geen antwoord op de voorbeeldcasussen"


@pytest.mark.parametrize("chart", ui.CHARTS, ids=lambda c: c.id)
def test_chart_queries_run_with_a_year_filter(demo_core, chart):
    query = {e.id: e.query for e in ui.example_queries()}[chart.query_id]
    filtered = ui.with_year_filter(query, 2021, 2023)
    assert "?jaar >= 2021 && ?jaar <= 2023" in filtered
    rows = demo_core.kg.select(filtered)
    everything = demo_core.kg.select(query)
    assert sum(int(r[chart.value]) for r in rows) <= sum(int(r[chart.value]) for r in everything)
    data = ui.chart_data(chart, rows)
    assert all(len(ds["data"]) == len(data["labels"]) for ds in data["datasets"])


def test_year_placeholder_disappears_when_there_is_no_filter():
    query = "SELECT * WHERE {\n  ?casus a mw:Casus .\n  #JAARFILTER\n}\n"
    assert "#JAARFILTER" not in ui.with_year_filter(query, None, None)
    assert "FILTER(?jaar <= 2020)" in ui.with_year_filter(query, None, 2020)


# --- helpers ---------------------------------------------------------------------------------


def test_highlight_escapes_before_marking():
    marked = str(ui.highlight("<script>alert(1)</script> De behandeling stopt & de Wmo 2015 helpt",
                              ["behandel", "script"], ["Wmo 2015"]))
    assert "<script>" not in marked
    assert "&lt;" in marked and "&amp;" in marked
    assert '<mark class="term">behandeling</mark>' in marked
    assert '<mark class="concept">Wmo 2015</mark>' in marked


def test_local_urls_for_our_iris():
    assert ui.local_url("https://w3id.org/maatwerk/id/wet/wmo-2015") == "/id/wet/wmo-2015"
    assert ui.local_url("https://w3id.org/maatwerk/id/casus/demo-001") == "/casus/demo-001"
    assert ui.local_url("https://example.org/x") == "https://example.org/x"


def test_neighbourhood_links_similar_cases_only_through_shared_concepts():
    case = {"uri": "c1", "title": "Casus", "laws": [{"uri": "w1", "label": "Wmo 2015"}], "voorzieningen": [],
            "organisations": [{"uri": "o1", "label": "gemeente"}], "levensgebieden": []}
    similar = [{"uri": "c2", "title": "Ander", "laws": [{"uri": "w1", "label": "Wmo 2015"}], "voorzieningen": [],
                "organisations": [], "levensgebieden": []},
               {"uri": "c3", "title": "Los", "laws": [], "voorzieningen": [], "organisations": [],
                "levensgebieden": []}]
    graph = ui.neighbourhood(case, similar)
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


@pytest.mark.parametrize("path", ["/", "/?q=rolstoel+past+niet+op+het+werk", "/casus/t-rolstoel-werk",
                                  "/id/wet/wmo-2015", "/id/organisatie/gemeente", "/id/knelpunttype/samenwerking",
                                  "/sparql", "/systeemleren", "/systeemleren?jaar_van=2022&jaar_tot=2023"])
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
    page = client.get("/", params={"q": "rolstoel", "wet": "wmo-2015", "status": "opgelost", "jaar_van": "2022"}).text
    assert '<option value="wmo-2015" selected>' in page
    assert '<option value="opgelost" selected>' in page
    assert 'value="2022"' in page


def test_bad_filters_get_a_dutch_message_not_an_error_page(client):
    response = client.get("/", params={"q": "rolstoel", "wet": "bestaat-niet", "jaar_tot": "vorig jaar"})
    assert response.status_code == 200
    assert "Jaar tot en met moet een jaartal zijn" in response.text


def test_case_page_has_everything_and_a_graph(client):
    page = client.get("/casus/t-rolstoel-werk").text
    for text in ("Situatie", "Oplossing", "Knelpunten", "Leerpunten", "2e orde", "fictief voorbeeld",
                 "Vergelijkbare casussen", 'id="graaf"', "cytoscape.min.js"):
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
    assert page.count('class="example"') == len(ui.example_queries())
    shown = client.get("/sparql", params={"vraag": "SELECT ?x WHERE { ?x a mw:Casus }"}, headers=HTML).text
    assert "SELECT ?x WHERE { ?x a mw:Casus }" in shown


def test_vendored_assets_are_served(client):
    for path in ("/static/vendor/yasgui/yasgui.min.js", "/static/vendor/yasgui/yasgui.min.css",
                 "/static/vendor/cytoscape/cytoscape.min.js", "/static/vendor/chartjs/chart.umd.min.js",
                 "/static/css/maatwerk.css", "/static/js/graaf.js", "/static/js/sparql.js", "/static/js/grafieken.js"):
        assert client.get(path).status_code == 200, path
