"""Retrieval evaluation on a labelled set: MRR, nDCG@10 and recall@1/5/10 per ranking mode.

A gold line is {"query", "relevant": [case ids], "partial": [case ids], "style", "length",
"kind", "batch", "split"}, and "words": "own" on lines written without the case text's words (see
search/eval/README.md). Relevant cases count 2 in nDCG, partial ones 1;
MRR and recall look at relevant ones only. Queries with no relevant case ("kind": "none")
are labelled to judge whether an answer admits there is no precedent; ranking metrics skip them.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import bm25s
import numpy as np

from graph.cases import CaseDoc
from search.calibration import Calibration, Sample, features
from search.engine import MODES, Ranker
from search.index import BM25_B, BM25_K1
from search.text import stems

GOLD_FILE = Path(__file__).parent / "eval" / "gold.jsonl"

# The held-out part is never used for tuning; the rule that draws it is in search/eval/README.md.
SPLITS = ("tune", "heldout")
HELDOUT_BATCH = 12
"""Lines of this batch (written blind, after every earlier line had been used for tuning) are held out."""


@dataclass(frozen=True)
class GoldQuery:
    query: str
    relevant: frozenset[str]
    partial: frozenset[str] = frozenset()
    kind: str = "precedent"
    """"precedent" (at least one relevant case) or "none" (no comparable case in the corpus)."""
    split: str = "tune"
    style: str = ""
    length: str = ""
    none_reason: str = ""
    """Only for kind "none": unrelated, gibberish, one-word or absent."""
    words: str = ""
    """"own": written to share at most one word stem with the case's text (batch 8 on), reported apart."""

    @property
    def group(self) -> str:
        """The style, with own-words lines apart: the part of the set where plain word matching cannot help."""
        return f"{self.style} (own words)" if self.words == "own" else self.style


@dataclass(frozen=True)
class Metrics:
    mrr: float
    ndcg10: float
    recall1: float
    recall5: float
    recall10: float
    queries: int
    """How many queries were scored: those with at least one relevant case."""


def load_gold(path: Path = GOLD_FILE, split: str | None = None) -> list[GoldQuery]:
    """Every labelled query, or only those of one split ("tune" or "heldout").

    Lines without a split (files written before splits existed) belong to "tune".
    """
    if split is not None and split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose from {', '.join(SPLITS)}")
    queries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            relevant = frozenset(item["relevant"])
            query = GoldQuery(
                item["query"],
                relevant,
                frozenset(item.get("partial", [])),
                kind=item.get("kind", "precedent" if relevant else "none"),
                split=item.get("split", "tune"),
                style=item.get("style", ""),
                length=item.get("length", ""),
                none_reason=item.get("none_reason", ""),
                words=item.get("words", ""),
            )
            if split is None or query.split == split:
                queries.append(query)
    return queries


def assign_splits(items: list[dict]) -> list[str]:
    """The split of each gold line: "heldout" for the lines of batch HELDOUT_BATCH, "tune" for all
    earlier ones (lines without a batch are the oldest).

    Each held-out part moves to tune once its results have been studied: first a seeded 40 % draw
    over batches 1 and 2, then batches 3 to 11 (each evaluated once and its failures analysed).
    Since batch 8 each batch is written blind while the one before is studied, and committed before
    any search runs on it.
    """
    return ["heldout" if item.get("batch", 1) >= HELDOUT_BATCH else "tune" for item in items]


BASELINE = "bm25"


class PlainBM25:
    """The baseline the gains are measured against: stock BM25 (the index's Lucene variant, k1 and b)
    over the plain Dutch Snowball stems of title, situation and solution; no compound parts, title
    boost, concept expansion or unknown-word handling."""

    def __init__(self, docs: list[CaseDoc]):
        self.ids = [doc.id for doc in docs]
        self.bm25 = bm25s.BM25(k1=BM25_K1, b=BM25_B, method="lucene")
        self.bm25.index([stems(f"{d.title}\n{d.situation}\n{d.solution}") or [""] for d in docs], show_progress=False)

    def rank(self, text: str, k: int = 10) -> list[str]:
        terms = [t for t in dict.fromkeys(stems(text)) if t in self.bm25.vocab_dict]
        if not terms:
            return []
        scores = self.bm25.get_scores(terms)[: len(self.ids)]
        order = np.lexsort((np.arange(len(scores)), -scores))[:k]
        return [self.ids[i] for i in order.tolist() if scores[i] > 0]


def evaluate(
    ranker: Ranker,
    gold: list[GoldQuery],
    modes: tuple[str, ...] = tuple(MODES),
    baseline: PlainBM25 | None = None,
) -> dict[str, Metrics]:
    """Metrics per ranking mode, the plain BM25 baseline first when given."""
    metrics = {BASELINE: _metrics(baseline.rank, gold)} if baseline is not None else {}
    for mode in modes:
        metrics[mode] = _metrics(partial(_ranked_ids, ranker, mode), gold)
    return metrics


def _ranked_ids(ranker: Ranker, mode: str, text: str) -> list[str]:
    return [ranker.index.facets.ids[h.row] for h in ranker.rank(text, k=10, mode=mode).hits]


def _metrics(rank: Callable[[str], list[str]], gold: list[GoldQuery]) -> Metrics:
    scored = [item for item in gold if item.relevant]  # MRR and recall are undefined without a relevant case
    totals = [0.0] * 5
    for item in scored:
        ranked = rank(item.query)
        for i, value in enumerate(_scores(ranked, item)):
            totals[i] += value
    n = max(len(scored), 1)
    mrr, ndcg10, recall1, recall5, recall10 = (t / n for t in totals)
    return Metrics(mrr, ndcg10, recall1, recall5, recall10, queries=len(scored))


def _scores(ranked: list[str], item: GoldQuery) -> tuple[float, float, float, float, float]:
    first = next((i for i, case in enumerate(ranked) if case in item.relevant), None)
    mrr = 1.0 / (first + 1) if first is not None else 0.0
    gains = [2 if c in item.relevant else 1 if c in item.partial else 0 for c in ranked[:10]]
    ideal = sorted([2] * len(item.relevant) + [1] * len(item.partial), reverse=True)[:10]
    ndcg = _dcg(gains) / _dcg(ideal) if ideal else 0.0

    def recall(k: int) -> float:
        return len(item.relevant & set(ranked[:k])) / len(item.relevant) if item.relevant else 0.0

    return mrr, ndcg, recall(1), recall(5), recall(10)


def _dcg(gains: list[int]) -> float:
    return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(gains))


def calibration_samples(ranker: Ranker, gold: list[GoldQuery], k: int = 10) -> list[Sample]:
    """Per question: the calibration features of its top k results, which are relevant cases, and
    whether the question has a precedent."""
    ids = ranker.index.facets.ids
    samples = []
    for item in gold:
        ranking = ranker.rank(item.query, k=k)
        labels = np.asarray([ids[h.row] in item.relevant for h in ranking.hits], dtype=bool)
        samples.append(Sample(features(ranking) if ranking.hits else np.zeros((0, 0)), labels, bool(item.relevant)))
    return samples


@dataclass(frozen=True)
class QualityReport:
    """How often match_quality is right: "none" for no-precedent questions, not "none" for real ones."""

    none_right: float
    none_queries: int
    real_right: float
    real_queries: int
    counts: dict[str, dict[str, int]]
    """kind of question -> match_quality -> how many."""
    by_group: dict[str, dict[str, int]]
    """"none: <none_reason>" or "precedent: <style or group>" -> match_quality -> how many."""


def match_quality_report(ranker: Ranker, gold: list[GoldQuery], calibration: Calibration) -> QualityReport:
    counts: dict[str, dict[str, int]] = {"precedent": {}, "none": {}}
    by_group: dict[str, dict[str, int]] = defaultdict(dict)
    for item in gold:
        quality = calibration.quality(calibration.relevance(ranker.rank(item.query, k=10)))
        kind = "precedent" if item.relevant else "none"
        counts[kind][quality] = counts[kind].get(quality, 0) + 1
        group = by_group[f"{kind}: {item.none_reason if kind == 'none' else item.group}"]
        group[quality] = group.get(quality, 0) + 1
    n_none, n_real = sum(counts["none"].values()), sum(counts["precedent"].values())
    return QualityReport(
        counts["none"].get("none", 0) / max(n_none, 1),
        n_none,
        1 - counts["precedent"].get("none", 0) / max(n_real, 1),
        n_real,
        counts,
        dict(sorted(by_group.items())),
    )


def unknown_ids(gold: list[GoldQuery], known: set[str]) -> set[str]:
    return {c for item in gold for c in item.relevant | item.partial if c not in known}


if __name__ == "__main__":
    # Rewrites the split of every line of the labelled set by the rule above (run after adding lines).
    lines = [json.loads(line) for line in GOLD_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    for line, split in zip(lines, assign_splits(lines), strict=True):
        line["split"] = split
    GOLD_FILE.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
