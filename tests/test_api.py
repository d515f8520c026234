"""The HTTP API (docs/http.md) through FastAPI's test client, on a small data dir built once for the module."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest
import rdflib
from fastapi.testclient import TestClient

from api.app import create_app
from api.core import Maatwerk
from api.settings import Settings
from ontology import GRAPH_REFERENCE, ID, MW

KEY = "test-sleutel-7f3a"
SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
DCT = rdflib.Namespace("http://purl.org/dc/terms/")
SPARQL_JSON = "application/sparql-results+json"
CASES_QUERY = "SELECT ?c ?t WHERE { ?c a mw:Casus ; dcterms:title ?t } ORDER BY ?c"

# Written for this test: four cases in the import format, two of them about money.
CASES = [
    {
        "id": "api-1",
        "title": "Rolstoel past niet op de werkplek",
        "situation": "Een man met een dwarslaesie krijgt van de gemeente een rolstoel via de Wmo 2015, maar die past "
        "niet onder zijn bureau op het werk. UWV en gemeente verwijzen naar elkaar.",
        "solution": "Gemeente en UWV spraken af dat de gemeente de rolstoel aanpast en UWV de werkplek.",
        "status": "opgelost",
        "year": 2022,
        "laws": ["Wmo 2015", "WIA"],
        "organisations": ["gemeente"],
        "levensgebieden": ["maatschappelijke participatie", "werk & opleiding"],
        "knelpunten": [{"type": "samenwerking", "text": "Beide loketten wezen naar elkaar."}],
        "interventions": ["Keukentafelgesprek met gemeente en UWV samen."],
        "learning_points": [{"text": "Leg vooraf vast wie de werkplekaanpassing betaalt.", "order": 2}],
    },
    {
        "id": "api-2",
        "title": "Jongere verliest begeleiding bij 18 jaar",
        "situation": "Een jongen van bijna 18 jaar krijgt begeleiding via de Jeugdwet. Na zijn verjaardag stopt de "
        "hulp en er is geen indicatie voor volwassenen geregeld.",
        "solution": "Het wijkteam regelde op tijd een indicatie voor begeleiding.",
        "status": "opgelost",
        "year": 2021,
        "laws": ["Jeugdwet", "Wmo 2015"],
        "levensgebieden": ["geestelijke gezondheid"],
        "knelpunten": ["wet- en regelgeving"],
    },
    {
        "id": "api-3",
        "title": "Schulden door terugvordering huurtoeslag",
        "situation": "Een alleenstaande moeder moet huurtoeslag terugbetalen en raakt in de schulden. Ze durft de "
        "brieven niet meer te openen.",
        "solution": "Schuldhulpverlening van de gemeente en een betalingsregeling.",
        "status": "lopend",
        "year": 2023,
        "laws": ["Wet op de huurtoeslag", "Wgs"],
        "levensgebieden": ["financiën"],
        "knelpunten": ["communicatie"],
    },
    {
        "id": "api-4",
        "title": "Bijzondere bijstand voor beschermingsbewind",
        "situation": "Een vrouw met een licht verstandelijke beperking heeft bewind nodig maar kan de kosten niet "
        "betalen. De Participatiewet kent bijzondere bijstand.",
        "solution": "De gemeente kende bijzondere bijstand toe.",
        "status": "opgelost",
        "year": 2020,
        "laws": ["Participatiewet"],
        "levensgebieden": ["financiën"],
        "knelpunten": ["kennis en kunde"],
    },
]


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    settings = replace(
        Settings(),
        data_dir=tmp_path_factory.mktemp("api") / "data",
        api_keys=(KEY,),
        cors_origins=(),
        max_body_bytes=200_000,
    )
    core = Maatwerk(settings)
    try:
        core.init(demo=False)
        core.import_records([(f"test[{i}]", case) for i, case in enumerate(CASES)])
    finally:
        core.close()
    return settings


@pytest.fixture(scope="module")
def client(settings):
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def no_keys(client):
    state = client.app.state
    original = state.settings
    state.settings = replace(original, api_keys=())
    yield
    state.settings = original


def triples(client) -> int:
    return client.get("/health").json()["triples"]


def assert_error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body["error"], str) and body["error"]
    assert "Traceback" not in response.text
    return body


# --- status and documentation ------------------------------------------------------------


def test_health(client):
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["cases"] >= 4 and body["triples"] > 100 and body["encoder"]


def test_openapi_documents_every_route(client):
    spec = client.get("/openapi.json").json()
    for path in (
        "/health",
        "/api/similar-cases",
        "/api/cases",
        "/api/cases/{case_id}",
        "/api/cases/{case_id}/similar",
        "/api/laws",
        "/api/organisations",
        "/api/voorzieningen",
        "/api/concepts",
        "/sparql",
        "/id/{kind}/{slug}",
    ):
        assert path in spec["paths"], path
    schemas = spec["components"]["schemas"]
    for name in (
        "SimilarCasesRequest",
        "SimilarCasesResponse",
        "CaseDetail",
        "CaseList",
        "ImportResponse",
        "PersonalDataFinding",
        "CaseInput",
        "Health",
        "ErrorResponse",
    ):
        assert name in schemas, name
    result = schemas["CaseResult"]["properties"]
    assert {"id", "uri", "title", "score", "situation", "solution", "laws", "explanation"} <= set(result)
    assert client.get("/docs").status_code == 200


def test_unknown_route_and_method_are_json(client):
    assert_error(client.get("/api/bestaat-niet"), 404)
    assert_error(client.delete("/api/laws"), 405)


def test_cors_off_by_default(client):
    response = client.get("/health", headers={"Origin": "https://example.org"})
    assert "access-control-allow-origin" not in response.headers


def test_cors_on_when_configured(settings):
    app = create_app(replace(settings, cors_origins=("https://example.org",)))
    preflight = TestClient(app).options(
        "/api/similar-cases", headers={"Origin": "https://example.org", "Access-Control-Request-Method": "POST"}
    )
    assert preflight.headers["access-control-allow-origin"] == "https://example.org"


# --- similar cases ------------------------------------------------------------------------------


def test_similar_cases(client):
    response = client.post(
        "/api/similar-cases",
        json={
            "text": "Iemand in een rolstoel kan niet aan zijn bureau werken; gemeente en UWV wijzen naar elkaar",
            "k": 3,
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) >= {"query_concepts", "results", "suggested", "timings_ms"}
    top = body["results"][0]
    assert top["id"] == "api-1" and top["uri"] == ID + "casus/api-1"
    assert {law["label"] for law in top["laws"]} >= {"Wmo 2015"}
    assert all(set(law) >= {"id", "uri", "label", "bwb_id"} for law in top["laws"])
    assert set(top["explanation"]) >= {"shared_concepts", "best_passage", "matched_terms", "signals", "contributions"}
    assert set(body["suggested"]) >= {"laws", "voorzieningen", "organisations"}
    assert len(body["results"]) <= 3


def test_similar_cases_with_filters(client):
    body = client.post(
        "/api/similar-cases",
        json={"text": "geldzorgen en schulden", "k": 10, "filters": {"levensgebied": ["financiën"], "year_from": 2021}},
    ).json()
    assert [r["id"] for r in body["results"]] == ["api-3"]


@pytest.mark.parametrize(
    "payload, status",
    [
        ({"text": ""}, 422),
        ({"text": "   "}, 422),
        ({"text": "x" * 20_001}, 413),
        ({"text": "schulden", "k": 0}, 422),
        ({"text": "schulden", "k": 101}, 422),
        ({"text": "schulden", "filters": {"law": "Wet op de toverstokken"}}, 422),
        ({"text": "schulden", "filters": {"kleur": "blauw"}}, 422),
        ({"text": "schulden", "filters": {"year_from": "vorig jaar"}}, 422),
        ({"tekst": "schulden"}, 422),
    ],
)
def test_similar_cases_bad_input(client, payload, status):
    assert_error(client.post("/api/similar-cases", json=payload), status)


def test_malformed_json_is_422(client):
    response = client.post(
        "/api/similar-cases", content=b'{"text": "schulden",', headers={"Content-Type": "application/json"}
    )
    body = assert_error(response, 422)
    assert "JSON" in json.dumps(body["detail"])


def test_body_size_limit(client):
    response = client.post(
        "/api/similar-cases", content=b"{" + b" " * 300_000 + b"}", headers={"Content-Type": "application/json"}
    )
    assert_error(response, 413)


# --- cases -----------------------------------------------------------------------------------------


def test_case_detail(client):
    body = client.get("/api/cases/api-1").json()
    assert (
        body["title"] == "Rolstoel past niet op de werkplek" and body["status"] == "opgelost" and body["year"] == 2022
    )
    assert {law["id"] for law in body["laws"]} >= {"wmo-2015", "wia"}
    assert [k["type"] for k in body["knelpunten"]] == ["samenwerking"]
    # The same field names as the import format: learning_points, with their order as imported.
    assert "leerpunten" not in body
    assert [{k: p[k] for k in ("text", "order", "type", "follow_up")} for p in body["learning_points"]] == [
        {"text": "Leg vooraf vast wie de werkplekaanpassing betaalt.", "order": 2, "type": "2e orde", "follow_up": None}
    ]
    assert body["interventions"] == ["Keukentafelgesprek met gemeente en UWV samen."]


def test_unknown_case_is_404(client):
    assert_error(client.get("/api/cases/bestaat-niet"), 404)
    assert_error(client.get("/api/cases/bestaat-niet/similar"), 404)


def test_similar_to_case_never_includes_itself(client):
    body = client.get("/api/cases/api-3/similar", params={"k": 10}).json()
    assert body["case"]["id"] == "api-3"
    ids = [r["id"] for r in body["results"]]
    # which case comes first is the real model's business: test_search checks that ranking with it
    assert "api-3" not in ids and "api-4" in ids
    assert_error(client.get("/api/cases/api-3/similar", params={"k": 0}), 422)


def test_case_list_and_paging(client):
    first = client.get("/api/cases", params={"page_size": 2}).json()
    assert first["total"] >= 4 and first["page"] == 1 and len(first["items"]) == 2
    second = client.get("/api/cases", params={"page_size": 2, "page": 2}).json()
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}
    assert_error(client.get("/api/cases", params={"page_size": 101}), 422)
    assert_error(client.get("/api/cases", params={"page": 0}), 422)


@pytest.mark.parametrize(
    "params, expected, excluded",
    [
        ({"levensgebied": "financiën"}, {"api-3", "api-4"}, {"api-1"}),
        ({"levensgebied": "FINANCIEN"}, {"api-3", "api-4"}, {"api-1"}),
        ({"law": "Jeugdwet"}, {"api-2"}, {"api-3", "api-4"}),
        ({"law": "BWBR0015703"}, {"api-4"}, {"api-1", "api-2"}),
        ({"status": "lopend"}, {"api-3"}, {"api-1", "api-2", "api-4"}),
        ({"knelpunttype": "communicatie"}, {"api-3"}, {"api-1", "api-4"}),
        ({"year_from": 2022, "year_to": 2023}, {"api-1", "api-3"}, {"api-2", "api-4"}),
    ],
)
def test_case_list_filters(client, params, expected, excluded):
    ids = {item["id"] for item in client.get("/api/cases", params=params).json()["items"]}
    assert expected <= ids and not excluded & ids


def test_case_list_with_text_search(client):
    body = client.get("/api/cases", params={"q": "terugvordering huurtoeslag en schulden"}).json()
    assert body["items"][0]["id"] == "api-3" and body["items"][0]["score"] > 0


def test_case_list_bad_filter(client):
    assert_error(client.get("/api/cases", params={"law": "Wet op de toverstokken"}), 422)
    assert_error(client.get("/api/cases", params={"year_from": "gisteren"}), 422)
    assert_error(client.get("/api/cases", params={"q": "x" * 20_001}), 413)


# --- writes ------------------------------------------------------------------------------------------

NEW_CASE = {
    "id": "api-nieuw",
    "title": "Dagbesteding stopt na verhuizing",
    "situation": "Na een verhuizing naar een andere gemeente stopt de dagbesteding van een vrouw met "
    "dementie, omdat de nieuwe gemeente eerst een eigen onderzoek wil doen.",
    "status": "lopend",
    "year": 2024,
    "laws": ["Wmo 2015"],
    "levensgebieden": ["tijdsbesteding"],
}


def test_writes_disabled_without_keys(client, no_keys):
    body = assert_error(client.post("/api/cases", json=NEW_CASE, headers={"Authorization": f"Bearer {KEY}"}), 403)
    assert "MAATWERK_API_KEYS" in body["detail"]


@pytest.mark.parametrize(
    "header", [None, "Bearer verkeerd", f"Basic {KEY}", "Bearer ", f"Bearer {KEY}x", "Bearer sléutel".encode("latin-1")]
)
def test_write_needs_the_right_key(client, header):
    headers = {"Authorization": header} if header else {}
    response = client.post("/api/cases", json=NEW_CASE, headers=headers)
    assert_error(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert client.get("/api/cases/api-nieuw").status_code == 404


def test_write_with_key_imports(client):
    before = client.get("/health").json()["cases"]
    response = client.post("/api/cases", json=NEW_CASE, headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 200, response.text
    assert response.json()["imported"] == 1 and response.json()["cases"][0]["id"] == "api-nieuw"
    assert client.get("/health").json()["cases"] == before + 1
    assert client.get("/api/cases/api-nieuw").json()["year"] == 2024
    found = client.post("/api/similar-cases", json={"text": "dagbesteding stopt na verhuizing", "k": 1}).json()
    assert found["results"][0]["id"] == "api-nieuw"


def test_write_a_list_is_all_or_nothing(client):
    good = {**NEW_CASE, "id": "api-lijst-1"}
    unknown_law = {**NEW_CASE, "id": "api-lijst-2", "laws": ["Wet op de toverstokken"]}
    response = client.post("/api/cases", json=[good, unknown_law], headers={"Authorization": f"Bearer {KEY}"})
    body = assert_error(response, 422)
    assert any(f["kind"] == "unknown-label" and f["field"] == "laws" for f in body["findings"])
    assert client.get("/api/cases/api-lijst-1").status_code == 404


def test_case_with_bsn_is_refused_naming_the_bsn(client):
    before = triples(client)
    case = {
        **NEW_CASE,
        "id": "api-bsn",
        "situation": "De cliënt met burgerservicenummer 111222333 kreeg geen dagbesteding na de verhuizing.",
    }
    response = client.post("/api/cases", json=[case], headers={"Authorization": f"Bearer {KEY}"})
    body = assert_error(response, 422)
    finding = next(f for f in body["findings"] if "BSN" in f["message"])
    assert finding["kind"] == "personal-data" and finding["span"] == "1••••••33"  # masked: never echoed
    assert finding["field"] == "situation" and finding["case"] == "api-bsn"
    assert client.get("/api/cases/api-bsn").status_code == 404
    assert triples(client) == before


def test_write_redacts_on_request(client):
    case = {
        **NEW_CASE,
        "id": "api-redact",
        "situation": "De cliënt met burgerservicenummer 111222333 kreeg geen dagbesteding na de verhuizing.",
    }
    response = client.post(
        "/api/cases", params={"redact": "true"}, json=case, headers={"Authorization": f"Bearer {KEY}"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["redactions"][0]["kind"] == "BSN"
    assert "111222333" not in client.get("/api/cases/api-redact").json()["situation"]


@pytest.mark.parametrize("content", [b"{niet json", b"[]", b"42", b'"tekst"'])
def test_write_bad_body(client, content):
    response = client.post(
        "/api/cases", content=content, headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    )
    assert_error(response, 422)


# --- reference data and autocomplete -------------------------------------------------------------------


def test_laws(client):
    laws = {law["id"]: law for law in client.get("/api/laws").json()}
    wmo = laws["wmo-2015"]
    assert wmo["bwb_id"] == "BWBR0035362" and wmo["url"] == "https://wetten.overheid.nl/BWBR0035362"
    assert wmo["case_count"] >= 2 and "Wmo" in wmo["alt_labels"]
    assert all(set(law) >= {"voorzieningen", "organisations", "article_count"} for law in laws.values())


def test_organisations(client):
    organisations = client.get("/api/organisations").json()
    linked = {o["uri"] for o in client.get("/api/cases/api-1").json()["organisations"]}
    for organisation in organisations:
        assert set(organisation) >= {"id", "uri", "label", "role", "contact", "type", "laws"}
        if organisation["uri"] in linked:
            assert organisation["case_count"] >= 1


def test_voorzieningen(client):
    voorzieningen = client.get("/api/voorzieningen").json()
    for voorziening in voorzieningen:
        assert set(voorziening) >= {"id", "uri", "label", "laws", "organisations", "category"}
        assert all(set(law) >= {"uri", "label", "bwb_id"} for law in voorziening["laws"])


def test_concepts_autocomplete(client):
    found = client.get("/api/concepts", params={"q": "wmo"}).json()
    assert found[0]["label"] == "Wmo 2015" and found[0]["kind"] == "wet" and len(found) <= 20
    assert set(found[0]) == {"id", "uri", "label", "matched_label", "kind"}


def test_concepts_accent_case_insensitive_and_synonyms(client):
    assert client.get("/api/concepts", params={"q": "FINANCIEN"}).json()[0]["label"] == "financiën"
    synonym = client.get("/api/concepts", params={"q": "wet maatschappelijke onder"}).json()[0]
    assert synonym["label"] == "Wmo 2015" and synonym["matched_label"] != synonym["label"]
    inside = client.get("/api/concepts", params={"q": "ondersteuning", "kind": "wet"}).json()
    assert "Wmo 2015" in {c["label"] for c in inside} and {c["kind"] for c in inside} == {"wet"}


def test_concepts_edge_cases(client):
    assert client.get("/api/concepts", params={"q": ""}).json() == []
    assert client.get("/api/concepts", params={"q": "zzqqxx"}).json() == []
    assert_error(client.get("/api/concepts", params={"q": "wmo", "kind": "planeet"}), 422)


# --- SPARQL protocol --------------------------------------------------------------------------------------


def test_sparql_get_json(client):
    response = client.get("/sparql", params={"query": CASES_QUERY}, headers={"Accept": SPARQL_JSON})
    assert response.headers["content-type"].startswith(SPARQL_JSON)
    body = json.loads(response.content)
    assert body["head"]["vars"] == ["c", "t"]
    assert {b["c"]["value"] for b in body["results"]["bindings"]} >= {ID + "casus/api-1", ID + "casus/api-4"}


def test_sparql_xml(client):
    response = client.get(
        "/sparql", params={"query": CASES_QUERY}, headers={"Accept": "application/sparql-results+xml"}
    )
    root = ET.fromstring(response.content)
    ns = {"s": "http://www.w3.org/2005/sparql-results#"}
    assert [v.get("name") for v in root.findall("s:head/s:variable", ns)] == ["c", "t"]
    assert len(root.findall("s:results/s:result", ns)) >= 4


def test_sparql_csv_and_tsv(client):
    response = client.get("/sparql", params={"query": CASES_QUERY}, headers={"Accept": "text/csv"})
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["c", "t"] and len(rows) >= 5
    response = client.get("/sparql", params={"query": CASES_QUERY}, headers={"Accept": "text/tab-separated-values"})
    lines = response.text.splitlines()
    assert lines[0] == "?c\t?t" and lines[1].startswith("<" + ID + "casus/")


def test_sparql_post_form_and_direct(client):
    form = client.post("/sparql", data={"query": CASES_QUERY}, headers={"Accept": SPARQL_JSON})
    direct = client.post(
        "/sparql",
        content=CASES_QUERY.encode(),
        headers={"Content-Type": "application/sparql-query", "Accept": SPARQL_JSON},
    )
    assert form.status_code == direct.status_code == 200
    assert json.loads(form.content) == json.loads(direct.content)


def test_sparql_ask(client):
    body = client.get("/sparql", params={"query": "ASK { ?c a mw:Casus }"}).json()
    assert body["boolean"] is True


@pytest.mark.parametrize(
    "accept, fmt",
    [
        ("text/turtle", "turtle"),
        ("application/ld+json", "json-ld"),
        ("application/n-triples", "nt"),
        ("application/rdf+xml", "xml"),
    ],
)
def test_sparql_construct_formats(client, accept, fmt):
    query = "CONSTRUCT { ?c dcterms:title ?t } WHERE { ?c a mw:Casus ; dcterms:title ?t }"
    response = client.get("/sparql", params={"query": query}, headers={"Accept": accept})
    assert response.headers["content-type"].startswith(accept)
    graph = rdflib.Graph().parse(data=response.content, format=fmt)
    assert (rdflib.URIRef(ID + "casus/api-1"), DCT.title, None) in graph


def test_sparql_format_parameter(client):
    response = client.get("/sparql", params={"query": CASES_QUERY, "format": "csv"})
    assert response.headers["content-type"].startswith("text/csv")


@pytest.mark.parametrize(
    "send",
    [
        lambda c: c.post("/sparql", data={"update": "INSERT DATA { <urn:x> <urn:p> <urn:o> }"}),
        lambda c: c.post(
            "/sparql",
            content=b"INSERT DATA { <urn:x> <urn:p> <urn:o> }",
            headers={"Content-Type": "application/sparql-update"},
        ),
        lambda c: c.get("/sparql", params={"query": "INSERT DATA { <urn:x> <urn:p> <urn:o> }"}),
        lambda c: c.post("/sparql", data={"query": "DELETE WHERE { ?s ?p ?o }"}),
        lambda c: c.get("/sparql", params={"update": "CLEAR ALL"}),
    ],
)
def test_sparql_updates_refused_and_graph_unchanged(client, send):
    before = triples(client)
    assert_error(send(client), 403)
    assert triples(client) == before
    assert client.get("/sparql", params={"query": "ASK { <urn:x> ?p ?o }"}).json()["boolean"] is False


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
        "SELECT * FROM <http://example.org/elders> WHERE { ?s ?p ?o }",
        "SELECT * WHERE { ?s ?p }",
    ],
)
def test_sparql_refusals_and_syntax_errors_are_400(client, query):
    body = assert_error(client.get("/sparql", params={"query": query}), 400)
    assert body["error"]


def test_sparql_syntax_error_has_parser_message(client):
    body = assert_error(client.post("/sparql", data={"query": "SELECT ?s WHERE { ?s ?p ?o "}), 400)
    assert "Syntaxfout" in body["error"] and "Traceback" not in body["error"]


def test_sparql_dataset_parameters(client):
    query = "SELECT (COUNT(?c) AS ?n) WHERE { ?c a mw:Casus }"
    scoped = client.get("/sparql", params={"query": query, "default-graph-uri": GRAPH_REFERENCE}).json()
    assert scoped["results"]["bindings"][0]["n"]["value"] == "0"
    assert_error(client.get("/sparql", params={"query": query, "default-graph-uri": "http://example.org/g"}), 400)
    assert_error(client.post("/sparql", data={"query": query, "named-graph-uri": "http://example.org/g"}), 400)
    known = client.get("/sparql", params={"query": f"SELECT * FROM <{GRAPH_REFERENCE}> WHERE {{ ?s ?p ?o }} LIMIT 1"})
    assert known.status_code == 200


def test_sparql_other_errors(client):
    assert_error(client.post("/sparql", data={"nietquery": "x"}), 400)
    assert_error(client.post("/sparql", content=b"SELECT * {}", headers={"Content-Type": "text/plain"}), 415)
    assert_error(client.get("/sparql", params=[("query", CASES_QUERY), ("query", CASES_QUERY)]), 400)


def test_sparql_timeout_is_503(client):
    state = client.app.state
    original = state.settings
    state.settings = replace(original, sparql_timeout_s=0.001)
    try:
        # ~0.1 s: over the limit, and soon done once abandoned
        heavy = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c a ?t }"
        body = assert_error(client.get("/sparql", params={"query": heavy}), 503)
    finally:
        state.settings = original
    assert "afgebroken" in body["error"]


def test_sparql_result_limit(client):
    state = client.app.state
    original = state.settings
    state.settings = replace(original, sparql_result_limit=2)
    try:
        response = client.get("/sparql", params={"query": CASES_QUERY})
    finally:
        state.settings = original
    assert len(response.json()["results"]["bindings"]) == 2 and "x-result-truncated" in response.headers


def test_service_description(client):
    response = client.get("/sparql", headers={"Accept": "text/turtle"})
    graph = rdflib.Graph().parse(data=response.text, format="turtle")
    service = next(graph.subjects(rdflib.RDF.type, SD.Service))
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in graph
    assert str(graph.value(service, SD.endpoint)).endswith("/sparql")
    browser = client.get("/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.status_code == 200 and browser.headers["content-type"].startswith("text/html")


# --- linked data ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "accept, fmt",
    [("text/turtle", "turtle"), ("application/ld+json", "json-ld"), ("application/n-triples", "nt"), ("*/*", "turtle")],
)
def test_linked_data_formats(client, accept, fmt):
    response = client.get("/id/casus/api-1", headers={"Accept": accept})
    assert response.status_code == 200, response.text
    graph = rdflib.Graph().parse(data=response.content, format=fmt)
    case = rdflib.URIRef(ID + "casus/api-1")
    wmo = rdflib.URIRef(ID + "wet/wmo-2015")
    assert (case, rdflib.RDF.type, rdflib.URIRef(MW + "Casus")) in graph
    assert (case, rdflib.URIRef(MW + "betreftWet"), wmo) in graph
    assert (wmo, rdflib.SKOS.prefLabel, None) in graph  # labels of what it points to
    knelpunt = rdflib.URIRef(ID + "casus/api-1/knelpunt/1")
    assert (knelpunt, rdflib.URIRef(MW + "knelpuntType"), None) in graph  # its own nodes come along


def test_linked_data_reference_resource(client):
    graph = rdflib.Graph().parse(data=client.get("/id/wet/wmo-2015").text, format="turtle")
    assert (rdflib.URIRef(ID + "wet/wmo-2015"), DCT.identifier, rdflib.Literal("BWBR0035362")) in graph


def test_linked_data_html_and_404(client):
    page = client.get("/id/wet/wmo-2015", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert_error(client.get("/id/wet/bestaat-niet", headers={"Accept": "text/turtle"}), 404)
    assert client.get("/id/wet/bestaat-niet", headers={"Accept": "text/html"}).status_code == 404
    assert_error(client.get("/id/wet/met%20spatie%3E"), 404)


def test_a_bug_is_a_json_500_without_trace(settings):
    app = create_app(settings)  # not started: the route below needs no data

    def broken():
        raise RuntimeError("geheime interne details")

    app.add_api_route("/kapot", broken)
    response = TestClient(app, raise_server_exceptions=False).get("/kapot")
    assert_error(response, 500)
    assert "geheime" not in response.text
