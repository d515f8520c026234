"""`make bench`: measure the docs/targets.md targets per corpus size and write bench/RESULTS.md.

    .venv/bin/python -m bench.run [--sizes 10000,100000] [--large] [--out bench/out] [--skip-rdflib]
                                  [--reuse] [--port P]

Per size N, in OUT/N/: generate N cases, `maatwerk init --no-demo` + `maatwerk import-cases`
(timed, peak RSS), the encoder alone on the same texts, sizes on disk, cold start of
`maatwerk serve` (3x), HTTP latency and a load test, the in-process latency split, and
the example SPARQL queries on the store and on rdflib. Only one process may open a data
dir, so the steps that open it in this process run after the server is stopped.
See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import platform
import statistics
import sys
import time
import traceback
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console

from bench import load, report, sparql
from bench.encode import encoder_throughput
from bench.procs import Server, disk_mb, free_port, remove_tree, request, run_measured
from bench.workload import Corpus, mixed_requests, query_texts, read_cases, similar_requests

HERE = Path(__file__).resolve().parent
console = Console()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="10000,100000", help="comma-separated corpus sizes (default 10000,100000)")
    p.add_argument("--large", action="store_true", help="also 1,000,000 cases")
    p.add_argument("--out", type=Path, default=HERE / "out", help="work dir (default bench/out)")
    p.add_argument(
        "--results", type=Path, default=HERE / "RESULTS.md", help="Markdown report (default bench/RESULTS.md)"
    )
    p.add_argument("--skip-rdflib", action="store_true", help="do not compare SPARQL with rdflib")
    p.add_argument(
        "--rdflib-max-cases",
        type=int,
        default=20_000,
        help="compare with rdflib only up to this many cases (loading 100k into rdflib takes many minutes and GBs)",
    )
    p.add_argument("--reuse", action="store_true", help="reuse an existing data dir per size (skip generate/import)")
    p.add_argument("--port", type=int, default=0, help="port for `maatwerk serve` (default: a free one)")
    p.add_argument("--queries", type=int, default=200, help="query sample size")
    p.add_argument("--requests", type=int, default=300, help="similar-cases requests per latency scenario")
    p.add_argument("--load-requests", type=int, default=2000, help="requests per load-test scenario")
    p.add_argument("--http-runs", type=int, default=10, help="runs per example query and page over HTTP")
    p.add_argument(
        "--analytics-only",
        action="store_true",
        help="with --reuse: only the HTTP timings of the example queries, systeemleren and reference lists",
    )
    p.add_argument("--max-seconds", type=float, default=600.0, help="cap on one HTTP scenario's duration")
    p.add_argument("--encoder-sample", type=int, default=5000, help="encode at most this many cases' texts")
    p.add_argument(
        "--import-chunk",
        type=int,
        default=0,
        help="import the generated file as files of this many cases, one `import-cases` each (default: one file)",
    )
    p.add_argument(
        "--sparql-cap", type=float, default=60.0, help="seconds per SPARQL query on the store before giving up"
    )
    p.add_argument("--rdflib-cap", type=float, default=60.0, help="seconds per rdflib query run before giving up")
    p.add_argument("--rdflib-mem-gb", type=float, default=10.0, help="stop loading rdflib past this RSS")
    p.add_argument("--keep-export", action="store_true", help="keep the N-Quads export used for rdflib")
    args = p.parse_args(argv)
    args.size_list = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    if args.large and 1_000_000 not in args.size_list:
        args.size_list.append(1_000_000)
    args.out = args.out.resolve()
    return args


@contextmanager
def step(r: dict, name: str, fatal: bool = False):
    """Run one measurement; a failure is recorded in the results (and stops the size only if fatal)."""
    t0 = time.perf_counter()
    try:
        with console.status(f"[bold]{r['size']:,}[/bold]: {name} …"):
            yield
        console.log(f"[green]✓[/green] {r['size']:,}: {name} ({time.perf_counter() - t0:.1f} s)")
    except Exception as exc:
        console.log(f"[red]✗ {r['size']:,}: {name}: {exc}[/red]")
        r.setdefault("errors", []).append(
            {"step": name, "error": str(exc)[-2000:], "trace": traceback.format_exc()[-4000:]}
        )
        if fatal:
            raise


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def machine_meta(argv: list[str], out: Path) -> dict:
    from api.settings import Settings

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    return {
        "date_utc": _now(),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": mem_kb / 2**20,
        "python": platform.python_version(),
        "encoder": Settings().encoder,
        "command": " ".join([".venv/bin/python -m bench.run", *argv]),
        "results_json": _shown(out / "results.json"),
    }


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(HERE.parent))
    except ValueError:
        return str(path)


# --- steps ----------------------------------------------------------------------------------


def build(r: dict, work: Path, cases_file: Path, data: Path, corpus: Corpus, chunk: int = 0) -> None:
    """init + import as subprocesses (timed), then the encoder alone on the same texts.

    With `chunk`, the file is imported as consecutive files of that many cases (one commit each),
    the way a register grows; the figures are then the sum of the times and the largest peak."""
    size = r["size"]
    remove_tree(data)
    with step(r, "maatwerk init --no-demo", fatal=True):
        done = run_measured(["init", "--no-demo", "--data-dir", str(data)], work / "init.log")
        r["init"] = {"seconds": round(done.seconds, 2), "peak_rss_mb": round(done.peak_rss_mb, 1)}
    files = split_cases(cases_file, chunk, work / "chunks") if 0 < chunk < size else [cases_file]
    with step(r, f"maatwerk import-cases ({len(files)} file(s))", fatal=True):
        runs = []
        for n, part in enumerate(files):
            log = work / ("import.log" if len(files) == 1 else f"import-{n:02d}.log")
            runs.append(run_measured(["import-cases", str(part), "--data-dir", str(data)], log))
            console.log(f"{size:,}: imported file {n + 1} of {len(files)} in {runs[-1].seconds:.1f} s")
        seconds = sum(done.seconds for done in runs)
        r["import_measured_utc"] = _now()
        r["import"] = {
            "seconds": round(seconds, 2),
            "cases_per_s": round(size / seconds, 1),
            "peak_rss_mb": round(max(done.peak_rss_mb for done in runs), 1),
            "peak_tree_rss_mb": round(max(done.peak_tree_rss_mb for done in runs), 1),
        }
        if len(files) > 1:
            r["import"]["files"] = [
                {"seconds": round(done.seconds, 2), "peak_tree_rss_mb": round(done.peak_tree_rss_mb, 1)}
                for done in runs
            ]
    if len(files) > 1:
        remove_tree(work / "chunks")
    with step(r, "encoder throughput"):
        from api.settings import Settings

        r["encoder"] = encoder_throughput(corpus.sample, len(corpus.ids), Settings().encoder)
        r["import_vs_encoder"] = round(r["import"]["cases_per_s"] / r["encoder"]["cases_per_s"], 3)


def split_cases(cases_file: Path, chunk: int, folder: Path) -> list[Path]:
    """The JSON Lines file as consecutive files of `chunk` lines each."""
    folder.mkdir(exist_ok=True)
    files: list[Path] = []
    with open(cases_file, encoding="utf-8") as source:
        while lines := list(itertools.islice(source, chunk)):
            files.append(folder / f"cases-{len(files):03d}.jsonl")
            files[-1].write_text("".join(lines), encoding="utf-8")
    return files


def cold_start(r: dict, data: Path, port: int, work: Path, text: str, runs: int = 3) -> None:
    health, first, rss = [], [], None
    for _ in range(runs):
        with Server(data, port, work / "serve.log") as server:
            health.append(server.wait_healthy())
            status, body = request(port, "POST", "/api/similar-cases", {"text": text, "k": 10})
            first.append(time.perf_counter() - server.started)
            if status != 200:
                raise RuntimeError(f"first /api/similar-cases answered {status}: {body[:300]!r}")
            rss = server.rss_mb()
            _, info = request(port, "GET", Server.HEALTH)
            r.setdefault("disk", {}).update({k: v for k, v in json.loads(info).items() if k in ("cases", "triples")})
    r["cold_start"] = {
        "health_s": [round(x, 3) for x in health],
        "first_answer_s": [round(x, 3) for x in first],
        "health_median_s": round(statistics.median(health), 3),
        "first_answer_median_s": round(statistics.median(first), 3),
        "rss_after_first_mb": rss,
    }


def http(
    r: dict, data: Path, port: int, work: Path, texts: list[str], case_ids: list[str], queries: list[dict], args
) -> None:
    with Server(data, port, work / "serve.log") as server:
        server.wait_healthy()
        analytics_http(r, port, queries, args.http_runs)
        if args.analytics_only:
            return
        with step(r, "HTTP warm-up (20)"):
            load.run(port, similar_requests(texts, 20), 1)
        similar = r.setdefault("http_similar", {})
        for clients in (1, 8):
            with step(r, f"similar-cases, {clients} client(s), {args.requests} requests"):
                similar[str(clients)] = load.run(
                    port, similar_requests(texts, args.requests), clients, max_seconds=args.max_seconds
                ).summary()
        for clients in (8, 32):
            with step(r, f"load test, {clients} clients, {args.load_requests} requests"):
                before = server.rss_mb()
                summary = load.run(
                    port, mixed_requests(texts, case_ids, args.load_requests), clients, max_seconds=args.max_seconds
                ).summary()
                after, anon = server.rss_mb(), server.anon_mb()
                assert before is not None and after is not None and anon is not None, (
                    "the server runs until its `with` block ends"
                )
                summary.update(
                    rss_before_mb=round(before, 1), rss_after_mb=round(after, 1), rss_anon_after_mb=round(anon, 1)
                )
                r.setdefault("load", {})[str(clients)] = summary


def analytics_http(r: dict, port: int, queries: list[dict], runs: int) -> None:
    """Example queries through /sparql, the systeemleren page and the reference lists over HTTP (issue 15 targets).

    First, on a fresh server: so `first_ms` is each one's cold-cache time (the page and the lists are cached per
    graph revision; /sparql answers are not cached). The first query answered from the DuckDB layer also pays
    for opening it (the server opens it on first use)."""
    with step(r, f"HTTP: {len(queries)} example queries via /sparql, {runs} runs each"):
        # One trivial query first: starting the SPARQL worker processes is the server's cost, not query 01's.
        r.setdefault("http_analytics", {})["warm_up"] = sparql.time_get(port, "/sparql?query=ASK%20%7B%7D", "*/*", 0)
        r["http_analytics"]["sparql"] = sparql.time_http(port, queries, runs)
    with step(r, f"HTTP: systeemleren and reference lists, {runs} runs each"):
        r.setdefault("http_analytics", {})["pages"] = sparql.time_pages(port, runs)
    r["http_analytics"]["load_average"] = os.getloadavg()


def in_process(r: dict, data: Path, texts: list[str], queries: list[dict], sparql_cap: float) -> None:
    """Latency split and SPARQL on the store, in this process (the server must be stopped)."""
    from api.core import Maatwerk
    from api.settings import Settings

    core = Maatwerk(Settings().with_data_dir(data))
    try:
        with step(r, f"in-process search, {len(texts)} queries"):
            service = core.search()
            for text in texts[:20]:
                service.search(text, k=10)
            parts: dict[str, list[float]] = {}
            totals = []
            for text in texts:
                t0 = time.perf_counter()
                response = service.search(text, k=10)
                total = (time.perf_counter() - t0) * 1000
                timings = {k: v for k, v in response.get("timings_ms", {}).items() if k != "total"}
                for name, ms in timings.items():
                    parts.setdefault(name, []).append(ms)
                parts.setdefault("rest (details from the graph, response)", []).append(total - sum(timings.values()))
                totals.append(total)
            r["inprocess"] = {
                "queries": len(texts),
                "total": load.latency_stats(totals),
                "components": {k: load.latency_stats(v) for k, v in parts.items()},
            }
        with step(r, f"SPARQL on the store, {len(queries)} example queries"):
            r.setdefault("sparql", {})["store"] = sparql.time_store(core.kg, queries, cap_s=sparql_cap)
    finally:
        core.close()


def rdflib_compare(r: dict, data: Path, work: Path, queries: list[dict], args) -> None:
    nq = work / "export.nq"
    done = run_measured(["export", "--format", "nq", "--data-dir", str(data)], work / "export.log", stdout=nq)
    sp = r.setdefault("sparql", {})
    sp["export_s"] = round(done.seconds, 2)
    sp["rdflib_cap_s"] = args.rdflib_cap
    try:
        sp["rdflib"] = sparql.time_rdflib(
            nq, queries, work / "rdflib.log", cap_s=args.rdflib_cap, mem_limit_mb=args.rdflib_mem_gb * 1024
        )
    finally:
        if not args.keep_export:
            nq.unlink(missing_ok=True)


# --- one size --------------------------------------------------------------------------------


def bench_size(size: int, args) -> dict:
    work = args.out / str(size)
    work.mkdir(parents=True, exist_ok=True)
    cases_file, data, saved = work / "cases.jsonl", work / "data", work / "results.json"
    r: dict = {"size": size}
    previous = json.loads(saved.read_text()) if saved.exists() else {}
    reuse = args.reuse and (data / "store").exists() and "import" in previous
    if not cases_file.exists() or not reuse:
        with step(r, f"maatwerk generate --n {size}", fatal=True):
            done = run_measured(
                ["generate", "--n", str(size), "--out", str(cases_file), "--seed", "1"], work / "generate.log"
            )
            r["generate"] = {"seconds": round(done.seconds, 2)}
    corpus = read_cases(cases_file, keep=args.encoder_sample)
    if reuse:
        for key in ("generate", "init", "import", "import_measured_utc", "encoder", "import_vs_encoder"):
            r.setdefault(key, previous.get(key))
        r["reused"] = previous.get("import_measured_utc") or "an earlier run"
        console.log(f"{size:,}: reusing {data}")
    else:
        build(r, work, cases_file, data, corpus, args.import_chunk)
    r["measured_utc"] = _now()
    r.setdefault("disk", {}).update(
        store_mb=round(disk_mb(data / "store"), 1), index_mb=round(disk_mb(data / "index"), 1)
    )
    texts = query_texts(corpus.sample, args.queries)
    case_ids = corpus.ids
    queries = sparql.example_queries()
    r.setdefault("sparql", {})["queries"] = [{"name": q["name"], "title": q["title"]} for q in queries]
    del corpus
    port = args.port or free_port()
    if not args.analytics_only:
        with step(r, "cold start x3"):
            cold_start(r, data, port, work, texts[0])
    with step(r, "HTTP"):
        http(r, data, port, work, texts, case_ids, queries, args)
    if args.analytics_only:
        r["sparql"]["rdflib_note"] = "Only the analytics HTTP timings were run (`--analytics-only`)."
        saved.write_text(json.dumps(r, indent=1, ensure_ascii=False))
        return r
    in_process(r, data, texts, queries, args.sparql_cap)
    if args.skip_rdflib:
        r["sparql"]["rdflib_note"] = "rdflib comparison skipped (`--skip-rdflib`)."
    elif size > args.rdflib_max_cases:
        r["sparql"]["rdflib_note"] = (
            f"rdflib comparison skipped above {args.rdflib_max_cases:,} cases "
            "(`--rdflib-max-cases`); see the smaller size for the ratio."
        )
    else:
        with step(r, "SPARQL on rdflib (export, load, queries)"):
            rdflib_compare(r, data, work, queries, args)
    saved.write_text(json.dumps(r, indent=1, ensure_ascii=False))
    return r


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict = {"meta": machine_meta(argv, args.out), "sizes": []}
    console.rule(f"maatwerk bench: sizes {', '.join(f'{s:,}' for s in args.size_list)} → {args.out}")
    failed = False
    for size in args.size_list:
        try:
            results["sizes"].append(bench_size(size, args))
        except Exception as exc:
            failed = True
            console.log(f"[red]size {size:,} stopped: {exc}[/red]")
            results["sizes"].append({"size": size, "errors": [{"step": "size", "error": str(exc)[-2000:]}]})
        (args.out / "results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False))
        args.results.write_text(report.render(results))
    console.log(f"wrote {args.results} and {args.out / 'results.json'}")
    console.print(args.results.read_text(), markup=False, highlight=False, soft_wrap=True)
    return 1 if failed or any(r.get("errors") for r in results["sizes"]) else 0


if __name__ == "__main__":
    sys.exit(main())
