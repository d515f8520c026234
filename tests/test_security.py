"""Security hardening (issue #14): SERVICE unreachable, admission control, byte limits, headers, offline docs.

Every promise in SECURITY.md names the test here (or elsewhere) that holds it.
"""

from __future__ import annotations

import os
import shutil
import socket
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
from graph.sparql import SparqlError, check_query, run_query
from graph.sparql_worker import close_pool, pool_for
from tests.conftest import MAATWERK, running_server


class Listener:
    """A TCP listener on a free loopback port that counts every connection made to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/sparql"
        self.connections = 0
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()  # the client gets an error at once instead of waiting for an answer

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def listener():
    listening = Listener()
    yield listening
    listening.close()


@pytest.fixture(scope="module")
def kg(small_dir, tmp_path_factory):
    graph = KnowledgeGraph(_copy(small_dir, tmp_path_factory.mktemp("security") / "data") / "store")
    yield graph
    close_pool(graph)
    graph.close()


@pytest.fixture(scope="module")
def client(small_dir, tmp_path_factory):
    data_dir = _copy(small_dir, tmp_path_factory.mktemp("security-api") / "data")
    with TestClient(create_app(replace(Settings(), data_dir=data_dir))) as client:
        yield client


def _copy(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


# --- SERVICE, in every spelling --------------------------------------------------------------------

P = "{ ?s ?p ?o }"
# (name, query): `{url}` is the listener. Each one asks Oxigraph to call the listener; most do so when
# evaluated without the walls (test_spellings_reach_the_network_without_the_walls proves the suite bites).
SPELLINGS = [
    ("plain", "SELECT * WHERE { SERVICE <{url}> " + P + " }"),
    ("lowercase", "select * where { service <{url}> " + P + " }"),
    ("mixed-case", "SeLeCt * WhErE { sErViCe <{url}> " + P + " }"),
    ("silent", "SELECT * WHERE { SERVICE SILENT <{url}> " + P + " }"),
    ("silent-lowercase", "SELECT * WHERE { service silent <{url}> " + P + " }"),
    ("no-spaces", "SELECT*WHERE{SERVICE<{url}>{?s ?p ?o}}"),
    ("tabs-and-newlines", "SELECT * WHERE {\n\tSERVICE\t\n<{url}>\n" + P + "\n}"),
    ("comment-ended-by-cr", "SELECT * WHERE { # x\rSERVICE <{url}> " + P + " }"),
    ("comment-cr-then-lf-hides-brace", "SELECT * WHERE { ?s ?p ?o # x\rSERVICE <{url}> " + P + "\n}"),
    ("comment-ended-by-crlf", "SELECT * WHERE { # x\r\nSERVICE <{url}> " + P + " }"),
    ("comment-between-keyword-and-iri", "SELECT * WHERE { SERVICE # c\r<{url}> " + P + " }"),
    ("long-double-quote-escaped-quote", 'SELECT * WHERE { BIND("""a\\"""" AS ?x) SERVICE <{url}> ' + P + " }"),
    ("long-single-quote-escaped-quote", "SELECT * WHERE { BIND('''a\\'''' AS ?x) SERVICE <{url}> " + P + " }"),
    ("short-double-quote-escaped-quote", 'SELECT * WHERE { BIND("a\\"" AS ?x) SERVICE <{url}> ' + P + " }"),
    ("short-single-quote-escaped-quote", "SELECT * WHERE { BIND('a\\'' AS ?x) SERVICE <{url}> " + P + " }"),
    ("long-string-with-hash-and-newline", 'SELECT * WHERE { BIND("""x\n# y""" AS ?z) SERVICE <{url}> ' + P + " }"),
    ("long-string-with-quotes-inside", 'SELECT * WHERE { BIND("""a""b" """ AS ?z) SERVICE <{url}> ' + P + " }"),
    ("escape-u-keyword", "SELECT * WHERE { \\u0053ERVICE <{url}> " + P + " }"),
    ("escape-U-keyword", "SELECT * WHERE { \\U00000053ERVICE <{url}> " + P + " }"),
    ("escape-lowercase-keyword", "SELECT * WHERE { \\u0073\\u0065rvice <{url}> " + P + " }"),
    ("escape-in-iri", "SELECT * WHERE { SERVICE <http\\u003A//127.0.0.1:{port}/sparql> " + P + " }"),
    ("escaped-cr-ends-comment", "SELECT * WHERE { # x\\u000DSERVICE <{url}> " + P + " }"),
    ("escaped-lf-ends-comment", "SELECT * WHERE { # x\\u000ASERVICE <{url}> " + P + " }"),
    ("optional", "SELECT * WHERE { ?s ?p ?o OPTIONAL { SERVICE <{url}> { ?s ?q ?r } } }"),
    ("filter-exists", "SELECT * WHERE { ?s ?p ?o FILTER EXISTS { SERVICE <{url}> { ?s ?q ?r } } }"),
    ("filter-not-exists", "SELECT * WHERE { ?s ?p ?o FILTER NOT EXISTS { SERVICE <{url}> { ?s ?q ?r } } }"),
    ("bind-exists", "SELECT * WHERE { ?s ?p ?o BIND(EXISTS { SERVICE <{url}> { ?a ?b ?c } } AS ?e) }"),
    ("subquery", "SELECT * WHERE { { SELECT * WHERE { SERVICE <{url}> " + P + " } } }"),
    ("union", "SELECT * WHERE { { ?s ?p ?o } UNION { SERVICE <{url}> " + P + " } }"),
    ("graph", "SELECT * WHERE { GRAPH ?g { SERVICE <{url}> " + P + " } }"),
    ("minus", "SELECT * WHERE { ?s ?p ?o MINUS { SERVICE <{url}> { ?s ?q ?r } } }"),
    ("nested-groups", "SELECT * WHERE { { { OPTIONAL { { SERVICE <{url}> " + P + " } } } } }"),
    ("variable-iri-bind", "SELECT * WHERE { BIND(<{url}> AS ?u) SERVICE ?u " + P + " }"),
    ("variable-iri-values", "SELECT * WHERE { VALUES ?u { <{url}> } SERVICE ?u " + P + " }"),
    ("prefixed-iri", "PREFIX ex: <http://127.0.0.1:{port}/> SELECT * WHERE { SERVICE ex:sparql " + P + " }"),
    ("base-relative-iri", "BASE <{url}> SELECT * WHERE { SERVICE <> " + P + " }"),
    ("ask", "ASK { SERVICE <{url}> " + P + " }"),
    ("construct", "CONSTRUCT { ?s ?p ?o } WHERE { SERVICE <{url}> " + P + " }"),
    ("describe", "DESCRIBE ?s WHERE { SERVICE <{url}> " + P + " }"),
    ("prefix-named-service", "PREFIX service: <urn:x:> SELECT ?service WHERE { SERVICE <{url}> { ?service ?p ?o } }"),
]
SPELLING_IDS = [name for name, _ in SPELLINGS]
# Spellings Oxigraph 0.5 does not itself send out (the check refuses them all the same): it expands
# \u escapes only inside IRIs and strings, not in keywords or comments (the SPARQL spec expands them
# everywhere, as the check does), and it does not call a SERVICE whose IRI is a variable.
NOT_SENT_BY_OXIGRAPH = {
    "escape-u-keyword",
    "escape-U-keyword",
    "escape-lowercase-keyword",
    "escaped-cr-ends-comment",
    "escaped-lf-ends-comment",
    "variable-iri-bind",
    "variable-iri-values",
}


def spelled(query: str, listener: Listener) -> str:
    return query.replace("{url}", listener.url).replace("{port}", str(listener.port))


def evaluate_unguarded(text: str) -> None:
    """Oxigraph alone, in this process, on a store with one triple: what the walls stand in front of."""
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("urn:x:s"), ox.NamedNode("urn:x:p"), ox.Literal("o")))
    done = threading.Event()

    def run():
        try:
            answer = store.query(text)
            list(answer) if not isinstance(answer, ox.QueryBoolean) else bool(answer)
        except Exception:
            pass
        done.set()

    threading.Thread(target=run, daemon=True).start()
    done.wait(10)


def test_at_least_thirty_spellings():
    assert len(SPELLINGS) >= 30 and len(set(SPELLING_IDS)) == len(SPELLINGS)


def test_spellings_reach_the_network_without_the_walls(listener):
    """The suite bites: Oxigraph on its own calls the listener for (nearly) every spelling."""
    reached = []
    for name, query in SPELLINGS:
        before = listener.connections
        evaluate_unguarded(spelled(query, listener))
        time.sleep(0.05)
        if listener.connections > before:
            reached.append(name)
    assert set(SPELLING_IDS) - NOT_SENT_BY_OXIGRAPH <= set(reached), sorted(set(SPELLING_IDS) - set(reached))
    assert len(reached) >= 30


@pytest.mark.parametrize("query", [q for _, q in SPELLINGS], ids=SPELLING_IDS)
def test_service_is_refused_by_the_parser_check(listener, query):
    """The first wall alone: an in-memory graph has no worker process, so only the check stands between."""
    graph = KnowledgeGraph(None)
    before = listener.connections
    with pytest.raises(SparqlError) as refused:
        run_query(graph, spelled(query, listener), timeout_s=5)
    assert refused.value.status == 400
    time.sleep(0.02)
    assert listener.connections == before


@pytest.mark.parametrize("query", [q for _, q in SPELLINGS], ids=SPELLING_IDS)
def test_service_is_refused_over_http_and_nothing_connects(client, listener, query):
    before = listener.connections
    for response in (
        client.get("/sparql", params={"query": spelled(query, listener)}),
        client.post(
            "/sparql", content=spelled(query, listener).encode(), headers={"Content-Type": "application/sparql-query"}
        ),
    ):
        assert response.status_code == 400, response.text
        assert response.json()["error"] and "Traceback" not in response.text
    time.sleep(0.02)
    assert listener.connections == before


def test_service_is_refused_by_run_query_on_disk(kg, listener):
    before = listener.connections
    for _, query in SPELLINGS:
        with pytest.raises(SparqlError):
            run_query(kg, spelled(query, listener), timeout_s=5)
    time.sleep(0.05)
    assert listener.connections == before


@pytest.mark.parametrize("name", ["comment-ended-by-cr", "long-double-quote-escaped-quote", "escape-u-keyword"])
def test_service_is_refused_by_the_cli(small_dir, tmp_path, listener, name):
    data_dir = _copy(small_dir, tmp_path / "data")
    before = listener.connections
    done = subprocess.run(
        [str(MAATWERK), "sparql", spelled(dict(SPELLINGS)[name], listener), "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "SERVICE is niet toegestaan" in done.stderr, done.stderr
    assert listener.connections == before


NETWORK_PROBE = """
import socket, sys
import pyoxigraph as ox
from graph.sparql_worker import isolate_network
print(isolate_network(), flush=True)
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2).close()
    print("connect: ok")
except OSError as exc:
    print("connect:", type(exc).__name__)
try:  # what a SERVICE that got past the check would do, unchecked, in this process
    list(ox.Store().query(f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{sys.argv[1]}/> {{ ?s ?p ?o }} }}"))
    print("service: ok")
except OSError as exc:
    print("service:", type(exc).__name__)
"""


def test_after_isolation_a_process_reaches_no_listener(listener):
    """The second wall: what every worker does first (isolate_network), then a connect and an unchecked SERVICE."""
    before = listener.connections
    done = subprocess.run(
        [sys.executable, "-c", NETWORK_PROBE, str(listener.port)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    assert done.returncode == 0, done.stderr
    wall, connect, service = done.stdout.split("\n")[:3]
    if wall == "None":
        pytest.skip("no network namespace available here: the parser check is the only wall (logged)")
    assert connect != "connect: ok" and service != "service: ok", done.stdout
    time.sleep(0.05)
    assert listener.connections == before


def test_the_network_wall_is_up_on_this_machine_when_running_as_root(kg):
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.skip("only root can always create a network namespace")
    run_query(kg, "ASK {}")
    assert pool_for(kg).network_wall == "netns"


@pytest.mark.parametrize(
    "query",
    [
        "SELECT ?service WHERE { ?service ?p ?o } LIMIT 1",
        "PREFIX service: <https://w3id.org/maatwerk/def#> SELECT ?s WHERE { ?s a service:Casus } LIMIT 1",
        'SELECT * WHERE { ?s ?p ?o FILTER(?o != "SERVICE <http://example.org/>") } LIMIT 1',
        "SELECT * WHERE { ?s ?p ?o } # SERVICE <http://example.org/> { }\nLIMIT 1",
    ],
)
def test_variables_prefixes_literals_and_comments_named_service_are_allowed(client, query):
    assert check_query(query, lambda graph: False) == "select"
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "query, status",
    [
        ("LOAD <http://example.org/data.ttl>", 403),
        ("load <http://example.org/data.ttl> into graph <urn:x:g>", 403),
        ("INSERT DATA { <urn:x:s> <urn:x:p> 1 }", 403),
        ("DELETE WHERE { ?s ?p ?o }", 403),
        ("SELECT * FROM <http://example.org/g> WHERE { ?s ?p ?o }", 400),
        ("SELECT * FROM NAMED <http://example.org/g> WHERE { GRAPH ?g { ?s ?p ?o } }", 400),
        ("PREFIX ex: <http://example.org/> SELECT * FROM ex:g WHERE { ?s ?p ?o }", 400),
        ("SELECT * WHERE { ?s ?p ?o ", 400),
        ("SELECT * WHERE { \\uD800 }", 400),
        ('SELECT * WHERE { ?s ?p "\\u005Cu0053" }', 400),
    ],
)
def test_updates_load_remote_from_and_unparsable_queries_are_refused(client, query, status):
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == status, response.text


def test_what_rdflib_cannot_parse_is_refused_with_a_clear_message(client):
    deep = "SELECT * WHERE " + "{ " * 3000 + "?s ?p ?o" + " }" * 3000
    response = client.get("/sparql", params={"query": deep})
    assert response.status_code == 400 and "te diep genest" in response.json()["error"]


# --- admission control: runaway SPARQL cannot starve the rest ------------------------------------------

CROSS_JOIN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def _flood(base: str, runaway: int) -> dict:
    """`runaway` concurrent cross joins; meanwhile time /health and a similar-cases search."""
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def ask():
        response = httpx.get(f"{base}/sparql", params={"query": CROSS_JOIN}, timeout=60)
        with lock:
            answers.append(response)

    threads = [threading.Thread(target=ask) for _ in range(runaway)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)  # every query is admitted, queued or refused by now
    start = time.monotonic()
    health = httpx.get(f"{base}/health", timeout=10)
    health_s = time.monotonic() - start
    start = time.monotonic()
    similar = httpx.post(f"{base}/api/similar-cases", json={"text": "schulden bij de gemeente", "k": 3}, timeout=10)
    similar_s = time.monotonic() - start
    with lock:
        refused_early = [r for r in answers if r.status_code == 429]
    for thread in threads:
        thread.join(90)
    return {
        "health": health,
        "health_s": health_s,
        "similar": similar,
        "similar_s": similar_s,
        "answers": answers,
        "refused_early": refused_early,
    }


def _assert_served_and_bounded(outcome: dict, runaway: int, capacity: int) -> None:
    # Generous bounds for a busy 2-core machine; unloaded both take milliseconds.
    assert outcome["health"].status_code == 200 and outcome["health_s"] < 1.0, outcome["health_s"]
    assert outcome["similar"].status_code == 200 and outcome["similar_s"] < 2.0, outcome["similar_s"]
    answers = outcome["answers"]
    assert len(answers) == runaway
    refused = [r for r in answers if r.status_code == 429]
    assert len(refused) == runaway - capacity and refused == outcome["refused_early"]  # at once, not after waiting
    for response in refused:
        assert int(response.headers["Retry-After"]) >= 1 and response.json()["error"]
    assert all(r.status_code == 503 for r in answers if r.status_code != 429)  # the admitted ones time out


@pytest.fixture
def flood_env(monkeypatch):
    monkeypatch.setenv("MAATWERK_SPARQL_TIMEOUT", "4")
    monkeypatch.setenv("MAATWERK_SPARQL_WORKERS", "2")
    monkeypatch.setenv("MAATWERK_SPARQL_QUEUE", "3")
    return 5  # workers + queue


def test_ten_runaway_queries_leave_health_and_search_answering(small_dir, tmp_path, flood_env):
    with running_server(_copy(small_dir, tmp_path / "data"), tmp_path / "serve.log") as base:
        _assert_served_and_bounded(_flood(base, 10), 10, flood_env)


@pytest.mark.slow
def test_forty_five_runaway_queries_leave_health_and_search_answering(small_dir, tmp_path, flood_env):
    with running_server(_copy(small_dir, tmp_path / "data"), tmp_path / "serve.log") as base:
        _assert_served_and_bounded(_flood(base, 45), 45, flood_env)


def test_a_full_queue_is_429_with_retry_after_in_process(client):
    queue = client.app.state.sparql_queue
    release = threading.Event()
    held = []
    try:
        while True:  # fill every slot with a call that waits
            try:
                held.append(queue.submit(release.wait, 10))
            except SparqlError as exc:
                assert exc.status == 429 and exc.headers["Retry-After"]
                break
        response = client.get("/sparql", params={"query": "ASK {}"})
        assert response.status_code == 429 and response.headers["retry-after"]
        assert client.get("/health").status_code == 200
    finally:
        release.set()
    for future in held:
        future.result(5)
    assert client.get("/sparql", params={"query": "ASK {}"}).status_code == 200


# --- byte limit -----------------------------------------------------------------------------------------------


def doubling_query(times: int) -> str:
    """One row whose value doubles `times` times: 16 * 2**times characters from a ~1.5 KB query."""
    binds = " ".join(f"BIND(CONCAT(?x{i}, ?x{i}) AS ?x{i + 1})" for i in range(times))
    return f'SELECT ?x{times} WHERE {{ BIND("abcdefghijklmnop" AS ?x0) {binds} }}'


def test_answers_over_the_byte_limit_are_refused_in_process(kg):
    with pytest.raises(SparqlError) as refused:
        run_query(kg, doubling_query(16), max_bytes=100_000, media_type="application/sparql-results+json")
    assert refused.value.status == 413 and "100000 bytes" in str(refused.value)
    many = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
    with pytest.raises(SparqlError):  # many small rows add up as well
        run_query(kg, many, max_bytes=5_000, media_type="text/csv")
    small = run_query(kg, doubling_query(4), max_bytes=100_000, media_type="text/csv")
    assert small.body.count(b"abcdefghijklmnop") == 16


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _server_pid(port: int) -> int:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"serve" in cmdline and str(port).encode() in cmdline:
                return int(entry.name)
    raise AssertionError("server not found")


def test_concat_doubling_is_refused_and_the_server_memory_stays_flat(small_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("MAATWERK_SPARQL_MAX_BYTES", "1000000")
    monkeypatch.setenv("MAATWERK_WARM_OVERVIEWS", "0")  # building the overviews meanwhile would count too
    with running_server(_copy(small_dir, tmp_path / "data"), tmp_path / "serve.log") as base:
        server = _server_pid(int(base.rsplit(":", 1)[1]))
        assert httpx.get(f"{base}/sparql", params={"query": "ASK {}"}, timeout=30).status_code == 200
        # The gate's name lists load in the background at start; wait for them, so they are not counted.
        assert httpx.post(f"{base}/api/check-text", json={"text": "Jan de Vries"}, timeout=60).status_code == 200
        before = _rss_kb(server)
        for _ in range(3):  # 16 MB in one value, 16 times the limit
            response = httpx.get(f"{base}/sparql", params={"query": doubling_query(20), "format": "json"}, timeout=30)
            assert response.status_code == 413, response.text
            assert "1000000 bytes" in response.json()["error"]
        assert _rss_kb(server) - before < 30_000  # KB: the 16 MB value never reached the server


def test_queries_checked_from_many_threads_at_once_are_all_understood():
    """rdflib's parser is not thread-safe: the check serialises it (a failure here would refuse good queries)."""
    results: list = []

    def check(n: int) -> None:
        try:
            results.append(check_query(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?a ?b ?c{n} . ?d ?e ?f }}", bool))
        except SparqlError as exc:
            results.append(exc)

    threads = [threading.Thread(target=check, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["select"] * 20


# --- headers on every response ----------------------------------------------------------------------------

HEADER_PATHS = [
    "/health",
    "/api/cases",
    "/openapi.json",
    "/docs",
    "/redoc",
    "/sparql?query=ASK%20%7B%7D",
    "/static/css/maatwerk.css",
    "/static/vendor/yasgui/yasgui.min.js",
    "/bestaat-niet",
    "/api/cases/bestaat-niet",
    "/",
    "/casus/t-zorgtoeslag",
    "/systeemleren",
]


@pytest.mark.parametrize("path", HEADER_PATHS)
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"


def test_security_headers_on_errors_before_routing(client):
    response = client.post(
        "/api/similar-cases",
        content=b" " * (Settings().max_body_bytes + 1),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413 and response.headers["x-frame-options"] == "DENY"


def test_vendored_files_are_cached_long_and_our_own_revalidated(client):
    vendor = client.get("/static/vendor/chartjs/chart.umd.min.js")
    assert "max-age=604800" in vendor.headers["cache-control"]
    own = client.get("/static/js/sparql.js")
    assert own.headers["cache-control"] == "no-cache" and own.headers.get("etag")
    assert client.get("/static/js/sparql.js", headers={"If-None-Match": own.headers["etag"]}).status_code == 304


def test_templates_have_no_inline_scripts():
    """Only data blocks (type=application/json) may stand inline; every script is a file."""
    import re

    templates = Path(__file__).resolve().parents[1] / "api" / "templates"
    for template in templates.glob("*.html"):
        for tag in re.findall(r"<script\b[^>]*>", template.read_text()):
            assert "src=" in tag or 'type="application/json"' in tag, (template.name, tag)
        assert not re.search(r"\son[a-z]+\s*=", template.read_text()), template.name  # no onclick= etc.


# --- API docs offline -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_api_docs_load_only_local_files(client, path):
    response = client.get(path)
    assert response.status_code == 200 and '<html lang="nl">' in response.text
    assert "<h1" in response.text and 'href="/"' in response.text
    assert "http://" not in response.text and "https://" not in response.text and "//cdn" not in response.text
    import re

    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', response.text):
        assert client.get(asset).status_code == 200, asset


def test_vendored_docs_assets_have_their_licence():
    vendor = Path(__file__).resolve().parents[1] / "api" / "static" / "vendor"
    for folder in ("swagger-ui", "redoc"):
        assert (vendor / folder / "LICENSE").is_file()
    versions = (vendor / "VERSIONS.md").read_text()
    assert "swagger-ui-dist" in versions and "redoc" in versions


# --- smaller items ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, allow",
    [
        ("/api/cases", "GET, POST, OPTIONS"),
        ("/sparql", "GET, POST, OPTIONS"),
        ("/health", "GET, OPTIONS"),
        ("/api/similar-cases", "POST, OPTIONS"),
    ],
)
def test_options_answers_with_the_allowed_methods(client, path, allow):
    response = client.options(path)
    assert response.status_code == 204 and response.headers["allow"] == allow


def test_options_on_an_unknown_path_is_still_404(client):
    assert client.options("/bestaat-niet").status_code == 404


@pytest.mark.parametrize(
    "text", ["\u200b\u200b\u200b", "\u200d\u200c\ufeff", "\u0301\u0308\u0323", " \u2060\u00a0 ", "\u200e\u200f\u034f"]
)
def test_invisible_search_text_is_empty(client, text):
    response = client.post("/api/similar-cases", json={"text": text})
    assert response.status_code == 422 and response.json()["error"] == "De tekst is leeg"
    listed = client.get("/api/cases", params={"q": text})
    assert listed.status_code == 422 and listed.json()["error"] == "De zoektekst is leeg"


def test_text_with_a_letter_and_combining_marks_is_not_empty(client):
    assert client.post("/api/similar-cases", json={"text": "sch\u0301uld\u200b", "k": 1}).status_code == 200


def test_keys_and_query_text_never_reach_the_access_log(small_dir, tmp_path):
    secret, sparql_secret, search_secret = "sleutel-in-url-8f3a1c", "geheimetekst41", "mevrouwjansen77"
    log = tmp_path / "serve.log"
    with running_server(_copy(small_dir, tmp_path / "data"), log) as base:
        httpx.get(f"{base}/api/cases", params={"api_key": secret, "q": search_secret})
        httpx.get(f"{base}/sparql", params={"query": f'ASK {{ ?s ?p "{sparql_secret}" }}', "api_key": secret})
        httpx.post(
            f"{base}/api/cases",
            params={"api_key": secret},
            json={"situation": "x"},
            headers={"Authorization": f"Bearer {secret}"},
        )
        time.sleep(0.3)
    text = log.read_text()
    # logged, bare (api_key is no parameter of /api/cases, so that request is a 422: unknown parameter)
    assert '"GET /api/cases HTTP/1.1" 422' in text and '"GET /sparql HTTP/1.1" 200' in text
    for value in (secret, sparql_secret, search_secret, "api_key", "query="):
        assert value not in text, value


def test_a_query_slow_to_check_is_stopped_at_the_time_limit(kg):
    """rdflib needs tens of seconds for some long expressions; the check runs in the worker, under the limit."""
    slow = "SELECT * WHERE { ?s ?p ?o FILTER(" + "+".join("1" for _ in range(30_000)) + ") }"
    start = time.monotonic()
    with pytest.raises(SparqlError) as stopped:
        run_query(kg, slow, timeout_s=1.5)
    assert stopped.value.status == 503 and time.monotonic() - start < 1.5 + 1.5
    assert run_query(kg, "ASK {}").boolean is not None  # a fresh worker took over
