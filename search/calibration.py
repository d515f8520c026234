"""Calibrated relevance and match quality: how likely a result is a precedent, and whether any is.

Each result gets `relevance`, the estimated probability that a casusregisseur would call it a
relevant precedent: a logistic model over the ranking signals (dense, lexical, graph, the fused
score, how far it lies below the best result, its rank, how many of the question's concepts it
shares, and the share of the question's words that any case contains). The answer as a whole gets
`match_quality` from the best result's relevance: "strong" at or above STRONG (more likely a
precedent than not), "none" below the `weak` threshold, "weak" in between.

The model and the `weak` threshold are fitted by `maatwerk eval --fit-calibration` on the tune
split only, with query-grouped cross-validation folds for the threshold, and stored in
search/calibration.json; a request only reads them.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from search.engine import Ranking

CALIBRATION_FILE = Path(__file__).parent / "calibration.json"
FEATURES = ("dense", "lexical", "graph", "score", "below_top", "log_rank", "log_shared", "known_share")
# Also tried: log(1 + summed idf of the question's words) and lexical x that mass, so a fully matched
# one-word "help" counts less; on the tune split it did not help (none right 57 % -> 54 %), so left out.
# log(1 + how many of the question's concepts the case shares) tells one shared generic concept (one
# of one: graph 1.0) from several: out-of-fold "none" for no-precedent questions 74 % -> 84 % (tune).
# The share of the question's words the cases know (a question from outside the field has many they
# do not): out of fold at the 0.5 threshold, real questions kept 94.7 % -> 95.9 % with "none" still 84 %.
STRONG = 0.5
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
    strong: float = STRONG
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
    shares, and how much of the question the cases know."""
    hits = ranking.hits
    top, known = hits[0].score, ranking.known_share
    return np.asarray(
        [
            [h.dense, h.lexical, h.graph, h.score, top - h.score, math.log(i + 1), math.log1p(len(h.shared)), known]
            for i, h in enumerate(hits)
        ],
        dtype=np.float64,
    )


def fit(samples: list[tuple[np.ndarray, np.ndarray]], encoder: str = "") -> tuple[Calibration, dict]:
    """Fit on (features, is-relevant) per question: the model on all of them, the weak threshold on
    out-of-fold predictions (so it is chosen on relevances the model did not see)."""
    fold_of = np.arange(len(samples)) % FOLDS
    best_out_of_fold = np.zeros(len(samples))
    for fold in range(FOLDS):
        train = [s for s, f in zip(samples, fold_of, strict=True) if f != fold]
        coef, intercept = _logistic(*_stack(train))
        for i in np.flatnonzero(fold_of == fold):
            x = samples[i][0]
            best_out_of_fold[i] = _sigmoid(x @ coef + intercept).max() if len(x) else 0.0
    real = np.asarray([bool(y.any()) for _, y in samples])
    weak = _weak_threshold(best_out_of_fold, real)
    coef, intercept = _logistic(*_stack(samples))
    calibration = Calibration(tuple(coef.tolist()), float(intercept), weak, encoder=encoder, queries=len(samples))
    report = {
        "weak": weak,
        "out_of_fold_none_right": float((best_out_of_fold[~real] < weak).mean()) if (~real).any() else None,
        "out_of_fold_real_kept": float((best_out_of_fold[real] >= weak).mean()) if real.any() else None,
    }
    return calibration, report


def _weak_threshold(best: np.ndarray, real: np.ndarray) -> float:
    """The highest threshold that still keeps KEEP_REAL of real questions out of "none"."""
    kept = np.sort(best[real])
    if not len(kept):
        return STRONG
    index = math.floor((1 - KEEP_REAL) * len(kept))
    return float(min(kept[index], STRONG))


def _stack(samples: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    xs = [x for x, _ in samples if len(x)]
    ys = [y for x, y in samples if len(x)]
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
