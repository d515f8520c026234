"""The labelled set (search/eval/gold.jsonl) and how search/evaluate.py reads and scores it."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from ontology import DEMO_CASES_FILE
from search.evaluate import GOLD_FILE, HELDOUT_BATCH, SPLITS, GoldQuery, assign_splits, evaluate, load_gold


def lines() -> list[dict]:
    return [json.loads(line) for line in GOLD_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]


def case_ids() -> set[str]:
    return {json.loads(line)["id"] for line in DEMO_CASES_FILE.read_text(encoding="utf-8").splitlines() if line.strip()}


def test_labelled_set_is_large_and_refers_to_real_cases():
    items = lines()
    assert len(items) >= 340
    assert len({item["query"].casefold() for item in items}) == len(items), "duplicate queries"
    known = case_ids()
    assert all(set(item["relevant"]) | set(item["partial"]) <= known for item in items)
    assert {c for item in items for c in item["relevant"]} == known, "a case without any query"
    none = [item for item in items if item["kind"] == "none"]
    assert len(none) >= 40
    assert all(not item["relevant"] and not item["partial"] for item in none)
    assert all(item["relevant"] for item in items if item["kind"] == "precedent")
    assert {item["none_reason"] for item in none} == {"unrelated", "gibberish", "one-word", "absent"}


def test_split_follows_the_documented_rule():
    items = lines()
    assert [item["split"] for item in items] == assign_splits(items)
    assert all(item["split"] == ("heldout" if item["batch"] == HELDOUT_BATCH else "tune") for item in items)
    # The held-out batch is merged after the tuning round that it must not have influenced.
    assert set(range(1, HELDOUT_BATCH)) <= {item["batch"] for item in items} <= set(range(1, HELDOUT_BATCH + 1))


def test_a_studied_held_out_batch_is_tune():
    # Batches 3 to 11 were evaluated and their failures analysed, so they can no longer measure generalisation.
    assert HELDOUT_BATCH == 12
    assert {item["split"] for item in lines() if item["batch"] in range(3, 12)} == {"tune"}
    assert assign_splits([{"query": "a", "relevant": [], "batch": 11}]) == ["tune"]


def test_the_fresh_held_out_batch_is_large_and_varied():
    heldout = [item for item in lines() if item["split"] == "heldout"]
    if not heldout:
        pytest.skip(f"batch {HELDOUT_BATCH} is written blind and merged after the tuning round")
    precedent = [item for item in heldout if item["kind"] == "precedent"]
    none = [item for item in heldout if item["kind"] == "none"]
    # Batch 9 is one line per case (batches 3-8 had two or three): smaller, with a fifth in own words.
    assert len(precedent) >= 200 and len(none) >= 60
    assert sum(item.get("words") == "own" for item in precedent) >= 40
    assert len({c for item in precedent for c in item["relevant"]}) >= 120
    assert {item["style"] for item in precedent} == {"citizen", "professional", "shorthand", "misspelled"}
    assert {item["length"] for item in heldout} == {"very_short", "short", "long", "very_long"}
    assert {item["none_reason"] for item in none} == {"unrelated", "gibberish", "one-word", "absent"}
    tune = {item["query"].casefold() for item in lines() if item["split"] == "tune"}
    assert not tune & {item["query"].casefold() for item in heldout}


def test_lines_without_a_batch_are_tune():
    assert assign_splits([{"query": "a", "relevant": []}, {"query": "b", "relevant": [], "batch": HELDOUT_BATCH}]) == [
        "tune",
        "heldout",
    ]


def test_load_gold_selects_a_split_and_keeps_old_callers_working():
    everything = load_gold()
    parts = {split: load_gold(split=split) for split in SPLITS}
    assert len(everything) == len(lines()) == sum(map(len, parts.values()))
    assert all(q.split == split for split, part in parts.items() for q in part)
    assert {q.query for q in parts["tune"]}.isdisjoint(q.query for q in parts["heldout"])
    with pytest.raises(ValueError):
        load_gold(split="test")


def test_old_format_lines_load_as_tune(tmp_path: Path):
    path = tmp_path / "gold.jsonl"
    path.write_text('{"query": "rolstoel", "relevant": ["a"]}\n{"query": "asdf", "relevant": []}\n', encoding="utf-8")
    first, second = load_gold(path)
    assert (first.kind, first.split, first.partial) == ("precedent", "tune", frozenset())
    assert second.kind == "none"
    assert load_gold(path, split="heldout") == []


class FixedRanker:
    """Ranks every query the same: case b first, then a."""

    def __init__(self):
        facets = SimpleNamespace(ids=["a", "b"], iris=["iri:a", "iri:b"])
        self.index = SimpleNamespace(facets=facets)

    def rank(self, query, k, mode):
        return SimpleNamespace(hits=[SimpleNamespace(row=1), SimpleNamespace(row=0)])


def test_queries_without_a_relevant_case_do_not_count_in_ranking_metrics():
    gold = [GoldQuery("waar is mijn precedent", frozenset({"a"})), GoldQuery("asdfgh qwerty", frozenset(), kind="none")]
    metrics = evaluate(FixedRanker(), gold, modes=("hybrid",))["hybrid"]
    assert metrics.queries == 1
    assert metrics.mrr == pytest.approx(0.5) and metrics.recall1 == 0.0 and metrics.recall5 == 1.0


def test_a_calibration_fitted_on_other_features_does_not_stop_a_refit(small_dir, tmp_path, monkeypatch):
    """`maatwerk eval --fit-calibration` opens the search service to refit; after the features changed,
    the old calibration.json must not stop it from opening, only an answer that needs it says so."""
    import shutil

    from search.calibration import CALIBRATION_FILE, Calibration
    from search.evaluate import calibration_samples
    from tests.conftest import open_core

    stale = tmp_path / "calibration.json"
    data = json.loads(CALIBRATION_FILE.read_text())
    stale.write_text(json.dumps({**data, "features": [*data["features"], "a-feature-of-old"]}))
    monkeypatch.setattr(Calibration.load.__func__, "__defaults__", (stale,))
    shutil.copytree(small_dir, tmp_path / "data")
    core = open_core(tmp_path / "data")
    try:
        service = core.search()
        query = GoldQuery(query="rolstoel op het werk", relevant=frozenset({"t-rolstoel-werk"}))
        assert calibration_samples(service.ranker, [query])  # what a refit needs works without it
        with pytest.raises(ValueError, match="fit-calibration"):
            service.search("rolstoel op het werk")
    finally:
        core.close()


def test_own_words_lines_are_reported_apart_from_their_style(tmp_path):
    rows = [
        {"query": "de verwarming is te duur", "relevant": ["demo-001"], "style": "citizen"},
        {
            "query": "het huis kost te veel om warm te stoken",
            "relevant": ["demo-001"],
            "style": "citizen",
            "words": "own",
        },
    ]
    path = tmp_path / "gold.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    assert [q.group for q in load_gold(path)] == ["citizen", "citizen (own words)"]
