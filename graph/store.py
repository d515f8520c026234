"""The persistent knowledge graph: an Oxigraph (RocksDB) store with a redo journal.

Every write goes through `commit`: the change (graphs to drop, quads to add) is
first written to a journal directory and made visible by one atomic rename; only
then is it applied to the store. A process killed before the rename leaves the
store untouched; one killed after it is completed by the next `open`, which
replays the journal (dropping and re-adding is idempotent). So the store is
always as before a commit or fully after it.

The journal lives in `store/`: `journal.tmp` while it is written (discarded on
open), `journal` once committed (replayed on open), `journal.done` once applied
(removed on open). Renaming to `journal.done` before deleting means a process
killed halfway through the deletion never leaves a half journal to replay.

After the apply, and before the journal is cleared, the analytics layer (graph/analytics.py:
case facts, counts and graph sizes in `store/analytics-v4.duckdb`, the counts as the kubus graph) is brought
to the new revision; the journal header names the graphs touched and the revision the commit
follows, so a replay can update it incrementally or, when it is not exactly one commit behind,
rebuild it from the graph. Both parts carry the revision they reflect.

Only one process can open a store (RocksDB holds a lock file): a second one gets
`StoreLocked`. Within a process `write_lock` serialises commits.

Tests kill a writer at an exact step with `MAATWERK_CRASH_POINT=<name>` (see
`_crash_point`); unset, as always outside the crash tests, it does nothing.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import threading
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from graph.analytics import FILE as ANALYTICS_FILE
from graph.analytics import OLD_FILES, Analytics, Key, differences, publish, untracked_quads
from graph.analytics import upgrade as upgrade_analytics
from graph.errors import Busy
from ontology import (
    GRAPH_META,
    GRAPH_ONTOLOGY,
    GRAPH_REFERENCE,
    ONTOLOGY_FILES,
    PREFIXES,
    REFERENCE_FILES,
    term,
)

log = logging.getLogger(__name__)
_REVISION = ox.NamedNode(term("mw:revisie"))
_CUBE_REVISION = ox.NamedNode(term("mw:kubusRevisie"))  # the revision the kubus graph reflects
_META_SUBJECT = ox.NamedNode(GRAPH_META)
_SMALL_COMMIT = 200_000  # quads; above this the bulk loader is faster than a transaction


class StoreLocked(Busy):
    """Another process has the store open for writing."""


class KnowledgeGraph:
    """One store in one data directory (or in memory when `path` is None)."""

    def __init__(self, path: Path | None = None):
        self.path = path
        self.write_lock = threading.Lock()  # serialises commits within a process
        if path is None:
            self.store = ox.Store()
            self.analytics = Analytics(None)
            return
        path.mkdir(parents=True, exist_ok=True)
        try:
            self.store = ox.Store(str(path / "oxigraph"))
        except OSError as exc:
            if "lock" in str(exc).lower():
                raise StoreLocked(
                    f"De data-map {path.parent} is in gebruik door een ander proces (een andere import, "
                    "of `maatwerk serve`). Wacht tot dat klaar is, of importeer via de API als de server draait."
                ) from exc
            raise
        self.analytics = Analytics(path / ANALYTICS_FILE)
        self._replay_journal()
        self._catch_up_analytics()

    # --- reading -------------------------------------------------------------

    def query(self, sparql: str, **kwargs: Any):
        """Run SPARQL over the union of all graphs, with the project prefixes predeclared."""
        return self.store.query(sparql, use_default_graph_as_union=True, prefixes=_PREFIX_MAP, **kwargs)

    def select(self, sparql: str, **kwargs: Any) -> list[dict[str, Any]]:
        """SELECT as a list of dicts of plain Python values (IRIs and literals as str, numbers as numbers)."""
        solutions = self.query(sparql, **kwargs)
        names = [v.value for v in solutions.variables]
        return [{n: to_python(row[n]) for n in names} for row in solutions]

    def ask(self, sparql: str) -> bool:
        return bool(self.query(sparql))

    def triple_count(self) -> int:
        return len(self.store)

    def case_count(self) -> int:
        rows = self.select("SELECT (COUNT(?c) AS ?n) WHERE { ?c a mw:Casus }")
        return int(rows[0]["n"])

    def sizes(self) -> tuple[int, int]:
        """(case_count(), triple_count()), read from the analytics layer when it reflects the graph's revision.

        Milliseconds instead of seconds (the two scans take 0.9 + 9.8 s at 1M cases, more on a cold cache), for
        /health, which load balancers and the benchmark's start-up poll. While the layer is behind (a commit
        between its apply and its analytics update, or an open before its catch-up) the scans answer.
        """
        revision = self.revision()
        kept = self.analytics.totals(revision) if revision is not None else None
        if kept is None:
            return self.case_count(), self.triple_count()
        cases, tracked = kept
        return cases, tracked + untracked_quads(self.store)

    def revision(self) -> str | None:
        return self._meta(_REVISION)

    def _meta(self, predicate: ox.NamedNode) -> str | None:
        for quad in self.store.quads_for_pattern(_META_SUBJECT, predicate, None, _META_SUBJECT):
            stamp = quad.object
            assert isinstance(stamp, ox.Literal), "the meta graph holds literal stamps"
            return stamp.value
        return None

    def has_graph(self, graph_iri: str) -> bool:
        try:
            return self.store.contains_named_graph(ox.NamedNode(graph_iri))
        except ValueError:  # not an IRI, so certainly not one of our graphs
            return False

    def graph_quads(self, graph_iri: str) -> list[ox.Quad]:
        return list(self.store.quads_for_pattern(None, None, None, ox.NamedNode(graph_iri)))

    def export(self, fmt: ox.RdfFormat) -> bytes:
        """The whole dataset; triple formats get the union of all graphs."""
        if fmt.supports_datasets:
            data = self.store.dump(format=fmt)
        else:
            triples = (ox.Triple(q.subject, q.predicate, q.object) for q in self.store)
            data = ox.serialize(triples, format=fmt, prefixes=_PREFIX_MAP)
        assert data is not None  # pyoxigraph returns the bytes when given no output file
        return data

    # --- writing -------------------------------------------------------------

    def commit(self, quads: Iterable[ox.Quad], drop_graphs: Iterable[str] = ()) -> str:
        """Atomically replace `drop_graphs` and add `quads`; returns the new revision."""
        revision = uuid.uuid4().hex
        meta = ox.Quad(_META_SUBJECT, _REVISION, ox.Literal(revision), _META_SUBJECT)
        with self.write_lock:
            if self.path is None:
                added = [*quads, meta]
                drops = _drop_list(drop_graphs)
                header = {"drop": drops, **_change(self.revision(), revision, drops, added)}
                self._apply(header, lambda: self.store.extend(added), None)
                return revision
            if self._journal_dir.exists():  # an earlier apply in this process failed: finish it first
                self._apply_journal(self._journal_dir)
            journal = self._write_journal(drop_graphs, quads, meta, self.revision())
            self._apply_journal(journal)
        return revision

    def checkpoint(self, target: Path, wait_s: float = 0.0) -> tuple[str | None, Path] | None:
        """Copy the store to `target` (a RocksDB checkpoint: hard links, cheap) between two commits.

        Returns (revision copied, target), or None when a commit held the lock for longer than
        `wait_s` (0: do not wait). Raises OSError when the copy fails (e.g. a full disk).
        """
        assert self.path is not None, "an in-memory store has nothing to copy"
        locked = self.write_lock.acquire(timeout=wait_s) if wait_s > 0 else self.write_lock.acquire(blocking=False)
        if not locked:
            return None
        try:  # under the commit lock, so no checkpoint holds half a commit
            revision = self.revision()
            shutil.rmtree(target, ignore_errors=True)
            target.parent.mkdir(parents=True, exist_ok=True)
            self.store.backup(str(target))
            return revision, target
        finally:
            self.write_lock.release()

    def load_ontology_and_reference(self) -> None:
        """(Re)load the shipped Turtle; idempotent because each source has its own graph."""
        quads = list(turtle_quads(ONTOLOGY_FILES, GRAPH_ONTOLOGY))
        quads += turtle_quads(REFERENCE_FILES, GRAPH_REFERENCE)
        self.commit(quads, drop_graphs=[GRAPH_ONTOLOGY, GRAPH_REFERENCE])

    def close(self) -> None:
        if self.path is not None:
            self.store.flush()
        self.analytics.close()
        del self.store

    # --- journal -------------------------------------------------------------

    @property
    def _journal_dir(self) -> Path:
        assert self.path is not None
        return self.path / "journal"

    def _write_journal(
        self, drop_graphs: Iterable[str], quads: Iterable[ox.Quad], meta: ox.Quad, previous: str | None = None
    ) -> Path:
        """The commit's journal; `previous` (the revision it follows) lets the analytics update incrementally."""
        final = self._journal_dir
        tmp = final.with_name("journal.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        count = 0
        graphs: list[ox.Quad] = []  # the first quad of each run of one graph: their graphs are the ones touched
        try:
            with open(tmp / "quads.nq", "wb") as out:

                def counted() -> Iterator[ox.Quad]:
                    nonlocal count
                    last = None
                    for quad in quads:
                        count += 1
                        if quad.graph_name != last:
                            last = quad.graph_name
                            graphs.append(quad)
                        yield quad
                    yield meta

                ox.serialize(counted(), out, format=ox.RdfFormat.N_QUADS)
                out.flush()
                os.fsync(out.fileno())
            # drop_graphs is read only now: a streaming producer may name them as it goes.
            drops = _drop_list(drop_graphs)
            revision = meta.object
            assert isinstance(revision, ox.Literal), "commit() stamps the revision as a literal"
            header = {"drop": drops, "quads": count + 1, **_change(previous, revision.value, drops, graphs)}
            _write_synced(tmp / "drop.json", json.dumps(header).encode())
        except BaseException:  # e.g. the producer rejected the import: nothing was committed
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        fsync_dir(tmp)
        _crash_point("journal-written")
        os.replace(tmp, final)  # the commit point
        fsync_dir(final.parent)
        _crash_point("committed")
        return final

    def _replay_journal(self) -> None:
        shutil.rmtree(self._journal_dir.with_name("journal.tmp"), ignore_errors=True)  # never committed
        shutil.rmtree(self._journal_dir.with_name("journal.done"), ignore_errors=True)  # already applied
        if self._journal_dir.exists():
            log.warning("store: finishing a commit that was interrupted (%s)", self._journal_dir)
            self._apply_journal(self._journal_dir)

    def _apply_journal(self, journal: Path) -> None:
        header = json.loads((journal / "drop.json").read_text())
        path = str(journal / "quads.nq")
        if header["quads"] > _SMALL_COMMIT:
            load = lambda: self.store.bulk_load(path=path, format=ox.RdfFormat.N_QUADS)  # noqa: E731
        else:
            load = lambda: self.store.load(path=path, format=ox.RdfFormat.N_QUADS)  # noqa: E731
        self._apply(header, load, journal)

    def _apply(self, header: dict[str, Any], load, journal: Path | None) -> None:
        cube = self._meta(_CUBE_REVISION)  # before the meta graph (its bookkeeping) is dropped and re-added
        for graph_iri in header["drop"]:
            node = ox.NamedNode(graph_iri)
            if self.store.contains_named_graph(node):
                self.store.remove_graph(node)
        if journal is not None:
            _crash_point("dropped")
        load()
        if journal is None:
            self._update_analytics(header, cube)
            return
        self.store.flush()
        _crash_point("applied")
        self._update_analytics(header, cube)
        _crash_point("published")
        done = journal.with_name("journal.done")
        shutil.rmtree(done, ignore_errors=True)
        os.replace(journal, done)  # applied; from here a kill cannot leave a half journal behind
        fsync_dir(done.parent)
        _crash_point("cleanup")
        shutil.rmtree(done)

    # --- analytics (graph/analytics.py), kept in step with the graph ---------------------

    def _update_analytics(self, header: dict[str, Any], published: str | None) -> None:
        """Bring facts, counts and the cube graph to this (applied) commit; safe to repeat after a kill.

        Each step is stamped with the revision it reflects, so a replay skips what was done,
        updates incrementally what is exactly one commit behind, and rebuilds anything else
        from the graph (always correct, only slower). `published` is the revision the kubus
        graph reflected before this commit's apply (its stamp lives in the meta graph, which
        the apply replaces; after a kill between the two, it is gone and the kubus is rebuilt).
        """
        revision = header.get("revision") or self.revision()
        counted = self.analytics.revision()
        changed: list[Key] | None = None
        if counted != revision:
            if counted == header.get("previous") and "touched" in header:
                changed = self.analytics.update(self.store, header["touched"], revision)
            else:
                self.analytics.rebuild(self.store, revision)
        _crash_point("counted")
        if self._meta(_CUBE_REVISION) != revision:
            keys: list[Key] | None = None  # all observations
            if published == revision:  # published before a kill; only its stamp went with the meta graph
                keys = []
            elif changed is not None and published == header.get("previous"):
                keys = changed
            stamp = ox.Quad(_META_SUBJECT, _CUBE_REVISION, ox.Literal(revision or ""), _META_SUBJECT)
            publish(self.store, self.analytics, keys, stamp)

    def check_analytics(self) -> list[str]:
        """Differences between the analytics layer and a recomputation from the graph (empty: consistent)."""
        with self.write_lock:
            found = differences(self.store, self.analytics, self.revision(), self._meta(_CUBE_REVISION))
            if not found and (kept := self.sizes()) != (scanned := (self.case_count(), self.triple_count())):
                found.append(f"casussen en triples: de laag zegt {kept}, de graaf {scanned}")
            return found

    def _catch_up_analytics(self) -> None:
        """On open: a layer behind the graph (a store from before it, a deleted file) is rebuilt.

        The kubus graph is published only after DuckDB reached the same revision, so a kubus
        in step with the graph means DuckDB was too; DuckDB itself is then not even opened
        (its import alone costs a read-only command like `maatwerk sparql` noticeable time).
        A DuckDB file changed behind the store's back is caught by the next commit, whose
        `previous` it will not match, and by `maatwerk check-analytics`.
        """
        assert self.path is not None
        missing = not (self.path / ANALYTICS_FILE).exists() and not upgrade_analytics(self.path, self.store)
        cube = self._meta(_CUBE_REVISION)
        if missing or cube != self.revision():
            self._update_analytics({"revision": self.revision()}, cube)
        for old in OLD_FILES:  # a layer of an older schema, replaced by the rebuild above
            for stale in (self.path / old, self.path / (old + ".wal")):
                stale.unlink(missing_ok=True)


def _change(previous: str | None, revision: str, drops: list[str], added: Iterable[ox.Quad]) -> dict[str, Any]:
    """The journal's record of what a commit changes, for the analytics: revisions and graphs touched."""
    touched = {g for g in drops if g != GRAPH_META}
    touched.update(q.graph_name.value for q in added if isinstance(q.graph_name, ox.NamedNode))
    touched.discard(GRAPH_META)
    return {"previous": previous, "revision": revision, "touched": sorted(touched)}


_PREFIX_MAP = PREFIXES


def _drop_list(drop_graphs: Iterable[str]) -> list[str]:
    return [*dict.fromkeys(drop_graphs), GRAPH_META]


def turtle_quads(files: Iterable[Path], graph_iri: str) -> Iterator[ox.Quad]:
    graph = ox.NamedNode(graph_iri)
    for path in files:
        if path.exists():
            for triple in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
                yield ox.Quad(triple.subject, triple.predicate, triple.object, graph)


def to_python(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, ox.Literal):
        datatype = value.datatype.value
        if datatype.endswith(("#integer", "#int", "#long")):
            return int(value.value)
        if datatype.endswith(("#decimal", "#double", "#float")):
            return float(value.value)
        if datatype.endswith("#boolean"):
            return value.value == "true"
        return value.value
    return value.value


def _crash_point(name: str) -> None:
    """SIGKILL this process here when MAATWERK_CRASH_POINT names this step (crash tests only).

    Steps of a commit, in order: journal-written (all fsynced, not yet renamed: nothing
    committed), committed (renamed, nothing applied), dropped (replaced graphs removed,
    new quads not loaded), applied (loaded and flushed, journal still there), counted
    (the analytics' facts and counts updated, not the cube graph), published (cube graph
    updated too, journal still there), cleanup (journal renamed to journal.done, not yet removed).
    """
    if os.environ.get("MAATWERK_CRASH_POINT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file in `path` durable (the entry, not only the file's bytes)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
