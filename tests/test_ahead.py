"""Encoding ahead (search/ahead.py): a large import's cases are encoded while the rest is checked.

What must hold: the vectors are the ones the index sync would have made after the commit (the same
bits, in the same rows), and a refused import still stores nothing, leaves the index as it was and
leaves no worker process or file behind. Killed imports: tests/test_crash.py.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import api.core as core_module
import search.ahead as ahead_module
import search.encoders as encoders_module
import search.service as service_module
from graph.cases import CaseDoc
from ingest.generate import generate
from ingest.problems import ImportRejected
from search.ahead import CaseEncoder
from search.encoders import EncodePool, HashingEncoder
from search.index import passage_texts
from search.service import SearchService
from tests.conftest import REAL_ENCODER, open_core

N = 60


def docs(n: int) -> list[CaseDoc]:
    """Cases of one to four passages, so that groups end at different places."""
    return [
        CaseDoc(
            f"c{i}",
            f"https://example.org/c{i}",
            f"Titel {i}",
            ". ".join(f"Zin {j} van casus {i}" for j in range(i % 4)),
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("workers", [0, 2])
def test_each_case_gets_its_own_passages_vectors(monkeypatch, workers):
    """Groups of several cases go out and come back in any order: every case still gets the vectors of
    its own texts (the hashing encoder gives a text the same vector in any company)."""
    monkeypatch.setattr(ahead_module, "GROUP_TEXTS", 5)
    encoder = HashingEncoder(64)
    cases = docs(N)
    with CaseEncoder(encoder, workers) as case_encoder:
        for case in cases:
            case_encoder.feed(case)
        done: list[int] = []
        encoded = case_encoder.finish(done.append)
        picked = [cases[7], cases[0], cases[N - 1], cases[30]]
        expected = encoder.encode([t for c in picked for t in passage_texts(c.title, c.situation)])
        assert np.array_equal(encoded.vectors(picked), expected)
        assert all(c.iri in encoded for c in cases) and "https://example.org/other" not in encoded
        assert sum(done) == pytest.approx(N, abs=workers * 10 + 3)  # per group, rounded to cases


def _vectors_and_ids(core) -> tuple[np.ndarray, list[str]]:
    index = core.search().index
    return np.asarray(index.vectors[np.arange(index.row_offsets[-1])]), list(index.facets.ids)


@pytest.mark.parametrize("append_max", [3, 10_000], ids=["into-a-new-base", "into-the-append-segment"])
def test_an_import_encoded_ahead_gets_the_vectors_the_sync_would_make(tmp_path, monkeypatch, append_max):
    """The real encoder, whose vectors depend on the texts encoded with them: the same bits and rows
    whether the cases were encoded while the import checked them or in the sync after the commit."""
    monkeypatch.setattr(ahead_module, "GROUP_TEXTS", 16)
    monkeypatch.setattr(encoders_module, "PARALLEL_MIN_TEXTS", 1)  # the sync uses workers too, as at scale
    monkeypatch.setattr(service_module, "MERGE_APPEND_MAX", append_max)
    records = list(generate(N, seed=5))
    records = records[30:] + records[:30]  # not in id order: the sync sorts its rows by IRI
    path = tmp_path / "cases.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    seen: dict[str, bool] = {}
    encoded = SearchService._encoded

    def spy(case_encoder, docs, known, progress):
        seen[name] = all(d.iri in case_encoder for d in docs)  # fed before the sync started?
        return encoded(case_encoder, docs, known, progress)

    monkeypatch.setattr(SearchService, "_encoded", staticmethod(spy))
    results = {}
    for name, threshold in (("ahead", 10), ("after", 10**9)):
        monkeypatch.setattr(core_module, "AHEAD_MIN_RECORDS", threshold)
        core = open_core(tmp_path / name, REAL_ENCODER)
        core.init(demo=False)
        core.import_file(path)
        results[name] = _vectors_and_ids(core)
        core.close()
    assert seen == {"ahead": True, "after": False}
    (ahead_vectors, ahead_ids), (after_vectors, after_ids) = results["ahead"], results["after"]
    assert ahead_ids == after_ids == sorted(ahead_ids) and len(ahead_ids) == N
    assert ahead_vectors.shape[0] > N and np.array_equal(ahead_vectors, after_vectors)


def test_a_refused_import_encoded_ahead_stores_nothing_and_leaves_no_worker(tmp_path, monkeypatch):
    """The last record is refused after the others went to the encoder workers: nothing is stored, the
    index is as it was, the workers are stopped and the vectors' file is gone."""
    monkeypatch.setattr(core_module, "AHEAD_MIN_RECORDS", 10)
    monkeypatch.setattr(HashingEncoder, "in_workers", True)  # the test encoder, run as the real one is
    monkeypatch.setattr(ahead_module, "GROUP_TEXTS", 8)
    pools: list[EncodePool] = []
    start = EncodePool.__init__

    def recorded(self, *args, **kwargs):
        start(self, *args, **kwargs)
        pools.append(self)

    monkeypatch.setattr(EncodePool, "__init__", recorded)
    core = open_core(tmp_path / "data")
    core.init(demo=False)
    records = list(generate(40, seed=9))
    core.import_records([(f"r{i}", r) for i, r in enumerate(records[:20])], expected=20)
    index_dir = core.settings.index_dir
    before = {p.name: p.read_bytes() for p in index_dir.iterdir() if p.is_file()}
    listing = sorted(p.name for p in core.settings.data_dir.iterdir())
    bad = dict(records[-1], situation=records[-1]["situation"] + " Zijn BSN is 111222333.")
    with pytest.raises(ImportRejected):
        core.import_records([(f"s{i}", r) for i, r in enumerate([*records[20:-1], bad])], expected=20)
    assert len(pools) == 2 and pools[1]._processes  # the refused import had its own workers
    assert all(p.poll() is not None for p in pools[1]._processes)
    assert core.kg.case_count() == 20
    assert {p.name: p.read_bytes() for p in index_dir.iterdir() if p.is_file()} == before
    assert sorted(p.name for p in core.settings.data_dir.iterdir()) == listing
    assert core.search().index.alive_count == 20
    core.close()


def test_a_worker_that_dies_fails_the_encoding_instead_of_hanging(monkeypatch):
    monkeypatch.setattr(ahead_module, "GROUP_TEXTS", 5)
    with CaseEncoder(HashingEncoder(64), workers=2) as case_encoder:
        assert case_encoder._pool is not None
        for process in case_encoder._pool._processes:
            process.kill()
            process.wait()
        for case in docs(N):
            case_encoder.feed(case)
        with pytest.raises(RuntimeError, match="encoder-proces"):
            case_encoder.finish()
