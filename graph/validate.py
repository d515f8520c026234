"""SHACL validation with pyshacl, reported as plain violations a person can act on.

`validate_store` does not hand the whole store to pyshacl: rdflib holds about a kilobyte per
triple, so 100,000 cases would need many gigabytes. It validates in parts whose union gives the
same violations as the whole store at once:

1. everything that is not a case graph (ontology, reference data, imported laws, test graphs,
   any other graph and the default graph), in one pyshacl run;
2. the case graphs (a case lives in the named graph that is its IRI) in batches of
   `BATCH_CASES`, each with the context its shapes read outside the case graph: the
   `rdf:type` and `skos:inScheme` of the resources the cases link to (`context_for`) and every
   `rdfs:subClassOf` triple (pyshacl follows subclasses for `sh:targetClass` and `sh:class`).

In a batch, only results whose focus node is a subject of the batch's own case graphs count
(with their nested `sh:detail` results); the linked resources, present with only their type, are
judged in part 1 with all their triples (and, to save the work, shapes that target none of the
batch's own nodes run without their targets). This is exact as long as a resource's own triples
sit on one side, cases or rest, which is how ingest writes them: a case graph describes the case
and its knelpunt/leerpunt nodes and only points at reference resources. Graphs whose case is not
typed mw:Casus in them are not recognised as case graphs and simply go to part 1.

Memory is one batch (rdflib holds about 1 kB per triple, ~30 triples per case) plus the list of
case graph names; time is linear in the number of cases.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import pyoxigraph as ox
import rdflib
from pyshacl import validate as shacl_validate

from ontology import SHAPES_FILE, term

_SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
_RDF_TYPE = ox.NamedNode(term("rdf:type"))
_SUBCLASS_OF = ox.NamedNode(term("rdfs:subClassOf"))
_CASUS = ox.NamedNode(term("mw:Casus"))
_XSD_STRING = term("xsd:string")
_shapes_cache: rdflib.Graph | None = None
_targets_cache: tuple | None = None
_shapes_variants: dict[frozenset, rdflib.Graph] = {}

# Cases per pyshacl run: measured on 20k cases, 500 to 2,000 cost about the same per case (the
# linked reference data in each batch's context is the fixed part); memory grows with the batch.
BATCH_CASES = 1_000
Progress = Callable[[int, int, str], None]  # (done, total, phase)


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
    """Copy quads (graph names dropped) into an rdflib graph."""
    return _parse(_ntriples(triples))


def validate_triples(triples: Iterable[ox.Quad | ox.Triple], focus: Iterable[str] | None = None) -> Report:
    """Validate `triples`; with `focus`, only judge those nodes (the context around them is not judged).

    Focus is applied to pyshacl's results, not through its `focus_nodes` option: that option also
    filters the nodes of nested shapes (sh:node, sh:or), which then silently pass.
    """
    return _validate_ntriples(_ntriples(triples), None if focus is None else set(focus))


def validate_store(kg, progress: Progress | None = None, batch_size: int = BATCH_CASES) -> Report:
    """The whole graph against the shapes, in parts (see the module docstring); same result as at once."""
    cases = case_graphs(kg)
    if progress:
        progress(0, 0, "referentiedata")
    reports = [_validate_ntriples(_ntriples(_non_case_triples(kg, cases)), None)]
    done = 0
    for size, data, focus in _case_batches(kg, cases, batch_size):
        reports.append(_validate_ntriples(data, focus))
        done += size
        if progress:
            progress(done, len(cases), "casussen")
    violations = sorted((v for r in reports for v in r.violations), key=_order)
    return Report(conforms=all(r.conforms for r in reports), violations=violations)


def case_graphs(kg) -> list[ox.NamedNode]:
    """Named graphs that hold a case: the graph named by an mw:Casus that is typed in it."""
    return [
        q.graph_name for q in kg.store.quads_for_pattern(None, _RDF_TYPE, _CASUS, None) if q.subject == q.graph_name
    ]


def context_for(kg, objects: Iterable[str]) -> list[ox.Triple]:
    """Type and scheme triples of referenced resources, so shapes can check sh:class without the whole graph."""
    wanted = [ox.NamedNode(term("rdf:type")), ox.NamedNode(term("skos:inScheme"))]
    triples: list[ox.Triple] = []
    for iri in set(objects):
        node = ox.NamedNode(iri)
        for predicate in wanted:
            triples.extend(
                ox.Triple(q.subject, q.predicate, q.object)
                for q in kg.store.quads_for_pattern(node, predicate, None, None)
            )
    return triples


# --- the parts -------------------------------------------------------------------


def _non_case_triples(kg, cases: list[ox.NamedNode]) -> Iterator[ox.Quad]:
    case_set = set(cases)
    yield from kg.store.quads_for_pattern(None, None, None, ox.DefaultGraph())
    for graph in kg.store.named_graphs():
        if graph not in case_set:
            yield from kg.store.quads_for_pattern(None, None, None, graph)


def _case_batches(kg, cases: list[ox.NamedNode], batch_size: int) -> Iterator[tuple[int, bytes, set[str]]]:
    """(number of cases, N-Triples of the cases and their context, subjects the batch judges) per batch."""
    schema = [
        ox.Triple(q.subject, q.predicate, q.object) for q in kg.store.quads_for_pattern(None, _SUBCLASS_OF, None, None)
    ]
    cache: dict[str, list[ox.Triple]] = {}  # context of linked resources, mostly the same reference data
    for start in range(0, len(cases), batch_size):
        batch = cases[start : start + batch_size]
        quads = [q for graph in batch for q in kg.store.quads_for_pattern(None, None, None, graph)]
        subjects = {q.subject.value for q in quads}  # IRIs and blank node ids, as pyshacl's results name them
        linked = {q.object.value for q in quads if isinstance(q.object, ox.NamedNode)} - subjects
        if len(cache) > 50_000:
            cache.clear()
        for iri in linked - cache.keys():
            cache[iri] = context_for(kg, [iri])
        context = [t for iri in linked for t in cache[iri]]
        yield len(batch), _ntriples([*quads, *context, *schema]), subjects


# --- pyshacl -----------------------------------------------------------------------


def _ntriples(triples: Iterable[ox.Quad | ox.Triple]) -> bytes:
    plain = (ox.Triple(t.subject, t.predicate, t.object) for t in triples)
    return ox.serialize(plain, format=ox.RdfFormat.N_TRIPLES) or b""


def _parse(data: bytes) -> rdflib.Graph:
    """N-Triples into rdflib, parsed by Oxigraph and added term by term: twice as fast as rdflib's parser."""
    graph = rdflib.Graph()
    if not data:
        return graph
    terms: dict[str, rdflib.URIRef] = {}

    def convert(node):
        if isinstance(node, ox.NamedNode):
            found = terms.get(node.value)
            if found is None:
                found = terms[node.value] = rdflib.URIRef(node.value)
            return found
        if isinstance(node, ox.Literal):
            if node.language:
                return rdflib.Literal(node.value, lang=node.language)
            datatype = node.datatype.value
            return rdflib.Literal(node.value, datatype=None if datatype == _XSD_STRING else convert(node.datatype))
        return rdflib.BNode(node.value)

    add = graph.store.add
    for triple in ox.parse(data, format=ox.RdfFormat.N_TRIPLES):
        add((convert(triple.subject), convert(triple.predicate), convert(triple.object)), graph, False)
    return graph


def _validate_ntriples(data: bytes, focus: set[str] | None) -> Report:
    """pyshacl on N-Triples; with `focus`, only results about those nodes (and their nested details).

    The linked resources in a batch's context are instances of target classes too (their types are
    there for sh:class). Judging them would only produce results to throw away and costs as much
    as a third of the run, so when every shape targets by class (as ours do) the shapes that
    target none of the focus nodes run without their targets; they still serve sh:node.
    """
    graph = _parse(data)
    if focus is None:
        conforms, results, _ = _shacl(graph, shapes_graph())
        return Report(conforms=bool(conforms), violations=_violations(results))
    _, results, _ = _shacl(graph, _shapes_for(graph, focus))
    violations = _violations(results, focus)
    return Report(conforms=not violations, violations=violations)


def _shacl(graph: rdflib.Graph, shapes: rdflib.Graph):
    return shacl_validate(graph, shacl_graph=shapes, inference="none", advanced=True, inplace=True)


def _shapes_for(graph: rdflib.Graph, focus: set[str]) -> rdflib.Graph:
    """The shapes, keeping only the targets of shapes that target a focus node (by rdf:type, rdfs:subClassOf*)."""
    targets = _class_targets()
    if targets is None:
        return shapes_graph()
    types = {t for node in focus for t in graph.objects(rdflib.URIRef(node), rdflib.RDF.type)}
    keep = frozenset(
        shape
        for shape, classes in targets.items()
        if any(sub in types for cls in classes for sub in graph.transitive_subjects(rdflib.RDFS.subClassOf, cls))
    )
    if keep not in _shapes_variants:
        variant = rdflib.Graph()
        for prefix, namespace in shapes_graph().namespaces():  # messages name shapes by prefix
            variant.bind(prefix, namespace)
        for triple in shapes_graph():
            if not (triple[1] == _SH.targetClass and triple[0] not in keep):
                variant.add(triple)
        _shapes_variants[keep] = variant
    return _shapes_variants[keep]


def _class_targets() -> dict[rdflib.term.Node, set[rdflib.term.Node]] | None:
    """Target classes per shape, or None when a shape also targets otherwise (then all shapes keep their targets)."""
    global _targets_cache
    if _targets_cache is None:
        shapes = shapes_graph()
        other = (_SH.targetNode, _SH.targetSubjectsOf, _SH.targetObjectsOf, _SH.target)
        implicit = (rdflib.RDFS.Class, rdflib.OWL.Class)  # a shape that is also a class targets its instances
        targets: dict | None = None
        if not any((None, p, None) in shapes for p in other) and not any(
            (None, rdflib.RDF.type, c) in shapes for c in implicit
        ):
            targets = {}
            for shape, cls in shapes.subject_objects(_SH.targetClass):
                targets.setdefault(shape, set()).add(cls)
        _targets_cache = (targets,)
    return _targets_cache[0]


def _violations(results: rdflib.Graph, focus: set[str] | None = None) -> list[Violation]:
    if focus is None:
        nodes = list(results.subjects(rdflib.RDF.type, _SH.ValidationResult))
    else:
        nodes = [
            r
            for report in results.subjects(rdflib.RDF.type, _SH.ValidationReport)
            for r in results.objects(report, _SH.result)
            if str(results.value(r, _SH.focusNode)) in focus
        ]
        nodes.extend(_details(results, nodes))
    found = [
        Violation(
            focus=str(results.value(result, _SH.focusNode) or ""),
            path=_short(results.value(result, _SH.resultPath)),
            message=str(results.value(result, _SH.resultMessage) or ""),
            value=str(results.value(result, _SH.value) or ""),
        )
        for result in nodes
    ]
    return sorted(found, key=_order)


def _details(results: rdflib.Graph, nodes: list) -> list:
    """The nested results (sh:detail) under `nodes`, all the way down."""
    found, todo, seen = [], list(nodes), set(nodes)
    while todo:
        for detail in results.objects(todo.pop(), _SH.detail):
            if detail not in seen:
                seen.add(detail)
                found.append(detail)
                todo.append(detail)
    return found


def _order(v: Violation) -> tuple[str, str, str, str]:
    return (v.focus, v.path, v.message, v.value)


def _short(node) -> str:
    if node is None:
        return ""
    text = str(node)
    for sep in ("#", "/"):
        if sep in text:
            return text.rsplit(sep, 1)[1]
    return text
