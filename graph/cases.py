"""The case repository: read cases and their links from the graph, in bulk, without N+1 queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from graph.concepts import Concept, ConceptIndex
from ontology import iri, slugify, term

# predicate -> the key a case's links are grouped under
LINK_PREDICATES = {
    "mw:betreftWet": "laws",
    "mw:betreftArtikel": "articles",
    "mw:betreftVoorziening": "voorzieningen",
    "mw:betrokkenOrganisatie": "organisations",
    "mw:levensgebied": "levensgebieden",
}
_LINK_KEYS = {term(p): key for p, key in {**LINK_PREDICATES, "mw:afgeleidConcept": "derived"}.items()}
# what kind of link a derived concept is, in the keys of a case's links
_DERIVED_KIND = {"wet": "laws", "artikel": "articles", "voorziening": "voorzieningen",
                 "organisatie": "organisations", "levensgebied": "levensgebieden"}
_IDENTIFIER, _TITLE, _SITUATION, _SOLUTION, _STATUS, _YEAR, _FICTIONAL = (term(t) for t in (
    "dcterms:identifier", "dcterms:title", "mw:situatie", "mw:oplossing", "mw:status", "mw:jaar", "mw:fictief"))


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


def case_details(kg, iris: list[str], concepts: ConceptIndex) -> dict[str, dict[str, Any]]:
    """Everything a result card or case page shows: each case's own triples, labels from the concept index.

    Pattern lookups, not SPARQL: a search answer needs this for ten cases at a time, and
    reading their triples directly (a few milliseconds at 100k cases) beats the joins it replaced.
    """
    details: dict[str, dict[str, Any]] = {}
    for case in iris:
        node = ox.NamedNode(case)
        values: dict[str, list] = defaultdict(list)
        for quad in kg.store.quads_for_pattern(node, None, None, None):  # subject-first index: the fastest scan
            values[quad.predicate.value].append(quad.object)
        if not values[_IDENTIFIER] or not values[_TITLE] or not values[_SITUATION]:
            continue
        detail = {
            "id": values[_IDENTIFIER][0].value, "uri": case, "title": values[_TITLE][0].value,
            "situation": values[_SITUATION][0].value, "solution": _first(values[_SOLUTION]) or "",
            "status": _first(values[_STATUS]), "year": _first(values[_YEAR], int),
            "fictional": _first(values[_FICTIONAL]) == "true",
        }
        for predicate, key in _LINK_KEYS.items():
            linked = [concepts.concepts[o.value] for o in values[predicate] if o.value in concepts.concepts]
            links = [_link_json(c) | ({"kind": _DERIVED_KIND[c.kind]} if key == "derived" else {})
                     for c in sorted(linked, key=lambda c: c.label.lower())]
            detail[key] = list({link["uri"]: link for link in links}.values())
        details[case] = detail
    return details


def _link_json(concept: Concept) -> dict[str, Any]:
    return {"id": concept.slug, "uri": concept.iri, "label": concept.label, "bwb_id": concept.bwb_id}


def _first(objects: list, cast=str):
    return cast(objects[0].value) if objects else None


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
