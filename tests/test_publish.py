"""Publishing to a real Oxigraph server process (the `oxigraph` package's server) on loopback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import SMALL_CASES, _free_port, open_core

from graph.publish import PublishError, Target, graph_digests, publish
from graph.store import KnowledgeGraph

OXIGRAPH = Path(sys.executable).with_name("oxigraph")


@pytest.fixture
def server(tmp_path):
    port = _free_port()
    process = subprocess.Popen(
        [str(OXIGRAPH), "serve", "--location", str(tmp_path / "remote"), "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{base}/query?query=ASK%7B%7D", timeout=2).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("oxigraph serve did not start") from None
            time.sleep(0.1)
    yield base
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture
def core(small_dir, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(small_dir, data)
    core = open_core(data)
    yield core
    core.close()


def remote_graphs(base: str) -> dict[str, int]:
    query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    request = urllib.request.Request(
        f"{base}/query?query={urllib.parse.quote(query)}", headers={"Accept": "application/sparql-results+json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        rows = json.load(response)["results"]["bindings"]
    return {row["g"]["value"]: int(row["n"]["value"]) for row in rows}


def local_graphs(kg: KnowledgeGraph) -> dict[str, int]:
    return {graph: len(kg.graph_quads(graph)) for graph, _ in graph_digests(kg)}


@pytest.mark.parametrize("protocol", ["graph-store", "update"])
def test_publish_sends_every_graph_then_only_changes(core, server, tmp_path, protocol):
    target = Target(graph_store=f"{server}/store") if protocol == "graph-store" else Target(update=f"{server}/update")
    state = tmp_path / "publish"

    first = publish(core.kg, target, state)
    expected = local_graphs(core.kg)
    assert remote_graphs(server) == expected
    assert sorted(first.sent) == sorted(expected) and first.unchanged == 0

    again = publish(core.kg, target, state)
    assert again.sent == [] and again.unchanged == len(expected)

    # Re-importing one case with another text replaces exactly that case's graph on the other side.
    record = json.loads(SMALL_CASES.read_text(encoding="utf-8").splitlines()[0])
    record["solution"] = "Een andere oplossing: de gemeente en UWV maakten samen een plan voor de werkplek."
    core.import_records([("test", record)])
    changed = publish(core.kg, target, state)
    case_graph = next(g for g in changed.sent if g.endswith("/casus/t-rolstoel-werk"))
    assert changed.sent == [case_graph]
    assert remote_graphs(server) == local_graphs(core.kg)
    assert _remote_solution(server, case_graph).startswith("Een andere oplossing")


def test_graph_gone_locally_is_deleted_remotely(core, server, tmp_path):
    target = Target(graph_store=f"{server}/store")
    state = tmp_path / "publish"
    publish(core.kg, target, state)
    stale = "https://w3id.org/maatwerk/id/casus/verdwenen"
    urllib.request.urlopen(
        urllib.request.Request(
            f"{server}/store?graph={urllib.parse.quote(stale, safe='')}",
            method="PUT",
            data=b"<urn:a> <urn:b> <urn:c> .",
            headers={"Content-Type": "text/turtle"},
        ),
        timeout=10,
    ).close()
    state_file = next(state.glob("*.json"))
    saved = json.loads(state_file.read_text())
    saved["graphs"][stale] = "0"
    state_file.write_text(json.dumps(saved))

    report = publish(core.kg, target, state)
    assert report.deleted == [stale] and report.sent == []
    assert stale not in remote_graphs(server)


def test_unreachable_target_is_a_clear_error_and_remembers_nothing(core, tmp_path):
    target = Target(graph_store=f"http://127.0.0.1:{_free_port()}/store")
    with pytest.raises(PublishError, match="niet bereikbaar"):
        publish(core.kg, target, tmp_path / "publish")
    assert json.loads(next((tmp_path / "publish").glob("*.json")).read_text())["graphs"] == {}


def test_refusal_by_the_server_names_status(core, server, tmp_path):
    with pytest.raises(PublishError, match=r"404|400|405"):
        publish(core.kg, Target(graph_store=f"{server}/geen-store"), tmp_path / "publish")


def test_no_target_is_refused(core, tmp_path):
    with pytest.raises(PublishError, match="--graph-store"):
        publish(core.kg, Target(), tmp_path / "publish")


def _remote_solution(base: str, graph: str) -> str:
    query = f"SELECT ?o WHERE {{ GRAPH <{graph}> {{ ?c <https://w3id.org/maatwerk/def#oplossing> ?o }} }}"
    request = urllib.request.Request(
        f"{base}/query?query={urllib.parse.quote(query)}", headers={"Accept": "application/sparql-results+json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["results"]["bindings"][0]["o"]["value"]


def test_digest_ignores_store_bookkeeping(core):
    graphs = dict(graph_digests(core.kg))
    assert not any(g.endswith("/graph/meta") for g in graphs)
    assert all(isinstance(ox.NamedNode(g), ox.NamedNode) for g in graphs)


def test_cli_publish(small_dir, server, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(small_dir, data)
    command = [sys.executable, "-m", "api.cli", "publish", "--graph-store", f"{server}/store", "--data-dir", str(data)]
    env = {**os.environ, "MAATWERK_PUBLISH_AUTH": "lezer:geheim"}
    first = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "0 ongewijzigd" in first.stdout
    second = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert second.returncode == 0 and second.stdout.startswith("0 graphs verstuurd")
    assert any(g.endswith("/casus/t-rolstoel-werk") for g in remote_graphs(server))


def test_cli_publish_needs_a_target(small_dir, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(small_dir, data)
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "publish", "--data-dir", str(data)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2 and "--graph-store" in result.stderr
