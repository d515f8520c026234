"""A bounded load test on loopback: 8 and 32 concurrent clients, no errors, no memory growth.

The figures at 100,000 cases come from `make bench` (bench/RESULTS.md); this test runs the same
load code against the illustrative corpus so that a leak or a concurrency error fails the build.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench import load
from tests.conftest import open_core, running_server

pytestmark = pytest.mark.slow

TEXTS = [
    "Ik heb schulden en mijn huurtoeslag wordt teruggevorderd",
    "De gemeente en het UWV wijzen naar elkaar voor een rolstoel op het werk",
    "Mijn zoon wordt 18 en de jeugdhulp stopt, wie helpt nu?",
    "Na een opname kan ik niet terug naar huis en ik wacht op beschermd wonen",
]
# Between two identical rounds at 32 clients the server's own (anonymous) memory may grow by
# allocator noise, not by what it serves: a leak of even 1 KiB per request would exceed this.
MAX_GROWTH_MB = 24


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("load") / "data"
    core = open_core(data_dir)
    core.init(demo=True)
    ids = [row["id"] for row in core.kg.select("SELECT ?id WHERE { ?c a mw:Casus ; dcterms:identifier ?id }")]
    core.close()
    with running_server(data_dir, data_dir.parent / "serve.log") as base:
        port = int(base.rsplit(":", 1)[1])
        yield port, _pid_listening(port), ids


def _pid_listening(port: int) -> int:
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in args and str(port).encode() in args:
            return int(cmdline.parent.name)
    raise AssertionError(f"no server process for port {port}")


def _anon_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"RssAnon:\s+(\d+)", status).group(1)) / 1024


def _mix(ids: list[str], n: int) -> list[load.Req]:
    requests = []
    for i in range(n):
        text = TEXTS[i % len(TEXTS)]
        kind = i % 4
        if kind == 1:
            requests.append(load.Req("similar", "GET", f"/api/cases/{ids[i % len(ids)]}/similar"))
        elif kind == 2:
            requests.append(load.Req("list", "GET", f"/api/cases?q={text.split()[3]}"))
        else:
            requests.append(load.similar_cases(text))
    return requests


@pytest.mark.parametrize("clients", [8, 32])
def test_concurrent_clients_get_answers_and_memory_stays_flat(server, clients):
    port, pid, ids = server
    load.run(port, _mix(ids, 200), clients)  # warm-up: thread pool and allocator arenas settle
    first = load.run(port, _mix(ids, 600), clients)
    before = _anon_mb(pid)
    second = load.run(port, _mix(ids, 600), clients)
    after = _anon_mb(pid)
    for result in (first, second):
        assert not result.errors, result.first_error
    assert after - before < MAX_GROWTH_MB, f"server memory grew {after - before:.1f} MB over 600 requests"
    print(
        f"{clients} clients: {second.summary()['throughput_rps']} req/s, "
        f"p99 {second.summary()['p99_ms']} ms, anon RSS {before:.0f} -> {after:.0f} MB"
    )
