"""The base segment's facets as memory-mapped columns (search/facets.py): same values as the lists they
replace, older bases' facets.json converted once and safely, searches unchanged by the conversion."""

from __future__ import annotations

import json
import random
from types import SimpleNamespace

import numpy as np
import pytest

import search.facets as facets_module
from search.engine import Filters, Ranker
from search.facets import FACETS_DIR, LEGACY_FACETS, Facets, FacetTable, JointFacets
from search.index import SearchIndex
from tests.test_segments import ENCODER, QUERIES, built, doc, ranked


def sample_facets(n: int, seed: int = 0) -> Facets:
    """Rows with every kind of value: non-ASCII text, missing status and year, empty and shared lists."""
    rng = random.Random(seed)
    facets = Facets()
    for r in range(n):
        facets.ids.append(f"c{r}-{'é' * (r % 3)}")
        facets.iris.append(f"https://w3id.org/maatwerk/id/casus/c{rng.randrange(10**6)}-{r}")
        facets.stamps.append(f"s{rng.randrange(99)}")
        facets.status.append(rng.choice([None, "opgelost", "lopend", "afgewezen"]))
        facets.year.append(rng.choice([None, 2019, 2023, 2024]))
        facets.concepts.append(sorted({f"k:{rng.randrange(9)}" for _ in range(rng.randrange(4))}))
        facets.knelpunttypen.append(sorted({f"k:{rng.randrange(3, 12)}" for _ in range(rng.randrange(3))}))
        facets.alive.append(rng.random() > 0.2)
    return facets


def as_lists(table) -> dict[str, list]:
    names = ("ids", "iris", "stamps", "status", "year", "concepts", "knelpunttypen")
    return {name: list(getattr(table, name)) for name in names} | {"alive": [bool(a) for a in table.alive]}


def test_columns_hold_the_lists_values_through_save_take_and_concatenation(tmp_path, monkeypatch):
    monkeypatch.setattr(facets_module, "GATHER_ROWS", 7)  # rows gathered in several slices
    lists = sample_facets(300)
    table = FacetTable.of(lists)
    assert as_lists(table) == lists.__dict__
    table.save(tmp_path / "f")
    loaded = FacetTable.load(tmp_path / "f")
    assert isinstance(loaded.iris.blob, np.memmap) and as_lists(loaded) == lists.__dict__
    assert [loaded.concepts[r] for r in (0, 7, 299)] == [lists.concepts[r] for r in (0, 7, 299)]
    picked = [299, 3, 3, 120, 0, *range(50, 80)]
    assert as_lists(loaded.take(np.asarray(picked))) == lists.rows(picked).__dict__
    assert as_lists(loaded.take(np.zeros(0, dtype=np.int64))) == Facets().__dict__
    other = sample_facets(50, seed=1)  # other vocabularies: codes renumbered on concatenation
    assert as_lists(loaded + FacetTable.of(other)) == (lists + other).__dict__


def test_a_row_is_found_by_iri_and_the_filters_match_the_lists(tmp_path):
    lists = sample_facets(200)
    lists.iris[150] = lists.iris[40]  # a FORMAT 2 base could keep a dead row beside the alive one
    FacetTable.of(lists).save(tmp_path / "f")
    table = FacetTable.load(tmp_path / "f")
    for row in (0, 99, 199):
        assert table.rows_of(lists.iris[row]) == [row]
    assert table.rows_of(lists.iris[40]) == [40, 150] and table.rows_of("https://elders") == []
    extra = sample_facets(20, seed=2)
    joint = JointFacets(table, extra, np.ones(220, dtype=bool))
    statuses, years = lists.status + extra.status, lists.year + extra.year
    assert joint.status_in(["opgelost", "lopend"]).tolist() == [s in ("opgelost", "lopend") for s in statuses]
    assert joint.year_between(2020, 2024).tolist() == [y is not None and 2020 <= y <= 2024 for y in years]
    assert list(joint.ids) == lists.ids + extra.ids and joint.concepts[210] == extra.concepts[10]


def test_concept_rows_of_the_columns_equal_gathering_them_from_the_lists():
    lists = sample_facets(500)
    expected: dict[str, list[int]] = {}
    for row, (concepts, types) in enumerate(zip(lists.concepts, lists.knelpunttypen), 10):
        for concept in (*concepts, *types):
            expected.setdefault(concept, []).append(row)
    got = FacetTable.of(lists).concept_rows(first_row=10)
    assert {c: rows.tolist() for c, rows in got.items()} == expected


def old_layout(index: SearchIndex, directory) -> None:
    """Save the index, then make its base look as bases were written before the columns: facets.json."""
    index.save(directory)
    base_dir = directory / index.base.name
    table = FacetTable.load(base_dir / FACETS_DIR)
    (base_dir / LEGACY_FACETS).write_text(json.dumps(as_lists(table)))
    for path in (base_dir / FACETS_DIR).iterdir():
        path.unlink()
    (base_dir / FACETS_DIR).rmdir()


FILTERS = [None, {"status": ["opgelost"]}, {"year_from": 2022}]


def ranked_filtered(index: SearchIndex, query: str, filters: dict | None) -> list[tuple[str, float]]:
    """As `ranked`, with a status or year filter (what the facet columns answer)."""
    no_concepts = SimpleNamespace(labels_of=lambda iri: [])  # the synthetic cases link no concepts
    ranker = Ranker(index, no_concepts)  # type: ignore[arg-type]
    ranking = ranker.rank(query, 10, Filters(**(filters or {})), mode="hybrid", query_concepts=[])
    return [(index.facets.ids[h.row], h.score) for h in ranking.hits]


def with_status(n: int, version: int = 0):
    d = doc(n, version)
    d.status = ["opgelost", "lopend", None][n % 3]
    return d


def test_a_base_with_facets_json_is_converted_once_and_searches_the_same(tmp_path, monkeypatch):
    index = built([with_status(n) for n in range(50)])
    index.add([with_status(50), with_status(4, version=1)])
    index.remove([doc(9).iri])
    directory = tmp_path / "index"
    old_layout(index, directory)
    base_dir = directory / index.base.name
    before = {(q, str(f)): ranked_filtered(index, q, f) for q in QUERIES for f in FILTERS}

    converted = SearchIndex.load(directory, ENCODER)
    assert converted is not None and (base_dir / FACETS_DIR / "iri_order.npy").exists()
    assert (base_dir / LEGACY_FACETS).exists(), "kept: code from before the columns still reads this base"
    assert converted.row_of(doc(4).iri) == 51 and converted.row_of(doc(9).iri) is None
    assert converted.row_of(doc(8).iri) == 8 and converted.alive_stamps() == index.alive_stamps()
    after = {(q, str(f)): ranked_filtered(converted, q, f) for q in QUERIES for f in FILTERS}
    assert after == before and any(after.values())
    for query in QUERIES:
        assert ranked(converted, query, "hybrid") == ranked(index, query, "hybrid")

    monkeypatch.setattr(facets_module, "table_from_json", lambda *a: pytest.fail("converted twice"))
    again = SearchIndex.load(directory, ENCODER)
    assert again is not None and again.alive_stamps() == index.alive_stamps()


def test_a_crash_while_converting_leaves_the_old_facets_and_the_next_open_converts(tmp_path, monkeypatch):
    index = built([with_status(n) for n in range(30)])
    directory = tmp_path / "index"
    old_layout(index, directory)
    base_dir = directory / index.base.name

    class Killed(Exception):
        pass

    def crash(name: str) -> None:
        if name == "facets-converted":
            raise Killed(name)

    monkeypatch.setattr(facets_module, "_crash_point", crash)
    with pytest.raises(Killed):
        SearchIndex.load(directory, ENCODER)
    assert (base_dir / (FACETS_DIR + ".tmp")).is_dir() and not (base_dir / FACETS_DIR).exists()
    monkeypatch.undo()
    reopened = SearchIndex.load(directory, ENCODER)
    assert reopened is not None and reopened.alive_stamps() == index.alive_stamps()
    assert (base_dir / FACETS_DIR).is_dir() and not (base_dir / (FACETS_DIR + ".tmp")).exists()
    for query in QUERIES:
        assert ranked(reopened, query, "hybrid") == ranked(index, query, "hybrid")


def test_a_merge_writes_columns_and_no_facets_json(tmp_path):
    index = built([with_status(n) for n in range(30)])
    index.add([with_status(30), with_status(2, version=1)])
    index.remove([doc(5).iri])
    merged = index.merged()
    assert list(merged.facets.ids) == [i for r, i in enumerate(index.facets.ids) if index.facets.alive[r]]
    merged.save(tmp_path / "index")
    base_dir = tmp_path / "index" / merged.base.name
    assert (base_dir / FACETS_DIR).is_dir() and not (base_dir / LEGACY_FACETS).exists()
    loaded = SearchIndex.load(tmp_path / "index", ENCODER)
    assert loaded is not None and as_lists(loaded.base.facets) == as_lists(merged.base.facets)


def test_the_case_list_order_is_newest_year_first_then_id():
    from api.routes.cases import _row_order

    index = built([with_status(n) for n in range(30)])
    late = with_status(31)
    late.year = None
    index.add([late, with_status(3, version=1)])
    f = index.facets
    expected = sorted(range(len(f)), key=lambda r: (-(f.year[r] or 0), f.ids[r]))
    assert _row_order(index).tolist() == expected


def test_a_base_whose_columns_cannot_be_written_is_read_from_facets_json(tmp_path, monkeypatch):
    """A full disk or a read-only data dir: the index opens from facets.json (no rebuild) and converts later."""
    index = built([with_status(n) for n in range(30)])
    directory = tmp_path / "index"
    old_layout(index, directory)

    def full(*args) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(facets_module, "write_converted", full)
    opened = SearchIndex.load(directory, ENCODER)
    assert opened is not None and opened.alive_stamps() == index.alive_stamps()
    assert not (directory / index.base.name / FACETS_DIR).exists()
    for query in QUERIES:
        assert ranked(opened, query, "hybrid") == ranked(index, query, "hybrid")
    monkeypatch.undo()
    assert SearchIndex.load(directory, ENCODER) is not None and (directory / index.base.name / FACETS_DIR).is_dir()
