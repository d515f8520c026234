"""BWB toestand parser, RDF mapping and repository fetch (network tested against a local server only)."""

from __future__ import annotations

import http.server
import socket
import threading
from datetime import date
from pathlib import Path
from typing import ClassVar

import pyoxigraph
import pytest

from ingest import bwb
from ingest.bwb import BwbError, fetch_toestand, latest_expression, law_quads, parse_toestand
from ontology import graph_for_law, iri, term

DATA = Path(__file__).parent / "data" / "bwb"
# The real law lies beside the repository (shared/bwb, as on CI), not in it: its README asks not to copy it.
REAL = Path(__file__).resolve().parents[2] / "shared" / "bwb" / "BWBR0018451_2025-01-01_0.xml"


def read(name: str) -> bytes:
    return (DATA / name).read_bytes()


@pytest.fixture(scope="module")
def law():
    return parse_toestand(read("nested.xml"))


def by_nr(law):
    return {a.nr: a for a in law.articles}


def values(quads, subject: str, predicate: str) -> list:
    return [q.object for q in quads if q.subject.value == subject and q.predicate.value == term(predicate)]


# --- parsing ---------------------------------------------------------------------------------


def test_header(law):
    assert law.bwb_id == "BWBR9999901"
    assert law.citeertitel == "Wet proefregels maatwerk"  # metadata inside <citeertitel> is not title text
    assert law.version_date == "2024-07-01"


def test_articles_in_document_order_with_vervallen_skipped(law):
    assert [a.nr for a in law.articles] == ["1", "2.1", "4a", "6", "7"]
    assert law.vervallen == ["4b", "5"]  # one by status attribute, one by its "[Vervallen per ...]" text


def test_path_follows_nesting(law):
    arts = by_nr(law)
    assert arts["1"].path == "Hoofdstuk 1"
    assert arts["2.1"].path == "Hoofdstuk 2 > Afdeling 2.1 > Paragraaf 2.1.1"
    assert arts["4a"].path == "Hoofdstuk 2 > Afdeling 2.1"
    assert arts["6"].path == "Titeldeel I > Hoofdstuk 3"


def test_article_without_leden_keeps_lists_and_inline_markup(law):
    art = by_nr(law)["1"]
    assert art.title == "Begripsbepalingen"
    assert art.leden == []
    assert art.text.splitlines() == [
        "In deze wet wordt verstaan onder:",
        "a. college: het college van burgemeester en wethouders, bedoeld in artikel 34 van de Gemeentewet;",
        "b. voorziening: een van de volgende vormen van hulp:",
        "1°. hulp bij het huishouden;",
        "2°. begeleiding.",
    ]
    assert "Voorheen" not in art.text  # editorial metadata is not law text


def test_article_jci_is_the_short_undated_reference(law):
    assert by_nr(law)["1"].jci == "jci1.3:c:BWBR9999901&artikel=1"


def test_leden_with_numbers_text_and_jci(law):
    art = by_nr(law)["2.1"]
    assert art.title is None
    assert [lid.nr for lid in art.leden] == ["1", "2"]
    assert art.leden[1].text == "Het college betrekt daarbij:\na. de wensen van de aanvrager;\nb. het sociale netwerk."
    assert art.leden[1].jci == "jci1.3:c:BWBR9999901&artikel=2.1&lid=2"
    assert art.text.startswith("1. Het college beslist binnen acht weken op een aanvraag.\n2. Het college betrekt")


def test_missing_jci_is_built(law):
    art = by_nr(law)["4a"]
    assert art.jci == "jci1.3:c:BWBR9999901&artikel=4a"
    assert art.leden[0].jci == "jci1.3:c:BWBR9999901&artikel=4a&lid=1"


def test_vervallen_lid_is_skipped(law):
    art = by_nr(law)["7"]
    assert [lid.nr for lid in art.leden] == ["1", "3"]
    assert "Vervallen" not in art.text


def test_wetsluiting_is_not_an_article(law):
    assert all("Staatsblad" not in a.text for a in law.articles)


@pytest.mark.parametrize(
    "name, message",
    [
        ("malformed.xml", "geen geldige XML"),
        ("billion_laughs.xml", "DTD"),
        ("external_entity.xml", "DTD"),
        ("not_toestand.xml", "geen BWB-toestand"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(name, message):
    with pytest.raises(BwbError, match=message):
        parse_toestand(read(name))


def test_external_entity_is_never_resolved():
    with pytest.raises(BwbError) as info:
        parse_toestand(read("external_entity.xml"))
    assert "root:" not in str(info.value)


def test_entities_without_doctype_declaration_are_refused():
    with pytest.raises(BwbError, match="geen geldige XML"):
        parse_toestand(b'<toestand bwb-id="BWBR9999905"><wetgeving>&undefined;</wetgeving></toestand>')


def test_empty_input_is_refused():
    with pytest.raises(BwbError, match="geen geldige XML"):
        parse_toestand(b"")


def test_toestand_without_bwb_id_is_refused():
    with pytest.raises(BwbError, match="bwb-id"):
        parse_toestand(b"<toestand><wetgeving><citeertitel>X</citeertitel></wetgeving></toestand>")


def test_enig_artikel_without_nr_uses_its_label():
    xml = (
        b'<toestand bwb-id="BWBR9999906"><wetgeving><citeertitel>Eenvoudige wet</citeertitel>'
        b'<wet-besluit><wettekst><artikel label="Enig artikel"><kop><label>Enig artikel</label></kop>'
        b"<al>Alles in een.</al></artikel></wettekst></wet-besluit></wetgeving></toestand>"
    )
    assert [a.nr for a in parse_toestand(xml).articles] == ["Enig artikel"]


# --- RDF -------------------------------------------------------------------------------------


def test_quads_for_a_new_law(law):
    quads = law_quads(law)
    assert {q.graph_name.value for q in quads} == {graph_for_law("BWBR9999901")}
    law_iri = iri("wet", "wet-proefregels-maatwerk")
    assert values(quads, law_iri, "rdf:type") == [pyoxigraph.NamedNode(term("eli:LegalResource"))]
    assert values(quads, law_iri, "dcterms:identifier") == [pyoxigraph.Literal("BWBR9999901")]
    assert values(quads, law_iri, "eli:id_local") == [pyoxigraph.Literal("BWBR9999901")]
    assert values(quads, law_iri, "eli:title") == [pyoxigraph.Literal("Wet proefregels maatwerk", language="nl")]
    assert values(quads, law_iri, "skos:prefLabel") == [pyoxigraph.Literal("Wet proefregels maatwerk", language="nl")]
    assert values(quads, law_iri, "rdfs:seeAlso") == [pyoxigraph.NamedNode("https://wetten.overheid.nl/BWBR9999901")]


def test_article_quads(law):
    quads = law_quads(law)
    art = iri("artikel", "wet-proefregels-maatwerk-art-4a")
    assert values(quads, art, "rdf:type") == [pyoxigraph.NamedNode(term("eli:LegalResourceSubdivision"))]
    assert values(quads, art, "eli:is_part_of") == [pyoxigraph.NamedNode(iri("wet", "wet-proefregels-maatwerk"))]
    assert values(quads, art, "eli:number") == [pyoxigraph.Literal("4a")]
    assert values(quads, art, "skos:prefLabel") == [
        pyoxigraph.Literal("Wet proefregels maatwerk art. 4a", language="nl")
    ]
    assert values(quads, art, "dcterms:identifier") == [pyoxigraph.Literal("jci1.3:c:BWBR9999901&artikel=4a")]
    assert values(quads, art, "rdfs:seeAlso") == [
        pyoxigraph.NamedNode("https://wetten.overheid.nl/jci1.3:c:BWBR9999901&artikel=4a")
    ]
    assert values(quads, art, "mw:tekst")[0].value.startswith("1. Een maatwerkvoorziening")
    assert values(quads, art, "eli:title") == []  # no kop title, no eli:title
    titled = iri("artikel", "wet-proefregels-maatwerk-art-1")
    assert values(quads, titled, "eli:title") == [pyoxigraph.Literal("Begripsbepalingen", language="nl")]


def test_lid_quads(law):
    quads = law_quads(law)
    art = iri("artikel", "wet-proefregels-maatwerk-art-2.1")
    lid = f"{art}-lid-2"
    assert values(quads, lid, "eli:is_part_of") == [pyoxigraph.NamedNode(art)]
    assert values(quads, lid, "eli:number") == [pyoxigraph.Literal("2")]
    assert values(quads, lid, "dcterms:identifier") == [pyoxigraph.Literal("jci1.3:c:BWBR9999901&artikel=2.1&lid=2")]
    assert values(quads, lid, "mw:tekst")[0].value.startswith("Het college betrekt daarbij:")


def test_existing_law_gets_no_new_preflabel_and_keeps_its_slug(law):
    law_iri = iri("wet", "wpm")
    quads = law_quads(law, law_iri, short_name="Wpm")
    assert values(quads, law_iri, "skos:prefLabel") == []
    assert values(quads, law_iri, "eli:title") == [pyoxigraph.Literal("Wet proefregels maatwerk", language="nl")]
    art = iri("artikel", "wpm-art-6")
    assert values(quads, art, "skos:prefLabel") == [pyoxigraph.Literal("Wpm art. 6", language="nl")]
    assert not any("wet-proefregels-maatwerk" in q.subject.value for q in quads)


def test_quads_load_into_a_store_and_articles_are_queryable(law):
    store = pyoxigraph.Store()
    store.extend(law_quads(law))
    rows = list(
        store.query(
            "PREFIX eli: <http://data.europa.eu/eli/ontology#> "
            "SELECT ?n WHERE { GRAPH ?g { ?a eli:is_part_of ?law . ?law a eli:LegalResource . ?a eli:number ?n } }"
        )
    )
    assert sorted(r["n"].value for r in rows) == ["1", "2.1", "4a", "6", "7"]


def test_duplicate_article_numbers_get_distinct_iris():
    xml = (
        b'<toestand bwb-id="BWBR9999907"><wetgeving><citeertitel>Dubbelwet</citeertitel><wet-besluit><wettekst>'
        b"<hoofdstuk><kop><label>Hoofdstuk</label><nr>1</nr></kop><artikel><kop><nr>1</nr></kop><al>Een.</al></artikel></hoofdstuk>"
        b"<hoofdstuk><kop><label>Hoofdstuk</label><nr>2</nr></kop><artikel><kop><nr>1</nr></kop><al>Twee.</al></artikel></hoofdstuk>"
        b"</wettekst></wet-besluit></wetgeving></toestand>"
    )
    subjects = {q.subject.value for q in law_quads(parse_toestand(xml)) if "/artikel/" in q.subject.value}
    assert subjects == {iri("artikel", "dubbelwet-art-1"), iri("artikel", "dubbelwet-art-1-2")}


# --- manifest and fetch ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "today, expected",
    [
        (date(2025, 1, 1), "2024-07-01_0"),  # newest in force; the announced 2030 version is passed over
        (date(2022, 5, 1), "2020-01-01_0"),
        (date(2031, 1, 1), "2030-01-01_0"),
        (date(2019, 1, 1), "2030-01-01_0"),  # nothing in force yet: the newest there is
    ],
)
def test_latest_expression(today, expected):
    assert latest_expression(read("manifest.xml"), today) == expected


def test_latest_item_pointer_is_the_fallback():
    manifest = (
        b'<manifest _latestItem="2023-02-01_1/xml/BWBR9999901_2023-02-01_1.xml"><work label="BWBR9999901"/></manifest>'
    )
    assert latest_expression(manifest) == "2023-02-01_1"


def test_latest_item_pointer_cannot_leave_the_repository():
    with pytest.raises(BwbError, match="geen enkele versie"):
        latest_expression(b'<manifest _latestItem="http://evil.example/x.xml"><work/></manifest>')


def test_manifest_with_dtd_is_refused():
    with pytest.raises(BwbError, match="DTD"):
        latest_expression(read("billion_laughs.xml"))


class _Routes(http.server.BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, bytes]] = {}

    def do_GET(self):
        body = self.routes.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Type", "application/xml")
        self.end_headers()
        self.wfile.write(body or b"niet gevonden")

    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture
def repository(monkeypatch):
    """A local stand-in for the BWB repository serving the test fixtures."""
    monkeypatch.setenv("no_proxy", "*")
    _Routes.routes = {
        "/bwb/BWBR9999901/manifest.xml": read("manifest.xml"),
        "/bwb/BWBR9999901/2024-07-01_0/xml/BWBR9999901_2024-07-01_0.xml": read("nested.xml"),
    }
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Routes)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(bwb, "BASE_URL", f"http://127.0.0.1:{server.server_address[1]}/bwb")
    yield server
    server.shutdown()
    server.server_close()


class _Day2025(date):
    @classmethod
    def today(cls):
        return cls(2025, 1, 1)


def test_fetch_downloads_the_current_expression(repository, monkeypatch):
    monkeypatch.setattr(bwb, "date", _Day2025)  # the fixture manifest also announces a 2030 version
    data = fetch_toestand(" bwbr9999901 ")
    assert data == read("nested.xml")
    assert parse_toestand(data).bwb_id == "BWBR9999901"


def test_fetch_unknown_law_is_a_clear_error(repository):
    with pytest.raises(BwbError, match="BWBR0000404 niet gevonden"):
        fetch_toestand("BWBR0000404")


@pytest.mark.parametrize("bad", ["", "BWBR123", "BWBV0001234", "BWBR00353620", "BWBR0035362/../x"])
def test_fetch_validates_the_id(bad, monkeypatch):
    monkeypatch.setattr(bwb, "BASE_URL", "http://127.0.0.1:9/never-called")
    with pytest.raises(BwbError, match="Ongeldig BWB-id"):
        fetch_toestand(bad)


def test_fetch_offline_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("no_proxy", "*")
    with socket.socket() as sock:  # a port that was free a moment ago has nobody listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setattr(bwb, "BASE_URL", f"http://127.0.0.1:{port}/bwb")
    with pytest.raises(BwbError, match=r"Kan het BWB-repository niet bereiken \(offline\?\)"):
        fetch_toestand("BWBR0018451", timeout=2)


# --- the real file ------------------------------------------------------------------------------


@pytest.mark.skipif(not REAL.exists(), reason=f"the real BWB file is not beside the repository ({REAL})")
def test_real_wet_op_de_zorgtoeslag():
    law = parse_toestand(REAL.read_bytes())
    assert law.bwb_id == "BWBR0018451"
    assert law.citeertitel == "Wet op de zorgtoeslag"
    assert [a.nr for a in law.articles] == ["1", "2", "3", "4", "4a", "5", "6", "7", "8"]
    for art in law.articles:
        assert art.jci == f"jci1.3:c:BWBR0018451&artikel={art.nr}", art.jci
        assert art.text
        assert all(lid.text and lid.jci.startswith("jci1.3:c:BWBR0018451&") for lid in art.leden)
    assert sum(len(a.leden) for a in law.articles) == 23
    store = pyoxigraph.Store()
    store.extend(law_quads(law))
    assert len(store) > 0
