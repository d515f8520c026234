"""SHACL validation with pyshacl, reported as plain violations a person can act on."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox
import rdflib
from pyshacl import validate as shacl_validate

from ontology import SHAPES_FILE, term

_SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
_shapes_cache: rdflib.Graph | None = None


@dataclass(frozen=True)
class Violation:
    focus: str
    path: str
    message: str
    value: str

    def __str__(self) -> str:
        value = f" (waarde: {self.value})" if self.value else ""
        return f"{self.focus} {self.path}: {self.message}{value}"


@dataclass(frozen=True)
class Report:
    conforms: bool
    violations: list[Violation]


def shapes_graph() -> rdflib.Graph:
    global _shapes_cache
    if _shapes_cache is None:
        _shapes_cache = rdflib.Graph().parse(SHAPES_FILE, format="turtle")
    return _shapes_cache


def to_rdflib(triples: Iterable[ox.Quad | ox.Triple]) -> rdflib.Graph:
    """Copy quads into an rdflib graph through N-Triples, the fastest path between the two."""
    plain = (ox.Triple(t.subject, t.predicate, t.object) for t in triples)
    data = ox.serialize(plain, format=ox.RdfFormat.N_TRIPLES)
    graph = rdflib.Graph()
    if data:
        graph.parse(data=data.decode("utf-8"), format="nt")
    return graph


def validate_triples(triples: Iterable[ox.Quad | ox.Triple], focus: list[str] | None = None) -> Report:
    """Validate `triples`; with `focus`, only those nodes (the context around them is not judged)."""
    data = to_rdflib(triples)
    conforms, results, _ = shacl_validate(data, shacl_graph=shapes_graph(), inference="none", advanced=True,
                                          focus_nodes=[rdflib.URIRef(f) for f in focus] if focus else None)
    return Report(conforms=bool(conforms), violations=_violations(results))


def validate_store(kg) -> Report:
    return validate_triples(kg.store)


def context_for(kg, objects: Iterable[str]) -> list[ox.Triple]:
    """Type and scheme triples of referenced resources, so shapes can check sh:class without the whole graph."""
    wanted = [ox.NamedNode(term("rdf:type")), ox.NamedNode(term("skos:inScheme"))]
    triples: list[ox.Triple] = []
    for iri in set(objects):
        node = ox.NamedNode(iri)
        for predicate in wanted:
            triples.extend(ox.Triple(q.subject, q.predicate, q.object)
                           for q in kg.store.quads_for_pattern(node, predicate, None, None))
    return triples


def _violations(results: rdflib.Graph) -> list[Violation]:
    found = []
    for result in results.subjects(rdflib.RDF.type, _SH.ValidationResult):
        found.append(Violation(
            focus=str(results.value(result, _SH.focusNode) or ""),
            path=_short(results.value(result, _SH.resultPath)),
            message=str(results.value(result, _SH.resultMessage) or ""),
            value=str(results.value(result, _SH.value) or ""),
        ))
    return sorted(found, key=lambda v: (v.focus, v.path))


def _short(node) -> str:
    if node is None:
        return ""
    text = str(node)
    for sep in ("#", "/"):
        if sep in text:
            return text.rsplit(sep, 1)[1]
    return text
