"""`Maatwerk.cached`: one value per version of what it is built from, never one of another version.

The list of cases (/api/cases) pairs a filter mask with a row order. Before the one cache,
the row order lived in a module-level list that a re-index could refill between a check and a
read, and the mask and the order could come from two different indexes: an IndexError after an
import. These tests pin both down without threads, by putting the caches in the states a race
would leave them in.
"""

from __future__ import annotations

import shutil

import numpy as np
import pyoxigraph as ox
import pytest

from api.routes.cases import filtered_rows
from search.engine import Filters
from tests.conftest import open_core

NEWEST = {
    "id": "cache-nieuw",
    "title": "Nieuwste casus over een traplift",
    "situation": "Een vrouw van 80 kan de trap niet meer op. De gemeente vraagt eerst een ergotherapeut "
    "om advies voordat de traplift via de Wmo 2015 wordt toegekend.",
    "status": "lopend",
    "year": 2099,
    "laws": ["Wmo 2015"],
    "levensgebieden": ["basale ADL"],
}


@pytest.fixture
def core(small_dir, tmp_path):
    shutil.copytree(small_dir, tmp_path / "data")
    core = open_core(tmp_path / "data")
    yield core
    core.close()


def _commit_something(core, n: int) -> None:
    graph = "https://w3id.org/maatwerk/id/graph/test-cache"
    quad = ox.Quad(
        ox.NamedNode(graph),
        ox.NamedNode("https://w3id.org/maatwerk/def#teller"),
        ox.Literal(str(n)),
        ox.NamedNode(graph),
    )
    core.kg.commit([quad], drop_graphs=[graph])


def test_a_value_is_built_once_per_graph_revision(core):
    builds = []
    assert core.cached("x", lambda: builds.append(1) or len(builds)) == 1
    assert core.cached("x", lambda: builds.append(1) or len(builds)) == 1
    _commit_something(core, 1)
    assert core.cached("x", lambda: builds.append(1) or len(builds)) == 2


def test_a_value_built_while_a_commit_landed_is_not_kept(core):
    def build_across_a_commit():
        _commit_something(core, 2)  # as if an import committed while the value was being built
        return "gemengd"

    assert core.cached("y", build_across_a_commit) == "gemengd"  # the caller that asked still gets it
    assert core.cached("y", lambda: "schoon") == "schoon", "a value that may mix two revisions is not kept"
    assert core.cached("y", lambda: "opnieuw") == "schoon"


def test_a_value_built_during_a_commit_is_not_kept(core):
    # While a commit holds the write lock, the SPARQL sandbox answers from its previous checkpoint.
    with core.kg.write_lock:
        assert core.cached("z", lambda: "oud") == "oud"
    assert core.cached("z", lambda: "nieuw") == "nieuw"


def test_explicit_versions_compare_by_identity(core):
    first, second = object(), object()
    assert core.cached("v", lambda: 1, version=first) == 1
    assert core.cached("v", lambda: 2, version=second) == 2
    assert core.cached("v", lambda: 3, version=first) == 3, "a value of another version is never returned"


def test_list_rows_come_from_the_index_asked_for_even_after_a_reindex(core):
    service = core.search()
    old = service.ranker
    old_rows = filtered_rows(core, old, Filters())
    core.import_records([("test", NEWEST)])  # the sync swaps in a new index with one more row
    new = service.ranker
    assert new.index is not old.index and len(new.index.facets.ids) == len(old.index.facets.ids) + 1
    new_rows = filtered_rows(core, new, Filters())
    assert new.index.facets.iris[new_rows[0]].endswith("/cache-nieuw"), "newest year first"
    # A request that took the ranker before the swap finishes with it: its rows index that
    # ranker's index, though the cache now holds the new index's order (an IndexError before).
    assert filtered_rows(core, old, Filters()) == old_rows
    assert max(old_rows) < len(old.index.facets.ids)


def test_the_shared_row_order_cannot_be_changed_by_a_caller(core):
    ranker = core.search().ranker
    filtered_rows(core, ranker, Filters())
    order = core.cached("row order", lambda: pytest.fail("cached"), version=ranker.index)
    with pytest.raises(ValueError):
        order[0] = np.int64(0)


def test_the_server_builds_the_overviews_after_a_start_and_after_each_import(small_dir, tmp_path, monkeypatch):
    """Systeemleren and the reference lists are built once per graph revision; the server builds them
    in the background after it starts and after an import, so no visitor waits for that."""
    import time
    from dataclasses import replace

    from fastapi.testclient import TestClient

    import api.ui.systeemleren as systeemleren_page
    from api.app import create_app
    from api.settings import Settings

    shutil.copytree(small_dir, tmp_path / "data")

    def warmed(core) -> bool:
        revision = core.kg.revision()
        keys = [("reference", "voorzieningen"), "year bounds"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            entries = [core._cache.get(key) for key in keys]
            if all(entry is not None and entry[0] == revision for entry in entries):
                return True
            time.sleep(0.05)
        return False

    with TestClient(create_app(replace(Settings(), data_dir=tmp_path / "data", warm_overviews=True))) as client:
        core = client.app.state.maatwerk
        assert warmed(core), "not built after the start"
        core.import_records(iter([("nieuw", NEWEST)]))
        assert warmed(core), "not built after the import"
        with monkeypatch.context() as patched:  # the page is answered from what was built: nothing is drawn
            patched.setattr(systeemleren_page, "draw", lambda *a, **k: pytest.fail("drawn on the first view"))
            assert client.get("/systeemleren").status_code == 200
            assert any(row["label"] for row in client.get("/api/voorzieningen").json())
