"""What the graph says about one resource: the one description behind every `/id/{kind}/{slug}` answer.

`describe` gives the resource's own triples, those of the nodes under its IRI (a
case's knelpunten and leerpunten, as in a Concise Bounded Description) and the
labels of everything they point to. Turtle, JSON-LD and the other RDF formats
serialise exactly these triples; the HTML page renders them, and adds what points
to the resource (`incoming`) and its cases (`cases_involving`). Those two grow with
the number of cases, so they run under the endpoint's limits (`graph.limited`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from graph.errors import InvalidInput
from graph.limited import Limits, select
from ontology import ID, term
from ontology.vocabulary import CASE_LINKS

LABELS = tuple(ox.NamedNode(term(p)) for p in ("skos:prefLabel", "rdfs:label", "dcterms:title"))


@dataclass(frozen=True)
class Resource:
    """A resource's description as triples, and the readings the HTML page needs of them."""

    iri: str
    triples: tuple[ox.Triple, ...]

    @property
    def label(self) -> str | None:
        return self.labels().get(self.iri)

    def labels(self) -> dict[str, str]:
        """IRI -> its best label (skos:prefLabel before rdfs:label before dcterms:title)."""
        best: dict[str, tuple[int, str]] = {}
        for t in self.triples:
            subject, label = t.subject, t.object
            if t.predicate in LABELS and isinstance(subject, ox.NamedNode) and isinstance(label, ox.Literal):
                rank = LABELS.index(t.predicate)
                if subject.value not in best or rank < best[subject.value][0]:
                    best[subject.value] = (rank, label.value)
        return {iri: label for iri, (_, label) in best.items()}

    def statements(self) -> list[tuple[str, Any]]:
        """(predicate IRI, object) of the resource's own triples, in the description's order."""
        node = ox.NamedNode(self.iri)
        return [(t.predicate.value, t.object) for t in self.triples if t.subject == node]


def describe(kg, iri: str) -> Resource | None:
    """The resource's description, or None when the graph says nothing about it (pattern lookups: cheap)."""
    try:
        node = ox.NamedNode(iri)
    except ValueError:  # not even a valid IRI: certainly not in the store
        return None
    store = kg.store
    found = _outgoing(store, node)
    if not found:
        return None
    owned = {t.object for t in found if isinstance(t.object, ox.NamedNode) and t.object.value.startswith(iri + "/")}
    for child in owned:
        found |= _outgoing(store, child)
    for obj in {t.object for t in found if isinstance(t.object, ox.NamedNode)} - owned - {node}:
        for predicate in LABELS:
            found |= {
                ox.Triple(q.subject, q.predicate, q.object) for q in store.quads_for_pattern(obj, predicate, None, None)
            }
    ordered = sorted(found, key=lambda t: (t.subject != node, str(t.subject), str(t.predicate), str(t.object)))
    return Resource(iri, tuple(ordered))


def _outgoing(store: ox.Store, node: ox.NamedNode) -> set[ox.Triple]:
    # A resource may sit in several named graphs (reference data, an imported law): take the union.
    return {ox.Triple(q.subject, q.predicate, q.object) for q in store.quads_for_pattern(node, None, None, None)}


def incoming(kg, iri: str, limits: Limits, limit: int = 1000) -> list[dict[str, Any]]:
    """Resources other than cases that point here: (s, p, label), at most `limit`."""
    _check(iri)
    return list(
        select(
            kg,
            f"""SELECT DISTINCT ?s ?p ?label WHERE {{ ?s ?p <{iri}> . FILTER(isIRI(?s))
        FILTER NOT EXISTS {{ ?s a mw:Casus }} OPTIONAL {{ ?s skos:prefLabel ?label }} }}
        ORDER BY ?p LCASE(STR(?label)) LIMIT {int(limit)}""",
            limits,
        )
    )


_CASE_LINK_PATH = "|".join(k.predicate for k in CASE_LINKS if k.predicate)
_CASES_INVOLVING = """
SELECT %(select)s WHERE {
  { ?c %(links)s <%(uri)s> BIND("gekoppeld" AS ?hoe) }
  UNION { ?c mw:afgeleidConcept <%(uri)s> BIND("herkend in de tekst" AS ?hoe) }
  UNION { ?c mw:knelpunt/mw:knelpuntType <%(uri)s> BIND("knelpunt" AS ?hoe) }
  UNION { ?c mw:leerpunt/mw:leerorde <%(uri)s> BIND("leerpunt" AS ?hoe) }
  ?c a mw:Casus ; dcterms:title ?title .
  OPTIONAL { ?c mw:jaar ?jaar } OPTIONAL { ?c mw:status ?status }
} %(tail)s
"""


def cases_involving(kg, iri: str, limits: Limits, limit: int) -> tuple[list[dict[str, Any]], int]:
    """The newest `limit` cases linked to, knelpunt or leerpunt of, or recognised as this resource; and how many.

    Each case comes once, with `how` it is involved. Counting all of them is a second
    query, run only when there are more than fit on the page.
    """
    _check(iri)
    rows = select(
        kg,
        _CASES_INVOLVING
        % {
            "select": "?c ?title ?jaar ?status ?hoe",
            "links": _CASE_LINK_PATH,
            "uri": iri,
            "tail": f"ORDER BY DESC(?jaar) ?title LIMIT {limit * 2}",
        },
        limits,
    )
    cases: dict[str, dict[str, Any]] = {}
    for row in rows:
        case = cases.setdefault(
            row["c"], {"iri": row["c"], "title": row["title"], "year": row["jaar"], "status": row["status"], "how": []}
        )
        if row["hoe"] not in case["how"]:
            case["how"].append(row["hoe"])
    listed = list(cases.values())[:limit]
    if len(rows) < limit * 2 and len(cases) <= limit:
        return listed, len(listed)
    counted = select(
        kg,
        _CASES_INVOLVING % {"select": "(COUNT(DISTINCT ?c) AS ?n)", "links": _CASE_LINK_PATH, "uri": iri, "tail": ""},
        limits,
    )
    return listed, int(counted.rows[0]["n"])


def reference_graphs(kg) -> list[str]:
    """Named graphs other than the cases' own (one per case: listing 100k of them would drown a description)."""
    case_prefix = ID + "casus/"
    return sorted(
        g.value for g in kg.store.named_graphs() if isinstance(g, ox.NamedNode) and not g.value.startswith(case_prefix)
    )


def _check(iri: str) -> None:
    """The IRI goes into SPARQL text: pyoxigraph refuses every character that could break out of <...>."""
    try:
        ox.NamedNode(iri)
    except ValueError as exc:
        raise InvalidInput(f"Geen geldige IRI: {iri!r}") from exc
