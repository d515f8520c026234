"""The persisted search index: dense passages (faiss), BM25 and case facets, row-aligned, in two segments.

Row r is one case. The rows are split over two segments that the engine sees as one row space:
- the BASE segment, large and never changed once written: vectors (memory-mapped), a faiss index
  (inverted-file above IVF_MIN_PASSAGES), BM25 matrices (bm25s's layout), tokens and facets;
- the APPEND segment, the cases added or re-imported since the base was built: its own vectors
  (searched exactly), its own BM25 postings, facets and tokens. It is small, so each sync rewrites it.
A re-imported or removed case that is in the base is only marked dead (a small file of row numbers),
applied as the alive mask. When the append segment or the dead rows grow too large (`merge_due`),
`merged()` builds a new base from the vectors already there (no re-encoding).

BM25 over two segments uses one set of collection statistics: N and the document frequencies are
the base's (as bm25s built it) plus the append segment's, so a term's idf is the whole collection's
and is applied at query time (the base's precomputed scores are rescaled by idf_now / idf_at_build).
The length normalisation of both segments uses the base's average document length, and the base's
dead rows still count in N and df; both drift a little from a fresh index until the next merge (at
most the merge thresholds: 5 % more rows, 10 % dead rows).

On disk, `manifest.json` names the segment files, the encoder and the graph revision the index
reflects. Segment files are written under new names first and the manifest is replaced atomically
last, so a crash at any moment leaves the previous manifest and every file it names intact; a save
removes what only the previous manifest named, a load what no manifest names. An index saved by
FORMAT 2 (one directory, no manifest) loads as a base segment as it is: no re-encoding to upgrade.
"""

from __future__ import annotations

import itertools
import json
import math
import mmap
import os
import re
import shutil
import time
from array import array
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import faiss
import numpy as np

from graph.cases import CaseDoc
from graph.store import _crash_point, fsync_dir
from search.encoders import Encoder
from search.facets import FACETS_DIR, LEGACY_FACETS, Facets, FacetTable, JointFacets, load_facets, ranges
from search.text import analyse, lexicon_fingerprint, passages

if TYPE_CHECKING:
    from search.ahead import EncodedCases

FORMAT_VERSION = 3
LEGACY_FORMAT = 2  # one directory, meta.json, no segments: loads as a base segment
MANIFEST = "manifest.json"
LEGACY_BASE = "."  # the manifest's name for a FORMAT 2 base: the index directory itself
LEGACY_FILES = frozenset(
    {"vectors.npy", "passage_row.npy", "row_offsets.npy", "facets.json", "tokens.json", "idf.json"}
    | {"dense.faiss", "bm25", "meta.json", "stats.json", FACETS_DIR}
)
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
# When to build a new base: the append segment beyond 5 % of the base's rows (never for fewer than
# MERGE_APPEND_MIN rows: small indexes live in the exactly searched append segment), or dead rows
# beyond 10 % of the base. Beyond MERGE_APPEND_MAX rows (~120 MB of vectors) rewriting the append
# segment on every sync costs more than it saves, and a sync merges at once (as a first build does).
MERGE_APPEND_SHARE = 0.05
MERGE_DEAD_SHARE = 0.10
MERGE_APPEND_MIN = 500
MERGE_APPEND_MAX = 10_000
MERGE_DEAD_URGENT = 0.5
IVF_ADD_BATCH = 100_000
# A new base is built a slice at a time, so its peak memory does not grow with the index: vectors are
# gathered into the base's own memory-mapped vectors.npy this many rows at a time, and BM25 is built
# from int32 token ids this many tokens at a time.
GATHER_ROWS = 25_000
# New cases encoded into a new base this many at a time (~550 MB of vectors with USE): one batch of the
# encoder's worker processes each, and written out before the next.
ENCODE_ROWS = 100_000
TOKEN_CHUNK = 4_000_000
GENERATION_NAME = re.compile(r"(?:append|dead)-(\d+)(?:\.npy)?")
CONCEPT_ROWS, CONCEPT_OFFSETS, CONCEPT_NAMES = "concept_rows.npy", "concept_offsets.npy", "concept_names.json"
TOKEN_IDS, TOKEN_OFFSETS, TOKEN_VOCAB = "token_ids.npy", "token_offsets.npy", "token_vocab.json"


def passage_texts(title: str, situation: str) -> list[str]:
    """What the encoder sees of a case: its title and situation in sentence windows."""
    return [title, *passages(situation)]


# Bump when `lexical_text` or `analyse` change what BM25 sees; the lexicon's changes are caught by its
# fingerprint. An index analysed otherwise is re-analysed from the graph's texts, without re-encoding.
LEXICAL_VERSION = 3


def analysis_id() -> str:
    return f"{LEXICAL_VERSION}-{lexicon_fingerprint()}"


def lexical_text(title: str, situation: str, solution: str) -> str:
    """What BM25 sees of a case: the title counts twice (tune split: MRR +0.006)."""
    return f"{title}\n{title}\n{situation}\n{solution}"


def lucene_idf(df: float, n: float) -> float:
    """bm25s's "lucene" idf (bm25s.scoring._score_idf_lucene), the one both segments use."""
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


class RowVectors:
    """The passage vectors of both segments as one read-only array (base memory-mapped, append in memory)."""

    def __init__(self, base: np.ndarray, extra: np.ndarray):
        self.base, self.extra = base, extra
        self.shape = (len(base) + len(extra), base.shape[1])
        self.dtype = np.dtype(np.float32)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key) -> np.ndarray:
        nb = len(self.base)
        if isinstance(key, slice):
            start, stop, _ = key.indices(len(self))
            if stop <= nb:
                return np.asarray(self.base[start:stop])
            if start >= nb:
                return self.extra[start - nb : stop - nb]
            return np.concatenate([self.base[start:nb], self.extra[: stop - nb]])
        ids = np.asarray(key)
        if ids.ndim == 0:
            return np.asarray(self.base[ids]) if ids < nb else self.extra[ids - nb]
        out = np.empty((len(ids), self.shape[1]), dtype=np.float32)
        in_base = ids < nb
        out[in_base] = self.base[ids[in_base]]
        out[~in_base] = self.extra[ids[~in_base] - nb]
        return out


@dataclass
class Tokens:
    """A base's BM25 tokens, compact: row r's tokens are vocab[ids[offsets[r]:offsets[r+1]]].

    At 1M cases a base holds ~150M tokens: as Python lists of str they would take several GB, as
    int32 ids 4 bytes each, memory-mapped when read from disk. A base saved before this layout keeps
    `tokens.json` (lists of strings) and is converted when read.
    """

    vocab: list[str]
    ids: np.ndarray  # int32, every row's token ids one after the other
    offsets: np.ndarray  # int64, rows + 1

    @property
    def rows(self) -> int:
        return len(self.offsets) - 1

    def lengths(self) -> np.ndarray:
        """Tokens per row, at least 1 (an empty document counts as one empty token, as in bm25s)."""
        return np.maximum(np.diff(self.offsets), 1)

    def row(self, r: int) -> list[str]:
        return [self.vocab[i] for i in self.ids[self.offsets[r] : self.offsets[r + 1]].tolist()]

    @classmethod
    def empty(cls) -> Tokens:
        return cls([], np.zeros(0, dtype=np.int32), np.zeros(1, dtype=np.int64))

    @classmethod
    def from_lists(cls, rows: Iterable[list[str]], vocab: list[str] | None = None) -> Tokens:
        """Token lists (any iterable, read once) as ids, extending `vocab` with their new terms."""
        vocab = [] if vocab is None else vocab
        term_id = {t: i for i, t in enumerate(vocab)}
        ids, lengths = array("i"), array("q", [0])
        for tokens in rows:
            for term in tokens:
                tid = term_id.get(term)
                if tid is None:
                    tid = term_id[term] = len(vocab)
                    vocab.append(term)
                ids.append(tid)
            lengths.append(len(tokens))
        return cls(vocab, np.frombuffer(ids, dtype=np.int32), np.cumsum(np.frombuffer(lengths, dtype=np.int64)))

    def compacted(self) -> Tokens:
        """The same tokens with the terms no row uses dropped from the vocabulary (ids renumbered in place)."""
        used = np.zeros(len(self.vocab), dtype=bool)
        for chunk in _chunks(len(self.ids), TOKEN_CHUNK):
            used[np.unique(self.ids[chunk])] = True
        if used.all():
            return self
        new_id = (np.cumsum(used) - 1).astype(np.int32)
        for chunk in _chunks(len(self.ids), TOKEN_CHUNK):
            self.ids[chunk] = new_id[self.ids[chunk]]
        return Tokens([t for t, u in zip(self.vocab, used.tolist()) if u], self.ids, self.offsets)

    def save(self, directory: Path) -> None:
        if not _stored_in(self.ids, directory / TOKEN_IDS):  # else built there already (`BaseSegment.staged`)
            np.save(directory / TOKEN_IDS, self.ids)
        np.save(directory / TOKEN_OFFSETS, self.offsets)
        (directory / TOKEN_VOCAB).write_text(json.dumps(self.vocab, ensure_ascii=False))

    @classmethod
    def load(cls, directory: Path) -> Tokens:
        if not (directory / TOKEN_IDS).exists():  # saved before the compact layout
            return cls.from_lists(json.loads((directory / "tokens.json").read_text()))
        vocab = json.loads((directory / TOKEN_VOCAB).read_text())
        return cls(vocab, np.load(directory / TOKEN_IDS, mmap_mode="r"), np.load(directory / TOKEN_OFFSETS))


@dataclass
class Bm25Matrix:
    """A base's BM25 ("lucene") scores as bm25s builds them: a CSC matrix (`scores`: data, indices,
    indptr, num_docs), one column per term id listing the rows that hold the term, in row order, and
    the vocabulary (`vocab_dict`: term -> id).

    Kept in bm25s's file layout (`bm25/`: `<data|indices|indptr>.csc.index.npy`, `vocab.index.json`,
    `params.index.json`), so bases bm25s wrote load as they are and bm25s reads ours; read here, memory-
    mapped, without importing bm25s and scipy (half a second of every process start).
    """

    scores: dict[str, Any]
    vocab_dict: dict[str, int]

    ARRAYS = ("data", "indices", "indptr")

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for name in self.ARRAYS:
            np.save(directory / f"{name}.csc.index.npy", self.scores[name])
        (directory / "vocab.index.json").write_text(json.dumps(self.vocab_dict, ensure_ascii=False))
        params = {"k1": BM25_K1, "b": BM25_B, "delta": 0.5, "method": "lucene", "idf_method": "lucene"}
        params |= {"dtype": "float32", "int_dtype": "int32", "num_docs": self.scores["num_docs"], "backend": "numpy"}
        (directory / "params.index.json").write_text(json.dumps(params, indent=4))

    @classmethod
    def load(cls, directory: Path) -> Bm25Matrix:
        params = json.loads((directory / "params.index.json").read_text())  # always "lucene", BM25_K1, BM25_B
        scores: dict[str, Any] = {
            name: np.load(directory / f"{name}.csc.index.npy", mmap_mode="r") for name in cls.ARRAYS
        }
        scores["num_docs"] = params["num_docs"]
        return cls(scores, json.loads((directory / "vocab.index.json").read_text()))


@dataclass
class BaseSegment:
    """The large immutable segment: its arrays, faiss index and BM25 matrix and the BM25 statistics it was built with.

    Loading one reads only small files (BM25's vocabulary, faiss's centroids, the facets' vocabularies):
    vectors, facets, concept postings, BM25's score matrix and faiss's inverted lists are memory-mapped,
    so what a search does not touch is never read, and a process that only appends cases (an import)
    reads next to nothing. They are mapped when the base is loaded, not when first used: a mapping
    outlives the removal of its file, so an index that a merge superseded keeps answering.
    """

    vectors: np.ndarray
    row_offsets: np.ndarray  # row r's passages: [off[r], off[r+1])
    facets: FacetTable  # as built (alive flags then); the index's dead set overrides them
    dense: faiss.Index | None
    bm25: Bm25Matrix | None
    n_docs: int  # BM25 documents (= rows)
    avgdl: float
    name: str | None = None  # its directory in the manifest; None until saved
    directory: Path | None = None  # where it was loaded from or saved to
    tokens: Tokens | None = None  # only kept when built here; else read from `directory` at merge
    staged: Path | None = None  # the directory its vectors and tokens were built in, before it is saved
    concept_rows: dict[str, np.ndarray] | None = None  # see `linking`
    df: np.ndarray = field(init=False)  # per bm25s vocabulary id

    def __post_init__(self) -> None:
        indptr = self.bm25.scores["indptr"] if self.bm25 is not None else np.zeros(1, dtype=np.int64)
        self.df = np.diff(np.asarray(indptr))

    @property
    def rows(self) -> int:
        return len(self.facets)

    @classmethod
    def empty(cls, dim: int) -> BaseSegment:
        vectors = np.zeros((0, dim), dtype=np.float32)
        return cls(vectors, np.zeros(1, dtype=np.int64), FacetTable.empty(), None, None, 0, 1.0, tokens=Tokens.empty())

    @classmethod
    def build(cls, vectors: np.ndarray, counts: np.ndarray, facets: FacetTable, tokens: Tokens) -> BaseSegment:
        """A base over the given rows: faiss (flat or IVF) and BM25 built from the vectors and tokens, which
        may be memory-mapped files in the base's future directory (`staged`)."""
        dim = vectors.shape[1]
        dense: faiss.Index
        if len(vectors) >= IVF_MIN_PASSAGES:
            dense = _ivf_index(vectors)
        else:
            dense = faiss.IndexFlatIP(dim)
            dense.add(np.ascontiguousarray(vectors, dtype=np.float32))
        bm25, avgdl = _bm25_index(tokens) if tokens.rows else (None, 1.0)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return cls(vectors, offsets, facets, dense, bm25, tokens.rows, avgdl, tokens=tokens)

    def linking(self) -> dict[str, np.ndarray]:
        """Concept IRI -> the base rows that link it, alive or not: saved with the base, because
        gathering them from the facets takes seconds at 1M rows (a first search would wait for it)."""
        if self.concept_rows is None:
            self.concept_rows = self.facets.concept_rows()
        return self.concept_rows

    def read_tokens(self) -> Tokens:
        """The BM25 tokens per row: from memory when built here, else from disk (ids memory-mapped)."""
        if self.tokens is not None:
            return self.tokens
        assert self.directory is not None, "a base without tokens in memory has them on disk"
        return Tokens.load(self.directory)

    def save(self, directory: Path) -> None:
        """Write the segment into `directory`; the files built there already (`staged`) stay as they are."""
        directory.mkdir(parents=True, exist_ok=self.staged == directory)
        if not _stored_in(self.vectors, directory / "vectors.npy"):
            np.save(directory / "vectors.npy", self.vectors)
        np.save(directory / "passage_row.npy", _passage_rows(np.diff(self.row_offsets), 0))
        np.save(directory / "row_offsets.npy", self.row_offsets)
        self.facets.save(directory / FACETS_DIR)
        self.read_tokens().save(directory)
        _save_concept_rows(directory, self.linking())
        (directory / "stats.json").write_text(json.dumps({"n_docs": self.n_docs, "avgdl": self.avgdl}))
        if self.dense is not None:
            faiss.write_index(self.dense, str(directory / "dense.faiss"))
        if self.bm25 is not None:
            self.bm25.save(directory / "bm25")
        _fsync_tree(directory)
        self.name, self.directory, self.tokens, self.staged = directory.name, directory, None, None
        # as a loaded base: pages, not heap
        self.vectors = np.load(directory / "vectors.npy", mmap_mode="r")
        self.facets = FacetTable.load(directory / FACETS_DIR)

    @classmethod
    def load(cls, directory: Path, name: str) -> BaseSegment:
        """The base in `directory`: small files read, the large ones (BM25's matrix included) memory-mapped."""
        if not (directory / FACETS_DIR).is_dir() and not (directory / LEGACY_FACETS).exists():
            raise FileNotFoundError(directory / FACETS_DIR)
        dense = None
        if (directory / "dense.faiss").exists():
            # the inverted lists (the 8-bit codes, 1.4 GB at 1M cases) memory-mapped, not read: faiss's
            # OnDiskInvertedLists over the file, read-only (the base never changes)
            dense = faiss.read_index(str(directory / "dense.faiss"), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
        # memory-mapped: only the rows a search explains or a similar-case query reads come in
        vectors = np.load(directory / "vectors.npy", mmap_mode="r")
        row_offsets = np.load(directory / "row_offsets.npy", mmap_mode="r")
        facets = load_facets(directory)  # converted once from a facets.json of an older base
        bm25 = None
        if (directory / "bm25").exists():  # score matrices mapped: reading them took 3 s at 1M cases
            bm25 = Bm25Matrix.load(directory / "bm25")
        stats_file = directory / "stats.json"
        stats = json.loads(stats_file.read_text()) if stats_file.exists() else None
        base = cls(vectors, row_offsets, facets, dense, bm25, 0, 1.0, name=name, directory=directory)
        base.concept_rows = _load_concept_rows(directory)
        if stats is None:  # a FORMAT 2 base: bm25s kept no average length, so count it once and keep it
            docs = base.read_tokens()
            stats = {"n_docs": docs.rows, "avgdl": float(docs.lengths().mean()) if docs.rows else 1.0}
            _write_atomically(stats_file, json.dumps(stats))
        base.n_docs, base.avgdl = int(stats["n_docs"]), float(stats["avgdl"])
        return base


@dataclass
class AppendSegment:
    """The cases added since the base was built: vectors searched exactly, BM25 postings of its own."""

    vectors: np.ndarray
    counts: np.ndarray  # passages per row
    facets: Facets
    tokens: list[list[str]]
    df: Counter[str] = field(init=False)
    postings: dict[str, tuple[np.ndarray, np.ndarray]] = field(init=False)  # term -> (rows, tf counts)
    lengths: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.lengths = np.asarray([len(t) or 1 for t in self.tokens], dtype=np.float32)
        by_term: dict[str, tuple[list[int], list[int]]] = {}
        for row, tokens in enumerate(self.tokens):
            for term, tf in Counter(tokens).items():
                rows, tfs = by_term.setdefault(term, ([], []))
                rows.append(row)
                tfs.append(tf)
        self.postings = {
            t: (np.asarray(r, dtype=np.int64), np.asarray(f, dtype=np.float32)) for t, (r, f) in by_term.items()
        }
        self.df = Counter({t: len(r) for t, (r, _) in by_term.items()})

    @property
    def rows(self) -> int:
        return len(self.tokens)

    @classmethod
    def empty(cls, dim: int) -> AppendSegment:
        return cls(np.zeros((0, dim), dtype=np.float32), np.zeros(0, dtype=np.int64), Facets(), [])

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True)
        np.save(directory / "vectors.npy", self.vectors)
        np.save(directory / "counts.npy", self.counts)
        (directory / "facets.json").write_text(json.dumps(self.facets.__dict__, ensure_ascii=False))
        (directory / "tokens.json").write_text(json.dumps(self.tokens, ensure_ascii=False))
        _fsync_tree(directory)

    @classmethod
    def load(cls, directory: Path) -> AppendSegment:
        return cls(
            np.load(directory / "vectors.npy"),
            np.load(directory / "counts.npy"),
            Facets(**json.loads((directory / "facets.json").read_text())),
            json.loads((directory / "tokens.json").read_text()),
        )


class SearchIndex:
    def __init__(self, encoder: Encoder):
        self.encoder = encoder
        self.revision: str | None = None
        self.base = BaseSegment.empty(encoder.dim)
        self.extra = AppendSegment.empty(encoder.dim)
        # both segments, base rows first, with the alive flags (the base's dead set applied)
        self.facets = JointFacets(self.base.facets, self.extra.facets, np.zeros(0, dtype=bool))
        self.vectors = RowVectors(self.base.vectors, self.extra.vectors)
        self._passage_row: np.ndarray | None = np.zeros(0, dtype=np.int32)  # passage -> case row
        self.row_offsets = np.zeros(1, dtype=np.int64)  # row r's passages: [off[r], off[r+1])
        self.generation = 0  # of the saved manifest
        self.analysis: str | None = analysis_id()  # how its BM25 tokens were made; None: before this was recorded
        self._saved = False  # whether the manifest in the index directory describes this index
        self._extra_rows: dict[str, int] = {}  # the append segment's rows by IRI (the base's: FacetTable.rows_of)
        self._postings: dict[str, np.ndarray] | None = None

    # --- size and lookup -------------------------------------------------------

    def __len__(self) -> int:
        return len(self.facets)

    @property
    def passage_row(self) -> np.ndarray:
        """Passage -> case row, for both segments (made on first use: a process that only appends needs none)."""
        if self._passage_row is None:
            n_base, base_offsets = self.base.rows, self.base.row_offsets
            in_extra = _passage_rows(self.extra.counts, n_base)
            in_base = _passage_rows(np.diff(base_offsets), 0)
            self._passage_row = np.concatenate([in_base, in_extra]) if n_base else in_extra
        return self._passage_row

    @property
    def dense(self) -> faiss.Index | None:
        """The base segment's faiss index (the append segment is searched exactly)."""
        return self.base.dense

    @property
    def alive_count(self) -> int:
        return int(self.alive_mask().sum())

    @property
    def dead_base_rows(self) -> np.ndarray:
        return np.flatnonzero(~self.alive_mask()[: self.base.rows])

    def alive_mask(self) -> np.ndarray:
        """Rows still in the graph, as a boolean array (a fresh copy: callers narrow it)."""
        return self.facets.alive.copy()

    def row_of(self, case_iri: str) -> int | None:
        """The alive row of the case, if the index holds it."""
        row = self._extra_rows.get(case_iri)
        if row is not None:
            return row
        alive = self.facets.alive
        return next((r for r in self.base.facets.rows_of(case_iri) if alive[r]), None)

    def alive_stamps(self) -> dict[str, str]:
        f = self.facets
        iris, stamps = list(f.iris), list(f.stamps)  # whole columns decoded at once: 1M lookups cost seconds
        return {iris[r]: stamps[r] for r in np.flatnonzero(f.alive).tolist()}

    def stamps_of(self, case_iris: Iterable[str]) -> dict[str, str]:
        """The stamps of those of the given cases that the index holds alive."""
        rows = {i: self.row_of(i) for i in case_iris}
        return {i: self.facets.stamps[r] for i, r in rows.items() if r is not None}

    def postings(self) -> dict[str, np.ndarray]:
        """Concept IRI -> alive rows that link it (explicit, derived or knelpunttype), as row arrays."""
        if self._postings is None:
            alive = self.alive_mask()
            found = {c: rows[alive[rows]] for c, rows in self.base.linking().items()}
            for concept, rows in FacetTable.of(self.extra.facets).concept_rows(self.base.rows).items():
                rows = rows[alive[rows]]
                found[concept] = np.concatenate([found[concept], rows]) if concept in found else rows
            self._postings = {c: rows.astype(np.int64) for c, rows in found.items() if len(rows)}
        return self._postings

    @property
    def on_disk(self) -> bool:
        """Whether the index directory's manifest describes this index (so a revision-only change rewrites it alone)."""
        return self._saved

    # --- the signals' reads across both segments -------------------------------

    def dense_search(
        self, query: np.ndarray, k: int, passage_ok: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The k best passages for a (1, dim) query, best first: (scores, passage ids in the joint numbering).

        `passage_ok` (one flag per passage) restricts the search; the base goes through faiss, the
        append segment is scored exactly.
        """
        n_base = len(self.base.vectors)
        scores, ids = [np.zeros(0, np.float32)], [np.zeros(0, np.int64)]
        base = self.base.dense
        if base is not None and base.ntotal:
            base_ok = None if passage_ok is None else passage_ok[:n_base]
            s, i = _faiss_search(base, self.base.vectors, query, k, base_ok)
            scores.append(s)
            ids.append(i)
        if len(self.extra.vectors):
            sims = self.extra.vectors @ query[0]
            candidates = np.arange(len(sims)) if passage_ok is None else np.flatnonzero(passage_ok[n_base:])
            top = candidates[_top(sims[candidates], k)]
            scores.append(sims[top])
            ids.append(top + n_base)
        all_scores, all_ids = np.concatenate(scores), np.concatenate(ids)
        best = _top(all_scores, k)
        return all_scores[best], all_ids[best]

    def has_term(self, term: str) -> bool:
        return sum(self._df(term)) > 0

    def vocabulary(self) -> frozenset[str]:
        """Every BM25 token of either segment (a replaced case's words may linger until the next merge)."""
        base = self.base.bm25.vocab_dict if self.base.bm25 is not None else {}
        return frozenset(t for t in (*base, *self.extra.df) if t)

    def idf(self, token: str) -> float:
        """The term's idf over the whole collection (both segments), 0 for a term no case has."""
        base_df, append_df = self._df(token)
        df = base_df + append_df
        return lucene_idf(df, self.base.n_docs + self.extra.rows) if df else 0.0

    def lexical_scores(self, terms: list[str]) -> np.ndarray:
        """BM25 ("lucene") of every row for the query terms, with the collection's idf (module docstring)."""
        scores = np.zeros(len(self), dtype=np.float32)
        base, n_base = self.base, self.base.rows
        for term in terms:
            idf = self.idf(term)
            base_df, append_df = self._df(term)
            if base_df:
                assert base.bm25 is not None, "a base with documents has its BM25"
                matrix, tid = base.bm25.scores, base.bm25.vocab_dict[term]
                lo, hi = matrix["indptr"][tid], matrix["indptr"][tid + 1]
                rescale = idf / lucene_idf(base_df, base.n_docs)
                # a term's column lists each document once, so a fancy-indexed += adds every score
                scores[matrix["indices"][lo:hi]] += matrix["data"][lo:hi] * rescale
            if append_df:
                rows, tf = self.extra.postings[term]
                norm = BM25_K1 * (1 - BM25_B + BM25_B * self.extra.lengths[rows] / self._avgdl())
                scores[n_base + rows] += idf * tf / (tf + norm)
        return scores

    def terms_in_row(self, terms: Iterable[str], row: int) -> list[str]:
        """Those of the terms that the row's text contains: one scan of each term's postings, no scoring."""
        base, n_base = self.base, self.base.rows
        found = []
        for term in terms:
            base_df, append_df = self._df(term)
            if row < n_base and base_df:
                assert base.bm25 is not None, "a base with documents has its BM25"
                matrix, tid = base.bm25.scores, base.bm25.vocab_dict[term]
                lo, hi = matrix["indptr"][tid], matrix["indptr"][tid + 1]
                if (matrix["indices"][lo:hi] == row).any():
                    found.append(term)
            elif row >= n_base and append_df and (self.extra.postings[term][0] == row - n_base).any():
                found.append(term)
        return found

    def _df(self, term: str) -> tuple[int, int]:
        tid = self.base.bm25.vocab_dict.get(term) if self.base.bm25 is not None else None
        return (int(self.base.df[tid]) if tid is not None else 0), self.extra.df.get(term, 0)

    def _avgdl(self) -> float:
        """The base's average document length (what its precomputed scores use); the append's without a base."""
        if self.base.n_docs:
            return self.base.avgdl
        return float(self.extra.lengths.mean()) if self.extra.rows else 1.0

    # --- building --------------------------------------------------------------

    def copy(self) -> SearchIndex:
        """A twin to change while this one keeps answering; segments are replaced on change, never edited."""
        twin = SearchIndex(self.encoder)
        twin.revision, twin.generation, twin.analysis = self.revision, self.generation, self.analysis
        twin.base, twin.extra = self.base, self.extra
        twin.facets = JointFacets(self.base.facets, self.extra.facets, self.facets.alive.copy())
        twin.vectors, twin._passage_row, twin.row_offsets = self.vectors, self._passage_row, self.row_offsets
        twin._extra_rows = dict(self._extra_rows)
        return twin

    def add(
        self, docs: list[CaseDoc], progress: Callable[[int], None] | None = None, encoded: EncodedCases | None = None
    ) -> None:
        """Add cases to the append segment (older rows of the same IRI die); progress(n) counts encoded cases.
        `encoded`: their vectors, encoded already (search/ahead.py)."""
        counts = [len(passage_texts(doc.title, doc.situation)) for doc in docs]
        new_vectors = self._vectors_for(docs, progress, encoded)
        new_facets = Facets()
        for doc in docs:
            new_facets.append(doc)
        tokens = [analyse(lexical_text(doc.title, doc.situation, doc.solution)) for doc in docs]
        vectors = new_vectors.reshape(-1, self.encoder.dim)
        self._change(new_facets.iris, AppendSegment(vectors, np.asarray(counts, dtype=np.int64), new_facets, tokens))

    def remove(self, case_iris: Iterable[str]) -> None:
        self._change(case_iris, AppendSegment.empty(self.encoder.dim))

    def _change(self, dying: Iterable[str], new: AppendSegment) -> None:
        """Mark the rows of `dying` dead (base) or drop them (append), then append `new`."""
        n_base = self.base.rows
        dropped = set()
        for case_iri in dying:
            row = self.row_of(case_iri)
            if row is not None and row < n_base:
                self.facets.alive[row] = False
            elif row is not None:
                dropped.add(row - n_base)
        old = self.extra
        keep = [r for r in range(old.rows) if r not in dropped]
        keep_passages = _passages_of(old.counts, keep)
        self._set_append(
            AppendSegment(
                np.concatenate([old.vectors[keep_passages], new.vectors]),
                np.concatenate([old.counts[keep], new.counts]).astype(np.int64),
                old.facets.rows(keep) + new.facets,
                [old.tokens[r] for r in keep] + new.tokens,
            )
        )

    def _set_append(self, extra: AppendSegment, base_alive: np.ndarray | None = None) -> None:
        """Make `extra` the append segment: the joint arrays, facets and lookups follow. `base_alive`: the
        base rows' alive flags (default: as they are now)."""
        n_base = self.base.rows
        if base_alive is None:
            base_alive = self.facets.alive[:n_base]
        self.extra = extra
        alive = np.concatenate([base_alive, np.ones(extra.rows, dtype=bool)])
        self.facets = JointFacets(self.base.facets, extra.facets, alive)
        self.vectors = RowVectors(self.base.vectors, extra.vectors)
        base_offsets = self.base.row_offsets
        self.row_offsets = np.concatenate([base_offsets, base_offsets[-1] + np.cumsum(extra.counts)]).astype(np.int64)
        self._extra_rows = {case_iri: n_base + row for row, case_iri in enumerate(extra.facets.iris)}
        self._passage_row = self._postings = None

    def merge_due(self) -> bool:
        """The append segment or the dead rows have grown past the thresholds (module constants)."""
        base_rows = self.base.rows
        append_limit = min(max(MERGE_APPEND_MIN, MERGE_APPEND_SHARE * base_rows), MERGE_APPEND_MAX)
        return self.extra.rows > append_limit or len(self.dead_base_rows) > MERGE_DEAD_SHARE * base_rows

    def merge_urgent(self) -> bool:
        """Too far past the thresholds to wait for a background merge (a first build, a huge import)."""
        return self.extra.rows > MERGE_APPEND_MAX or len(self.dead_base_rows) > MERGE_DEAD_URGENT * self.base.rows

    def merged(
        self,
        lexical_texts: dict[str, str] | None = None,
        directory: Path | None = None,
        adding: list[CaseDoc] | None = None,
        progress: Callable[[int], None] | None = None,
        encoded: EncodedCases | None = None,
    ) -> SearchIndex:
        """The alive rows of both segments in one new base (no re-encoding); the base's tokens are read
        here, or made afresh from `lexical_texts` (case IRI -> `lexical_text`) when the analysis changed.

        `adding`: new cases (none of them alive here) encoded straight into the new base, after the
        alive rows, ENCODE_ROWS at a time (or copied from `encoded`); progress(n) counts them. How a large
        import indexes: its vectors never sit in memory all at once, as they would in an append segment.

        With the index `directory`, the new base's vectors and token ids are written straight into its
        own directory there (a fresh name no manifest uses, so a crash leaves a leftover that the next
        load removes), a slice at a time: no step holds all vectors or all tokens in memory.
        """
        keep = np.flatnonzero(self.alive_mask())
        adding = adding or []
        staged = None
        if directory is not None:
            staged = directory / f"base-{time.time_ns()}"
            staged.mkdir(parents=True)
        try:
            base = self._built_base(keep, lexical_texts, staged, adding, progress, encoded)
        except BaseException:
            if staged is not None:
                _remove(staged)
            raise
        fresh = SearchIndex(self.encoder)
        fresh.revision, fresh.generation = self.revision, self.generation
        fresh.analysis = analysis_id() if lexical_texts is not None else self.analysis
        fresh.base = base
        fresh._set_append(AppendSegment.empty(self.encoder.dim), np.array(base.facets.alive, dtype=bool))
        return fresh

    def _built_base(
        self,
        keep: np.ndarray,
        lexical_texts: dict[str, str] | None,
        staged: Path | None,
        adding: list[CaseDoc],
        progress: Callable[[int], None] | None,
        encoded: EncodedCases | None,
    ) -> BaseSegment:
        new_counts = np.asarray([len(passage_texts(d.title, d.situation)) for d in adding], dtype=np.int64)
        vectors = self._gathered_vectors(keep, staged, adding, new_counts, progress, encoded)
        new_tokens = (analyse(lexical_text(d.title, d.situation, d.solution)) for d in adding)
        if lexical_texts is not None:
            texts = (lexical_texts.get(self.facets.iris[r], "") for r in keep.tolist())
            tokens = Tokens.from_lists(itertools.chain((analyse(text) for text in texts), new_tokens))
        else:
            tokens = self._gathered_tokens(keep, staged, new_tokens)
        counts = np.concatenate([np.diff(self.row_offsets)[keep], new_counts])
        facets = self.facets.table(keep, adding)
        base = BaseSegment.build(vectors, counts, facets, tokens)
        base.staged = staged
        return base

    def _gathered_vectors(
        self,
        keep: np.ndarray,
        staged: Path | None,
        adding: list[CaseDoc],
        new_counts: np.ndarray,
        progress: Callable[[int], None] | None,
        encoded: EncodedCases | None,
    ) -> np.ndarray:
        """The passage vectors of the `keep` rows, in order, then those of `adding`, encoded here:
        in memory, or in `staged`/vectors.npy."""
        counts = np.diff(self.row_offsets)
        shape = (int(counts[keep].sum() + new_counts.sum()), self.encoder.dim)
        out = _new_array(staged, "vectors.npy", shape, np.float32)
        written = 0
        for chunk in _chunks(len(keep), GATHER_ROWS):
            piece = self.vectors[_passages_of(counts, keep[chunk])]
            out[written : written + len(piece)] = piece
            written += len(piece)
            _drop_pages(out, self.base.vectors)
        for chunk in _chunks(len(adding), ENCODE_ROWS):
            vectors = self._vectors_for(adding[chunk], progress, encoded)
            out[written : written + len(vectors)] = vectors
            written += len(vectors)
            _drop_pages(out)
        return _flushed(out)

    def _vectors_for(
        self, docs: list[CaseDoc], progress: Callable[[int], None] | None, encoded: EncodedCases | None
    ) -> np.ndarray:
        """The passage vectors of `docs`: copied from `encoded` when it has them all, else encoded here."""
        if encoded is not None and all(d.iri in encoded for d in docs):
            vectors = encoded.vectors(docs)
            if progress:
                progress(len(docs))
            return vectors
        texts = [t for doc in docs for t in passage_texts(doc.title, doc.situation)]
        vectors = self.encoder.encode_bulk(texts, _case_progress(progress, len(texts), len(docs)))
        return vectors.reshape(-1, self.encoder.dim)

    def _gathered_tokens(self, keep: np.ndarray, staged: Path | None, adding: Iterable[list[str]]) -> Tokens:
        """The BM25 tokens of the `keep` rows as ids (base rows copied as ids, append rows converted),
        then the token lists of `adding`."""
        n_base = self.base.rows
        base = self.base.read_tokens() if n_base else Tokens.empty()
        in_base, in_extra = keep[keep < n_base], keep[keep >= n_base] - n_base
        appended = itertools.chain((self.extra.tokens[r] for r in in_extra.tolist()), adding)
        extra = Tokens.from_lists(appended, list(base.vocab))
        base_lengths = np.diff(base.offsets)
        lengths = np.concatenate([base_lengths[in_base], np.diff(extra.offsets)])
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        ids = _new_array(staged, TOKEN_IDS, (int(offsets[-1]),), np.int32)
        written = 0
        for chunk in _chunks(len(in_base), GATHER_ROWS):
            piece = base.ids[_passages_of(base_lengths, in_base[chunk])]
            ids[written : written + len(piece)] = piece
            written += len(piece)
            _drop_pages(ids, base.ids)
        ids[written:] = extra.ids
        tokens = Tokens(extra.vocab, ids, offsets).compacted()
        tokens.ids = _flushed(tokens.ids)
        return tokens

    def rebased(self, merged: SearchIndex) -> SearchIndex:
        """`merged` (built from an earlier state of this index) brought up to this index: what changed
        since is carried over as append rows, vectors and tokens included (no re-encoding)."""
        index = merged.copy()
        ours, theirs = self.alive_stamps(), merged.alive_stamps()
        gone = [i for i, stamp in theirs.items() if ours.get(i) != stamp]
        rows = [self.row_of(i) for i, stamp in ours.items() if theirs.get(i) != stamp]
        carried = [r for r in rows if r is not None]  # all: `ours` holds alive rows only
        n_base = self.base.rows
        assert all(r >= n_base for r in carried), "what changed since a merge's snapshot is in the append segment"
        local = [r - n_base for r in carried]
        passages = _passages_of(self.extra.counts, local)
        index._change(
            gone,
            AppendSegment(
                self.extra.vectors[passages].reshape(-1, self.encoder.dim),
                self.extra.counts[local].astype(np.int64),
                self.extra.facets.rows(local),
                [self.extra.tokens[r] for r in local],
            ),
        )
        index.revision = self.revision
        return index

    # --- persistence -----------------------------------------------------------

    def save(self, directory: Path) -> None:
        """New segments under fresh names, then the manifest (atomically); then the files only the old one named go."""
        directory.mkdir(parents=True, exist_ok=True)
        previous = _named_files(directory)
        # past any generation on disk: an index rebuilt for another encoder starts counting afresh
        self.generation = max(self.generation, _generation_on_disk(directory)) + 1
        self.save_base(directory)
        files: dict[str, str | None] = {"base": self.base.name, "append": None, "dead": None}
        if self.extra.rows:
            files["append"] = append = f"append-{self.generation}"
            self.extra.save(directory / append)
        dead = self.dead_base_rows
        if len(dead):
            files["dead"] = dead_file = f"dead-{self.generation}.npy"
            _save_synced(directory / dead_file, dead.astype(np.int64))
        _crash_point("index-segments-written")
        self._write_manifest(directory, files)
        _crash_point("index-manifest-written")
        for name in previous - _named(files):
            _remove(directory / name)
        self._saved = True

    def save_base(self, directory: Path) -> None:
        """Write the base segment if it is new, under a name no manifest uses yet (a background merge
        writes it before it takes the lock to swap in)."""
        if self.base.name is None and self.base.rows:
            staged = self.base.staged
            self.base.save(
                staged if staged is not None and staged.parent == directory else directory / f"base-{time.time_ns()}"
            )
            self.vectors = RowVectors(self.base.vectors, self.extra.vectors)

    def save_revision(self, directory: Path) -> None:
        """Only the graph revision moved (nothing to add or drop): rewrite the manifest alone, atomically."""
        manifest = json.loads((directory / MANIFEST).read_text())
        manifest["revision"] = self.revision
        _write_atomically(directory / MANIFEST, json.dumps(manifest, indent=1))

    def _write_manifest(self, directory: Path, files: dict[str, str | None]) -> None:
        manifest = {
            "format": FORMAT_VERSION,
            "encoder": self.encoder.id,
            "dim": self.encoder.dim,
            "revision": self.revision,
            "generation": self.generation,
            "analysis": self.analysis,
            "rows": len(self),
            "alive": self.alive_count,
            **files,
        }
        _write_atomically(directory / MANIFEST, json.dumps(manifest, indent=1))

    @classmethod
    def load(cls, directory: Path, encoder: Encoder) -> SearchIndex | None:
        """The saved index, or None when it is missing, unreadable or built by another encoder."""
        old = directory.with_name(directory.name + ".old")
        if not directory.exists() and old.exists():
            os.replace(old, directory)  # a FORMAT 2 save crashed between its two renames
        try:
            if (directory / MANIFEST).exists():
                manifest = json.loads((directory / MANIFEST).read_text())
            else:  # FORMAT 2: the whole directory is one base segment
                manifest = json.loads((directory / "meta.json").read_text())
                if manifest.get("format") == LEGACY_FORMAT:
                    manifest |= {"format": FORMAT_VERSION, "base": LEGACY_BASE, "append": None, "dead": None}
            if manifest.get("format") != FORMAT_VERSION or manifest.get("encoder") != encoder.id:
                return None
            index = cls(encoder)
            if manifest["base"] is not None:
                index.base = BaseSegment.load(directory / manifest["base"], manifest["base"])
            extra = AppendSegment.load(directory / manifest["append"]) if manifest["append"] else None
            dead = np.load(directory / manifest["dead"]) if manifest["dead"] else np.zeros(0, np.int64)
        except (OSError, ValueError, KeyError, RuntimeError):
            return None
        index.revision, index.generation = manifest.get("revision"), manifest.get("generation", 0)
        index.analysis = manifest.get("analysis")
        alive = np.array(index.base.facets.alive, dtype=bool)
        alive[dead] = False
        index._set_append(extra or AppendSegment.empty(encoder.dim), alive)
        index._saved = (directory / MANIFEST).exists()
        if index._saved:
            _remove_leftovers(directory)
        return index


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
    _drop_pages(vectors)
    for start in range(0, n, IVF_ADD_BATCH):  # a memory-mapped matrix is never read whole into memory
        index.add(np.ascontiguousarray(vectors[start : start + IVF_ADD_BATCH], dtype=np.float32))
        _drop_pages(vectors)
    index.nprobe = max(IVF_NPROBE, round(cells * IVF_PROBE_SHARE))
    return index


def nearest_passages(
    dense: faiss.Index, vectors, query: np.ndarray, k: int, params: faiss.SearchParameters | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The k passages nearest one query (shape 1 x dim), best first, scored by their exact inner product.

    A compressed index (8-bit codes, see `_ivf_index`) only draws up the shortlist: its hits are
    re-scored from the full-precision vectors, which are memory-mapped, so only these k rows are
    read. Indexes that keep full vectors already give exact scores.
    """
    scores, ids = dense.search(query, k, params=params)
    if isinstance(dense, (faiss.IndexFlat, faiss.IndexIVFFlat)):
        return scores[0], ids[0]
    shortlist = np.sort(ids[0][ids[0] >= 0])  # in file order: neighbouring rows share pages
    _read_ahead(vectors, shortlist)
    exact = np.asarray(vectors[shortlist], dtype=np.float32) @ query[0]
    best = np.argsort(-exact, kind="stable")
    return exact[best], shortlist[best]


def _read_ahead(vectors, rows: np.ndarray) -> None:
    """Ask the kernel for the rows of a memory-mapped matrix all at once.

    Why: on a cold page cache, gathering the shortlist's 800 rows faults their pages in one after the
    other, each a disk read (the first search after a start at 1M cases: 2.8 s of its 3.7 s); asked
    for together, the reads overlap (28 ms). On a warm cache it costs one system call per row.
    """
    if not isinstance(vectors, np.memmap) or vectors.filename is None or not hasattr(os, "posix_fadvise"):
        return
    size = vectors.shape[1] * vectors.itemsize
    fd = os.open(vectors.filename, os.O_RDONLY)
    try:
        for row in rows.tolist():
            os.posix_fadvise(fd, vectors.offset + row * size, size, os.POSIX_FADV_WILLNEED)
    finally:
        os.close(fd)


def _faiss_search(
    dense: faiss.Index, vectors, query: np.ndarray, k: int, ok: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """`nearest_passages`, restricted to the passages flagged in `ok` when given; missing hits (-1) dropped."""
    params: faiss.SearchParameters | None = None
    if ok is not None:
        n_ok = int(ok.sum())
        if not n_ok:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        k = min(k, n_ok)
        bitmap = np.packbits(ok, bitorder="little")
        # faiss.swig_ptr is SWIG plumbing, not documented API: tested with faiss-cpu 1.9-1.15 (pyproject caps <1.16).
        selector = faiss.IDSelectorBitmap(len(ok), faiss.swig_ptr(bitmap))
        # faiss's generated stubs declare the SearchParameters constructors without their keyword arguments
        if isinstance(dense, faiss.IndexIVF):
            params = faiss.SearchParametersIVF(sel=selector, nprobe=dense.nprobe)  # type: ignore[call-arg]
        else:
            params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
    scores, ids = nearest_passages(dense, vectors, query, min(k, dense.ntotal), params)
    found = ids >= 0
    return scores[found], ids[found].astype(np.int64)


def _bm25_index(tokens: Tokens) -> tuple[Bm25Matrix, float]:
    """The bm25s index ("lucene") of the tokens and their average length, built with numpy from the ids
    a slice of rows at a time (bm25s's own `index` wants Python lists of every document's tokens).

    Its score matrix is what bm25s builds: a CSC matrix, one column per vocabulary id listing the rows
    that hold the term, in row order, with score idf * tf / (tf + k1 * (1 - b + b * length / avgdl)).
    """
    n_docs, n_terms = tokens.rows, len(tokens.vocab)
    lengths = tokens.lengths()
    avgdl = float(lengths.mean())
    slices = list(_row_slices(tokens.offsets, TOKEN_CHUNK))
    df = np.zeros(n_terms, dtype=np.int64)
    for first, last in slices:  # pass 1: document frequencies, hence each column's place
        _, terms, _ = _term_counts(tokens, first, last)
        df += np.bincount(terms, minlength=n_terms)
        _drop_pages(tokens.ids)
    indptr = np.concatenate([[0], np.cumsum(df)]).astype(np.int64)
    idf = np.log1p((n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
    data, indices = np.empty(indptr[-1], dtype=np.float32), np.empty(indptr[-1], dtype=np.int32)
    cursor = indptr[:-1].copy()
    for first, last in slices:  # pass 2: each slice's (term, row) pairs, sorted by term, fill their columns
        rows, terms, tf = _term_counts(tokens, first, last)
        starts = np.searchsorted(terms, terms)  # the first pair of each pair's term in this slice
        places = cursor[terms] + np.arange(len(terms)) - starts
        norm = BM25_K1 * (1 - BM25_B + BM25_B * lengths[rows].astype(np.float32) / np.float32(avgdl))
        data[places] = idf[terms] * (tf / (tf + norm))
        indices[places] = rows
        cursor += np.bincount(terms, minlength=n_terms)
        _drop_pages(tokens.ids)
    bm25 = Bm25Matrix({"data": data, "indices": indices, "indptr": indptr, "num_docs": n_docs}, {})
    bm25.vocab_dict = {term: i for i, term in enumerate(tokens.vocab)}
    return bm25, avgdl


def _term_counts(tokens: Tokens, first: int, last: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, term, tf) of every distinct term of rows [first, last), sorted by term, then row."""
    lo, hi = tokens.offsets[first], tokens.offsets[last]
    span = last - first
    rows = np.repeat(np.arange(span, dtype=np.int64), np.diff(tokens.offsets[first : last + 1]))
    keys, tf = np.unique(np.asarray(tokens.ids[lo:hi], dtype=np.int64) * span + rows, return_counts=True)
    return keys % span + first, keys // span, tf.astype(np.float32)


def _row_slices(offsets: np.ndarray, tokens_per_slice: int) -> Iterable[tuple[int, int]]:
    """Consecutive row ranges of about `tokens_per_slice` tokens each (at least one row)."""
    rows = len(offsets) - 1
    first = 0
    while first < rows:
        last = int(np.searchsorted(offsets, offsets[first] + tokens_per_slice, side="right")) - 1
        last = min(max(last, first + 1), rows)
        yield first, last
        first = last


def _case_progress(progress: Callable[[int], None] | None, texts: int, cases: int) -> Callable[[int], None] | None:
    """The encoder's progress in texts, told in cases."""
    if progress is None:
        return None
    per_case = texts / max(cases, 1)
    return lambda n: progress(round(n / per_case))


def _chunks(n: int, size: int) -> Iterable[slice]:
    return (slice(start, min(start + size, n)) for start in range(0, n, size))


def _new_array(directory: Path | None, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
    """An array to fill: a writable memory-mapped .npy file in `directory`, else in memory."""
    if directory is None:
        return np.empty(shape, dtype=dtype)
    return np.lib.format.open_memmap(directory / name, mode="w+", dtype=dtype, shape=shape)


def _drop_pages(*arrays: np.ndarray) -> None:
    """Unmap what a pass over memory-mapped arrays brought in (written pages flushed first): the pages
    stay in the page cache, but no longer count in this process's RSS, so a pass over a file of any
    size adds one slice to it. In-memory arrays are left alone."""
    for matrix in arrays:
        mapped = getattr(matrix, "_mmap", None)  # numpy.memmap's mmap object: not documented API
        if isinstance(mapped, mmap.mmap):
            if matrix.flags.writeable:
                mapped.flush()
            mapped.madvise(mmap.MADV_DONTNEED)


def _stored_in(array: np.ndarray, path: Path) -> bool:
    """Whether the array is the memory-mapped file at `path` (so writing it there would truncate it)."""
    filename = getattr(array, "filename", None)
    return filename is not None and Path(filename).resolve() == path.resolve()


def _flushed(array: np.ndarray) -> np.ndarray:
    """A filled array as the base reads it: a memory-mapped one flushed and reopened read-only."""
    if isinstance(array, np.memmap) and array.filename is not None:
        array.flush()
        return np.load(array.filename, mmap_mode="r")
    return array


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k highest scores, best first."""
    if len(scores) <= k:
        return np.argsort(-scores, kind="stable")
    top = np.argpartition(-scores, k)[:k]
    return top[np.argsort(-scores[top], kind="stable")]


def _passage_rows(counts: np.ndarray, first_row: int) -> np.ndarray:
    return np.repeat(np.arange(first_row, first_row + len(counts), dtype=np.int32), counts)


def _passages_of(counts: np.ndarray, rows) -> np.ndarray:
    """The passage ids of the given rows (in that order), for per-row passage counts."""
    rows = np.asarray(rows, dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)[rows]
    return ranges(starts, np.asarray(counts, dtype=np.int64)[rows])


def _named(files: dict[str, str | None]) -> set[str]:
    named = {name for name in files.values() if name and name != LEGACY_BASE}
    return named | LEGACY_FILES if files.get("base") == LEGACY_BASE else named


def _named_files(directory: Path) -> set[str]:
    """The files the current manifest (or a FORMAT 2 index) names; empty without one."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError):
        return set(LEGACY_FILES) if (directory / "meta.json").exists() else set()
    return _named({key: manifest.get(key) for key in ("base", "append", "dead")})


def _save_concept_rows(directory: Path, linking: dict[str, np.ndarray]) -> None:
    names = sorted(linking)
    counts = [len(linking[c]) for c in names]
    rows = np.concatenate([linking[c] for c in names]) if names else np.zeros(0, dtype=np.int32)
    np.save(directory / CONCEPT_ROWS, rows.astype(np.int32))
    np.save(directory / CONCEPT_OFFSETS, np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))
    (directory / CONCEPT_NAMES).write_text(json.dumps(names, ensure_ascii=False))


def _load_concept_rows(directory: Path) -> dict[str, np.ndarray] | None:
    """The saved `BaseSegment.linking`, or None for a base saved before it was kept (gathered on first use)."""
    if not (directory / CONCEPT_NAMES).exists():
        return None
    names = json.loads((directory / CONCEPT_NAMES).read_text())
    # memory-mapped: read when the first search asks for `postings()`, never by an import
    rows, offsets = np.load(directory / CONCEPT_ROWS, mmap_mode="r"), np.load(directory / CONCEPT_OFFSETS)
    return {c: rows[offsets[i] : offsets[i + 1]] for i, c in enumerate(names)}


def _generation_on_disk(directory: Path) -> int:
    """The highest generation any append or dead file in `directory` carries in its name."""
    found = (GENERATION_NAME.fullmatch(path.name) for path in directory.iterdir())
    return max((int(m.group(1)) for m in found if m), default=0)


def _remove_leftovers(directory: Path) -> None:
    """Drop what no manifest names: a crashed save's or an unfinished merge's files (one process per data dir)."""
    named = _named_files(directory) | {MANIFEST}
    for path in directory.iterdir():
        if path.name not in named:
            _remove(path)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists():
        path.unlink()


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def _save_synced(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as handle:
        np.save(handle, array)
        handle.flush()
        os.fsync(handle.fileno())


def ivf_cells(passages: int) -> int:
    return int(2 * math.sqrt(passages))


def _training_sample(vectors: np.ndarray, cells: int) -> np.ndarray:
    n = len(vectors)
    picks = np.sort(np.random.default_rng(0).choice(n, min(n, cells * IVF_TRAIN_PER_CELL), replace=False))
    sample = np.empty((len(picks), vectors.shape[1]), dtype=np.float32)
    # in slices, unmapping each: the kernel maps pages around every row read, so scattered reads
    # over a memory-mapped file would otherwise bring nearly all of it into this process's RSS
    for start in range(0, n, IVF_ADD_BATCH):
        lo, hi = np.searchsorted(picks, [start, start + IVF_ADD_BATCH])
        sample[lo:hi] = vectors[picks[lo:hi]]
        _drop_pages(vectors)
    return sample


def _fsync_tree(directory: Path) -> None:
    for path in directory.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    fsync_dir(directory)
