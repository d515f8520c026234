"""Safe, read-only SPARQL: no updates, no network, a time limit and a result limit.

Refusals happen before evaluation, on the query text with strings, IRIs and
comments blanked out, so a keyword inside a literal cannot trip them and none
written in the query can slip past. Evaluation of on-disk graphs happens in a
worker process that is killed at the time limit (graph.sparql_worker).
"""

from __future__ import annotations

import csv
import io
import json
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from ontology import PREFIXES

MAX_QUERY_CHARS = 100_000
_BLANKABLE = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|<[^<>"{}|^`\\\s]*>|#[^\n]*')
_UPDATE = re.compile(r"\b(INSERT|DELETE|LOAD|CLEAR|CREATE|DROP|COPY|MOVE|ADD|WITH)\b", re.I)
_FROM = re.compile(r"\bFROM\s+(?:NAMED\s+)?(<[^>]*>|[A-Za-z][\w-]*:[\w.-]*)", re.I)
_FORM = re.compile(r"^\s*(?:(?:PREFIX\s+[\w-]*:\s*<[^>]*>|BASE\s+<[^>]*>)\s*)*(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.I)

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


class SparqlError(ValueError):
    """A query refused or failed; `status` is the HTTP status it maps to."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


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

    def serialized(self, media_type: str) -> QueryResult:
        return QueryResult(self.kind, self.variables, boolean=self.boolean, truncated=self.truncated,
                           media_type=media_type, body=self.serialize(media_type))

    def rows(self) -> list[list[str | None]]:
        return [[None if t is None else t.value for t in row] for row in self.solutions]

    def serialize(self, media_type: str) -> bytes:
        if self.body is not None:
            if media_type != self.media_type:
                raise ValueError(f"Dit resultaat is alleen als {self.media_type} beschikbaar")
            return self.body
        if self.kind == "graph":
            fmt = GRAPH_TYPES.get(media_type, ox.RdfFormat.TURTLE)
            return ox.serialize(self.triples, format=fmt, prefixes=PREFIXES)
        kind = RESULT_TYPES.get(media_type, "json")
        return {"json": self._json, "xml": self._xml, "csv": self._csv, "tsv": self._tsv}[kind]()

    def _json(self) -> bytes:
        if self.kind == "ask":
            return json.dumps({"head": {}, "boolean": self.boolean}).encode()
        bindings = [{v: _json_term(t) for v, t in zip(self.variables, row) if t is not None} for row in self.solutions]
        return json.dumps({"head": {"vars": self.variables}, "results": {"bindings": bindings}},
                          ensure_ascii=False).encode()

    def _xml(self) -> bytes:
        head = "".join(f"<variable name={quoteattr(v)}/>" for v in self.variables)
        if self.kind == "ask":
            body = f"<boolean>{'true' if self.boolean else 'false'}</boolean>"
        else:
            rows = []
            for row in self.solutions:
                cells = "".join(f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>"
                                for v, t in zip(self.variables, row) if t is not None)
                rows.append(f"<result>{cells}</result>")
            body = f"<results>{''.join(rows)}</results>"
        return ('<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
                f"<head>{head}</head>{body}</sparql>").encode()

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


def check_query(text: str, is_known_graph: Callable[[str], bool]) -> str:
    """The query form (select/ask/construct/describe), or SparqlError for anything not allowed."""
    if not text.strip():
        raise SparqlError("Lege query")
    if len(text) > MAX_QUERY_CHARS:
        raise SparqlError(f"Query is langer dan {MAX_QUERY_CHARS} tekens", 413)
    blanked = _BLANKABLE.sub(lambda m: m.group() if m.group().startswith("<") else " ", text)
    bare = _BLANKABLE.sub(" ", text)
    if re.search(r"\bSERVICE\b", bare, re.I):
        raise SparqlError("SERVICE is niet toegestaan: dit endpoint haalt niets van het netwerk")
    form = _FORM.search(blanked)
    if not form and _UPDATE.search(bare):
        raise SparqlError("Dit endpoint is alleen-lezen: updates worden geweigerd", 403)
    for match in _FROM.finditer(blanked):
        graph = _expand(match.group(1))
        if not is_known_graph(graph):
            raise SparqlError(f"FROM <{graph}> is geen graaf in deze store; externe grafen worden niet opgehaald")
    if not form:
        raise SparqlError("Alleen SELECT, ASK, CONSTRUCT en DESCRIBE zijn toegestaan")
    return form.group(1).lower()


def run_query(kg, text: str, timeout_s: float = 10.0, limit: int = 10_000, *,
              default_graphs: Sequence[str] = (), named_graphs: Sequence[str] = (),
              media_type: str | None = None) -> QueryResult:
    """Evaluate a checked query with a time limit and at most `limit` rows or triples.

    The default graph is the union of all graphs unless `default_graphs` names some. With
    `media_type` the result comes back serialised (`QueryResult.body`), done where it was
    evaluated. On-disk graphs are queried in a worker process that is killed when the time
    is up; in-memory graphs (tests, tools) in a thread that cannot be stopped.
    """
    check_query(text, kg.has_graph)
    request = (text, _options(default_graphs, named_graphs), limit, media_type)
    if getattr(kg, "path", None) is None:
        return _run_in_thread(kg.store, request, timeout_s)
    from graph.sparql_worker import pool_for  # here, because that module imports this one

    return pool_for(kg).run(kg, request, timeout_s)


def evaluate(store: ox.Store, text: str, options: dict, limit: int, media_type: str | None) -> QueryResult:
    """Run a checked query on `store`; every failure is a SparqlError (the query's fault, not the server's)."""
    try:
        result = _collect(store.query(text, **options), limit)
        return result.serialized(media_type) if media_type else result
    except SyntaxError as exc:
        raise SparqlError(f"Syntaxfout in de query: {exc}") from None
    except Exception as exc:
        raise SparqlError(f"De query kon niet worden uitgevoerd: {exc}") from None


def _options(default_graphs: Sequence[str], named_graphs: Sequence[str]) -> dict:
    options: dict = {"prefixes": PREFIXES}
    if default_graphs:
        options["default_graph"] = [ox.NamedNode(g) for g in default_graphs]
    else:
        options["use_default_graph_as_union"] = True
    if named_graphs:
        options["named_graphs"] = [ox.NamedNode(g) for g in named_graphs]
    return options


def _run_in_thread(store: ox.Store, request: tuple, timeout_s: float) -> QueryResult:
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["result"] = evaluate(store, *request)
        except SparqlError as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=run, daemon=True, name="sparql")
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        raise SparqlError(f"De query duurde langer dan {timeout_s:g} s en is afgebroken", 503)
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["result"]  # type: ignore[return-value]


def _collect(answer, limit: int) -> QueryResult:
    if isinstance(answer, ox.QueryBoolean):
        return QueryResult("ask", boolean=bool(answer))
    if isinstance(answer, ox.QuerySolutions):
        variables = [v.value for v in answer.variables]
        result = QueryResult("select", variables=variables)
        for solution in answer:
            if len(result.solutions) >= limit:
                result.truncated = True
                break
            result.solutions.append([solution[v] for v in variables])
        return result
    result = QueryResult("graph")
    for triple in answer:
        if len(result.triples) >= limit:
            result.truncated = True
            break
        result.triples.append(triple)
    return result


def _expand(name: str) -> str:
    if name.startswith("<"):
        return name[1:-1]
    prefix, _, local = name.partition(":")
    return PREFIXES.get(prefix, prefix + ":") + local


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
