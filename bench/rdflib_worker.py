"""Worker for bench.sparql: load an N-Quads file into rdflib once, then time the queries it is sent.

Each query runs in a forked child (the loaded graph is shared copy-on-write), so a
run over the cap is killed without reloading the data. Protocol (JSON lines):
prints {"event": "loaded", ...} once; then for each line {"name", "query", "runs",
"cap_s"} on stdin prints one {"event": "run", ...} per run: "ms" and "rows", or
"timeout": true, or "error".
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import select
import signal
import sys
import time

import rdflib

from bench.procs import rss_mb


def main(nq: str) -> None:
    from ontology import PREFIXES

    t0 = time.perf_counter()
    dataset = rdflib.Dataset(default_union=True)
    dataset.parse(nq, format="nquads")
    emit(
        {
            "event": "loaded",
            "seconds": round(time.perf_counter() - t0, 2),
            "quads": len(dataset),
            "rss_mb": rss_mb(os.getpid()),
        }
    )
    gc.freeze()  # keep the collector from touching (and so copying) the loaded graph in the children
    for line in sys.stdin:
        run_job(dataset, json.loads(line), PREFIXES)


def emit(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def run_job(dataset, job: dict, prefixes: dict) -> None:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: run the query `runs` times, one line per run
        os.close(read_end)
        with os.fdopen(write_end, "w", buffering=1) as out:
            for _ in range(job["runs"]):
                try:
                    t0 = time.perf_counter()
                    rows = sum(1 for _ in dataset.query(job["query"], initNs=prefixes))
                    out.write(
                        json.dumps({"event": "run", "ms": round((time.perf_counter() - t0) * 1000, 2), "rows": rows})
                        + "\n"
                    )
                except Exception as exc:
                    out.write(json.dumps({"event": "run", "error": repr(exc)[:300]}) + "\n")
                    break
        os._exit(0)
    os.close(write_end)
    buffer = b""
    try:
        for _ in range(job["runs"]):
            deadline = time.monotonic() + job["cap_s"]
            chunk: bytes | None = b""  # None: the cap passed before the child answered
            while b"\n" not in buffer:
                ready, _, _ = select.select([read_end], [], [], max(0.0, deadline - time.monotonic()))
                chunk = os.read(read_end, 65536) if ready else None
                if not chunk:
                    break
                buffer += chunk
            if b"\n" not in buffer:
                emit(
                    {"event": "run", "timeout": True}
                    if chunk is None
                    else {"event": "run", "error": "query child died"}
                )
                return
            line, buffer = buffer.split(b"\n", 1)
            message = json.loads(line)
            emit(message)
            if "error" in message:
                return
    finally:
        os.close(read_end)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


if __name__ == "__main__":
    main(sys.argv[1])
