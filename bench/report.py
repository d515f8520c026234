"""bench/RESULTS.md from the results dict: docs/targets.md targets next to the measured numbers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    figure: str
    limit: float
    unit: str
    higher_is_better: bool
    at_size: int  # the size docs/targets.md sets the target for; elsewhere the verdict is indicative


def _get(d: dict | None, *keys):
    for key in keys:
        if not isinstance(d, dict) or key not in d:
            return None
        d = d[key]
    return d


def target_rows(r: dict) -> list[tuple[Target, float | None]]:
    """(target, measured) pairs for one size's results."""
    size = r["size"]
    big = size >= 1_000_000
    store = _get(r, "sparql", "store") or {}
    rdf = _get(r, "sparql", "rdflib", "queries") or {}
    # a query stopped at the cap counts at the cap: the slowest figure is then a lower bound
    store_ms = [
        v["median_ms"] if "median_ms" in v else float(v["timeout"].strip("> s")) * 1000
        for v in store.values()
        if "median_ms" in v or "timeout" in v
    ]
    ratios = sparql_ratios(r)
    return [
        (
            Target("similar-cases HTTP, 1 client, p50", 80 if big else 30, "ms", False, 1_000_000 if big else 100_000),
            _get(r, "http_similar", "1", "p50_ms"),
        ),
        (
            Target("similar-cases HTTP, 1 client, p99", 100, "ms", False, 100_000),
            _get(r, "http_similar", "1", "p99_ms"),
        ),
        (Target("import rate", 150, "cases/s", True, 100_000), _get(r, "import", "cases_per_s")),
        (Target("import / encoder throughput", 0.70, "×", True, 100_000), _get(r, "import_vs_encoder")),
        (
            Target("import peak memory (RSS, with worker processes)", 4096, "MiB", False, 100_000),
            _get(r, "import", "peak_tree_rss_mb") or _get(r, "import", "peak_rss_mb"),
        ),
        (Target("slowest SPARQL example query", 200, "ms", False, 100_000), max(store_ms) if store_ms else None),
        (
            Target("smallest speed-up over rdflib", 10, "×", True, 100_000),
            min(ratios.values()) if ratios and rdf else None,
        ),
        (
            Target("cold start to first answer (median of 3)", 5, "s", False, 100_000),
            _get(r, "cold_start", "first_answer_median_s"),
        ),
    ]


def sparql_ratios(r: dict) -> dict[str, float]:
    """rdflib ms / store ms per query; a timed-out rdflib query counts at its cap (a lower bound)."""
    store = _get(r, "sparql", "store") or {}
    rdf = _get(r, "sparql", "rdflib", "queries") or {}
    cap = _get(r, "sparql", "rdflib_cap_s") or 60
    out = {}
    for name, s in store.items():
        other = rdf.get(name, {})
        slow = other.get("median_ms") or (cap * 1000 if "timeout" in other else None)
        if s.get("median_ms") and slow:
            out[name] = slow / s["median_ms"]
    return out


def verdict(t: Target, value: float | None, size: int) -> str:
    if value is None:
        return "not measured"
    ok = value >= t.limit if t.higher_is_better else value <= t.limit
    text = "pass" if ok else "**FAIL**"
    return text if size == t.at_size else f"{text} †"


def _fmt(v, digits: int = 1) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def render(results: dict) -> str:
    m = results["meta"]
    lines = [
        "# Benchmark results (docs/targets.md)",
        "",
        f"- date (UTC): {m['date_utc']}",
        f"- machine: {m['nproc']} cores, {m['cpu']}, {m['ram_gb']:.0f} GB RAM; Python {m['python']}",
        f"- encoder: `{m['encoder']}`",
        f"- command: `{m['command']}`",
        f"- what each figure means: bench/README.md; raw numbers: {m.get('results_json', 'bench/out/results.json')}",
        "",
    ]
    for r in results["sizes"]:
        lines += _size_section(r)
    return "\n".join(lines) + "\n"


def _size_section(r: dict) -> list[str]:
    size = r["size"]
    out = [f"## {size:,} cases", ""]
    if r.get("reused"):
        out += [f"Data dir reused (`--reuse`): import and encoder figures are from {r['reused']}.", ""]
    out += ["| figure | measured | target | verdict |", "|---|---|---|---|"]
    for t, value in target_rows(r):
        sign = "≥" if t.higher_is_better else "≤"
        digits = 2 if t.unit == "×" else 1
        out.append(
            f"| {t.figure} | {_fmt(value, digits)} {t.unit} | {sign} {t.limit:g} {t.unit} at {t.at_size:,} | "
            f"{verdict(t, value, size)} |"
        )
    out += ["", f"† indicative: docs/targets.md sets that target for another size than {size:,}.", ""]
    for e in r.get("errors", []):
        out += [
            f"**Error in {e['step']}:** `{e['error'].strip().splitlines()[-1][:300] if e['error'].strip() else '?'}`",
            "",
        ]
    out += _import_table(r) + _http_table(r) + _analytics_http_table(r) + _inprocess_table(r) + _sparql_table(r)
    out += _misc_table(r)
    return out


def _import_files_rows(imp: dict) -> list[str]:
    files = imp.get("files") or []
    if not files:
        return []
    seconds = ", ".join(f"{f['seconds']:.0f}" for f in files)
    peaks = ", ".join(f"{f['peak_tree_rss_mb']:.0f}" for f in files)
    return [
        f"| imported as {len(files)} files in turn (`--import-chunk`), one commit each: seconds per file | {seconds} |",
        f"| peak RSS per file (MiB, with worker processes) | {peaks} |",
    ]


def _import_table(r: dict) -> list[str]:
    imp, enc = r.get("import") or {}, r.get("encoder") or {}
    if not imp:
        return []
    sample = (
        f"a random sample of {enc.get('cases_encoded'):,} cases, rate extrapolated"
        if enc.get("sampled")
        else f"all {enc.get('cases_encoded', 0):,} cases"
    )
    return [
        "### Import and encoder",
        "",
        "| figure | value |",
        "|---|---|",
        f"| generate {r['size']:,} cases (`maatwerk generate`) | {_fmt(_get(r, 'generate', 'seconds'), 2)} s |",
        f"| `maatwerk init --no-demo` | {_fmt(_get(r, 'init', 'seconds'), 2)} s |",
        f"| `maatwerk import-cases` wall time (whole process) | {_fmt(imp.get('seconds'), 2)} s |",
        *_import_files_rows(imp),
        f"| import rate | {_fmt(imp.get('cases_per_s'))} cases/s |",
        f"| import peak RSS: largest process / with its worker processes | {_fmt(imp.get('peak_rss_mb'), 0)} MiB / "
        f"{_fmt(imp.get('peak_tree_rss_mb'), 0)} MiB |",
        *_encoder_rows(enc, sample),
        f"| import / encoder (cases/s, against the faster way) | {_fmt(r.get('import_vs_encoder'), 2)} |",
        "",
    ]


def _encoder_rows(enc: dict, sample: str) -> list[str]:
    rows = [f"| encoder load + first call | {_fmt(enc.get('load_s'), 2)} s + {_fmt(enc.get('first_call_s'), 2)} s |"]
    for key, how in (
        ("single", "`encode`, 256 texts per call, 1 process"),
        ("bulk", "`encode_bulk` (what the import calls)"),
    ):
        if key in enc:
            rows.append(
                f"| encoder alone, {how}: {sample}, {_fmt(enc.get('texts_per_case'), 2)} texts/case | "
                f"{_fmt(enc[key]['texts_per_s'])} texts/s = {_fmt(enc[key]['cases_per_s'])} cases/s |"
            )
    return rows


def _http_table(r: dict) -> list[str]:
    rows = []
    for key, name in (("1", "similar-cases, 1 client"), ("8", "similar-cases, 8 clients")):
        s = _get(r, "http_similar", key)
        if s:
            rows.append((name, s, None, None))
    for key in ("8", "32"):
        s = _get(r, "load", key)
        if s:
            after = s.get("rss_after_mb")
            if after is not None and s.get("rss_anon_after_mb") is not None:
                after = f"{_fmt(after, 0)} ({_fmt(s['rss_anon_after_mb'], 0)} anonymous)"
            rows.append((f"load test (mixed), {key} clients", s, s.get("rss_before_mb"), after))
    if not rows:
        return []
    out = [
        "### HTTP",
        "",
        "After 20 warm-up requests; keep-alive clients on this machine. Mixed load: ½ POST /api/similar-cases, "
        "¼ GET /api/cases/{id}/similar, ¼ GET /api/cases?q= (there is no /api/search route).",
        "",
        "| scenario | requests | errors | req/s | p50 ms | p99 ms | max ms | server RSS before → after (MiB; "
        "anonymous: without the pages of memory-mapped index files) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, s, before, after in rows:
        rss = f"{_fmt(before, 0)} → {_fmt(after, 0)}" if before is not None else ""
        capped = " (time cap)" if s.get("capped") else ""
        out.append(
            f"| {name} | {s['requests']:,}{capped} | {s['errors']} | {_fmt(s['throughput_rps'])} | "
            f"{_fmt(s['p50_ms'])} | "
            f"{_fmt(s['p99_ms'])} | {_fmt(s['max_ms'])} | {rss} |"
        )
    for key in ("8", "32"):
        routes = _get(r, "load", key, "by_route") or {}
        for label, s in routes.items():
            out.append(
                f"| ↳ {key} clients: {label} | | {s['errors']} | | {_fmt(s['p50_ms'])} | {_fmt(s['p99_ms'])} | "
                f"{_fmt(s['max_ms'])} | |"
            )
    errors = [s.get("first_error") for _, s, _, _ in rows if s.get("first_error")]
    return out + ([""] + [f"First error: `{e}`" for e in errors[:3]] if errors else []) + [""]


def _analytics_http_table(r: dict) -> list[str]:
    a = r.get("http_analytics")
    if not a:
        return []
    load = a.get("load_average")
    out = [
        "### HTTP: example queries, systeemleren, reference lists (issue 15: ≤ 200 ms each)",
        "",
        "On a fresh server, one client, keep-alive. `first` is the first request (the page and the lists are "
        "cached per graph revision, so `first` is their time after each import; /sparql is never cached), "
        "after one `ASK {}` that starts the SPARQL workers; the first query answered from the DuckDB layer also "
        f"pays for opening it. Then p50/p99 of the next {_get(a, 'pages', 'systeemleren (HTML)', 'runs') or '?'} "
        "requests. Example "
        "queries as `GET /sparql?query=…`, `Accept: application/sparql-results+json`; source `analyselaag`: "
        "answered from the DuckDB layer (docs/sparql.md)."
        + (f" Load average at the end: {load[0]:.1f}." if load else ""),
        "",
        "| request | status | bytes | first ms | p50 ms | p99 ms | answered by |",
        "|---|---|---|---|---|---|---|",
    ]
    for group in ("sparql", "pages"):
        for name, s in (a.get(group) or {}).items():
            out.append(
                f"| {name} | {s.get('status')} | {_fmt(s.get('bytes'), 0)} | {_fmt(s.get('first_ms'))} | "
                f"{_fmt(s.get('p50_ms'))} | {_fmt(s.get('p99_ms'))} | {(s.get('source') or '').split(' ')[0]} |"
            )
    return [*out, ""]


def _inprocess_table(r: dict) -> list[str]:
    p = r.get("inprocess")
    if not p:
        return []
    out = [
        "### In-process search (`Maatwerk.search().search(text, k=10)`), p50 per component",
        "",
        "| component | p50 ms | p99 ms |",
        "|---|---|---|",
    ]
    for name, s in p["components"].items():
        out.append(f"| {name} | {_fmt(s['p50_ms'], 2)} | {_fmt(s['p99_ms'], 2)} |")
    return [
        *out,
        f"| **total call** ({p['queries']} queries) | {_fmt(p['total']['p50_ms'], 2)} | "
        f"{_fmt(p['total']['p99_ms'], 2)} |",
        "",
    ]


def _sparql_table(r: dict) -> list[str]:
    sp = r.get("sparql")
    if not sp:
        return []
    store, rdf = sp.get("store", {}), sp.get("rdflib") or {}
    ratios = sparql_ratios(r)
    out = ["### SPARQL example queries", ""]
    load = rdf.get("load") or {}
    if sp.get("rdflib_note"):
        out += [sp["rdflib_note"], ""]
    elif load.get("skipped"):
        out += [f"rdflib skipped: {load['skipped']}", ""]
    elif load:
        out += [
            f"rdflib load of the N-Quads export: {_fmt(load.get('seconds'))} s for {_fmt(load.get('quads'))} "
            f"triples, worker RSS {_fmt(load.get('rss_mb'), 0)} MiB. Export took {_fmt(sp.get('export_s'), 1)} s.",
            "",
        ]
    out += [
        "| query | rows | store ms (median of 5; of 1 when the warm-up took > 5 s) | rdflib ms (median of 3) "
        "| rdflib / store |",
        "|---|---|---|---|---|",
    ]
    titles = {q["name"]: q["title"] for q in sp.get("queries", [])}
    for name, s in store.items():
        other = (rdf.get("queries") or {}).get(name, {})
        theirs = other.get("median_ms") or other.get("timeout") or other.get("error") or "–"
        rows = s.get("rows", "–")
        if other.get("rows") is not None and other["rows"] != s.get("rows"):
            rows = f"{rows} (rdflib: {other['rows']})"
        mine = _fmt(s.get("median_ms"), 1) if "median_ms" in s else (s.get("timeout") or f"error: {s.get('error')}")
        ratio = f"{'≥ ' if 'timeout' in other else ''}{ratios[name]:,.1f}×" if name in ratios else "–"
        out.append(f"| {name}: {titles.get(name, '')} | {rows} | {mine} | {_fmt(theirs, 1)} | {ratio} |")
    return [*out, ""]


def _misc_table(r: dict) -> list[str]:
    cold, disk = r.get("cold_start") or {}, r.get("disk") or {}
    out = ["### Cold start and size on disk", "", "| figure | value |", "|---|---|"]
    if cold:
        out += [
            f"| `maatwerk serve` launch → /health 200 (median of 3) | {_fmt(cold.get('health_median_s'), 2)} s "
            f"(runs: {', '.join(f'{x:.2f}' for x in cold['health_s'])}) |",
            f"| launch → first /api/similar-cases answer (median of 3) | "
            f"{_fmt(cold.get('first_answer_median_s'), 2)} s "
            f"(runs: {', '.join(f'{x:.2f}' for x in cold['first_answer_s'])}) |",
            f"| server RSS after first answer | {_fmt(cold.get('rss_after_first_mb'), 0)} MiB |",
        ]
    if disk:
        out += [
            f"| store (`store/`) | {_fmt(disk.get('store_mb'))} MiB |",
            f"| search index (`index/`) | {_fmt(disk.get('index_mb'))} MiB |",
            f"| triples (from /health) | {_fmt(disk.get('triples'))} |",
        ]
    return [*out, ""]
