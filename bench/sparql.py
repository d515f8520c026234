"""The example SPARQL queries (api/queries/*.rq) on the project's store and on a plain in-memory rdflib Dataset.

Store: `KnowledgeGraph.query` (the same call the endpoint makes, union default
graph, project prefixes), 1 warm-up then the median of 5 runs, every solution
and every binding read. rdflib: the store's N-Quads export (`maatwerk export
--format nq`) parsed into `rdflib.Dataset(default_union=True)` in a worker process
(bench/rdflib_worker.py), median of 3 runs with the same prefixes. A run over the
cap is killed (the worker runs each query in a forked child) and reported as
"> cap"; a worker whose RSS passes the memory limit while loading is stopped and rdflib skipped.
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import queue
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from bench.load import latency_stats
from bench.procs import rss_mb


def example_queries() -> list[dict]:
    spec = importlib.util.find_spec("api.core")
    assert spec is not None and spec.origin is not None, "bench runs with the project importable"
    folder = Path(spec.origin).parent / "queries"
    out = []
    for path in sorted(folder.glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        first = text.splitlines()[0] if text else ""
        out.append({"name": path.stem, "title": first.lstrip("# ").strip(), "text": text})
    return out


SLOW_QUERY_S = 5.0  # a query slower than this in its warm-up is timed once more, not five times


def time_store(kg, queries: list[dict], runs: int = 5, cap_s: float = 60.0) -> dict[str, dict]:
    """Through `run_query`, as the endpoint runs them (worker process, result serialised), `cap_s` per run."""
    from graph.sparql import SparqlError, run_query

    def timed(text: str) -> tuple[float, int]:
        t0 = time.perf_counter()
        result = run_query(kg, text, timeout_s=cap_s, limit=10_000_000)
        return time.perf_counter() - t0, len(result.solutions or result.triples or [])

    results: dict[str, dict] = {}
    for q in queries:
        try:
            first, rows = timed(q["text"])  # warm-up
            times = [timed(q["text"])[0] * 1000 for _ in range(1 if first > SLOW_QUERY_S else runs)]
            results[q["name"]] = {"median_ms": round(statistics.median(times), 2), "rows": rows, "runs": len(times)}
        except SparqlError as exc:
            if exc.status == 503:
                results[q["name"]] = {"timeout": f"> {cap_s:g} s"}
            else:
                results[q["name"]] = {"error": str(exc)[:300]}
        except Exception as exc:  # a failing example query is a finding, not a crash
            results[q["name"]] = {"error": repr(exc)[:300]}
    return results


def time_get(port: int, path: str, accept: str, runs: int = 10) -> dict:
    """GET `path` once (first: cold caches), then `runs` times more on one keep-alive connection: ms per request."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    times, status, size, source = [], None, 0, None
    try:
        for _ in range(runs + 1):
            t0 = time.perf_counter()
            conn.request("GET", path, headers={"Accept": accept})
            response = conn.getresponse()
            body = response.read()
            times.append((time.perf_counter() - t0) * 1000)
            status, size, source = response.status, len(body), response.getheader("X-Maatwerk-Bron")
    finally:
        conn.close()
    return {
        "status": status,
        "bytes": size,
        "first_ms": round(times[0], 1),
        **latency_stats(times[1:]),
        "runs": runs,
        **({"source": source} if source else {}),
    }


def time_http(port: int, queries: list[dict], runs: int = 10) -> dict[str, dict]:
    """Every example query through GET /sparql, as SPARQL JSON results, the way a client sends it."""
    return {
        q["name"]: time_get(port, "/sparql?" + urlencode({"query": q["text"]}), "application/sparql-results+json", runs)
        for q in queries
    }


ANALYTICS_PAGES = (
    ("/systeemleren", "text/html", "systeemleren (HTML)"),
    ("/systeemleren?format=json", "application/json", "systeemleren (JSON twin)"),
    ("/api/laws", "application/json", "/api/laws"),
    ("/api/organisations", "application/json", "/api/organisations"),
    ("/api/voorzieningen", "application/json", "/api/voorzieningen"),
)


def time_pages(port: int, runs: int = 10) -> dict[str, dict]:
    """The systeemleren page (and its JSON twin) and the reference lists: first request, then `runs` more."""
    return {name: time_get(port, path, accept, runs) for path, accept, name in ANALYTICS_PAGES}


def _consume(answer) -> int:
    """Read every solution and binding (or triple); returns how many rows."""
    variables = getattr(answer, "variables", None)
    if variables is None:
        if isinstance(answer, bool) or type(answer).__name__ == "QueryBoolean":
            return 1
        return sum(1 for _ in answer)
    rows = 0
    for solution in answer:
        for v in variables:
            solution[v]
        rows += 1
    return rows


class _Worker:
    def __init__(self, nq: Path, log: Path):
        self._log = open(log, "ab")  # noqa: SIM115 - the worker writes to it for as long as it lives
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.rdflib_worker", str(nq)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            bufsize=1,
            cwd=Path(__file__).resolve().parent.parent,
        )  # so `-m bench...` resolves
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None  # opened with stdout=PIPE
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))
        self.lines.put(None)

    def send(self, job: dict) -> None:
        assert self.proc.stdin is not None  # opened with stdin=PIPE
        self.proc.stdin.write(json.dumps(job) + "\n")

    def next(self, timeout: float) -> dict | None:
        return self.lines.get(timeout=timeout)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._log.close()


def _start(nq: Path, log: Path, mem_limit_mb: float, load_timeout_s: float) -> tuple[_Worker | None, dict]:
    """A worker with the data loaded, or None and the reason."""
    worker = _Worker(nq, log)
    t0, peak = time.perf_counter(), 0.0
    while True:
        try:
            msg = worker.next(timeout=1.0)
        except queue.Empty:
            peak = max(peak, rss_mb(worker.proc.pid) or 0.0)
            if peak > mem_limit_mb:
                worker.stop()
                return None, {
                    "skipped": f"rdflib RSS passed {mem_limit_mb / 1024:.0f} GB while loading "
                    f"(after {time.perf_counter() - t0:.0f} s)"
                }
            if time.perf_counter() - t0 > load_timeout_s:
                worker.stop()
                return None, {"skipped": f"rdflib load took over {load_timeout_s:.0f} s"}
            continue
        if msg is None:
            worker.stop()
            return None, {"skipped": f"rdflib worker died while loading (see {log})"}
        if msg.get("event") == "loaded":
            return worker, msg


def time_rdflib(
    nq: Path,
    queries: list[dict],
    log: Path,
    runs: int = 3,
    cap_s: float = 60.0,
    mem_limit_mb: float = 10 * 1024,
    load_timeout_s: float = 3600.0,
) -> dict:
    worker, loaded = _start(nq, log, mem_limit_mb, load_timeout_s)
    if worker is None:
        return {"load": loaded, "queries": {}}
    out: dict = {
        "load": {"seconds": loaded["seconds"], "quads": loaded["quads"], "rss_mb": loaded["rss_mb"]},
        "queries": {},
    }
    try:
        for q in queries:
            if worker is None:
                worker, _ = _start(nq, log, mem_limit_mb, load_timeout_s)
                if worker is None:
                    out["queries"][q["name"]] = {"error": "worker could not be restarted"}
                    continue
            worker.send({"name": q["name"], "query": q["text"], "runs": runs, "cap_s": cap_s})
            running = worker  # a stopped worker always ends the runs below: its message is a timeout or an error
            times, rows, problem = [], None, None
            for _ in range(runs):
                try:
                    msg = running.next(timeout=cap_s + 60)  # the worker enforces the cap; this is a safety net
                except queue.Empty:
                    msg = {"timeout": True}
                    running.stop()
                    worker = None
                if msg is None:
                    running.stop()
                    worker = None
                    msg = {"error": "rdflib worker died"}
                if msg.get("timeout"):
                    problem = {"timeout": f"> {cap_s:g} s"}
                    break
                if "error" in msg:
                    problem = {"error": msg["error"]}
                    break
                times.append(msg["ms"])
                rows = msg["rows"]
            if times:
                out["queries"][q["name"]] = {
                    "median_ms": round(statistics.median(times), 2),
                    "rows": rows,
                    "runs": len(times),
                }
            else:
                out["queries"][q["name"]] = problem
    finally:
        if worker is not None:
            out["load"]["rss_after_mb"] = rss_mb(worker.proc.pid)
            worker.stop()
    return out
