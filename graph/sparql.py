"""Safe, read-only SPARQL: no updates, no network, time, row and byte limits, a bounded queue.

`run_query` is the one entry point. The query is checked on its parse tree first
(graph.sparql_check: no SERVICE anywhere, no updates or LOAD, no FROM of a graph outside
the store) and only then evaluated (graph.sparql_eval). For on-disk graphs both happen in
a worker process (graph.sparql_worker) that is killed at the time limit, so a query that is
slow to parse is stopped like one that is slow to run, and that has no network at all
where the platform allows it: the second wall behind the check.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import pyoxigraph as ox

from graph import sparql_layer
from graph.errors import SparqlError
from graph.sparql_check import MAX_QUERY_CHARS, checked
from graph.sparql_eval import (
    GRAPH_TYPES,
    RESULT_TYPES,
    QueryResult,
    _check_size,
    check_and_evaluate,
    differs_from_python,
    finish_cells,
    json_text,
)
from graph.sparql_worker import pool_for
from ontology import PREFIXES

__all__ = [
    "GRAPH_TYPES",
    "MAX_QUERY_CHARS",
    "RESULT_TYPES",
    "QueryQueue",
    "QueryResult",
    "SparqlError",
    "check_query",
    "run_query",
]

MAX_ANSWER_BYTES = 50_000_000


def check_query(text: str, is_known_graph: Callable[[str], bool]) -> str:
    """The query form (select/ask/construct/describe), or SparqlError for anything not allowed."""
    return checked(text, is_known_graph).form


def run_query(
    kg,
    text: str,
    timeout_s: float = 10.0,
    limit: int = 10_000,
    *,
    max_bytes: int = MAX_ANSWER_BYTES,
    default_graphs: Sequence[str] = (),
    named_graphs: Sequence[str] = (),
    media_type: str | Mapping[str, str] | None = None,
) -> QueryResult:
    """Check, then evaluate with a time limit, at most `limit` rows or triples and `max_bytes` of answer.

    The default graph is the union of all graphs unless `default_graphs` names some. With
    `media_type` the result comes back serialised (`QueryResult.body`, `.media_type`), done
    where it was evaluated; a mapping picks the type by query form (select, ask, construct,
    describe), which is known only once the query is parsed. On-disk graphs are queried in a
    worker process that is killed when the time is up; in-memory graphs (tests, tools) in a
    thread that cannot be stopped and has no network wall.

    An example list query over the whole dataset is answered from the analytics layer when it is
    in step with the graph (graph.sparql_layer): the same rows, without visiting every case.
    """
    if not default_graphs and not named_graphs:
        answered = _from_layer(kg, text, limit, media_type, max_bytes)
        if answered is not None:
            return answered
    request = (text, _options(default_graphs, named_graphs), limit, media_type, max_bytes)
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
            raise SparqlError(
                "Te veel SPARQL-queries tegelijk; probeer het zo opnieuw",
                429,
                headers={"Retry-After": self._retry_after},
            )
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


def _from_layer(
    kg, text: str, limit: int, media_type: str | Mapping[str, str] | None, max_bytes: int
) -> QueryResult | None:
    media = media_type.get("select") if isinstance(media_type, Mapping) else media_type
    as_json = bool(media) and RESULT_TYPES.get(media, "json") == "json"  # type: ignore[arg-type]
    found = sparql_layer.answer(kg, text, limit, as_json)
    if found is not None and found.json_rows is not None:
        body = json_text(found.variables, found.json_rows)
        if not differs_from_python(body):
            _check_size(len(body), max_bytes)
            result = QueryResult("select", found.variables, truncated=found.truncated, media_type=media, body=body)
            result.answered_by = f"{sparql_layer.SOURCE} (revisie {found.revision})"
            return result
        found = sparql_layer.answer(kg, text, limit)  # the rows again, as cells, for Python's escaping
    if found is None:
        return None
    result = finish_cells(found.variables, found.rows, found.truncated, media, max_bytes)
    result.answered_by = f"{sparql_layer.SOURCE} (revisie {found.revision})"
    return result


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
            outcome["result"] = check_and_evaluate(store, *request)
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
