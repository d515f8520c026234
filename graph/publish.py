"""Publish the knowledge graph to another SPARQL server, one named graph at a time.

Every case lives in a named graph of its own (its IRI), as do the ontology, the
reference data and each imported law, so a republished case replaces exactly its old
version on the other side. Only graphs whose content changed since the last publish to
the same target are sent; graphs that disappeared are deleted there. What was sent is
remembered per target in a small JSON file in the data directory.

Two protocols, so that any SPARQL 1.1 store will do (Oxigraph server, Apache Jena
Fuseki, GraphDB, Virtuoso):
- the Graph Store HTTP Protocol (`PUT` / `DELETE` on `{graph_store}?graph=IRI`), preferred;
- SPARQL 1.1 Update (`DROP SILENT GRAPH` + `INSERT DATA`), for stores that only offer that.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

import pyoxigraph as ox

from graph.errors import MaatwerkError
from graph.store import GRAPH_META

# SPARQL Update requests carry this many graphs at most, so one request stays a few MB.
UPDATE_BATCH_TRIPLES = 20_000
TIMEOUT_S = 60


class PublishError(MaatwerkError):
    """The target refused or could not be reached; what was sent before stays remembered."""

    status = 502


@dataclass(frozen=True)
class Target:
    """Where to publish. `graph_store` wins over `update` when both are given."""

    update: str | None = None
    graph_store: str | None = None
    auth: str | None = None  # "user:password" (HTTP Basic) or "Bearer <token>"

    @property
    def key(self) -> str:
        return self.graph_store or self.update or ""


@dataclass
class PublishReport:
    sent: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: int = 0
    triples: int = 0


def publish(
    kg, target: Target, state_dir: Path, full: bool = False, progress: Callable[[int, int], None] | None = None
) -> PublishReport:
    """Send every named graph that changed since the last publish to `target` (all of them with `full`)."""
    if not target.key:
        raise PublishError("Geef een doel: --graph-store URL (Graph Store Protocol) of --endpoint URL (SPARQL Update).")
    state_file = state_dir / f"{hashlib.sha256(target.key.encode()).hexdigest()[:16]}.json"
    published = {} if full else _load_state(state_file, target.key)
    current = dict(graph_digests(kg))
    changed = [g for g, d in current.items() if published.get(g) != d]
    gone = [g for g in published if g not in current]
    report = PublishReport(unchanged=len(current) - len(changed))
    client = _Client(target)
    try:
        sender = client.put_graphs if target.graph_store else client.update_graphs
        for done, (graph, triples) in enumerate(sender(kg, changed), 1):
            published[graph] = current[graph]
            report.sent.append(graph)
            report.triples += triples
            if progress:
                progress(done, len(changed) + len(gone))
        for graph in gone:
            client.delete_graph(graph)
            published.pop(graph)
            report.deleted.append(graph)
    finally:
        client.close()
        _save_state(state_file, target.key, published)
    return report


def graph_digests(kg) -> Iterator[tuple[str, str]]:
    """(graph IRI, digest of its content) for every named graph but the store's own bookkeeping."""
    for graph in kg.store.named_graphs():
        if isinstance(graph, ox.NamedNode) and graph.value != GRAPH_META:
            yield graph.value, hashlib.sha256(b"\n".join(sorted(_lines(kg, graph.value)))).hexdigest()


def _lines(kg, graph: str) -> list[bytes]:
    return _ntriples(kg, graph).splitlines()


def _ntriples(kg, graph: str) -> bytes:
    triples = (ox.Triple(q.subject, q.predicate, q.object) for q in kg.graph_quads(graph))
    return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""


def _load_state(path: Path, key: str) -> dict[str, str]:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        return {}  # unreadable bookkeeping costs a full publish, never a wrong one
    return dict(state.get("graphs", {})) if state.get("target") == key else {}


def _save_state(path: Path, key: str, graphs: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"target": key, "graphs": graphs}, sort_keys=True), encoding="utf-8")
    os.replace(temporary, path)


class _Client:
    """One kept-alive HTTP connection to the target: a full publish of 100k cases is 100k requests."""

    def __init__(self, target: Target):
        self.target = target
        self._connection: http.client.HTTPConnection | None = None
        self._headers = {"Authorization": _authorization(target.auth)} if target.auth else {}

    def put_graphs(self, kg, graphs: list[str]) -> Iterator[tuple[str, int]]:
        for graph in graphs:
            body = _ntriples(kg, graph)
            # N-Triples is Turtle too, and text/turtle is the one type every Graph Store accepts.
            self._request("PUT", self._graph_url(graph), body, "text/turtle")
            yield graph, body.count(b"\n")

    def update_graphs(self, kg, graphs: list[str]) -> Iterator[tuple[str, int]]:
        batch: list[tuple[str, bytes]] = []
        size = 0
        for graph in graphs:
            body = _ntriples(kg, graph)
            batch.append((graph, body))
            size += body.count(b"\n")
            if size >= UPDATE_BATCH_TRIPLES:
                yield from self._send_update(batch)
                batch, size = [], 0
        if batch:
            yield from self._send_update(batch)

    def delete_graph(self, graph: str) -> None:
        if self.target.graph_store:
            self._request("DELETE", self._graph_url(graph), b"", None, missing_ok=True)
        else:
            self._request(
                "POST", self.target.update or "", f"DROP SILENT GRAPH <{graph}>".encode(), "application/sparql-update"
            )

    def _send_update(self, batch: list[tuple[str, bytes]]) -> Iterator[tuple[str, int]]:
        parts = [f"DROP SILENT GRAPH <{g}> ;\nINSERT DATA {{ GRAPH <{g}> {{\n{body.decode()}}} }}" for g, body in batch]
        self._request("POST", self.target.update or "", " ;\n".join(parts).encode(), "application/sparql-update")
        for graph, body in batch:
            yield graph, body.count(b"\n")

    def _graph_url(self, graph: str) -> str:
        base = self.target.graph_store or ""
        return f"{base}{'&' if '?' in base else '?'}graph={quote(graph, safe='')}"

    def _request(self, method: str, url: str, body: bytes, content_type: str | None, missing_ok: bool = False) -> None:
        parts = urlsplit(url)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        headers = dict(self._headers)
        if content_type:
            headers["Content-Type"] = content_type
        for attempt in (1, 2):  # a kept-alive connection the server closed meanwhile gets one fresh try
            try:
                connection = self._connect(parts.scheme, parts.netloc)
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                text = response.read()
                break
            except (http.client.HTTPException, ConnectionResetError, BrokenPipeError) as exc:
                self.close()
                if attempt == 2:
                    raise PublishError(f"Verbinding met {parts.netloc} verbroken: {exc}") from exc
            except OSError as exc:
                self.close()
                raise PublishError(f"{parts.netloc} is niet bereikbaar: {exc.strerror or exc}") from exc
        if response.status == 404 and missing_ok:
            return
        if response.status >= 300:
            message = text.decode("utf-8", "replace").strip()[:300]
            raise PublishError(
                f"{method} {url} gaf {response.status} {response.reason}: {message}", detail={"status": response.status}
            )

    def _connect(self, scheme: str, netloc: str) -> http.client.HTTPConnection:
        if self._connection is None:
            if scheme not in ("http", "https"):
                raise PublishError(
                    f"Alleen http- en https-adressen worden ondersteund, niet {scheme or 'zonder schema'}."
                )
            kind = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
            self._connection = kind(netloc, timeout=TIMEOUT_S)
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _authorization(auth: str) -> str:
    if auth.lower().startswith("bearer "):
        return auth
    return "Basic " + base64.b64encode(auth.encode()).decode()
