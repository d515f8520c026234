"""Concurrency, black box: two writers on one data dir, and searches during an import.

- Two `maatwerk import-cases` processes on one data dir: the data dir is locked by the
  first (RocksDB's lock file, `StoreLocked` in graph/store.py); the second stops at once
  with a clear Dutch message and exit 3, the first completes; nothing interleaves.
- Through the HTTP API: imports at the same time are serialised (each all-or-nothing,
  the counts add up) and similar-case searches keep answering while an import runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.conftest import REAL_ENCODER, running_server

MAATWERK = Path(sys.executable).with_name("maatwerk")
# The real encoder, not the tests' hashing one: these tests need imports that take long enough
# (encoding the new cases) for a second writer and the searches to overlap them.
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "200", "MAATWERK_ENCODER": REAL_ENCODER}
API_KEY = "test-sleutel-concurrency"
# Bound on one similar-cases answer while an import runs on this 2-core machine (shared with
# other work); quiet, an answer takes ~10-30 ms, under a load of 15 on 2 cores it was seen at 2.4 s.
# A search that waited for the import would take its whole duration (tens of seconds), so 5 s still
# tells the two apart. See the measured numbers printed with -s.
MAX_SEARCH_LATENCY_S = 5.0


def maatwerk(*args: str, data_dir: Path | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    cmd = [str(MAATWERK), *args, *(["--data-dir", str(data_dir)] if data_dir else [])]
    return subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=timeout, check=False)


def case_count(data_dir: Path) -> int:
    done = maatwerk("sparql", "SELECT (COUNT(?c) AS ?n) WHERE { ?c a mw:Casus }", "--format", "csv", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[1])


def generated(tmp_path: Path, sizes: tuple[int, ...], seed: int) -> list[tuple[Path, list[dict]]]:
    """Synthetic cases (`maatwerk generate`) split over files of the given sizes; ids never overlap."""
    everything = tmp_path / f"generated-{seed}.jsonl"
    done = maatwerk("generate", "--n", str(sum(sizes)), "--out", str(everything), "--seed", str(seed))
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in everything.read_text().splitlines()]
    parts, start = [], 0
    for n, size in enumerate(sizes):
        path = tmp_path / f"part-{seed}-{n}.jsonl"
        part = records[start : start + size]
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in part))
        parts.append((path, part))
        start += size
    return parts


def start_import(file: Path, data_dir: Path, log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(
            [str(MAATWERK), "import-cases", str(file), "--data-dir", str(data_dir)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=ENV,
        )


def test_second_cli_import_fails_fast_with_a_clear_message(tmp_path):
    data_dir = tmp_path / "data"
    assert maatwerk("init", "--no-demo", data_dir=data_dir).returncode == 0
    (file_a, a), (file_b, _), (file_c, c), (file_d, d) = generated(tmp_path, (60, 60, 40, 40), seed=51)

    # the first import holds the data dir (it is writing its journal); a second one is refused at once
    first = start_import(file_a, data_dir, tmp_path / "first.log")
    deadline = time.monotonic() + 120
    while not (data_dir / "store" / "journal.tmp").exists() and first.poll() is None:
        assert time.monotonic() < deadline, "the first import never started writing"
        time.sleep(0.01)
    started = time.monotonic()
    second = maatwerk("import-cases", str(file_b), data_dir=data_dir)
    refused_after = time.monotonic() - started
    first_still_running = first.poll() is None
    assert second.returncode == 3, second.stdout + second.stderr
    assert "in gebruik door een ander proces" in second.stderr and str(data_dir) in second.stderr, second.stderr
    assert "Traceback" not in second.stderr
    assert first.wait(timeout=600) == 0, (tmp_path / "first.log").read_text()
    print(f"second import refused after {refused_after:.1f}s (first still running: {first_still_running})")
    assert refused_after < 20, "the second import should fail at once, not wait for the first"
    assert case_count(data_dir) == len(a)  # the first import whole, nothing of the second

    # both started together: one wins the lock, the other is refused; never a mix of the two
    both = [start_import(file_c, data_dir, tmp_path / "c.log"), start_import(file_d, data_dir, tmp_path / "d.log")]
    codes = [p.wait(timeout=600) for p in both]
    assert sorted(codes) in ([0, 3], [0, 0]), codes  # [0, 0]: one happened to finish before the other opened
    expected = len(a) + sum(len(part) for code, part in zip(codes, (c, d)) if code == 0)
    assert case_count(data_dir) == expected
    done = maatwerk("validate", data_dir=data_dir)
    assert done.returncode == 0, done.stdout + done.stderr


@dataclass
class HttpRun:
    """What clients saw while two imports were posted at once to a running `maatwerk serve`."""

    sizes: tuple[int, int]
    before: int = 0
    after: int = 0
    imports: dict[str, tuple[float, float, int, dict]] = field(default_factory=dict)  # name -> start, end, status, body
    searches: list[tuple[float, float, int]] = field(default_factory=list)  # start, seconds, status
    counts: list[int] = field(default_factory=list)  # /health case counts, in order
    found: dict[str, bool] = field(default_factory=dict)  # a new case of each import found by search afterwards
    log: str = ""

    @property
    def window(self) -> tuple[float, float]:
        return min(s for s, *_ in self.imports.values()), max(e for _, e, *_ in self.imports.values())

    def latencies_during(self) -> list[float]:
        first, last = self.window
        return sorted(seconds for start, seconds, _ in self.searches if first <= start <= last)


SEARCH = {
    "text": "Een moeder met schulden dreigt uit huis gezet te worden en de gemeente verwijst naar de woningcorporatie",
    "k": 10,
}


@pytest.fixture(scope="module")
def http_run(tmp_path_factory, small_dir) -> HttpRun:
    """Two imports posted together (400 and 100 cases) while one client searches and another polls /health."""
    tmp_path = tmp_path_factory.mktemp("http-concurrency")
    data_dir = tmp_path / "data"
    shutil.copytree(small_dir, data_dir)
    (_, first), (_, second) = generated(tmp_path, (400, 100), seed=52)
    run = HttpRun((len(first), len(second)))
    stop = threading.Event()

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MAATWERK_API_KEYS", API_KEY)
        patch.setenv("MAATWERK_ENCODER", REAL_ENCODER)
        server = running_server(data_dir, tmp_path / "serve.log")
        base = server.__enter__()
    try:

        def search_loop():
            with httpx.Client(base_url=base, timeout=120) as client:
                while not stop.is_set():
                    start = time.monotonic()
                    response = client.post("/api/similar-cases", json=SEARCH)
                    run.searches.append((start, time.monotonic() - start, response.status_code))
                    stop.wait(0.02)

        def health_loop():
            with httpx.Client(base_url=base, timeout=120) as client:
                while not stop.is_set():
                    response = client.get("/health")
                    run.counts.append(response.json()["cases"] if response.status_code == 200 else -1)
                    stop.wait(0.05)

        def post(name: str, records: list[dict]):
            with httpx.Client(base_url=base, timeout=900) as client:
                start = time.monotonic()
                response = client.post("/api/cases", json=records, headers={"Authorization": f"Bearer {API_KEY}"})
                run.imports[name] = (start, time.monotonic(), response.status_code, response.json())

        with httpx.Client(base_url=base, timeout=60) as client:
            run.before = client.get("/health").json()["cases"]
            client.post("/api/similar-cases", json=SEARCH).raise_for_status()  # warm up
        pollers = [threading.Thread(target=search_loop), threading.Thread(target=health_loop)]
        importers = [
            threading.Thread(target=post, args=("first", first)),
            threading.Thread(target=post, args=("second", second)),
        ]
        for thread in pollers:
            thread.start()
        _wait_until(lambda: run.searches and run.counts)  # both clients see the server before the imports
        for thread in importers:
            thread.start()
        for thread in importers:
            thread.join(timeout=900)
        ended, polls = time.monotonic(), len(run.counts)
        # a search started after the imports, and a /health poll that surely did (the one in flight may not)
        _wait_until(lambda: run.searches[-1][0] > ended and len(run.counts) >= polls + 2)
        stop.set()
        for thread in pollers:
            thread.join(timeout=300)

        with httpx.Client(base_url=base, timeout=60) as client:
            run.after = client.get("/health").json()["cases"]
            for name, records in (("first", first), ("second", second)):
                record = records[-1]
                response = client.post(
                    "/api/similar-cases", json={"text": f"{record['title']}. {record['situation']}", "k": 10}
                )
                run.found[name] = any(
                    r["id"] == record["id"] or r["situation"] == record["situation"] for r in response.json()["results"]
                )
    finally:
        server.__exit__(None, None, None)
    run.log = (tmp_path / "serve.log").read_text(errors="replace")
    latencies = run.latencies_during()
    others = sorted(seconds for start, seconds, _ in run.searches if not run.window[0] <= start <= run.window[1])
    print(
        f"\nHTTP: imports {', '.join(f'{n} {e - s:.1f}s' for n, (s, e, *_) in run.imports.items())}; "
        f"{len(latencies)} searches during them: p50 {_ms(latencies, 0.5)}, max {_ms(latencies, 1.0)} "
        f"(outside: p50 {_ms(others, 0.5)}, max {_ms(others, 1.0)}); /health counts seen {sorted(set(run.counts))}"
    )
    return run


def _wait_until(condition, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the polling clients stopped answering"
        time.sleep(0.01)


def _ms(values: list[float], q: float) -> str:
    return f"{values[min(int(q * len(values)), len(values) - 1)] * 1000:.0f} ms" if values else "-"


def test_http_imports_at_once_are_serialised_and_each_all_or_nothing(http_run):
    run = http_run
    for name, size in zip(("first", "second"), run.sizes):
        _, _, status, body = run.imports[name]
        assert status == 200, body
        assert body["imported"] == size
    assert run.imports["first"][3]["revision"] != run.imports["second"][3]["revision"]
    assert run.after == run.before + sum(run.sizes)
    # each import became visible at once: /health never showed part of one, and never went back
    first, second = run.sizes
    assert set(run.counts) <= {run.before, run.before + first, run.before + second, run.after}, sorted(set(run.counts))
    assert run.counts == sorted(run.counts)
    assert run.found == {"first": True, "second": True}, "search does not find the imported cases"
    assert "Traceback" not in run.log


def test_searches_keep_answering_during_an_http_import(http_run):
    latencies = http_run.latencies_during()
    statuses = [status for start, _, status in http_run.searches if http_run.window[0] <= start <= http_run.window[1]]
    assert statuses and all(status == 200 for status in statuses), statuses
    assert len(latencies) >= 5, "too few searches during the imports to say anything"


def test_search_latency_stays_bounded_during_an_http_import(http_run):
    latencies = http_run.latencies_during()
    assert latencies[-1] < MAX_SEARCH_LATENCY_S, f"a search waited {latencies[-1]:.1f}s during the import"
