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
from collections.abc import Mapping
from dataclasses import dataclass, field
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
        # Terms repeat (labels, years, statuses): each is converted once; reading a term's parts is the costly step.
        seen: dict = {}

        def converted(t) -> dict:
            found = seen.get(t)
            if found is None:
                found = seen[t] = _json_term(t)
            return found

        bindings = [{v: converted(t) for v, t in zip(self.variables, row) if t is not None} for row in self.solutions]
        return json.dumps(
            {"head": {"vars": self.variables}, "results": {"bindings": bindings}}, ensure_ascii=False
        ).encode()

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


def _json_term(term) -> dict:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    data = {"type": "literal", "value": term.value}
    if term.language:
        data["xml:lang"] = term.language
    elif term.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
        data["datatype"] = term.datatype.value
    return data


def _xml_term(term) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if term.language:
        return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
    if term.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
        return f"<literal datatype={quoteattr(term.datatype.value)}>{escape(term.value)}</literal>"
    return f"<literal>{escape(term.value)}</literal>"
