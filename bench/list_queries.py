"""The example list queries (02, 10, 15, 18-20) through `graph.sparql.run_query`, as the endpoint runs them.

    PYTHONPATH=<checkout> .venv/bin/python bench/list_queries.py DATA_DIR [--runs 3] [--out FILE.json]

Run by path with PYTHONPATH set to the checkout to measure (it imports only graph/), so the same
script times an older checkout ("before") and this one ("after") on one copy of a data dir. Opens
the store (timed: an older analytics layer is rebuilt on open), then per query a first run and the
median of `--runs` more, each serialised as SPARQL JSON results, as `/sparql` sends it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import graph
from graph.sparql import run_query
from graph.store import KnowledgeGraph

QUERIES = (
    "02-wmo-en-zvw-samen",
    "10-leerpunten-3e-orde",
    "15-overgang-18-min-18-plus",
    "18-leerpunten-met-opvolging",
    "19-leerpunten-per-geadresseerde",
    "20-leerpunten-open-na-een-jaar",
)


def timed(kg, text: str) -> tuple[float, int, str | None]:
    t0 = time.perf_counter()
    result = run_query(kg, text, 120.0, 10_000, media_type="application/sparql-results+json")
    return (time.perf_counter() - t0) * 1000, len(result.body or b""), getattr(result, "answered_by", None)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("data_dir", type=Path)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--out", type=Path)
    args = p.parse_args()
    folder = Path(str(graph.__file__)).resolve().parents[1] / "api" / "queries"  # the checkout's own queries
    out: dict = {"load_average_at_start": os.getloadavg(), "code": str(folder.parents[1])}
    t0 = time.perf_counter()
    kg = KnowledgeGraph(args.data_dir / "store")
    out["open_s"] = round(time.perf_counter() - t0, 2)
    try:
        for name in QUERIES:
            path = folder / f"{name}.rq"
            if not path.exists():
                continue
            text = "\n".join(line for line in path.read_text().splitlines() if line.strip() != "#JAARFILTER")
            first, size, source = timed(kg, text)
            rest = [timed(kg, text)[0] for _ in range(args.runs)]
            out[name] = {
                "first_ms": round(first, 1),
                "median_ms": round(statistics.median(rest), 1),
                "bytes": size,
                "answered_by": source,
            }
            print(name, out[name], flush=True)
    finally:
        kg.close()
    out["load_average_at_end"] = os.getloadavg()
    print(json.dumps(out, indent=1))
    if args.out:
        args.out.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
