"""Build only the analytics layer (DuckDB) of a large case file, and time the example list queries on it.

    PYTHONPATH=<checkout> .venv/bin/python bench/layer_only.py build CASES.jsonl LAYER.duckdb [--chunk 20000]
    PYTHONPATH=<checkout> .venv/bin/python bench/layer_only.py time LAYER.duckdb [--runs 3] [--out FILE.json]
    PYTHONPATH=<checkout> .venv/bin/python bench/layer_only.py upgrade OLD.duckdb NEW.duckdb

Why: a whole 1,000,000-case store (Oxigraph, search index) takes more than an hour to import on
the 2-core machine, while the list queries read only the DuckDB layer. `build` fills that layer
through the import's own code: each chunk of records is checked (`RecordChecker`), turned into
case graphs (`case_quads`) in an in-memory store, and given to `Analytics.update`, the call a
commit makes. The privacy gate is left out: it refuses or redacts personal data and passes
generated texts through unchanged, and it is most of the import's checking time.

`upgrade` derives a layer of the current schema from one of the previous one (graph.analytics.upgrade): the
columns v3 added repeat facts v2 holds (a case's laws; its id and year on its leerpunten), so a 1M layer built
once with the code before the change serves to time the code after it too, without a second build of 20-30 min.
The graph sizes v4 added are counted from the store, which a layer built here does not have: they stay empty.
`compare` checks that a build with the new code and an upgrade of a build with the old one hold the same rows
(graph sizes aside).

`time` answers the example list queries through `graph.sparql.run_query` (the endpoint's entry
point) against that layer, with the labels of an in-memory store holding the ontology and the
reference data, as JSON: first run and median of `--runs` more.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import statistics
import time
from pathlib import Path

import pyoxigraph as ox

import graph
from bench.list_queries import QUERIES
from graph.analytics import Analytics
from graph.case import case_quads
from graph.concepts import ConceptIndex
from graph.sparql import run_query
from graph.store import KnowledgeGraph
from ingest.checker import RecordChecker
from ingest.gate import Gate
from ingest.readers import read_records

_NOW = dt.datetime(2026, 12, 6, tzinfo=dt.UTC)  # prov:generatedAtTime; the layer does not read it
STAMP = "layer-only"  # the revision the layer is stamped with, and the one `time` presents as the graph's


class _NoGate(Gate):
    def find(self, text: str) -> list:
        return []


def reference_graph() -> KnowledgeGraph:
    kg = KnowledgeGraph(None)
    kg.load_ontology_and_reference()
    return kg


def build(cases: Path, layer: Path, chunk: int) -> None:
    kg = reference_graph()
    checker = RecordChecker(ConceptIndex.from_graph(kg), gate=_NoGate())
    analytics = Analytics(layer)
    records = read_records(cases)
    done, t0 = 0, time.perf_counter()
    try:
        while batch := list(itertools.islice(records, chunk)):
            store, graphs = ox.Store(), []
            for location, raw in batch:
                record = checker.check(location, raw)
                if record is None:
                    raise SystemExit(f"refused: {checker.problems[-5:]}")
                store.extend(case_quads(record, _NOW))
                graphs.append(record.iri)
            analytics.update(store, graphs, STAMP)
            done += len(batch)
            print(f"{done} cases, {time.perf_counter() - t0:.0f} s", flush=True)
    finally:
        analytics.close()


class _LayerGraph:
    """What `run_query` needs of a KnowledgeGraph to answer from the layer: the layer, labels, a revision."""

    path = None

    def __init__(self, layer: Path):
        self.reference = reference_graph()
        self.store = self.reference.store
        self.analytics = Analytics(layer)

    def revision(self) -> str | None:
        """The layer's own stamp: the layer is by definition in step with this stand-in graph."""
        return self.analytics.revision()


def timed(kg, text: str) -> tuple[float, int, str | None, float]:
    """Wall ms, bytes, source, and CPU ms of the process (all threads: DuckDB's too), which a shared machine's
    load changes far less than the wall time."""
    t0, c0 = time.perf_counter(), time.process_time()
    result = run_query(kg, text, 120.0, 10_000, media_type="application/sparql-results+json")
    cpu = (time.process_time() - c0) * 1000
    return (time.perf_counter() - t0) * 1000, len(result.body or b""), result.answered_by, cpu


def time_queries(layer: Path, runs: int, out_file: Path | None) -> None:
    folder = Path(str(graph.__file__)).resolve().parents[1] / "api" / "queries"
    out: dict = {"load_average_at_start": os.getloadavg(), "code": str(folder.parents[1])}
    kg = _LayerGraph(layer)
    for name in QUERIES:
        text = "\n".join(
            line for line in (folder / f"{name}.rq").read_text().splitlines() if line.strip() != "#JAARFILTER"
        )
        first, size, source, _ = timed(kg, text)
        if source is None:
            raise SystemExit(f"{name} was not answered from the layer")
        rest = [timed(kg, text) for _ in range(runs)]
        out[name] = {
            "first_ms": round(first, 1),
            "median_ms": round(statistics.median(r[0] for r in rest), 1),
            "median_cpu_ms": round(statistics.median(r[3] for r in rest), 1),
            "bytes": size,
        }
        print(name, out[name], flush=True)
    out["load_average_at_end"] = os.getloadavg()
    print(json.dumps(out, indent=1))
    if out_file:
        out_file.write_text(json.dumps(out, indent=1))


def upgrade(old: Path, new: Path) -> None:
    """previous schema -> current through graph.analytics.upgrade, what opening a store with such a layer runs."""
    from graph.analytics import FILE, OLD_FILES  # imported here: `time` also runs with the code before v3
    from graph.analytics import upgrade as analytics_upgrade

    folder = new.parent / "upgrade"
    folder.mkdir()
    (folder / OLD_FILES[-1]).symlink_to(old.resolve())
    if not analytics_upgrade(folder, ox.Store()):  # no store behind this layer: no graph sizes
        raise SystemExit("nothing to upgrade")
    (folder / FILE).rename(new)
    (folder / OLD_FILES[-1]).unlink()
    folder.rmdir()


def compare(one: Path, other: Path) -> None:
    """Exit 1 unless two layers hold the same facts and counts (a build against an upgrade)."""
    a, b = Analytics(one), Analytics(other)
    try:
        facts = [{t: rows for t, rows in layer.facts().items() if t != "graphs"} for layer in (a, b)]
        same = facts[0] == facts[1] and a.counts() == b.counts()
    finally:
        a.close()
        b.close()
    print("same" if same else "DIFFERENT")
    if not same:
        raise SystemExit(1)


def main() -> None:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build")
    b.add_argument("cases", type=Path)
    b.add_argument("layer", type=Path)
    b.add_argument("--chunk", type=int, default=20_000)
    t = sub.add_parser("time")
    t.add_argument("layer", type=Path)
    t.add_argument("--runs", type=int, default=3)
    t.add_argument("--out", type=Path)
    for name in ("upgrade", "compare"):
        u = sub.add_parser(name)
        u.add_argument("old", type=Path)
        u.add_argument("new", type=Path)
    args = p.parse_args()
    if args.command == "build":
        build(args.cases, args.layer, args.chunk)
    elif args.command == "upgrade":
        upgrade(args.old, args.new)
    elif args.command == "compare":
        compare(args.old, args.new)
    else:
        time_queries(args.layer, args.runs, args.out)


if __name__ == "__main__":
    main()
