"""Evaluating a SPARQL query on a store, after the check: row and byte limits, serialisation.

`check_and_evaluate` is what runs where the query runs (a worker process of
graph.sparql_worker, or a thread for in-memory graphs): first graph.sparql_check, then
Oxigraph on the checked text. Imports go one way: sparql -> sparql_worker -> sparql_eval
-> sparql_check.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from json.encoder import encode_basestring as _escape  # what json.dumps(ensure_ascii=False) escapes with
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from graph.errors import SparqlError
from graph.sparql_check import checked
from ontology import PREFIXES

RESULT_TYPES = {
    "application/sparql-results+json": "json",
    "application/json": "json",
    "application/sparql-results+xml": "xml",
    "application/xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
}
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
GRAPH_TYPES = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}


@dataclass
class QueryResult:
    kind: str  # "select" | "ask" | "graph"
    variables: list[str] = field(default_factory=list)
    solutions: list[list] = field(default_factory=list)  # pyoxigraph terms or None
    boolean: bool | None = None
    triples: list[ox.Triple] = field(default_factory=list)
    truncated: bool = False
    # Set by `serialized`: the answer in one media type, without the terms (cheap to send between processes).
    media_type: str | None = None
    body: bytes | None = None
    # Set when the rows came from the analytics layer (graph.sparql_layer), not from evaluating on the graph.
    answered_by: str | None = None

    def serialized(self, media_type: str) -> QueryResult:
        return QueryResult(
            self.kind,
            self.variables,
            boolean=self.boolean,
            truncated=self.truncated,
            media_type=media_type,
            body=self.serialize(media_type),
            answered_by=self.answered_by,
        )

    def rows(self) -> list[list[str | None]]:
        return [[None if t is None else t.value for t in row] for row in self.solutions]

    def serialize(self, media_type: str) -> bytes:
        if self.body is not None:
            if media_type != self.media_type:
                raise ValueError(f"Dit resultaat is alleen als {self.media_type} beschikbaar")
            return self.body
        if self.kind == "graph":
            fmt = GRAPH_TYPES.get(media_type, ox.RdfFormat.TURTLE)
            return ox.serialize(self.triples, format=fmt, prefixes=PREFIXES) or b""
        kind = RESULT_TYPES.get(media_type, "json")
        return {"json": self._json, "xml": self._xml, "csv": self._csv, "tsv": self._tsv}[kind]()

    def _json(self) -> bytes:
        if self.kind == "ask":
            return json.dumps({"head": {}, "boolean": self.boolean}).encode()
        return json_select(self.variables, self.solutions, lambda t: cell_json(cell(t)))

    def _xml(self) -> bytes:
        head = "".join(f"<variable name={quoteattr(v)}/>" for v in self.variables)
        if self.kind == "ask":
            body = f"<boolean>{'true' if self.boolean else 'false'}</boolean>"
        else:
            rows = []
            for row in self.solutions:
                cells = "".join(
                    f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>"
                    for v, t in zip(self.variables, row)
                    if t is not None
                )
                rows.append(f"<result>{cells}</result>")
            body = f"<results>{''.join(rows)}</results>"
        return (
            '<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
            f"<head>{head}</head>{body}</sparql>"
        ).encode()

    def _csv(self) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        if self.kind == "ask":
            writer.writerow(["boolean"])
            writer.writerow(["true" if self.boolean else "false"])
        else:
            writer.writerow(self.variables)
            writer.writerows(["" if t is None else t.value for t in row] for row in self.solutions)
        return buffer.getvalue().encode()

    def _tsv(self) -> bytes:
        lines = ["\t".join(f"?{v}" for v in self.variables)]
        lines += ["\t".join("" if t is None else str(t) for t in row) for row in self.solutions]
        return ("\n".join(lines) + "\n").encode()


def check_and_evaluate(
    store: ox.Store, text: str, options: dict, limit: int, media_type: str | Mapping[str, str] | None, max_bytes: int
) -> QueryResult:
    """Check `text` (graph.sparql_check), then evaluate what was checked; `media_type` may map form -> type."""
    query = checked(text, lambda graph: _has_graph(store, graph))
    media = media_type.get(query.form) if isinstance(media_type, Mapping) else media_type
    return evaluate(store, query.text, options, limit, media, max_bytes)


def evaluate(
    store: ox.Store, text: str, options: dict, limit: int, media_type: str | None, max_bytes: int
) -> QueryResult:
    """Run a checked query on `store`; every failure is a SparqlError (the query's fault, not the server's).

    An answer larger than `max_bytes` is refused (413) rather than cut, so a client never takes a
    partial answer for a whole one; the count stops as soon as the terms alone pass the limit.
    """
    try:
        result = _collect(store.query(text, **options), limit, max_bytes)
        if media_type:
            result = result.serialized(media_type)
            _check_size(len(result.body or b""), max_bytes)
        return result
    except SparqlError:
        raise
    except SyntaxError as exc:
        raise SparqlError(f"Syntaxfout in de query: {exc}") from None
    except MemoryError:
        raise SparqlError("De query gebruikte te veel geheugen en is afgebroken", 503) from None
    except Exception as exc:
        raise SparqlError(f"De query kon niet worden uitgevoerd: {exc}") from None


def _has_graph(store: ox.Store, iri: str) -> bool:
    try:
        return store.contains_named_graph(ox.NamedNode(iri))
    except ValueError:  # not an IRI, so certainly not one of our graphs
        return False


def finish(result: QueryResult, media_type: str | None, max_bytes: int) -> QueryResult:
    """An answer made elsewhere (graph.sparql_layer) under the same byte limit, serialised like any other."""
    if not media_type:
        _check_size(sum(_term_size(t) for row in result.solutions for t in row if t is not None), max_bytes)
        return result
    result = result.serialized(media_type)
    _check_size(len(result.body or b""), max_bytes)
    return result


def _check_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise SparqlError(
            f"Het antwoord is groter dan {max_bytes} bytes en wordt niet verstuurd; "
            "beperk de query (LIMIT, minder of kortere waarden)",
            413,
        )


def _collect(answer, limit: int, max_bytes: int) -> QueryResult:
    if isinstance(answer, ox.QueryBoolean):
        return QueryResult("ask", boolean=bool(answer))
    size = 0
    if isinstance(answer, ox.QuerySolutions):
        variables = [v.value for v in answer.variables]
        result = QueryResult("select", variables=variables)
        for solution in answer:
            if len(result.solutions) >= limit:
                result.truncated = True
                break
            row = [solution[v] for v in variables]
            size += sum(_term_size(t) for t in row if t is not None)
            _check_size(size, max_bytes)
            result.solutions.append(row)
        return result
    result = QueryResult("graph")
    for triple in answer:
        if len(result.triples) >= limit:
            result.truncated = True
            break
        size += _term_size(triple.subject) + _term_size(triple.predicate) + _term_size(triple.object)
        _check_size(size, max_bytes)
        result.triples.append(triple)
    return result


def _term_size(term) -> int:
    # Characters of the term's text: a lower bound of its serialised size, cheap to count.
    value = getattr(term, "value", None)
    return len(value) if isinstance(value, str) else len(str(term))


# --- cells: terms as plain tuples, cheap to make per row -------------------------------------------
# ("uri", iri), ("bnode", id) or ("literal", lexical form, language or None, datatype IRI or None for a plain
# string). An answer of 10,000 rows made from the analytics layer (graph.sparql_layer) would spend most of its
# time making pyoxigraph terms and reading their parts back to serialise them; cells skip both.
Cell = tuple


def cell(term) -> Cell:
    if isinstance(term, ox.NamedNode):
        return ("uri", term.value)
    if isinstance(term, ox.BlankNode):
        return ("bnode", term.value)
    datatype = None if term.language else term.datatype.value
    return ("literal", term.value, term.language, None if datatype == _XSD_STRING else datatype)


def term_of(c: Cell | None):
    """The pyoxigraph term of a cell (None stays None: an unbound variable)."""
    if c is None:
        return None
    if c[0] == "uri":
        return ox.NamedNode(c[1])
    if c[0] == "bnode":
        return ox.BlankNode(c[1])
    if c[2]:
        return ox.Literal(c[1], language=c[2])
    return ox.Literal(c[1], datatype=ox.NamedNode(c[3])) if c[3] else ox.Literal(c[1])


def cell_json(c: Cell) -> str:
    """The SPARQL JSON of one term, as `json.dumps(..., ensure_ascii=False)` writes it (same escaper, separators)."""
    if c[0] != "literal":
        return f'{{"type": "{c[0]}", "value": {_escape(c[1])}}}'
    if c[2]:
        return f'{{"type": "literal", "value": {_escape(c[1])}, "xml:lang": {_escape(c[2])}}}'
    if c[3]:
        return f'{{"type": "literal", "value": {_escape(c[1])}, "datatype": {_escape(c[3])}}}'
    return f'{{"type": "literal", "value": {_escape(c[1])}}}'


def json_select(variables: list[str], rows, fragment: Callable[[Any], str]) -> bytes:
    """SPARQL JSON results of `rows` (terms or cells, None unbound); `fragment` writes one, each distinct one once.

    Written as text rather than through dicts and `json.dumps`: the same bytes, several times faster."""
    keys = [_escape(v) + ": " for v in variables]
    seen: dict = {}

    def written(item) -> str:
        found = seen.get(item)
        if found is None:
            found = seen[item] = fragment(item)
        return found

    return json_text(
        variables,
        ("{" + ", ".join(k + written(item) for k, item in zip(keys, row) if item is not None) + "}" for row in rows),
    )


def json_text(variables: list[str], bindings: Iterable[str]) -> bytes:
    """SPARQL JSON results around binding objects that are already written."""
    head = json.dumps({"vars": variables}, ensure_ascii=False)
    return f'{{"head": {head}, "results": {{"bindings": [{", ".join(bindings)}]}}}}'.encode()


def differs_from_python(written: bytes) -> bool:
    """Whether JSON that DuckDB escaped (`to_json`) may differ from `json.dumps(ensure_ascii=False)`.

    They escape the same characters the same way except the control characters written as \\u00XX, whose hex
    digits DuckDB writes in upper case: an answer with any such escape is written by Python instead."""
    return b"\\u00" in written


def finish_cells(
    variables: list[str], rows: list[list[Cell | None]], truncated: bool, media_type: str | None, max_bytes: int
) -> QueryResult:
    """An answer made elsewhere as cells: SPARQL JSON written straight from them, any other type through terms."""
    if media_type and RESULT_TYPES.get(media_type, "json") == "json":
        body = json_select(variables, rows, cell_json)
        _check_size(len(body), max_bytes)
        return QueryResult("select", variables, truncated=truncated, media_type=media_type, body=body)
    solutions = [[term_of(c) for c in row] for row in rows]
    return finish(QueryResult("select", variables, solutions, truncated=truncated), media_type, max_bytes)


def _xml_term(term) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if term.language:
        return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
    if term.datatype.value != _XSD_STRING:
        return f"<literal datatype={quoteattr(term.datatype.value)}>{escape(term.value)}</literal>"
    return f"<literal>{escape(term.value)}</literal>"
