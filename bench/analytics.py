"""The analytics layer at size N: example queries (kubus) against their plain versions, rebuild and check costs.

    .venv/bin/python -m bench.analytics --n 10000 [--out bench/out/analytics] [--reuse] [--skip-plain]

Steps, in OUT/N/: `maatwerk generate` + `maatwerk init --no-demo` + `maatwerk import-cases`
(wall time and peak RSS of the import, which now includes the analytics update), then in this
process: every api/queries/*.rq and its api/queries/plain/*.rq version through
`KnowledgeGraph.select` (in-process Oxigraph, union default graph: what the endpoint's worker
runs, without the worker round trip), 1 warm-up + median of 3 (one run when the warm-up took
over 5 s), rows compared; a full rebuild of the layer from the graph (`Analytics.rebuild`);
`maatwerk check-analytics`; an import of 100 more cases into the store (wall time of the whole
command: gate, commit, analytics, search index); sizes on disk. Prints a Markdown table and
writes OUT/N/analytics.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from bench.procs import disk_mb, remove_tree, run_measured

HERE = Path(__file__).resolve().parent
QUERIES = HERE.parent / "api" / "queries"
SLOW_S = 5.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.analytics", description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=10_000, help="number of generated cases")
    p.add_argument("--out", type=Path, default=HERE / "out" / "analytics", help="work dir")
    p.add_argument("--reuse", action="store_true", help="reuse OUT/N's data dir (skip generate and import)")
    p.add_argument("--skip-plain", action="store_true", help="time only the kubus queries (plain ones take long at 1M)")
    return p.parse_args(argv)


def cli(work: Path, *args: str) -> dict:
    """A `maatwerk` command to completion (raises when it fails): wall time and peak RSS (MiB, with children)."""
    done = run_measured(list(args), work / f"{args[0]}.log")
    return {"seconds": round(done.seconds, 2), "peak_rss_mb": round(done.peak_tree_rss_mb), "rc": done.returncode}


def timed(kg, text: str) -> tuple[float, list]:
    t0 = time.perf_counter()
    rows = kg.select(text)
    return (time.perf_counter() - t0) * 1000, rows


def time_query(kg, text: str) -> tuple[float, list]:
    first, rows = timed(kg, text)
    if first > SLOW_S * 1000:
        return first, rows
    return statistics.median(timed(kg, text)[0] for _ in range(3)), rows


def query_timings(kg, skip_plain: bool) -> list[dict]:
    from graph.charts import with_year_filter

    out = []
    for fast in sorted(QUERIES.glob("*.rq")):
        plain = QUERIES / "plain" / fast.name
        fast_ms, fast_rows = time_query(kg, with_year_filter(fast.read_text(), None, None))
        row = {"query": fast.stem, "kubus": plain.exists(), "fast_ms": round(fast_ms, 1), "rows": len(fast_rows)}
        if plain.exists() and not skip_plain:
            plain_ms, plain_rows = time_query(kg, with_year_filter(plain.read_text(), None, None))
            row.update(plain_ms=round(plain_ms, 1), same_rows=plain_rows == fast_rows)
        out.append(row)
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = args.out / str(args.n)
    data_dir, cases, extra = work / "data", work / "cases.jsonl", work / "extra.jsonl"
    results: dict = {
        "n": args.n,
        "command": "python -m bench.analytics " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}",
        "load_average_at_start": os.getloadavg(),
        "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    if not args.reuse:
        remove_tree(work)
        work.mkdir(parents=True)
        results["generate"] = cli(work, "generate", "--n", str(args.n), "--out", str(cases), "--seed", "1")
        results["init"] = cli(work, "init", "--no-demo", "--data-dir", str(data_dir))
        results["import"] = cli(work, "import-cases", str(cases), "--data-dir", str(data_dir))
    from graph.analytics import FILE as ANALYTICS_FILE
    from graph.analytics import GRAPH_CUBE
    from graph.store import KnowledgeGraph

    kg = KnowledgeGraph(data_dir / "store")
    try:
        results["queries"] = query_timings(kg, args.skip_plain)
        t0 = time.perf_counter()
        kg.analytics.rebuild(kg.store, kg.revision())
        results["rebuild_s"] = round(time.perf_counter() - t0, 2)
        results["kubus_triples"] = len(kg.graph_quads(GRAPH_CUBE))
    finally:
        kg.close()
    results["check_analytics"] = cli(work, "check-analytics", "--data-dir", str(data_dir))
    cli(work, "generate", "--n", "100", "--out", str(extra), "--seed", "99")
    results["import_100_more"] = cli(work, "import-cases", str(extra), "--data-dir", str(data_dir))
    results["disk_mb"] = {
        "analytics.duckdb": round((data_dir / "store" / ANALYTICS_FILE).stat().st_size / 2**20, 1),
        "store": disk_mb(data_dir / "store"),
    }
    results["load_average_at_end"] = os.getloadavg()
    (work / "analytics.json").write_text(json.dumps(results, indent=2))
    print(markdown(results))
    return 0 if all(r.get("same_rows", True) for r in results["queries"]) else 1


def markdown(r: dict) -> str:
    lines = [
        f"### {r['n']:,} cases ({r['date_utc']}, load average {r['load_average_at_start'][0]:.1f} at start)",
        "",
        f"- command: `{r['command']}`; machine: {r['machine']}",
    ]
    if "import" in r:
        lines.append(f"- import: {r['import']['seconds']} s, peak RSS {r['import']['peak_rss_mb']} MiB")
    lines += [
        f"- full rebuild of the layer from the graph: {r['rebuild_s']} s; "
        f"`maatwerk check-analytics`: {r['check_analytics']['seconds']} s (exit {r['check_analytics']['rc']})",
        f"- import of 100 more cases (whole command): {r['import_100_more']['seconds']} s",
        f"- kubus graph: {r['kubus_triples']:,} triples; analytics.duckdb {r['disk_mb']['analytics.duckdb']} MB",
        "",
        "| query | kubus | rows | ms (as shipped) | ms (plain version) | same rows |",
        "|---|---|---|---|---|---|",
    ]
    for q in r["queries"]:
        plain = q.get("plain_ms", "–")
        same = {True: "yes", False: "**NO**", None: "–"}[q.get("same_rows")]
        lines.append(
            f"| {q['query']} | {'yes' if q['kubus'] else 'no'} | {q['rows']} | {q['fast_ms']} | {plain} | {same} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
