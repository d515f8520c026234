"""Safe, read-only SPARQL: no updates, no network, time, row and byte limits, a bounded queue.

`run_query` is the one entry point. It checks the query on its parse tree (rdflib's SPARQL
parser) before anything is evaluated: updates and LOAD are refused, and so is any SERVICE,
wherever it is nested, and any FROM / FROM NAMED of a graph that is not in the store. Both
parsers see the same code points: Unicode escapes are expanded and line ends normalised here,
and Oxigraph evaluates exactly the text rdflib checked, so a comment or string that the two
parsers would end in different places cannot hide a SERVICE from one of them. What rdflib
cannot parse is refused (fail closed), even when Oxigraph would accept it.

On-disk graphs are evaluated in worker processes (graph.sparql_worker) that are killed at the
time limit and, where the platform allows, have no network at all: the second wall.
"""

from __future__ import annotations

import functools
import math
import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import pyoxigraph as ox
from pyparsing import ParseBaseException, ParseResults
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue

from graph.sparql_eval import GRAPH_TYPES, RESULT_TYPES, QueryResult, SparqlError, evaluate
from graph.sparql_worker import pool_for
from ontology import PREFIXES

__all__ = ["GRAPH_TYPES", "RESULT_TYPES", "QueryQueue", "QueryResult", "SparqlError", "check_query", "run_query"]

MAX_QUERY_CHARS = 100_000
MAX_ANSWER_BYTES = 50_000_000
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_PARSER_LOCK = threading.Lock()  # rdflib's pyparsing grammar fails when two threads parse at once
_FORMS = {"SelectQuery": "select", "AskQuery": "ask", "ConstructQuery": "construct", "DescribeQuery": "describe"}


@dataclass(frozen=True)
class _Parsed:
    text: str  # what Oxigraph evaluates: the very code points rdflib parsed
    form: str
    dataset: tuple[str, ...]  # FROM and FROM NAMED graphs, expanded


def check_query(text: str, is_known_graph: Callable[[str], bool]) -> str:
    """The query form (select/ask/construct/describe), or SparqlError for anything not allowed."""
    return _checked(text, is_known_graph).form


def run_query(kg, text: str, timeout_s: float = 10.0, limit: int = 10_000, *,
              max_bytes: int = MAX_ANSWER_BYTES, default_graphs: Sequence[str] = (),
              named_graphs: Sequence[str] = (), media_type: str | None = None) -> QueryResult:
    """Check, then evaluate with a time limit, at most `limit` rows or triples and `max_bytes` of answer.

    The default graph is the union of all graphs unless `default_graphs` names some. With
    `media_type` the result comes back serialised (`QueryResult.body`), done where it was
    evaluated. On-disk graphs are queried in a worker process that is killed when the time
    is up; in-memory graphs (tests, tools) in a thread that cannot be stopped.
    """
    parsed = _checked(text, kg.has_graph)
    request = (parsed.text, _options(default_graphs, named_graphs), limit, media_type, max_bytes)
    if getattr(kg, "path", None) is None:
        return _run_in_thread(kg.store, request, timeout_s)
    return pool_for(kg).run(kg, request, timeout_s)


class QueryQueue:
    """Admission control: at most `workers` queries evaluate and `waiting` more wait; the rest get 429 at once.

    Each admitted query has a thread of its own here, so a waiting SPARQL request never holds a
    thread that health, search or the UI need. Submit the call that runs the query.
    """

    def __init__(self, workers: int, waiting: int, retry_after_s: float):
        capacity = max(1, workers) + max(0, waiting)
        self._slots = threading.BoundedSemaphore(capacity)
        self._executor = ThreadPoolExecutor(capacity, thread_name_prefix="sparql")
        self._retry_after = str(max(1, math.ceil(retry_after_s)))

    def submit(self, call: Callable[..., QueryResult], *args, **kwargs) -> Future:
        if not self._slots.acquire(blocking=False):
            raise SparqlError("Te veel SPARQL-queries tegelijk; probeer het zo opnieuw", 429,
                              headers={"Retry-After": self._retry_after})
        try:
            return self._executor.submit(self._run, call, args, kwargs)
        except BaseException:
            self._slots.release()
            raise

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _run(self, call, args, kwargs):
        try:
            return call(*args, **kwargs)
        finally:  # released when the query ends, not when its client stops waiting
            self._slots.release()


# --- the check --------------------------------------------------------------------------


def _checked(text: str, is_known_graph: Callable[[str], bool]) -> _Parsed:
    if not text.strip():
        raise SparqlError("Lege query")
    if len(text) > MAX_QUERY_CHARS:
        raise SparqlError(f"Query is langer dan {MAX_QUERY_CHARS} tekens", 413)
    parsed = _parse(text)
    for graph in parsed.dataset:
        if not is_known_graph(graph):
            raise SparqlError(f"FROM <{graph}> is geen graaf in deze store; externe grafen worden niet opgehaald")
    return parsed


@functools.lru_cache(maxsize=32)  # the endpoint checks once to pick the answer's format, run_query again
def _parse(text: str) -> _Parsed:
    text = _canonical(text)
    try:
        with _PARSER_LOCK:
            tree = parseQuery(text)
    except ParseBaseException as exc:
        if _is_update(text):
            raise SparqlError("Dit endpoint is alleen-lezen: updates worden geweigerd", 403) from None
        raise SparqlError(f"Syntaxfout in de query: {exc}") from None
    except RecursionError:
        raise SparqlError("De query is te diep genest of te lang om te controleren; maak hem kleiner") from None
    except Exception as exc:  # the checking parser failed on its own: refuse rather than run it unchecked
        raise SparqlError(f"De query kon niet worden gecontroleerd en wordt daarom niet uitgevoerd: {exc}") from None
    prologue, query = tree[0], tree[1]
    if any(node.name == "ServiceGraphPattern" for node in _nodes(tree)):
        raise SparqlError("SERVICE is niet toegestaan: dit endpoint haalt niets van het netwerk")
    if query.name not in _FORMS:
        raise SparqlError("Alleen SELECT, ASK, CONSTRUCT en DESCRIBE zijn toegestaan")
    prefixes = {**PREFIXES, **{d.prefix or "": str(d.iri) for d in prologue if d.name == "PrefixDecl"}}
    # (CompValue.get returns the key itself for a missing key: test with `in`.)
    clauses = query["datasetClause"] if "datasetClause" in query else []
    dataset = tuple(_expand(clause["default"] if "default" in clause else clause["named"], prefixes)
                    for clause in clauses)
    return _Parsed(text, _FORMS[query.name], dataset)


def _canonical(text: str) -> str:
    """Unicode escapes expanded and every line end a LF, so both parsers read the same code points.

    SPARQL expands \\uXXXX / \\UXXXXXXXX before parsing; rdflib's expansion is looser than the
    spec's, so it is done here by the spec and the result handed to both. A comment ends at CR
    or LF in SPARQL but only at LF for rdflib; with only LFs left they agree.
    """
    def expand(match: re.Match) -> str:
        code = int(match.group(1) or match.group(2), 16)
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise SparqlError(f"Ongeldige Unicode-escape in de query: {match.group()}")
        return chr(code)

    text = _ESCAPE.sub(expand, text)
    if re.search(r"\\[uU][0-9A-Fa-f]{4}", text):  # an escape spelled by escapes: would be expanded twice
        raise SparqlError("Een Unicode-escape die een nieuwe escape vormt is niet toegestaan")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _is_update(text: str) -> bool:
    try:
        with _PARSER_LOCK:
            parseUpdate(text)
        return True
    except Exception:
        return False


def _nodes(tree):
    """Every CompValue in the parse tree, without recursion (a deep tree must not overflow the stack)."""
    stack = [tree]
    while stack:
        item = stack.pop()
        if isinstance(item, CompValue):
            yield item
            stack.extend(item.values())
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, ParseResults)):
            stack.extend(item)


def _expand(term, prefixes: dict[str, str]) -> str:
    if isinstance(term, CompValue) and term.name == "pname":
        prefix = term.prefix or ""
        if prefix not in prefixes:
            raise SparqlError(f"Onbekend voorvoegsel in FROM: {prefix}:")
        return prefixes[prefix] + (term.localname or "")
    return str(term)


# --- evaluation ------------------------------------------------------------------------------


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
