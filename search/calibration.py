"""Calibrated relevance and match quality: how likely a result is a precedent, and whether any is.

Each result gets `relevance`, the estimated probability that a casusregisseur would call it a
relevant precedent: a logistic model over the ranking signals (dense, lexical, graph, the fused
score, how far it lies below the best result, its rank, how many of the question's concepts it
shares, the share of the question's words that any case contains, how little the question says,
how far the best result stands out above the tenth (lead), how much of the question the best case
holds (explained), whether it holds the question's rarest word, and lead x explained). The answer
as a whole gets `match_quality` from the best result's relevance against two fitted thresholds:

- "strong" ("sterke overeenkomst") at or above `strong`: the lowest relevance at which, out of fold,
  at least STRONG_PRECISION of the results so labelled are real precedents;
- "none" below `weak`: the highest relevance that still keeps KEEP_REAL of the real questions out
  of "none", out of fold;
- "weak" ("mogelijk relevant") in between: the evidence is mixed, a result is more often a precedent
  than not but not reliably so.

The model and both thresholds are fitted by `maatwerk eval --fit-calibration` on the tune split
only, with cross-validation folds for the thresholds, and stored in search/calibration.json; a
request only reads them.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from search.engine import Ranking

CALIBRATION_FILE = Path(__file__).parent / "calibration.json"
FEATURES = (
    "dense",
    "lexical",
    "graph",
    "score",
    "below_top",
    "log_rank",
    "log_shared",
    "known_share",
    "thin",
    "lead",
    "explained",
    "rarest",
    "explained_lead",
)
# Also tried: log(1 + summed idf of the question's words) and lexical x that mass, so a fully matched
# one-word "help" counts less; on the tune split it did not help (none right 57 % -> 54 %), so left out.
# log(1 + how many of the question's concepts the case shares) tells one shared generic concept (one
# of one: graph 1.0) from several: out-of-fold "none" for no-precedent questions 74 % -> 84 % (tune).
# The share of the question's words the cases know (a question from outside the field has many they
# do not): out of fold at the 0.5 threshold, real questions kept 94.7 % -> 95.9 % with "none" still 84 %.
# 1 / (1 + the question's evidence: its known terms plus the concepts recognised in it) tells a lone
# everyday word that one case happens to contain ("probleem", "dinsdag": a full lexical match) from a
# question that names its situation. Fitted on batches 1-3, out of fold at KEEP_REAL: "none" for
# no-precedent questions 75.7 % -> 89.2 % (88.3 % after the thesaurus's part 3 and the new fusion
# weights). Tried alongside: 1 / (1 + terms) alone 82.0 %, log terms and log concepts 80.2 %, a "two
# words or fewer and no concept" flag 82.9 %, log summed idf 82.0 % (a rare everyday word has a high
# idf), and adding 1 / (1 + terms) to it 90.1 % (one question more).
# Specificity, for questions that single out no situation (batch 4 evaluated once: "none" for 73.2 % of
# its no-precedent questions, 9 of 16 one-word questions "strong"): `lead`, how far the best candidate's
# fused score lies above the tenth's ("beschikking" is in many cases that match it about equally, 0.21;
# "traplift" singles out one, 0.72), and `explained`, the share of the question's idf mass the best case
# holds. Fitted on batches 1-4 (1,407 questions), out of fold at KEEP_REAL: "none" for no-precedent
# questions 89.6 % -> 91.8 %; each batch left out in turn and predicted by a fit on the others (batches
# 2-4): 86.3 % -> 94.0 %, batch 4 alone 52 -> 64 of 71, real questions kept 93.4 % -> 93.1 %. Tried:
# `lead` alone 90.7 % (left out in turn), with the corpus share that holds every term and concept the best
# case matches 92.3 %, with a "best case matches one term" flag 92.9 %; the margin over the 3rd or 5th
# result, lead / best score, the lexical lead, the number of non-ubiquitous concepts or terms: less.
# Whether the best case holds the question's rarest word (`rarest`; an unknown word is the rarest):
# an absent situation told with common words of the field ("de eigen bijdrage voor een hoortoestel",
# "een kind erkennen") matches a case on those and misses the word that names it. Fitted on batches
# 1-5, each of batches 2-5 left out in turn and predicted by a fit on the others: "none" for
# no-precedent questions 256 -> 259 of 273 (batch 4 65 -> 68 of 71, batch 5 82 -> 82 of 91), real
# questions kept 1317 -> 1319 of 1403. Rank agreement (the best case's rank by dense or by lexical
# score alone, or both first) lowered it (253-257).
# Round on batches 1-6: coverage of the question's rare terms by the best case, the rare terms it misses,
# whether it links the question's rarest concept, the number of unknown words, rank agreement, the best
# dense score and products of the signals each moved at most two of 363 questions with batches 2-6 left
# out in turn (search/eval/README.md), so none was added.
# Round on batches 1-7: `explained_lead`, explained x lead: an absent situation that shares a few
# words with one case stands out from the others (lead) while that case holds little of the question
# (explained); either alone is common among real questions. With each of batches 2-7 left out in turn:
# no-precedent questions "none" 421 -> 425 of 453 (batches 4, 6 and 7 gained), real questions kept
# 2,007 -> 2,010 of 2,121. Tried beside it: log and hinge transforms of `explained`, explained x score,
# lead x dense, lead x lexical, lead squared, (1 - rarest) x dense: at most one question more, or fewer.
# Round on batches 1-8: no new feature. Questions in a resident's own words (batch 8's `"words": "own"`
# lines) look like absent situations on every signal (median best dense 0.33 vs 0.32, lexical 0.08 vs
# 0.12, explained 0.13 vs 0.21), so the gain had to come from retrieval: the thesaurus's part 6 raised
# their MRR 0.43 -> 0.72, and with each of batches 2-8 left out in turn no-precedent questions "none"
# 492 -> 497 of 543, real questions kept 2,368 -> 2,367 of 2,508, own-words questions kept 9 -> 20 of 50.
# They count as real questions for KEEP_REAL like any other (a product decision: a resident who tells
# it in their own words has a precedent too), which lowers the weak threshold (0.560 -> 0.506).
# Round on batches 1-9: no new feature; the thesaurus's part 7 (and fixes to part 6). With each of
# batches 2-9 left out in turn: no-precedent questions "none" 543 -> 546 of 603, real questions kept
# 2,562 -> 2,567 of 2,722, own-words questions kept 39 -> 42 of 90. Thresholds 0.571 and 0.493.
# A product decision: "sterke overeenkomst" should be wrong for at most one result in twenty. At 0.90
# the strong threshold fell on the none threshold (tune, 2026-12-06: 0.55 and 0.54), leaving no
# "weak" band at all; at 0.95 a fifth of the real questions get "mogelijk relevant" answers whose
# best result is a precedent about four times in five.
STRONG_PRECISION = 0.95
# ... and never below an even chance: where the signals separate cleanly, the precision rule alone
# would call results "strong" that the model itself finds unlikely.
MIN_STRONG = 0.5
# The share of real (precedent) questions that must not be called "none" when the weak threshold is chosen.
KEEP_REAL = 0.95
FOLDS = 5
_L2 = 1e-2


@dataclass(frozen=True)
class Calibration:
    coef: tuple[float, ...]
    intercept: float
    weak: float
    """Best-result relevance below which an answer says there is no comparable case."""
    strong: float
    """Relevance from which a result is a "sterke overeenkomst" and an answer "strong"."""
    encoder: str = ""
    queries: int = 0

    def relevance(self, ranking: Ranking) -> list[float]:
        if not ranking.hits:
            return []
        z = features(ranking) @ np.asarray(self.coef) + self.intercept
        return [float(p) for p in 1.0 / (1.0 + np.exp(-z))]

    def quality(self, relevance: list[float]) -> str:
        best = max(relevance, default=0.0)
        return "strong" if best >= self.strong else "weak" if best >= self.weak else "none"

    def save(self, path: Path = CALIBRATION_FILE) -> None:
        path.write_text(json.dumps({"features": FEATURES, **asdict(self)}, indent=1) + "\n")

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> Calibration:
        data = json.loads(path.read_text())
        if tuple(data.pop("features")) != FEATURES:
            raise ValueError(f"{path} was fitted on other features; run `maatwerk eval --fit-calibration`")
        return cls(**{**data, "coef": tuple(data["coef"])})


def features(ranking: Ranking) -> np.ndarray:
    """Per result: its signals, how far below the best result it is, its rank, how many concepts it
    shares, how much of the question the cases know, and how little the question says."""
    hits = ranking.hits
    top, known, thin = hits[0].score, ranking.known_share, 1.0 / (1 + ranking.evidence)
    question = [known, thin, ranking.lead, ranking.explained, ranking.rarest, ranking.explained * ranking.lead]
    rows = []
    for i, h in enumerate(hits):
        shared = math.log1p(len(h.shared))
        rows.append([h.dense, h.lexical, h.graph, h.score, top - h.score, math.log(i + 1), shared, *question])
    return np.asarray(rows, dtype=np.float64)


@dataclass(frozen=True)
class Sample:
    """One labelled question: the calibration features of its results, which of them are relevant
    cases, and whether the question has a precedent at all (it may have one the ranking missed)."""

    features: np.ndarray
    relevant: np.ndarray
    real: bool


def fit(samples: list[Sample], encoder: str = "") -> tuple[Calibration, dict]:
    """Fit on labelled questions: the model on all of them, the thresholds on out-of-fold
    predictions (so they are chosen on relevances the model did not see)."""
    out_of_fold = _out_of_fold(samples)
    best = np.asarray([p.max() if len(p) else 0.0 for p in out_of_fold])
    real = np.asarray([s.real for s in samples])
    results = np.concatenate(out_of_fold)
    relevant = np.concatenate([s.relevant for s in samples]).astype(bool)
    strong = _strong_threshold(results, relevant)
    weak = _weak_threshold(best, real, strong)
    coef, intercept = _logistic(*_stack(samples))
    calibration = Calibration(
        tuple(coef.tolist()), float(intercept), weak, strong, encoder=encoder, queries=len(samples)
    )
    labelled_strong = relevant[results >= strong]
    report = {
        "weak": weak,
        "strong": strong,
        "out_of_fold_strong_precision": float(labelled_strong.mean()) if len(labelled_strong) else None,
        "out_of_fold_none_right": float((best[~real] < weak).mean()) if (~real).any() else None,
        "out_of_fold_real_kept": float((best[real] >= weak).mean()) if real.any() else None,
        "out_of_fold_real_strong": float((best[real] >= strong).mean()) if real.any() else None,
    }
    return calibration, report


def _out_of_fold(samples: list[Sample]) -> list[np.ndarray]:
    """Each question's result relevances from a model fitted on the other folds."""
    fold_of = np.arange(len(samples)) % FOLDS
    predicted: list[np.ndarray] = [np.zeros(0)] * len(samples)
    for fold in range(FOLDS):
        coef, intercept = _logistic(*_stack([s for s, f in zip(samples, fold_of, strict=True) if f != fold]))
        for i in np.flatnonzero(fold_of == fold):
            x = samples[i].features
            predicted[i] = _sigmoid(x @ coef + intercept) if len(x) else np.zeros(0)
    return predicted


def _strong_threshold(relevance: np.ndarray, relevant: np.ndarray) -> float:
    """The lowest relevance (at least MIN_STRONG) from which at least STRONG_PRECISION of the results
    are relevant."""
    order = np.argsort(-relevance, kind="stable")
    precision = np.cumsum(relevant[order]) / np.arange(1, len(order) + 1)
    ok = np.flatnonzero(precision >= STRONG_PRECISION)
    return max(float(relevance[order][ok[-1]]), MIN_STRONG) if len(ok) else 1.0


def _weak_threshold(best: np.ndarray, real: np.ndarray, strong: float) -> float:
    """The highest threshold that still keeps KEEP_REAL of real questions out of "none" (at most `strong`)."""
    kept = np.sort(best[real])
    if not len(kept):
        return strong
    index = math.floor((1 - KEEP_REAL) * len(kept))
    return float(min(kept[index], strong))


def _stack(samples: list[Sample]) -> tuple[np.ndarray, np.ndarray]:
    xs = [s.features for s in samples if len(s.features)]
    ys = [s.relevant for s in samples if len(s.features)]
    return np.concatenate(xs), np.concatenate(ys).astype(np.float64)


def _logistic(x: np.ndarray, y: np.ndarray, iterations: int = 50) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression by Newton's method (a handful of features, a few thousand rows)."""
    design = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(design.shape[1])
    penalty = _L2 * np.eye(len(w))
    penalty[-1, -1] = 0.0  # the intercept is not shrunk
    for _ in range(iterations):
        p = _sigmoid(design @ w)
        gradient = design.T @ (p - y) + penalty @ w
        hessian = (design * (p * (1 - p))[:, None]).T @ design + penalty
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1])


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
