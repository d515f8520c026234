"""The persisted search index: dense passages (faiss), BM25 (bm25s) and case facets, row-aligned.

Row r is one case. Re-importing a case marks its old row dead and appends a new
one; dead rows are dropped when the index is compacted. The index records the
encoder that built it and the graph revision it reflects, so `SearchIndex.load`
can tell whether it must catch up with the graph or be rebuilt.

Everything a search needs is saved ready to use (faiss index, BM25 matrices,
idf), so opening a large index is reading files, not rebuilding; the BM25 tokens
per row are only read back when the index changes.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

import bm25s
import faiss
import numpy as np

from graph.cases import CaseDoc
from search.encoders import Encoder
from search.text import analyse, passages

FORMAT_VERSION = 2
BM25_K1 = 1.2
BM25_B = 0.75
# Exact search over all passages costs ~0.15 ms per 1,000 passages per query; above this
# many an inverted-file index (k-means cells, a few probed) answers in a few milliseconds.
IVF_MIN_PASSAGES = 60_000
# Cells probed per query: at least 32, and 2 % of the cells once there are more than 1,600 cells
# (about 640k passages). On the real 100k-case vectors, probing 32 of 1,044 cells found 0.982 of
# the exact top 10 cases, and with 3,298 cells (as at 1M cases) 32 probes found 0.968 and 64 found
# 0.987 (bench/recall.py, bench/RESULTS.md).
IVF_NPROBE = 32
IVF_PROBE_SHARE = 0.02
IVF_TRAIN_PER_CELL = 40  # faiss asks for at least 39 points per cell
IVF_TRAIN_ITERATIONS = 10
IVF_ADD_BATCH = 100_000


def passage_texts(title: str, situation: str) -> list[str]:
    """What the encoder sees of a case: its title and situation in sentence windows."""
    return [title, *passages(situation)]


def lexical_text(title: str, situation: str, solution: str) -> str:
    """What BM25 sees of a case."""
    return f"{title}\n{situation}\n{solution}"


@dataclass
class Facets:
    """Per-row data for filters and the graph signal, kept as plain lists."""

    ids: list[str] = field(default_factory=list)
    iris: list[str] = field(default_factory=list)
    stamps: list[str] = field(default_factory=list)
    status: list[str | None] = field(default_factory=list)
    year: list[int | None] = field(default_factory=list)
    concepts: list[list[str]] = field(default_factory=list)
    knelpunttypen: list[list[str]] = field(default_factory=list)
    alive: list[bool] = field(default_factory=list)

    def append(self, doc: CaseDoc) -> None:
        self.ids.append(doc.id)
        self.iris.append(doc.iri)
        self.stamps.append(doc.stamp)
        self.status.append(doc.status)
        self.year.append(doc.year)
        self.concepts.append(sorted(doc.concepts))
        self.knelpunttypen.append(sorted(doc.knelpunttypen))
        self.alive.append(True)


class SearchIndex:
    def __init__(self, encoder: Encoder):
        self.encoder = encoder
        self.revision: str | None = None
        self.facets = Facets()
        self.vectors = np.zeros((0, encoder.dim), dtype=np.float32)
        self.passage_row = np.zeros(0, dtype=np.int32)  # passage -> case row
        self.row_offsets = np.zeros(1, dtype=np.int64)  # row r's passages: [off[r], off[r+1])
        self.bm25: bm25s.BM25 | None = None
        self.dense: faiss.Index | None = None
        self._idf: dict[str, float] = {}
        self._tokens: list[list[str]] | None = []  # BM25 tokens per row; None = still on disk
        self._tokens_file: Path | None = None
        self._row_of_iri: dict[str, int] = {}
        self._postings: dict[str, np.ndarray] | None = None
        self._alive: np.ndarray | None = None

    # --- size and lookup -------------------------------------------------------

    def __len__(self) -> int:
        return len(self.facets.ids)

    @property
    def alive_count(self) -> int:
        return int(self.alive_mask().sum())

    def alive_mask(self) -> np.ndarray:
        """Rows still in the graph, as a boolean array (a fresh copy: callers narrow it)."""
        if self._alive is None:
            self._alive = np.asarray(self.facets.alive, dtype=bool)
        return self._alive.copy()

    def row_of(self, case_iri: str) -> int | None:
        return self._row_of_iri.get(case_iri)

    def alive_stamps(self) -> dict[str, str]:
        f = self.facets
        return {f.iris[r]: f.stamps[r] for r in range(len(f.ids)) if f.alive[r]}

    def postings(self) -> dict[str, np.ndarray]:
        """Concept IRI -> alive rows that link it (explicit, derived or knelpunttype), as row arrays."""
        if self._postings is None:
            postings: dict[str, list[int]] = {}
            for row, (concepts, types) in enumerate(zip(self.facets.concepts, self.facets.knelpunttypen)):
                if self.facets.alive[row]:
                    for concept in (*concepts, *types):
                        postings.setdefault(concept, []).append(row)
            self._postings = {c: np.asarray(rows, dtype=np.int64) for c, rows in postings.items()}
        return self._postings

    @property
    def on_disk(self) -> bool:
        """Whether this index was loaded from or saved to its directory (so meta.json there is its own)."""
        return self._tokens_file is not None

    def idf(self, token: str) -> float:
        return self._idf.get(token, 0.0)

    # --- building --------------------------------------------------------------

    def copy(self) -> SearchIndex:
        """A twin to change while this one keeps answering; arrays and BM25 are replaced on change, never edited."""
        twin = SearchIndex(self.encoder)
        twin.revision = self.revision
        twin.facets = Facets(**{name: list(values) for name, values in self.facets.__dict__.items()})
        twin.vectors, twin.passage_row, twin.row_offsets = self.vectors, self.passage_row, self.row_offsets
        twin.bm25, twin._idf = self.bm25, self._idf
        twin.dense = faiss.clone_index(self.dense) if self.dense is not None else None
        twin._tokens = list(self._tokens) if self._tokens is not None else None
        twin._tokens_file = self._tokens_file
        twin._row_of_iri = dict(self._row_of_iri)
        return twin

    def add(self, docs: list[CaseDoc], progress: Callable[[int], None] | None = None) -> None:
        """Append cases (replacing older rows of the same IRI); progress(n) counts encoded cases."""
        tokens = self._loaded_tokens()
        self._mark_dead(doc.iri for doc in docs)
        texts, counts = [], []
        for doc in docs:
            pieces = passage_texts(doc.title, doc.situation)
            texts.extend(pieces)
            counts.append(len(pieces))
        per_case = len(texts) / max(len(docs), 1)
        new_vectors = self.encoder.encode_bulk(texts, progress and (lambda n: progress(round(n / per_case))))
        start_row = len(self)
        for doc in docs:
            self._row_of_iri[doc.iri] = len(self.facets.ids)
            self.facets.append(doc)
            tokens.append(analyse(lexical_text(doc.title, doc.situation, doc.solution)))
        if docs:
            self.vectors = np.concatenate([self.vectors, new_vectors]) if len(self.vectors) else new_vectors
            rows = np.repeat(np.arange(start_row, start_row + len(docs), dtype=np.int32), counts)
            self.passage_row = np.concatenate([self.passage_row, rows])
            self.row_offsets = np.concatenate([self.row_offsets, self.row_offsets[-1] + np.cumsum(counts)])
        self._alive = self._postings = None
        self._extend_dense(new_vectors)
        self._rebuild_lexical()

    def remove(self, case_iris: Iterable[str]) -> None:
        self._mark_dead(case_iris)
        self._rebuild_lexical()

    def _mark_dead(self, case_iris: Iterable[str]) -> None:
        tokens = self._loaded_tokens()
        for case_iri in case_iris:
            row = self._row_of_iri.pop(case_iri, None)
            if row is not None:
                self.facets.alive[row] = False
                tokens[row] = []
        self._alive = None
        self._postings = None

    def _extend_dense(self, new_vectors: np.ndarray) -> None:
        """Add to the dense index; switch to (or start) an inverted-file index when it grows large."""
        flat = self.dense is None or isinstance(self.dense, faiss.IndexFlat)
        if flat and len(self.vectors) >= IVF_MIN_PASSAGES:
            self.dense = _ivf_index(self.vectors)
            return
        if self.dense is None:
            self.dense = faiss.IndexFlatIP(self.encoder.dim)
            new_vectors = self.vectors
        if len(new_vectors):
            self.dense.add(np.ascontiguousarray(new_vectors))

    def _rebuild_lexical(self) -> None:
        """bm25s cannot add documents, so BM25 is rebuilt from the stored tokens: seconds at 100k cases."""
        tokens = self._loaded_tokens()
        self.bm25 = bm25s.BM25(k1=BM25_K1, b=BM25_B, method="lucene")
        self.bm25.index([t or [""] for t in tokens] or [[""]], show_progress=False)
        n = max(self.alive_count, 1)
        df = Counter(chain.from_iterable(map(set, tokens)))
        self._idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}

    def _loaded_tokens(self) -> list[list[str]]:
        if self._tokens is None:
            assert self._tokens_file is not None, "tokens left on disk have a file"
            self._tokens = json.loads(self._tokens_file.read_text())
        return self._tokens

    # --- persistence -----------------------------------------------------------

    def save(self, directory: Path) -> None:
        """Write to a fresh directory, then swap it in: a crash leaves the old index whole."""
        tmp = directory.with_name(directory.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        np.save(tmp / "vectors.npy", self.vectors)
        np.save(tmp / "passage_row.npy", self.passage_row)
        np.save(tmp / "row_offsets.npy", self.row_offsets)
        (tmp / "facets.json").write_text(json.dumps(self.facets.__dict__, ensure_ascii=False))
        (tmp / "tokens.json").write_text(json.dumps(self._loaded_tokens(), ensure_ascii=False))
        (tmp / "idf.json").write_text(json.dumps(self._idf, ensure_ascii=False))
        if self.dense is not None:
            faiss.write_index(self.dense, str(tmp / "dense.faiss"))
        if self.bm25 is not None:
            self.bm25.save(tmp / "bm25", show_progress=False)
        meta = {
            "format": FORMAT_VERSION,
            "encoder": self.encoder.id,
            "dim": self.encoder.dim,
            "revision": self.revision,
            "rows": len(self),
            "alive": self.alive_count,
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
        _fsync_tree(tmp)
        old = directory.with_name(directory.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if directory.exists():
            os.replace(directory, old)
        os.replace(tmp, directory)
        shutil.rmtree(old, ignore_errors=True)
        self._tokens_file = directory / "tokens.json"

    def save_revision(self, directory: Path) -> None:
        """Only the graph revision moved (nothing to add or drop): rewrite meta.json alone, atomically."""
        meta_file = directory / "meta.json"
        meta = json.loads(meta_file.read_text())
        meta["revision"] = self.revision
        tmp = meta_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(meta, indent=1))
        os.replace(tmp, meta_file)

    @classmethod
    def load(cls, directory: Path, encoder: Encoder) -> SearchIndex | None:
        """The saved index, or None when it is missing, unreadable or built by another encoder."""
        old = directory.with_name(directory.name + ".old")
        if not directory.exists() and old.exists():
            os.replace(old, directory)  # a crash between the two renames in save()
        try:
            meta = json.loads((directory / "meta.json").read_text())
            if meta.get("format") != FORMAT_VERSION or meta.get("encoder") != encoder.id:
                return None
            index = cls(encoder)
            # faiss reads without the GIL: let it run while Python parses the facets
            with ThreadPoolExecutor(1) as pool:
                dense = pool.submit(faiss.read_index, str(directory / "dense.faiss"))
                # memory-mapped: only the rows a search explains or a similar-case query reads come in
                index.vectors = np.load(directory / "vectors.npy", mmap_mode="r")
                index.passage_row = np.load(directory / "passage_row.npy")
                index.row_offsets = np.load(directory / "row_offsets.npy")
                index.facets = Facets(**json.loads((directory / "facets.json").read_text()))
                index._idf = json.loads((directory / "idf.json").read_text())
                index.bm25 = bm25s.BM25.load(directory / "bm25", show_progress=False)
                index.dense = dense.result()
        except (OSError, ValueError, KeyError, RuntimeError):
            return None
        index.revision = meta.get("revision")
        index._tokens, index._tokens_file = None, directory / "tokens.json"
        index._row_of_iri = {i: r for r, i in enumerate(index.facets.iris) if index.facets.alive[r]}
        return index

    def compacted(self) -> SearchIndex:
        """A copy without dead rows (no re-encoding)."""
        keep = np.flatnonzero(self.alive_mask())
        tokens = self._loaded_tokens()
        fresh = SearchIndex(self.encoder)
        fresh.revision = self.revision
        counts = np.diff(self.row_offsets)[keep]
        passages = (
            np.concatenate([np.arange(self.row_offsets[r], self.row_offsets[r + 1]) for r in keep])
            if len(keep)
            else np.zeros(0, dtype=np.int64)
        )
        fresh.vectors = np.asarray(self.vectors[passages], dtype=np.float32)
        fresh.passage_row = np.repeat(np.arange(len(keep), dtype=np.int32), counts)
        fresh.row_offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        for name, values in fresh.facets.__dict__.items():
            source = getattr(self.facets, name)
            values.extend(source[r] for r in keep)
        fresh._tokens = [tokens[r] for r in keep]
        fresh._row_of_iri = {i: r for r, i in enumerate(fresh.facets.iris)}
        fresh._extend_dense(fresh.vectors)
        fresh._rebuild_lexical()
        return fresh


def _ivf_index(vectors: np.ndarray) -> faiss.Index:
    """Inverted-file index with 8-bit scalar-quantised codes: a quarter of the float32 size.

    Its scores are approximate, so the engine re-ranks its shortlist from the full-precision
    vectors (search.engine.nearest_passages); bench/recall.py measures recall against exact search.
    """
    n, dim = vectors.shape
    cells = ivf_cells(n)
    index = faiss.IndexIVFScalarQuantizer(
        faiss.IndexFlatIP(dim), dim, cells, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    index.cp.niter = IVF_TRAIN_ITERATIONS
    index.train(_training_sample(vectors, cells))
    for start in range(0, n, IVF_ADD_BATCH):  # a memory-mapped matrix is never read whole into memory
        index.add(np.ascontiguousarray(vectors[start : start + IVF_ADD_BATCH], dtype=np.float32))
    index.nprobe = max(IVF_NPROBE, round(cells * IVF_PROBE_SHARE))
    return index


def ivf_cells(passages: int) -> int:
    return int(2 * math.sqrt(passages))


def _training_sample(vectors: np.ndarray, cells: int) -> np.ndarray:
    n = len(vectors)
    picks = np.sort(np.random.default_rng(0).choice(n, min(n, cells * IVF_TRAIN_PER_CELL), replace=False))
    return np.ascontiguousarray(vectors[picks], dtype=np.float32)


def _fsync_tree(directory: Path) -> None:
    for path in directory.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
