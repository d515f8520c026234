"""The real server: `maatwerk serve` (uvicorn on 127.0.0.1) queried by independent SPARQL clients."""

from __future__ import annotations

import csv
import io
import json
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
import rdflib
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import JSON, POST, TURTLE, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

from api.core import Maatwerk
from api.settings import Settings
from ontology import ID, MW
from tests.conftest import running_server

MAATWERK = Path(sys.executable).with_name("maatwerk")
CASUS = rdflib.URIRef(MW + "Casus")
PREFIX = f"PREFIX mw: <{MW}>\nPREFIX dcterms: <http://purl.org/dc/terms/>\n"
CASES = [
    {
        "id": "srv-1",
        "title": "Traplift geweigerd omdat verhuizen goedkoper is",
        "situation": "Een oudere vrouw met artrose vraagt via de Wmo 2015 een traplift. De gemeente vindt verhuizen "
        "naar een gelijkvloerse woning goedkoper, maar er is geen woning beschikbaar.",
        "status": "opgelost",
        "year": 2022,
        "laws": ["Wmo 2015"],
        "levensgebieden": ["huisvesting"],
    },
    {
        "id": "srv-2",
        "title": "Bijstand stopt na start studie",
        "situation": "Een jongen van 19 begint aan een mbo-opleiding en verliest zijn bijstand, terwijl de "
        "studiefinanciering pas twee maanden later komt.",
        "status": "lopend",
        "year": 2023,
        "laws": ["Participatiewet"],
        "levensgebieden": ["financiën"],
    },
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("server") / "data"
    core = Maatwerk(replace(Settings(), data_dir=data_dir))
    try:
        core.init(demo=False)
        core.import_records([(f"test[{i}]", case) for i, case in enumerate(CASES)])
    finally:
        core.close()
    with running_server(data_dir, data_dir.parent / "serve.log") as base:
        yield base


def test_health(server):
    body = httpx.get(f"{server}/health").json()
    assert body["status"] == "ok" and body["cases"] == 2


def test_sparqlwrapper_get_and_post(server):
    for method in ("GET", POST):
        client = SPARQLWrapper(f"{server}/sparql")
        client.setQuery(PREFIX + "SELECT ?c ?t WHERE { ?c a mw:Casus ; dcterms:title ?t } ORDER BY ?c")
        client.setReturnFormat(JSON)
        if method == POST:
            client.setMethod(POST)
        rows = client.queryAndConvert()["results"]["bindings"]
        assert [r["c"]["value"] for r in rows] == [ID + "casus/srv-1", ID + "casus/srv-2"], method


def test_sparqlwrapper_construct_as_turtle(server):
    client = SPARQLWrapper(f"{server}/sparql")
    client.setQuery(PREFIX + "CONSTRUCT { ?c dcterms:title ?t } WHERE { ?c a mw:Casus ; dcterms:title ?t }")
    client.setReturnFormat(TURTLE)
    graph = rdflib.Graph().parse(data=client.queryAndConvert(), format="turtle")
    assert len(graph) == 2


def test_sparqlwrapper_update_is_refused(server):
    client = SPARQLWrapper(f"{server}/sparql")
    client.setQuery("INSERT DATA { <urn:x> <urn:p> <urn:o> }")
    client.setMethod(POST)
    with pytest.raises((SPARQLWrapperException, OSError)):  # the refusal, however SPARQLWrapper reports it
        client.query()
    assert httpx.get(f"{server}/sparql", params={"query": "ASK { <urn:x> ?p ?o }"}).json()["boolean"] is False


def test_rdflib_sparqlstore(server):
    graph = rdflib.Graph(store=SPARQLStore(f"{server}/sparql"))
    assert len(list(graph.triples((None, rdflib.RDF.type, CASUS)))) == 2
    rows = list(graph.query(PREFIX + "SELECT ?t WHERE { ?c a mw:Casus ; dcterms:title ?t } ORDER BY ?t"))
    assert str(rows[0][0]) == "Bijstand stopt na start studie"
    dataset = rdflib.Dataset(store=SPARQLStore(f"{server}/sparql"))  # sends default-graph-uri=urn:x-rdflib:default
    assert int(next(iter(dataset.query(PREFIX + "SELECT (COUNT(?c) AS ?n) WHERE { ?c a mw:Casus }")))[0]) == 2


def test_each_accept_type_like_curl(server):
    query = {"query": PREFIX + "SELECT ?c WHERE { ?c a mw:Casus }"}
    get = lambda accept: httpx.get(f"{server}/sparql", params=query, headers={"Accept": accept})  # noqa: E731
    assert len(json.loads(get("application/sparql-results+json").content)["results"]["bindings"]) == 2
    assert len(ET.fromstring(get("application/sparql-results+xml").content)[1]) == 2
    assert len(list(csv.reader(io.StringIO(get("text/csv").text)))) == 3
    assert get("text/tab-separated-values").text.splitlines()[0] == "?c"
    described = httpx.get(f"{server}/id/casus/srv-1", headers={"Accept": "text/turtle"})
    graph = rdflib.Graph().parse(data=described.text, format="turtle")
    assert (rdflib.URIRef(ID + "casus/srv-1"), rdflib.RDF.type, CASUS) in graph
    service = httpx.get(f"{server}/sparql", headers={"Accept": "text/turtle"})
    assert "sparql-service-description" in service.text


def test_similar_cases_over_http(server):
    response = httpx.post(
        f"{server}/api/similar-cases", json={"text": "traplift of verhuizen naar gelijkvloers", "k": 1}
    )
    assert response.json()["results"][0]["id"] == "srv-1"
