"""Reference lists: laws, organisations and voorzieningen with their links and case counts.

Plain data for `/api/laws`, `/api/organisations` and `/api/voorzieningen`. The case
counts grow with the data, so every query runs under the endpoint's limits
(`graph.limited`). Each list is a tuple, sorted by label; callers cache it per
graph revision and must not change it.
"""

from __future__ import annotations

from typing import Any

from graph.analytics import cases_per_concept_query
from graph.concepts import fold
from graph.limited import Limits, Rows, select
from ontology.vocabulary import BY_KIND

_BWB = 'OPTIONAL { ?o dcterms:identifier ?bwb FILTER(STRSTARTS(STR(?bwb), "BWBR")) }'


def laws(kg, limits: Limits) -> tuple[dict[str, Any], ...]:
    items = _basics(
        kg,
        limits,
        "eli:LegalResource",
        """OPTIONAL { ?s eli:title ?title }
        OPTIONAL { ?s dcterms:identifier ?bwb FILTER(STRSTARTS(STR(?bwb), "BWBR")) }
        OPTIONAL { ?s rdfs:seeAlso ?see FILTER(STRSTARTS(STR(?see), "https://wetten.overheid.nl/")) }
        OPTIONAL { ?s dcterms:description ?description }""",
    )
    articles = _counts(
        kg,
        limits,
        """SELECT ?o (COUNT(DISTINCT ?a) AS ?n) WHERE {
        ?a eli:is_part_of ?o . ?o a eli:LegalResource } GROUP BY ?o""",
    )
    cases = _case_counts(kg, limits, "wet")
    voorzieningen = _links(kg, limits, "eli:LegalResource", "?o cv:hasLegalResource ?s .")
    organisations = _links(kg, limits, "eli:LegalResource", "?o mw:voertUit ?s .")
    return _sorted(
        {
            "id": it["id"],
            "uri": it["uri"],
            "label": it["label"],
            "title": it["title"],
            "bwb_id": it["bwb"],
            "url": it["see"] or (f"https://wetten.overheid.nl/{it['bwb']}" if it["bwb"] else None),
            "alt_labels": it["alt_labels"],
            "description": it["description"],
            "article_count": articles.get(s, 0),
            "case_count": cases.get(s, 0),
            "voorzieningen": voorzieningen.get(s, []),
            "organisations": organisations.get(s, []),
        }
        for s, it in items.items()
    )


def organisations(kg, limits: Limits) -> tuple[dict[str, Any], ...]:
    items = _basics(
        kg,
        limits,
        "org:Organization",
        """OPTIONAL { ?s mw:rol ?role }
        OPTIONAL { ?s mw:contact ?contact } OPTIONAL { ?s foaf:homepage ?homepage }""",
    )
    types = _links(kg, limits, "org:Organization", "?s org:classification ?o .")
    laws_ = _links(kg, limits, "org:Organization", "?s mw:voertUit ?o .")
    voorzieningen = _links(kg, limits, "org:Organization", "?o cv:hasCompetentAuthority ?s .")
    cases = _case_counts(kg, limits, "organisatie")
    return _sorted(
        {
            "id": it["id"],
            "uri": it["uri"],
            "label": it["label"],
            "alt_labels": it["alt_labels"],
            "type": next(iter(types.get(s, [])), None),
            "role": it["role"] or "",
            "contact": it["contact"] or "",
            "homepage": it["homepage"],
            "laws": laws_.get(s, []),
            "voorzieningen": voorzieningen.get(s, []),
            "case_count": cases.get(s, 0),
        }
        for s, it in items.items()
    )


def voorzieningen(kg, limits: Limits) -> tuple[dict[str, Any], ...]:
    items = _basics(kg, limits, "cpsv:PublicService", "OPTIONAL { ?s dcterms:description ?description }")
    categories = _links(kg, limits, "cpsv:PublicService", "?s mw:categorie ?o .")
    laws_ = _links(kg, limits, "cpsv:PublicService", "?s cv:hasLegalResource ?o .")
    organisations_ = _links(kg, limits, "cpsv:PublicService", "?s cv:hasCompetentAuthority ?o .")
    cases = _case_counts(kg, limits, "voorziening")
    return _sorted(
        {
            "id": it["id"],
            "uri": it["uri"],
            "label": it["label"],
            "alt_labels": it["alt_labels"],
            "description": it["description"],
            "category": next(iter(categories.get(s, [])), None),
            "laws": laws_.get(s, []),
            "organisations": organisations_.get(s, []),
            "case_count": cases.get(s, 0),
        }
        for s, it in items.items()
    )


def leerorde_definitions(kg, limits: Limits) -> dict[str, str]:
    """Leerorde label -> its definition, for the explanation beside a case's leerpunten."""
    rows = _whole(
        kg,
        f"""SELECT ?label ?def WHERE {{ ?o skos:inScheme <{BY_KIND["leerorde"].scheme}> ;
        skos:prefLabel ?label . OPTIONAL {{ ?o skos:definition ?def }} }}""",
        limits,
    )
    return {r["label"]: r["def"] or "" for r in rows}


def _whole(kg, query: str, limits: Limits) -> Rows:
    """Reference lists are whole or refused: a row limit that cuts one is an error, not a shorter list."""
    return select(kg, query, limits, complete=True)


def _basics(kg, limits: Limits, rdf_type: str, optional: str) -> dict[str, dict]:
    items: dict[str, dict] = {}
    for row in _whole(kg, f"SELECT * WHERE {{ ?s a {rdf_type} ; skos:prefLabel ?label . {optional} }}", limits):
        items.setdefault(row["s"], {"id": _slug(row["s"]), "uri": row["s"], "alt_labels": [], **row})
    for row in _whole(kg, f"SELECT ?s ?alt WHERE {{ ?s a {rdf_type} ; skos:altLabel ?alt }} ORDER BY ?alt", limits):
        if row["s"] in items and row["alt"] not in items[row["s"]]["alt_labels"]:
            items[row["s"]]["alt_labels"].append(row["alt"])
    return items


def _links(kg, limits: Limits, rdf_type: str, pattern: str) -> dict[str, list[dict]]:
    """Subject -> linked resources (id, uri, label, bwb_id); `pattern` relates ?s to ?o."""
    links: dict[str, list[dict]] = {}
    for row in _whole(
        kg,
        f"""SELECT DISTINCT ?s ?o ?label ?bwb WHERE {{
            ?s a {rdf_type} . {pattern} ?o skos:prefLabel ?label . {_BWB} }} ORDER BY LCASE(?label)""",
        limits,
    ):
        link = {"id": _slug(row["o"]), "uri": row["o"], "label": row["label"], "bwb_id": row["bwb"]}
        if link["uri"] not in [li["uri"] for li in links.setdefault(row["s"], [])]:
            links[row["s"]].append(link)
    return links


def _counts(kg, limits: Limits, query: str) -> dict[str, int]:
    return {row["o"]: int(row["n"]) for row in _whole(kg, query, limits)}


def _case_counts(kg, limits: Limits, kind: str) -> dict[str, int]:
    """Cases per concept, from the counts kept at import (graph/analytics.py), not a scan of every case."""
    return _counts(kg, limits, cases_per_concept_query(kind))


def _sorted(items) -> tuple[dict[str, Any], ...]:
    return tuple(sorted(items, key=lambda item: fold(item["label"])))


def _slug(uri: str) -> str:
    return uri.rsplit("/", 1)[1]
