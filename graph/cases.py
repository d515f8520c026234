"""The case repository: read cases and their links from the graph, in bulk, without N+1 queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ontology import iri, slugify

# predicate -> the key a case's links are grouped under
LINK_PREDICATES = {
    "mw:betreftWet": "laws",
    "mw:betreftArtikel": "articles",
    "mw:betreftVoorziening": "voorzieningen",
    "mw:betrokkenOrganisatie": "organisations",
    "mw:levensgebied": "levensgebieden",
}
_KIND_OF_TYPE = {
    "http://data.europa.eu/eli/ontology#LegalResource": "laws",
    "http://data.europa.eu/eli/ontology#LegalResourceSubdivision": "articles",
    "http://purl.org/vocab/cpsv#PublicService": "voorzieningen",
    "http://www.w3.org/ns/org#Organization": "organisations",
}


@dataclass
class CaseDoc:
    """What search needs of a case: its text, facets and concepts."""
    id: str
    iri: str
    title: str
    situation: str
    solution: str = ""
    status: str | None = None
    year: int | None = None
    stamp: str = ""
    concepts: set[str] = field(default_factory=set)  # explicit and derived links
    knelpunttypen: set[str] = field(default_factory=set)


def case_iri(case_id: str) -> str:
    return iri("casus", slugify(case_id))


def _values(iris: list[str]) -> str:
    return " ".join(f"<{i}>" for i in iris)


# Past this many IRIs a VALUES block costs more to join than scanning every case.
VALUES_LIMIT = 1_000


def case_docs(kg, iris: list[str] | None = None) -> list[CaseDoc]:
    """All cases (or the given ones) as CaseDocs: three queries, whatever the number of cases."""
    scope = f"VALUES ?c {{ {_values(iris)} }}" if iris is not None and len(iris) <= VALUES_LIMIT else ""
    docs: dict[str, CaseDoc] = {}
    for row in kg.select(f"""
        SELECT ?c ?id ?title ?sit ?sol ?status ?jaar ?stamp WHERE {{
          {scope}
          ?c a mw:Casus ; dcterms:identifier ?id ; dcterms:title ?title ; mw:situatie ?sit .
          OPTIONAL {{ ?c mw:oplossing ?sol }} OPTIONAL {{ ?c mw:status ?status }}
          OPTIONAL {{ ?c mw:jaar ?jaar }} OPTIONAL {{ ?c prov:generatedAtTime ?stamp }}
        }}"""):
        docs[row["c"]] = CaseDoc(row["id"], row["c"], row["title"], row["sit"], row["sol"] or "",
                                 row["status"], row["jaar"], row["stamp"] or "")
    for row in kg.select(f"""
        SELECT ?c ?o WHERE {{
          {scope}
          ?c a mw:Casus ; mw:betreftWet|mw:betreftArtikel|mw:betreftVoorziening|mw:betrokkenOrganisatie|mw:levensgebied|mw:afgeleidConcept ?o .
        }}"""):
        if row["c"] in docs:
            docs[row["c"]].concepts.add(row["o"])
    for row in kg.select(f"""
        SELECT ?c ?t WHERE {{ {scope} ?c a mw:Casus ; mw:knelpunt/mw:knelpuntType ?t . }}"""):
        if row["c"] in docs:
            docs[row["c"]].knelpunttypen.add(row["t"])
    ordered = iris if iris is not None else sorted(docs)
    return [docs[i] for i in ordered if i in docs]


def case_stamps(kg) -> dict[str, str]:
    """Case IRI -> import time: enough to tell which cases an index is missing or has stale."""
    rows = kg.select("SELECT ?c ?stamp WHERE { ?c a mw:Casus . OPTIONAL { ?c prov:generatedAtTime ?stamp } }")
    return {r["c"]: r["stamp"] or "" for r in rows}


def case_details(kg, iris: list[str]) -> dict[str, dict[str, Any]]:
    """Everything a result card or case page shows, for several cases in two queries."""
    if not iris:
        return {}
    details: dict[str, dict[str, Any]] = {}
    for row in kg.select(f"""
        SELECT ?c ?id ?title ?sit ?sol ?status ?jaar ?fictief WHERE {{
          VALUES ?c {{ {_values(iris)} }}
          ?c dcterms:identifier ?id ; dcterms:title ?title ; mw:situatie ?sit .
          OPTIONAL {{ ?c mw:oplossing ?sol }} OPTIONAL {{ ?c mw:status ?status }}
          OPTIONAL {{ ?c mw:jaar ?jaar }} OPTIONAL {{ ?c mw:fictief ?fictief }}
        }}"""):
        details[row["c"]] = {
            "id": row["id"], "uri": row["c"], "title": row["title"], "situation": row["sit"],
            "solution": row["sol"] or "", "status": row["status"], "year": row["jaar"],
            "fictional": bool(row["fictief"]),
            **{key: [] for key in LINK_PREDICATES.values()}, "derived": [],
        }
    for row in kg.select(f"""
        SELECT ?c ?p ?o ?label ?bwb ?type WHERE {{
          VALUES ?c {{ {_values(iris)} }}
          VALUES ?p {{ {" ".join(LINK_PREDICATES)} mw:afgeleidConcept }}
          ?c ?p ?o . ?o skos:prefLabel ?label .
          OPTIONAL {{ ?o dcterms:identifier ?bwb FILTER(STRSTARTS(STR(?bwb), "BWBR")) }}
          OPTIONAL {{ ?o a ?type FILTER(?type != skos:Concept) }}
        }} ORDER BY ?c LCASE(?label)"""):
        case = details.get(row["c"])
        if case is None:
            continue
        link = {"id": row["o"].rsplit("/", 1)[1], "uri": row["o"], "label": row["label"], "bwb_id": row["bwb"]}
        key = _link_key(row["p"])
        if key == "derived":
            link["kind"] = _KIND_OF_TYPE.get(row["type"] or "", "levensgebieden")
        if link not in case[key]:
            case[key].append(link)
    return details


def _link_key(predicate: str) -> str:
    local = "mw:" + predicate.rsplit("#", 1)[1]
    if local in LINK_PREDICATES:
        return LINK_PREDICATES[local]
    return "derived"


def knelpunten_and_leerpunten(kg, case: str) -> dict[str, list[dict[str, str]]]:
    grouped: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in kg.select(f"""
        SELECT ?kind ?label ?text WHERE {{
          {{ <{case}> mw:knelpunt ?n . ?n mw:knelpuntType ?t . BIND("knelpunten" AS ?kind) }}
          UNION {{ <{case}> mw:leerpunt ?n . ?n mw:leerorde ?t . BIND("leerpunten" AS ?kind) }}
          ?t skos:prefLabel ?label . OPTIONAL {{ ?n dcterms:description ?text }}
        }} ORDER BY ?n"""):
        grouped[row["kind"]].append({"type": row["label"], "text": row["text"] or ""})
    interventions = kg.select(f"SELECT ?t WHERE {{ <{case}> mw:interventie ?t }}")
    grouped["interventions"] = [{"text": r["t"]} for r in interventions]
    return dict(grouped)
