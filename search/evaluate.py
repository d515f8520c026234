"""Retrieval evaluation on a labelled set: MRR, nDCG@10 and recall@1/5/10 per ranking mode.

A gold line is {"query", "relevant": [case ids], "partial": [case ids]}. Relevant
cases count 2 in nDCG, partial ones 1; MRR and recall look at relevant ones only.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from search.engine import MODES, Ranker

GOLD_FILE = Path(__file__).parent / "eval" / "gold.jsonl"


@dataclass(frozen=True)
class GoldQuery:
    query: str
    relevant: frozenset[str]
    partial: frozenset[str]


@dataclass(frozen=True)
class Metrics:
    mrr: float
    ndcg10: float
    recall1: float
    recall5: float
    recall10: float
    queries: int


def load_gold(path: Path = GOLD_FILE) -> list[GoldQuery]:
    queries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            queries.append(GoldQuery(item["query"], frozenset(item["relevant"]), frozenset(item.get("partial", []))))
    return queries


def evaluate(ranker: Ranker, gold: list[GoldQuery], modes: tuple[str, ...] = tuple(MODES)) -> dict[str, Metrics]:
    return {mode: _evaluate_mode(ranker, gold, mode) for mode in modes}


def _evaluate_mode(ranker: Ranker, gold: list[GoldQuery], mode: str) -> Metrics:
    iri_to_id = {iri: case_id for case_id, iri in zip(ranker.index.facets.ids, ranker.index.facets.iris)}
    totals = [0.0] * 5
    for item in gold:
        ranking = ranker.rank(item.query, k=10, mode=mode)
        ranked = [iri_to_id[ranker.index.facets.iris[h.row]] for h in ranking.hits]
        for i, value in enumerate(_scores(ranked, item)):
            totals[i] += value
    n = max(len(gold), 1)
    return Metrics(*(t / n for t in totals), queries=len(gold))


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
    return sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(gains))


def unknown_ids(gold: list[GoldQuery], known: set[str]) -> set[str]:
    return {c for item in gold for c in item.relevant | item.partial if c not in known}

