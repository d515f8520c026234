"""The segmented search index (search/index.py): a base, an append segment, a dead set, a manifest.

Unit tests on `SearchIndex` with synthetic cases and the hashing test encoder (exact dense search
in both segments), plus one test through the service: searches answer during a background merge.
"""

from __future__ import annotations

import json
import random
import shutil
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import bm25s
import numpy as np
import pytest

import search.index as index_module
from graph.cases import CaseDoc
from search.encoders import get_encoder
from search.engine import Ranker
from search.index import BM25_B, BM25_K1, MANIFEST, SearchIndex, lucene_idf
from tests.conftest import open_core

ENCODER = get_encoder("hash:256")
WORDS = [
    "rolstoel",
    "woning",
    "gemeente",
    "uwv",
    "toeslag",
    "schulden",
    "beslag",
    "huur",
    "dakloos",
    "briefadres",
    "zorg",
    "wmo",
    "jeugd",
    "school",
    "inkomen",
    "bijstand",
    "werk",
    "re-integratie",
    "vervoer",
    "taxi",
    "mantelzorg",
    "pgb",
    "indicatie",
    "bezwaar",
    "termijn",
]
QUERIES = ["rolstoel en vervoer", "schulden beslag toeslag", "briefadres dakloos gemeente", "pgb mantelzorg zorg"]


def doc(n: int, version: int = 0, seed: int = 0) -> CaseDoc:
    rng = random.Random(n * 1000 + version + seed)
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 40)))
    return CaseDoc(
        id=f"c{n}",
        iri=f"https://w3id.org/maatwerk/id/casus/c{n}",
        title=" ".join(rng.sample(WORDS, 3)),
        situation=f"{text}. {' '.join(rng.sample(WORDS, 5))}.",
        solution=" ".join(rng.sample(WORDS, 4)),
        stamp=f"v{version}",
        year=2020 + n % 5,
    )


def built(docs: list[CaseDoc]) -> SearchIndex:
    """A from-scratch index: every case in one base segment."""
    index = SearchIndex(ENCODER)
    index.add(docs)
    return index.merged()


def ranked(index: SearchIndex, query: str, mode: str) -> list[tuple[str, float]]:
    no_concepts = SimpleNamespace(labels_of=lambda iri: [])  # the synthetic cases link no concepts
    ranking = Ranker(index, no_concepts).rank(query, 10, mode=mode, query_concepts=[])  # type: ignore[arg-type]
    return [(index.facets.ids[h.row], h.score) for h in ranking.hits]


def assert_same(ours: list[tuple[str, float]], theirs: list[tuple[str, float]], abs: float = 1e-6) -> None:
    assert [i for i, _ in ours] == [i for i, _ in theirs]
    assert [score for _, score in ours] == pytest.approx([score for _, score in theirs], abs=abs)


def mixed_sequence() -> tuple[SearchIndex, list[CaseDoc]]:
    """A base of 60 cases, then imports, replacements (of base and append rows) and deletions."""
    current = {n: doc(n) for n in range(60)}
    index = built(list(current.values()))
    for step in range(3):
        new = [doc(n) for n in range(60 + 5 * step, 65 + 5 * step)]
        replaced = [doc(n, version=step + 1) for n in (step, 10 + step, 60 + 5 * (step - 1) if step else 30)]
        index.add(new + replaced)
        gone = [f"https://w3id.org/maatwerk/id/casus/c{20 + step}"]
        index.remove(gone)
        current.update({int(d.id[1:]): d for d in new + replaced})
        current.pop(20 + step)
    return index, list(current.values())


# --- where changes land ---------------------------------------------------------------------


def test_additions_replacements_and_deletions_land_in_the_right_segment():
    index = built([doc(n) for n in range(10)])
    assert index.base.rows == 10 and index.extra.rows == 0
    index.add([doc(10), doc(3, version=1)])  # one new, one replacing a base row
    assert index.base.rows == 10 and index.extra.facets.ids == ["c10", "c3"]
    assert index.dead_base_rows.tolist() == [3] and index.row_of(doc(3).iri) == 11
    index.add([doc(10, version=1)])  # replacing an append row drops it from the append segment
    assert index.extra.facets.ids == ["c3", "c10"] and index.extra.facets.stamps == ["v1", "v1"]
    index.remove([doc(5).iri, doc(3).iri])  # a base row dies; an append row leaves
    assert index.dead_base_rows.tolist() == [3, 5] and index.extra.facets.ids == ["c10"]
    assert index.alive_count == 9 and len(index) == 11
    assert sorted(index.alive_stamps()) == sorted(doc(n).iri for n in (0, 1, 2, 4, 6, 7, 8, 9, 10))
    # the joint row space: a case's passages and its vectors are where the row offsets say
    row = index.row_of(doc(10).iri)
    a, b = index.row_offsets[row], index.row_offsets[row + 1]
    assert np.all(index.passage_row[a:b] == row)
    assert np.allclose(index.vectors[a:b], index.extra.vectors)


def test_rankings_match_a_from_scratch_index_before_and_after_a_merge():
    index, current = mixed_sequence()
    scratch = built(current)
    assert index.extra.rows and len(index.dead_base_rows)
    for query in QUERIES:
        # dense search is exact in both segments: the same cases in the same order, the same scores
        assert_same(ranked(index, query, "dense"), ranked(scratch, query, "dense"))
        # BM25 before the merge: the base's dead rows still count in N and df and the length norm
        # is the base's; on 60-75 cases that moves scores by a few per cent (measured: at most 2.1 %)
        ours, theirs = dict(ranked(index, query, "lexical")), dict(ranked(scratch, query, "lexical"))
        for case_id in ours.keys() & theirs.keys():
            assert ours[case_id] == pytest.approx(theirs[case_id], rel=0.05)
        assert len(ours.keys() & theirs.keys()) >= 8
    merged = index.merged()
    assert merged.extra.rows == 0 and not len(merged.dead_base_rows) and merged.base.rows == len(current)
    for query in QUERIES:
        for mode in ("dense", "lexical", "hybrid"):
            assert_same(ranked(merged, query, mode), ranked(scratch, query, mode), abs=1e-5)


def test_a_case_scores_the_same_in_the_base_and_in_the_append_segment():
    """Same collection, case c7 either in the base or in the append segment.

    N and df are the same in both (idf applied at query time over both segments); only the
    average length differs (the base's, without c7, in the second). The tf part of BM25,
    tf / (tf + k1 (1 - b + b dl/avgdl)), changes relatively by at most the relative change of
    avgdl, so that is the tolerance.
    """
    docs = [doc(n, seed=3) for n in range(40)]
    all_in_base = built(docs)
    split = built(docs[:7] + docs[8:])
    split.add([docs[7]])
    assert split.extra.facets.ids == ["c7"]
    drift = abs(all_in_base.base.avgdl - split.base.avgdl) / split.base.avgdl
    for query in QUERIES:
        terms = [t for t in dict.fromkeys(index_module.analyse(query)) if all_in_base.has_term(t)]
        a = all_in_base.lexical_scores(terms)[all_in_base.row_of(docs[7].iri)]
        b = split.lexical_scores(terms)[split.row_of(docs[7].iri)]
        assert b == pytest.approx(a, rel=drift * 1.01 + 1e-6)
        assert all(split.idf(t) == pytest.approx(all_in_base.idf(t)) for t in terms)


def test_append_scores_follow_the_bm25s_lucene_formula():
    index = built([doc(n) for n in range(20)])
    extra = doc(20)
    index.add([extra])
    tokens = index.extra.tokens[0]
    term = tokens[0]
    tf = tokens.count(term)
    n = index.base.n_docs + 1
    base_tokens = index.base.read_tokens()
    df = sum(term in base_tokens.row(r) for r in range(base_tokens.rows)) + 1
    expected = lucene_idf(df, n) * tf / (tf + BM25_K1 * (1 - BM25_B + BM25_B * len(tokens) / index.base.avgdl))
    assert index.lexical_scores([term])[20] == pytest.approx(expected, rel=1e-5)


def test_the_terms_a_row_contains_are_those_it_scores_on_in_either_segment():
    """Ranking.explained reads which question terms the best case contains without scoring every row."""
    index = built([doc(n) for n in range(20)])
    index.add([doc(20), doc(21)])
    terms = [*WORDS, "onbekendwoord"]
    for row in (0, 7, 20, 21):  # base rows and append rows
        scored = [t for t in terms if index.has_term(t) and index.lexical_scores([t])[row] > 0]
        assert index.terms_in_row(terms, row) == scored
    assert index.terms_in_row(terms, 20) != index.terms_in_row(terms, 0), "rows differ, so the test can fail"


# --- merging ----------------------------------------------------------------------------------


def test_merge_thresholds(monkeypatch):
    monkeypatch.setattr(index_module, "MERGE_APPEND_MIN", 2)
    index = built([doc(n) for n in range(100)])
    index.add([doc(n) for n in range(100, 105)])  # 5 % of the base: not yet
    assert not index.merge_due()
    index.add([doc(105)])
    assert index.merge_due() and not index.merge_urgent()
    index = index.merged()
    index.remove([doc(n).iri for n in range(10)])  # 10 of 106 dead: under 10 %
    assert not index.merge_due()
    index.remove([doc(10).iri, doc(11).iri])
    assert index.merge_due()
    monkeypatch.setattr(index_module, "MERGE_APPEND_MAX", 3)
    index.add([doc(n, version=1) for n in range(4)])
    assert index.merge_urgent()


# --- on disk -----------------------------------------------------------------------------------


def test_save_and_load_keep_both_segments_and_the_dead_set(tmp_path):
    index, _ = mixed_sequence()
    index.revision = "r1"
    index.save(tmp_path / "index")
    loaded = SearchIndex.load(tmp_path / "index", ENCODER)
    assert loaded is not None and loaded.revision == "r1"
    assert loaded.alive_stamps() == index.alive_stamps()
    assert loaded.dead_base_rows.tolist() == index.dead_base_rows.tolist()
    for query in QUERIES:
        assert_same(ranked(loaded, query, "hybrid"), ranked(index, query, "hybrid"))
    # a second sync rewrites the append segment and the dead set, never the base
    base_files = {p: p.stat().st_mtime_ns for p in (tmp_path / "index" / loaded.base.name).rglob("*")}
    loaded.add([doc(200)])
    loaded.save(tmp_path / "index")
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "index" / loaded.base.name).rglob("*")} == base_files
    names = sorted(p.name for p in (tmp_path / "index").iterdir())
    manifest = json.loads((tmp_path / "index" / MANIFEST).read_text())
    assert names == sorted([MANIFEST, manifest["base"], manifest["append"], manifest["dead"]])


def test_an_index_rebuilt_for_another_encoder_saves_beside_the_old_files(tmp_path):
    """A new encoder means a new index from generation 0, next to the old index's numbered files."""
    directory = tmp_path / "index"
    old = built([doc(n) for n in range(10)])
    old.add([doc(n) for n in range(10, 13)])
    old.remove([doc(0).iri])
    old.save(directory)
    assert (directory / "append-1").exists() and (directory / "dead-1.npy").exists()
    other = SearchIndex(get_encoder("hash:128"))
    other.add([doc(n) for n in range(5)])
    other.save(directory)
    assert SearchIndex.load(directory, ENCODER) is None
    reloaded = SearchIndex.load(directory, get_encoder("hash:128"))
    assert reloaded is not None and reloaded.alive_count == 5
    assert not (directory / "append-1").exists() and not (directory / "dead-1.npy").exists()


@pytest.mark.parametrize("point", ["index-segments-written", "index-manifest-written"])
def test_a_crash_while_saving_leaves_a_readable_index(tmp_path, monkeypatch, point):
    """A crash after the new segment files are written but before (or right after) the manifest."""
    directory = tmp_path / "index"
    index = built([doc(n) for n in range(30)])
    index.revision = "before"
    index.save(directory)

    class Killed(Exception):
        pass

    def crash(name: str) -> None:
        if name == point:
            raise Killed(name)

    changed = SearchIndex.load(directory, ENCODER)
    changed.add([doc(30), doc(4, version=1)])
    changed.remove([doc(5).iri])
    changed.revision = "after"
    monkeypatch.setattr(index_module, "_crash_point", crash)
    with pytest.raises(Killed):
        changed.save(directory)
    monkeypatch.undo()
    reopened = SearchIndex.load(directory, ENCODER)
    assert reopened is not None
    expected = changed if point == "index-manifest-written" else index
    assert reopened.revision == expected.revision and reopened.alive_stamps() == expected.alive_stamps()
    # the next save and load leave only what the manifest names
    reopened.add([doc(31)])
    reopened.save(directory)
    SearchIndex.load(directory, ENCODER)
    manifest = json.loads((directory / MANIFEST).read_text())
    named = {MANIFEST, *(manifest[k] for k in ("base", "append", "dead") if manifest[k])}
    assert {p.name for p in directory.iterdir()} == named


def test_an_index_in_the_format_2_layout_loads_as_a_base_without_re_encoding(tmp_path, monkeypatch):
    """FORMAT 2 kept every file in the index directory with meta.json and idf.json, and no stats."""
    docs = [doc(n) for n in range(30)]
    legacy = built(docs)
    legacy.remove([docs[4].iri])  # FORMAT 2 also kept dead rows: alive false, tokens emptied
    directory = tmp_path / "index"
    legacy.base.facets.alive[4] = False
    tokens = legacy.base.read_tokens()
    legacy.base.save(tmp_path / "written")
    write_as_token_lists(tmp_path / "written", [tokens.row(r) if r != 4 else [] for r in range(tokens.rows)])
    (tmp_path / "written" / "stats.json").unlink()
    shutil.move(tmp_path / "written", directory)
    (directory / "idf.json").write_text("{}")
    meta = {"format": 2, "encoder": ENCODER.id, "dim": ENCODER.dim, "revision": "r9", "rows": 30, "alive": 29}
    (directory / "meta.json").write_text(json.dumps(meta))

    monkeypatch.setattr(ENCODER, "encode_bulk", lambda *a, **k: pytest.fail("re-encoded"))
    loaded = SearchIndex.load(directory, ENCODER)
    assert loaded is not None and loaded.revision == "r9" and loaded.base.name == "."
    assert loaded.alive_count == 29 and loaded.dead_base_rows.tolist() == [4]
    for query in QUERIES:
        assert_same(ranked(loaded, query, "hybrid"), ranked(legacy, query, "hybrid"), abs=1e-5)
    loaded.revision = "r10"
    loaded.save(directory)  # the manifest names the legacy files as the base: none is rewritten or removed
    assert json.loads((directory / MANIFEST).read_text())["base"] == "."
    assert (directory / "vectors.npy").exists() and (directory / "bm25").is_dir()
    again = SearchIndex.load(directory, ENCODER)
    assert again is not None and again.revision == "r10" and again.base.name == "."
    merged = again.merged()  # the first merge moves the base out of the legacy files, which then go
    merged.save(directory)
    assert not (directory / "vectors.npy").exists() and not (directory / "meta.json").exists()
    reloaded = SearchIndex.load(directory, ENCODER)
    assert reloaded is not None and reloaded.alive_stamps() == loaded.alive_stamps()


def write_as_token_lists(base_dir: Path, rows: list[list[str]]) -> None:
    """A base's tokens as FORMAT 2 and the first FORMAT 3 bases kept them: tokens.json, lists of strings."""
    for name in (index_module.TOKEN_IDS, index_module.TOKEN_OFFSETS, index_module.TOKEN_VOCAB):
        (base_dir / name).unlink()
    (base_dir / "tokens.json").write_text(json.dumps(rows))


def test_a_base_built_in_its_directory_has_the_same_vectors_memory_mapped(tmp_path, monkeypatch):
    """merged(directory=...) gathers the vectors and token ids into the new base's own files a slice at
    a time: the same base as one built in memory, its arrays memory-mapped."""
    monkeypatch.setattr(index_module, "GATHER_ROWS", 7)  # many slices, and rows split across them
    monkeypatch.setattr(index_module, "TOKEN_CHUNK", 50)
    index, _ = mixed_sequence()
    in_memory = index.merged()
    directory = tmp_path / "index"
    on_disk = index.merged(directory=directory)
    staged = on_disk.base.staged
    assert staged is not None and staged.parent == directory
    assert isinstance(on_disk.base.vectors, np.memmap) and not on_disk.base.vectors.flags.writeable
    assert np.array_equal(np.asarray(on_disk.base.vectors), in_memory.base.vectors)
    assert isinstance(on_disk.base.read_tokens().ids, np.memmap)
    assert [on_disk.base.read_tokens().row(r) for r in range(on_disk.base.rows)] == [
        in_memory.base.read_tokens().row(r) for r in range(in_memory.base.rows)
    ]
    on_disk.save(directory)
    assert json.loads((directory / MANIFEST).read_text())["base"] == staged.name  # saved where it was built
    reloaded = SearchIndex.load(directory, ENCODER)
    assert reloaded is not None
    for query in QUERIES:
        for mode in ("hybrid", "lexical", "dense"):
            assert_same(ranked(reloaded, query, mode), ranked(in_memory, query, mode), abs=1e-5)


def test_many_new_cases_are_encoded_straight_into_a_new_base(tmp_path, monkeypatch):
    """merged(adding=...), what a sync does with more new cases than an append segment holds: the same
    index as appending them and merging, encoded ENCODE_ROWS cases at a time (never all vectors at once)."""
    monkeypatch.setattr(index_module, "ENCODE_ROWS", 7)
    index, _ = mixed_sequence()
    new = [doc(n, seed=5) for n in range(100, 130)] + [doc(3, version=9), doc(61, version=9)]  # base, append
    appended = index.copy()
    appended.add(new)
    expected = appended.merged()
    calls: list[int] = []
    encode_bulk = ENCODER.encode_bulk
    monkeypatch.setattr(
        ENCODER, "encode_bulk", lambda texts, progress=None: (calls.append(len(texts)), encode_bulk(texts, progress))[1]
    )
    progress: list[int] = []
    bulk = index.copy()
    bulk.remove(d.iri for d in new)
    bulk = bulk.merged(directory=tmp_path / "index", adding=new, progress=progress.append)
    assert len(calls) == 5 and sum(progress) == len(new)  # 32 cases, 7 at a time
    assert bulk.extra.rows == 0 and bulk.facets.ids == expected.facets.ids
    assert np.array_equal(np.asarray(bulk.base.vectors), expected.base.vectors)
    for query in QUERIES:
        for mode in ("dense", "lexical", "hybrid"):
            assert_same(ranked(bulk, query, mode), ranked(expected, query, mode), abs=1e-5)


def test_an_import_larger_than_an_append_segment_builds_the_base_in_its_sync(small_dir, tmp_path, monkeypatch):
    import search.service as service_module

    monkeypatch.setattr(service_module, "MERGE_APPEND_MAX", 3)
    shutil.copytree(small_dir, tmp_path / "d")
    records = [
        json.loads(line) for line in (Path(__file__).parent / "data" / "cases_small.jsonl").read_text().splitlines()
    ]
    many = tmp_path / "many.jsonl"
    many.write_text(
        "".join(json.dumps({**r, "id": f"t-bulk-{n}"}, ensure_ascii=False) + "\n" for n, r in enumerate(records))
    )
    core = open_core(tmp_path / "d")
    try:
        before = core.search().index.alive_count
        monkeypatch.setattr(SearchIndex, "add", lambda *a, **k: pytest.fail("added to the append segment"))
        core.import_file(many)
        index = core.search().index
        assert index.extra.rows == 0 and index.base.rows == index.alive_count == before + len(records)
        top = core.search().search(records[0]["situation"], k=3)["results"][0]
        assert top["id"] in {records[0]["id"], "t-bulk-0"}
    finally:
        core.close()


def test_a_failed_build_leaves_no_files(tmp_path, monkeypatch):
    index, _ = mixed_sequence()
    monkeypatch.setattr(index_module, "_bm25_index", lambda tokens: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        index.merged(directory=tmp_path / "index")
    assert list((tmp_path / "index").iterdir()) == []


def test_bm25_from_token_ids_scores_as_bm25s_from_token_lists(monkeypatch, tmp_path):
    """Our matrix, saved in bm25s's layout and read by bm25s, scores as bm25s's own index; and a matrix
    bm25s saved (every base before Bm25Matrix) reads back unchanged."""
    monkeypatch.setattr(index_module, "TOKEN_CHUNK", 40)  # several slices of rows
    rows = [index_module.analyse(d.situation) for d in (doc(n) for n in range(40))]
    rows[5] = []  # an empty document counts as one empty token in both
    reference = bm25s.BM25(k1=BM25_K1, b=BM25_B, method="lucene")
    reference.index([t or [""] for t in rows], show_progress=False)
    matrix, avgdl = index_module._bm25_index(index_module.Tokens.from_lists(rows))
    assert avgdl == pytest.approx(np.mean([len(t) or 1 for t in rows]))
    terms = sorted({t for tokens in rows for t in tokens})
    assert sorted(matrix.vocab_dict) == terms
    matrix.save(tmp_path / "ours")
    ours = bm25s.BM25.load(tmp_path / "ours", show_progress=False)
    for term in terms:
        assert ours.get_scores([term]) == pytest.approx(reference.get_scores([term]), rel=1e-5)
    assert ours.get_scores(terms[:4]) == pytest.approx(reference.get_scores(terms[:4]), rel=1e-5)
    reference.save(tmp_path / "theirs", show_progress=False)
    theirs = index_module.Bm25Matrix.load(tmp_path / "theirs")
    assert theirs.vocab_dict == reference.vocab_dict and theirs.scores["num_docs"] == 40
    for name in theirs.ARRAYS:
        assert np.array_equal(theirs.scores[name], reference.scores[name])


def test_a_base_with_token_lists_on_disk_loads_and_merges(tmp_path):
    """Bases saved before the compact tokens keep tokens.json: read as they are, converted at the merge."""
    index, _ = mixed_sequence()
    index = index.merged()
    directory = tmp_path / "index"
    index.save(directory)
    tokens = index.base.read_tokens()
    write_as_token_lists(directory / index.base.name, [tokens.row(r) for r in range(tokens.rows)])
    old = SearchIndex.load(directory, ENCODER)
    assert old is not None
    old.add([doc(200), doc(3, version=9)])
    expected = old.merged()
    merged = old.merged(directory=directory)
    merged.save(directory)
    base_dir = directory / merged.base.name
    assert (base_dir / index_module.TOKEN_IDS).exists() and not (base_dir / "tokens.json").exists()
    assert not (directory / index.base.name).exists()
    reloaded = SearchIndex.load(directory, ENCODER)
    assert reloaded is not None
    for query in QUERIES:
        assert_same(ranked(reloaded, query, "hybrid"), ranked(expected, query, "hybrid"), abs=1e-5)
        assert_same(ranked(reloaded, query, "lexical"), ranked(old, query, "lexical"), abs=1e-3)


# --- the service: merging in the background ---------------------------------------------------


def test_searches_keep_answering_during_a_background_merge(small_dir, tmp_path, monkeypatch):
    shutil.copytree(small_dir, tmp_path / "d")
    monkeypatch.setattr(index_module, "MERGE_APPEND_MIN", 0)
    monkeypatch.setattr(index_module, "MERGE_APPEND_SHARE", 0.0)
    started, release = threading.Event(), threading.Event()
    real_merged = SearchIndex.merged

    def slow_merged(self, *args, **kwargs):
        started.set()
        assert release.wait(30)
        return real_merged(self, *args, **kwargs)

    monkeypatch.setattr(SearchIndex, "merged", slow_merged)
    core = open_core(tmp_path / "d")
    core.background_merges = True
    try:
        service = core.search()  # the small corpus sits in the append segment: a merge is due
        assert started.wait(30), "no background merge started"
        before = service.index
        answers = [service.search("rolstoel") for _ in range(5)]
        assert all(a["results"] for a in answers) and service.index is before  # answered by the old index
        release.set()
        service.wait_for_merge(60)
        merged = service.index
        assert merged is not before and merged.extra.rows == 0 and merged.base.rows == before.alive_count
        assert [r["id"] for r in service.search("rolstoel")["results"]] == [r["id"] for r in answers[0]["results"]]
    finally:
        release.set()
        core.close()
    reopened = SearchIndex.load(tmp_path / "d" / "index", ENCODER)
    assert reopened is not None and reopened.base.rows == merged.base.rows and reopened.extra.rows == 0


def test_a_sync_during_a_background_merge_is_carried_over(small_dir, tmp_path, monkeypatch):
    shutil.copytree(small_dir, tmp_path / "d")
    monkeypatch.setattr(index_module, "MERGE_APPEND_MIN", 0)
    monkeypatch.setattr(index_module, "MERGE_APPEND_SHARE", 0.0)
    release = threading.Event()
    real_merged = SearchIndex.merged
    monkeypatch.setattr(SearchIndex, "merged", lambda self, **kw: (release.wait(30), real_merged(self, **kw))[1])
    core = open_core(tmp_path / "d")
    core.background_merges = True
    try:
        service = core.search()
        drop = "https://w3id.org/maatwerk/id/casus/t-dakloos"
        core.kg.commit([], drop_graphs=[drop])
        service.sync()  # lands while the merge of the earlier snapshot still runs
        assert service.index.row_of(drop) is None
        release.set()
        deadline = time.monotonic() + 60
        while service.index.base.rows == 0 and time.monotonic() < deadline:
            service.wait_for_merge(1)
        assert service.index.base.rows > 0 and service.index.row_of(drop) is None
        assert "t-dakloos" not in [r["id"] for r in service.search("briefadres dakloos")["results"]]
    finally:
        release.set()
        core.close()


# --- black box: an import killed while it saves the index --------------------------------------


@pytest.mark.parametrize("point", ["index-segments-written", "index-manifest-written"])
def test_an_import_killed_while_saving_the_index_is_caught_up_on_the_next_start(tmp_path, point):
    """SIGKILL after the new segment files are written, before and after the manifest names them."""
    import signal

    from tests.test_crash import ImportProcess, generate, indexed, init, maatwerk, split

    data_dir = tmp_path / "data"
    init(data_dir)
    a, b = split(generate(tmp_path / "all.jsonl", 6, seed=43), (3, 3), tmp_path, ("a", "b"))
    assert maatwerk("import-cases", str(tmp_path / "a.jsonl"), data_dir=data_dir).returncode == 0
    run = ImportProcess(data_dir, tmp_path / "b.jsonl", tmp_path, point)
    run.process.wait(600)
    assert run.process.returncode == -signal.SIGKILL, run.log.read_text(errors="replace")
    assert all(indexed(data_dir, record["id"]) for record in (a[0], b[0], b[-1]))
    manifest = json.loads((data_dir / "index" / MANIFEST).read_text())
    named = {MANIFEST, *(manifest[k] for k in ("base", "append", "dead") if manifest[k])}
    assert {p.name for p in (data_dir / "index").iterdir()} == named


def test_an_import_syncs_only_its_own_cases_when_the_index_was_in_step(small_dir, tmp_path, monkeypatch):
    """Reading every case's stamp takes seconds at 100k cases: an import whose index reflected the
    graph just before it reads only its own cases' stamps; an index that was behind compares all."""
    import search.service as service_module

    shutil.copytree(small_dir, tmp_path / "d")
    asked: list[list[str] | None] = []
    real_stamps = service_module.case_stamps
    monkeypatch.setattr(
        service_module, "case_stamps", lambda kg, iris=None: (asked.append(iris), real_stamps(kg, iris))[1]
    )
    records = [
        json.loads(line) for line in (Path(__file__).parent / "data" / "cases_small.jsonl").read_text().splitlines()
    ]
    core = open_core(tmp_path / "d")
    try:
        core.search()
        asked.clear()
        first = tmp_path / "first.jsonl"
        first.write_text(json.dumps({**records[0], "id": "t-nieuw-een"}, ensure_ascii=False) + "\n")
        core.import_file(first)
        assert asked == [["https://w3id.org/maatwerk/id/casus/t-nieuw-een"]]
        assert core.search().index.row_of("https://w3id.org/maatwerk/id/casus/t-nieuw-een") is not None
        drop = "https://w3id.org/maatwerk/id/casus/t-dakloos"
        core.kg.commit([], drop_graphs=[drop])  # behind the index's back: it no longer reflects the graph
        second = tmp_path / "second.jsonl"
        second.write_text(json.dumps({**records[1], "id": "t-nieuw-twee"}, ensure_ascii=False) + "\n")
        asked.clear()
        core.import_file(second)
        assert asked == [None] and core.search().index.row_of(drop) is None
    finally:
        core.close()


def test_an_index_analysed_otherwise_is_re_analysed_from_the_graph_without_re_encoding(
    small_dir, tmp_path, monkeypatch
):
    """An upgrade that changes what BM25 sees (here: from plain stems to stems with compound parts)
    re-analyses the texts on the next start; the vectors are kept."""
    from search.text import stems

    shutil.copytree(small_dir, tmp_path / "d")
    shutil.rmtree(tmp_path / "d" / "index")
    with monkeypatch.context() as older:
        older.setattr(index_module, "analyse", stems)
        older.setattr(index_module, "LEXICAL_VERSION", 1)
        core = open_core(tmp_path / "d")
        try:
            assert not core.search().index.has_term("vorder")  # "terugvordering" is one token here
            vectors = np.asarray(core.search().index.vectors[:]).copy()
        finally:
            core.close()
    monkeypatch.setattr(ENCODER, "encode_bulk", lambda *a, **k: pytest.fail("re-encoded"))
    core = open_core(tmp_path / "d")
    try:
        index = core.search().index
        assert index.analysis == index_module.analysis_id() and index.has_term("vorder")
        assert np.array_equal(np.asarray(index.vectors[:]), vectors)
        assert {"t-zorgtoeslag", "t-bijstand-terug"} <= {r["id"] for r in core.search().search("vordering")["results"]}
    finally:
        core.close()
    manifest = json.loads((tmp_path / "d" / "index" / MANIFEST).read_text())
    assert manifest["analysis"] == index_module.analysis_id()


def test_concept_postings_are_saved_with_the_base_and_equal_the_facets(tmp_path):
    """`postings()` (the graph signal's rows per concept) from the rows saved with a base, filtered by the
    dead set and joined with the append segment's, equals gathering them from every alive row's facets."""

    def linked(d: CaseDoc) -> CaseDoc:  # the synthetic cases link no concepts: give them some
        n = int(d.id[1:])
        d.concepts, d.knelpunttypen = {f"c:{n % 3}", f"c:{n % 7}"}, {f"c:{n % 5}"}
        return d

    index = built([linked(doc(n)) for n in range(40)])
    index.add([linked(doc(n)) for n in (40, 41)] + [linked(doc(3, version=1))])
    index.remove([doc(7).iri])
    index.save(tmp_path / "index")
    assert (tmp_path / "index" / index.base.name / index_module.CONCEPT_NAMES).exists()
    loaded = SearchIndex.load(tmp_path / "index", ENCODER)
    assert loaded is not None and loaded.base.concept_rows is not None  # read, not gathered
    expected: dict[str, list[int]] = {}
    for row, (concepts, types) in enumerate(zip(index.facets.concepts, index.facets.knelpunttypen)):
        if index.facets.alive[row]:
            for concept in (*concepts, *types):
                expected.setdefault(concept, []).append(row)
    got = loaded.postings()
    assert {c: rows.tolist() for c, rows in got.items()} == expected and len(expected) == 7
    assert len(expected["c:0"]) > len(index.facets) // 3, "a row linking c:0 twice (as concept and type) counts twice"
