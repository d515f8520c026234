"""The SPARQL sandbox (issue #8): the time limit stops the evaluation itself, not only the response.

Queries on on-disk graphs run in worker processes (graph.sparql_worker) that are
killed when their time is up; these tests check that the process really goes,
that the endpoint stays responsive meanwhile, and that no worker outlives its owner.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from graph import KnowledgeGraph
from graph.sparql import SparqlError, run_query
from graph.sparql_worker import POOL_SIZE, SNAPSHOTS, close_pool, pool_for
from ontology import GRAPH_REFERENCE
from tests.conftest import running_server

# Thousands of triples cubed: runs for hours unless stopped.
CROSS_JOIN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
SIMPLE = "SELECT ?c WHERE { ?c a mw:Casus } ORDER BY ?c LIMIT 3"
LIMIT_S = 1.5
# Killing and reaping a worker takes milliseconds. An unenforced limit would let the cross join run for
# hours, so the margin only has to tell "stopped at the limit" from "not stopped": it is wide, for a
# loaded 2-core CI machine.
MARGIN_S = 2.0


def worker_pids(parent: int | None = None) -> set[int]:
    """Live SPARQL worker processes, of `parent` (default: this process)."""
    parent = os.getpid() if parent is None else parent
    pids = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if b"graph.sparql_worker" in cmdline and int(fields[1]) == parent and fields[0] != "Z":
            pids.add(int(entry.name))
    return pids


def wait_gone(pids: set[int], timeout: float = 5.0) -> set[int]:
    """The pids still alive after `timeout` (zombies count as gone: they use no CPU)."""
    deadline = time.monotonic() + timeout
    alive = set(pids)
    while True:
        alive = {p for p in alive if _alive(p)}
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def copy_data(small_dir: Path, target: Path) -> Path:
    shutil.copytree(small_dir, target)
    return target


@pytest.fixture(scope="module")
def kg(small_dir, tmp_path_factory):
    graph = KnowledgeGraph(copy_data(small_dir, tmp_path_factory.mktemp("sandbox") / "data") / "store")
    yield graph
    close_pool(graph)
    graph.close()


@pytest.fixture(scope="module")
def client(small_dir, tmp_path_factory):
    data_dir = copy_data(small_dir, tmp_path_factory.mktemp("sandbox-api") / "data")
    with TestClient(create_app(replace(Settings(), data_dir=data_dir))) as client:
        yield client


def assert_json_error(response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] and "Traceback" not in response.text
    return body["error"]


# --- the time limit ------------------------------------------------------------------------------


def test_cross_join_is_stopped_within_the_limit_and_its_worker_is_gone(kg):
    run_query(kg, SIMPLE)  # the pool is up and warm
    before = set(pool_for(kg).pids())
    assert len(before) == POOL_SIZE and before <= worker_pids()
    start = time.monotonic()
    with pytest.raises(SparqlError) as stopped:
        run_query(kg, CROSS_JOIN, timeout_s=LIMIT_S)
    assert time.monotonic() - start < LIMIT_S + MARGIN_S
    assert stopped.value.status == 503 and "afgebroken" in str(stopped.value)
    killed = before - set(pool_for(kg).pids())
    assert len(killed) == 1 and not wait_gone(killed, timeout=0)  # reaped already, so it burns no CPU
    start = time.monotonic()
    assert len(run_query(kg, SIMPLE).solutions) == 3
    assert time.monotonic() - start < 0.5  # a spare worker was ready
    assert len(pool_for(kg).pids()) == POOL_SIZE  # and the killed one was replaced


def test_a_worker_that_dies_mid_query_is_a_503_and_is_replaced(kg):
    run_query(kg, SIMPLE)
    before = _settled(pool_for(kg).pids())
    outcome: dict = {}

    def runaway():
        try:
            run_query(kg, CROSS_JOIN, timeout_s=30)
        except SparqlError as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=runaway)
    thread.start()
    busy = _busy_worker(before)
    os.kill(busy, signal.SIGKILL)  # as the kernel does when a worker runs out of memory
    thread.join(5)
    assert not thread.is_alive()
    assert outcome["error"].status == 503 and "stopte onverwacht" in str(outcome["error"])
    assert len(run_query(kg, SIMPLE).solutions) == 3


def test_when_all_workers_are_busy_a_query_waits_at_most_its_limit(kg):
    run_query(kg, SIMPLE)
    threads = [threading.Thread(target=_expect_503, args=(kg, CROSS_JOIN, 2.5)) for _ in range(POOL_SIZE)]
    for thread in threads:
        thread.start()
    _busy_workers(set(pool_for(kg).pids()), POOL_SIZE)  # every worker is evaluating a cross join
    start = time.monotonic()
    with pytest.raises(SparqlError) as busy:
        run_query(kg, SIMPLE, timeout_s=0.5)
    assert busy.value.status == 503 and time.monotonic() - start < 0.5 + MARGIN_S
    for thread in threads:
        thread.join(10)
    assert len(run_query(kg, SIMPLE).solutions) == 3


def test_workers_die_with_their_parent(small_dir, tmp_path):
    """A server killed with SIGKILL cannot kill its workers; they notice and stop themselves."""
    data_dir = copy_data(small_dir, tmp_path / "data")
    script = (
        "from pathlib import Path\n"
        "from graph import KnowledgeGraph\n"
        "from graph.sparql import run_query\n"
        f"kg = KnowledgeGraph(Path({str(data_dir / 'store')!r}))\n"
        "run_query(kg, 'ASK {}')\n"
        "print('ready', flush=True)\n"
        f"run_query(kg, {CROSS_JOIN!r}, timeout_s=600)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    workers: set[int] = set()
    try:
        assert parent.stdout.readline().strip() == "ready"
        workers = worker_pids(parent.pid)
        assert len(workers) == POOL_SIZE
        _busy_worker(workers)  # the cross join is running in one of them
    finally:
        parent.kill()
        parent.wait()
    alive = wait_gone(workers, timeout=3)
    for pid in alive:  # do not leave them burning a core when the test fails
        os.kill(pid, signal.SIGKILL)
    assert not alive


def test_closing_the_pool_leaves_no_processes_or_checkpoints(small_dir, tmp_path):
    graph = KnowledgeGraph(copy_data(small_dir, tmp_path / "data") / "store")
    try:
        run_query(graph, SIMPLE)
        workers = set(pool_for(graph).pids())
        assert len(workers) == POOL_SIZE and workers <= worker_pids() and (graph.path / SNAPSHOTS).is_dir()
        close_pool(graph)
        assert not wait_gone(workers, timeout=2)
        assert not (graph.path / SNAPSHOTS).exists()
    finally:
        graph.close()


# --- what the workers see ---------------------------------------------------------------------


def test_a_commit_is_visible_to_the_next_query_and_old_checkpoints_go(kg):
    ask = "ASK { <urn:x:sandbox> <urn:x:p> ?o }"
    assert run_query(kg, ask).boolean is False
    for n in range(3):
        kg.commit(
            [
                ox.Quad(
                    ox.NamedNode("urn:x:sandbox"),
                    ox.NamedNode("urn:x:p"),
                    ox.Literal(str(n)),
                    ox.NamedNode("urn:x:sandbox-graph"),
                )
            ],
            drop_graphs=["urn:x:sandbox-graph"],
        )
        rows = run_query(kg, "SELECT ?o WHERE { <urn:x:sandbox> <urn:x:p> ?o }").rows()
        assert rows == [[str(n)]]
    # the current checkpoint, and at most one per worker still open on an older one
    assert len(list(pool_for(kg).root.iterdir())) <= POOL_SIZE + 1


def test_dataset_options_and_graph_results_go_through_the_worker(kg):
    count = "SELECT (COUNT(?c) AS ?n) WHERE { ?c a mw:Casus }"
    assert run_query(kg, count).rows()[0][0] != "0"
    assert run_query(kg, count, default_graphs=[GRAPH_REFERENCE]).rows() == [["0"]]
    graph = run_query(kg, "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", limit=4)
    assert graph.kind == "graph" and len(graph.triples) == 4 and graph.truncated
    body = run_query(kg, SIMPLE, media_type="text/csv")
    assert body.serialize("text/csv").startswith(b"c\r\n") and not body.solutions


def test_in_memory_graphs_still_answer():
    graph = KnowledgeGraph(None)
    graph.commit([ox.Quad(ox.NamedNode("urn:x:s"), ox.NamedNode("urn:x:p"), ox.Literal("o"), ox.NamedNode("urn:x:g"))])
    assert run_query(graph, "SELECT ?o WHERE { ?s <urn:x:p> ?o }").rows() == [["o"]]


# --- errors and refusals ----------------------------------------------------------------------------


def test_evaluation_error_is_400_json(client):
    message = assert_json_error(client.get("/sparql", params={"query": "SELECT (<urn:x:f>(1) AS ?x) {}"}), 400)
    assert "kon niet worden uitgevoerd" in message


def test_timeout_over_http_is_503_json_and_graph_result_limit_sets_header(client):
    state = client.app.state
    original = state.settings
    state.settings = replace(original, sparql_timeout_s=1.0, sparql_result_limit=3)
    try:
        start = time.monotonic()
        message = assert_json_error(client.get("/sparql", params={"query": CROSS_JOIN}), 503)
        assert "afgebroken" in message and time.monotonic() - start < 1.0 + MARGIN_S
        response = client.get(
            "/sparql",
            params={"query": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"},
            headers={"Accept": "application/n-triples"},
        )
    finally:
        state.settings = original
    assert response.status_code == 200 and "x-result-truncated" in response.headers
    assert len(response.text.strip().splitlines()) == 3


@pytest.mark.parametrize(
    "query,status",
    [
        ("LOAD <http://example.org/data.ttl>", 403),
        ("LOAD <http://example.org/data.ttl> INTO GRAPH <urn:x:g>", 403),
        ("SELECT * FROM NAMED <http://example.org/g> WHERE { GRAPH ?g { ?s ?p ?o } }", 400),
        ("PREFIX ex: <http://example.org/>\nSELECT * FROM ex:remote WHERE { ?s ?p ?o }", 400),
        ("PREFIX ex: <http://example.org/>\nSELECT * WHERE { service ex:sparql { ?s ?p ?o } }", 400),
        ("SELECT * WHERE { ?s ?p ?o OPTIONAL { SERVICE SILENT <http://example.org/sparql> { ?s ?q ?r } } }", 400),
    ],
)
def test_network_and_updates_are_refused_before_evaluation(client, query, status):
    # pyoxigraph itself would fetch a SERVICE over HTTP: the refusal must come first.
    assert_json_error(client.get("/sparql", params={"query": query}), status)


# --- a real server ---------------------------------------------------------------------------------


def test_server_stays_responsive_during_a_runaway_query(small_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("MAATWERK_SPARQL_TIMEOUT", "3")
    data_dir = copy_data(small_dir, tmp_path / "data")
    with running_server(data_dir, tmp_path / "serve.log") as base:
        # The first query starts the workers; from then on a spare is ready.
        assert httpx.get(f"{base}/sparql", params={"query": SIMPLE}, timeout=10).status_code == 200
        outcome: dict = {}
        runaway = threading.Thread(
            target=lambda: outcome.update(
                response=httpx.get(f"{base}/sparql", params={"query": CROSS_JOIN}, timeout=30)
            )
        )
        start = time.monotonic()
        runaway.start()
        _busy_worker(worker_pids(_server_pid(data_dir)))  # the cross join is running
        for _ in range(3):
            t = time.monotonic()
            assert httpx.get(f"{base}/health", timeout=5).status_code == 200
            simple = httpx.get(f"{base}/sparql", params={"query": SIMPLE}, timeout=5)
            assert simple.status_code == 200 and len(simple.json()["results"]["bindings"]) == 3
            assert time.monotonic() - t < MARGIN_S  # milliseconds normally: a stall would take the whole limit
        assert runaway.is_alive()  # the checks above ran while the cross join did
        runaway.join(10)
        assert time.monotonic() - start < 3 + MARGIN_S
        assert_json_error(outcome["response"], 503)
        server = _server_pid(data_dir)
        workers = worker_pids(server)
        assert len(workers) == POOL_SIZE  # the killed worker was replaced, no more
    assert not wait_gone(workers, timeout=5)  # and none outlives the server


# --- helpers -----------------------------------------------------------------------------------------


def _expect_503(kg, query: str, timeout_s: float) -> None:
    with pytest.raises(SparqlError):
        run_query(kg, query, timeout_s=timeout_s)


def _settled(pids: list[int], timeout: float = 10.0) -> set[int]:
    """`pids` once none of them uses CPU any more (a fresh worker spends a moment importing)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        start = {pid: _cpu(pid) for pid in pids}
        time.sleep(0.3)
        if all(_cpu(pid) == cpu for pid, cpu in start.items()):
            return set(pids)
    raise AssertionError("workers blijven rekenen")


def _busy_worker(candidates: set[int], timeout: float = 10.0) -> int:
    """The worker that is using CPU: the one evaluating the runaway query."""
    return _busy_workers(candidates, 1, timeout)[0]


def _busy_workers(candidates: set[int], count: int, timeout: float = 10.0) -> list[int]:
    """`count` of `candidates` that are using CPU (polled until `timeout`)."""
    deadline = time.monotonic() + timeout
    start = {pid: _cpu(pid) for pid in candidates}
    while time.monotonic() < deadline:
        time.sleep(0.2)
        busy = [pid for pid in candidates if _cpu(pid) - start[pid] >= 10]  # 0.1 s of CPU, in clock ticks
        if len(busy) >= count:
            return busy
    raise AssertionError("te weinig workers aan het rekenen")


def _cpu(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _server_pid(data_dir: Path) -> int:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"serve" in cmdline and str(data_dir).encode() in cmdline:
                return int(entry.name)
    raise AssertionError("server niet gevonden")


# --- the store's checkpoint and the module layout -----------------------------------------------------


def test_checkpoint_waits_for_a_commit_and_copies_a_whole_revision(kg, tmp_path):
    revision, path = kg.checkpoint(tmp_path / "cp1")
    assert revision == kg.revision()
    copy = ox.Store.read_only(str(path))
    assert len(copy) == kg.triple_count()
    del copy
    with kg.write_lock:  # a commit in progress: no waiting means no checkpoint
        start = time.monotonic()
        assert kg.checkpoint(tmp_path / "cp2") is None
        assert kg.checkpoint(tmp_path / "cp3", wait_s=0.3) is None
        assert 0.25 < time.monotonic() - start < 0.3 + MARGIN_S
    assert kg.checkpoint(tmp_path / "cp4", wait_s=0.3) is not None


def test_sparql_modules_import_one_way():
    """graph.sparql -> sparql_worker -> sparql_eval -> sparql_check: the worker side never imports the entry point."""
    code = "import sys, graph.sparql_worker; print(sorted(m for m in ('graph.sparql', 'api') if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stdout + done.stderr


def test_worker_pool_size_and_memory_cap_come_from_the_settings(small_dir, tmp_path):
    from api.core import Maatwerk

    data = copy_data(small_dir, tmp_path / "data")
    settings = replace(Settings(), data_dir=data, sparql_workers=1, sparql_worker_memory_mb=321)
    core = Maatwerk(settings)
    try:
        run_query(core.kg, "ASK { ?s ?p ?o }")
        (pid,) = pool_for(core.kg).pids()
        limits = Path(f"/proc/{pid}/limits").read_text()
        data_line = next(line for line in limits.splitlines() if line.startswith("Max data size"))
        assert data_line.split()[3] == str(321 << 20)
        assert pool_for(core.kg).size == 1
    finally:
        close_pool(core.kg)
        core.close()
