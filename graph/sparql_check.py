"""The SPARQL check: what may be evaluated, decided on rdflib's parse tree before evaluation.

Updates and LOAD are refused, and so is any SERVICE, wherever it is nested, and any FROM /
FROM NAMED of a graph that is not in the store. Both parsers see the same code points:
Unicode escapes are expanded and line ends normalised here, and Oxigraph evaluates exactly
the text rdflib checked (`Checked.text`), so a comment or string that the two parsers would
end in different places cannot hide a SERVICE from one of them. What rdflib cannot parse is
refused (fail closed), even when Oxigraph would accept it.

Parsing is pure Python and can take seconds on a hostile query, so the endpoint runs it in
the worker process, under the query's time limit (graph.sparql_worker).

This reads rdflib's parse tree (node names such as "ServiceGraphPattern"; tested with rdflib
7.6, pyproject keeps it below 8): tests/test_security.py fails if a new rdflib changes them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

from pyparsing import ParseBaseException, ParseResults
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue

from graph.errors import SparqlError
from ontology import PREFIXES

MAX_QUERY_CHARS = 100_000
FORMS = {"SelectQuery": "select", "AskQuery": "ask", "ConstructQuery": "construct", "DescribeQuery": "describe"}
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_PARSER_LOCK = threading.Lock()  # rdflib's pyparsing grammar fails when two threads parse at once


@dataclass(frozen=True)
class Checked:
    text: str  # what Oxigraph evaluates: the very code points rdflib parsed
    form: str  # select | ask | construct | describe


def checked(text: str, is_known_graph: Callable[[str], bool]) -> Checked:
    """The query as it may be evaluated, or SparqlError for anything not allowed."""
    if not text.strip():
        raise SparqlError("Lege query")
    if len(text) > MAX_QUERY_CHARS:
        raise SparqlError(f"Query is langer dan {MAX_QUERY_CHARS} tekens", 413)
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
    if query.name not in FORMS:
        raise SparqlError("Alleen SELECT, ASK, CONSTRUCT en DESCRIBE zijn toegestaan")
    prefixes = {**PREFIXES, **{d.prefix or "": str(d.iri) for d in prologue if d.name == "PrefixDecl"}}
    # (CompValue.get returns the key itself for a missing key: test with `in`.)
    for clause in query["datasetClause"] if "datasetClause" in query else []:  # noqa: SIM401
        graph = _expand(clause["default"] if "default" in clause else clause["named"], prefixes)
        if not is_known_graph(graph):
            raise SparqlError(f"FROM <{graph}> is geen graaf in deze store; externe grafen worden niet opgehaald")
    return Checked(text, FORMS[query.name])


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
