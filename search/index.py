"""The persisted search index: dense passages (faiss), BM25 (bm25s) and case facets, row-aligned.

Row r is one case. Re-importing a case marks its old row dead and appends a new
one; dead rows are dropped when the index is compacted. The index records the
encoder that built it and the graph revision it reflects, so `SearchIndex.open`
can tell whether it must catch up with the graph or be rebuilt.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import bm25s
import faiss
import numpy as np

from graph.cases import CaseDoc
from search.encoders import Encoder
from search.text import analyse, passages

FORMAT_VERSION = 1
BM25_K1 = 1.2
BM25_B = 0.75
ENCODE_BATCH = 256


def passage_texts(title: str, situation: str) -> list[str]:
    """What the encoder sees of a case: its title and situation in sentence windows."""
    return [title, *passages(situation)]


def lexical_text(doc: CaseDoc) -> str:
    return f"{doc.title}\n{doc.situation}\n{doc.solution}"


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
        self.passage_row = np.zeros(0, dtype=np.int32)      # passage -> case row
        self.row_offsets = np.zeros(1, dtype=np.int64)       # row r's passages: [off[r], off[r+1])
        self.tokens: list[list[str]] = []                    # BM25 tokens per row
        self.bm25: bm25s.BM25 | None = None
        self.faiss: faiss.Index | None = None
        self._row_of_iri: dict[str, int] = {}
        self._postings: dict[str, list[int]] | None = None

    # --- size and lookup -------------------------------------------------------

    def __len__(self) -> int:
        return len(self.facets.ids)

    @property
    def alive_count(self) -> int:
        return sum(self.facets.alive)

    def row_of(self, case_iri: str) -> int | None:
        return self._row_of_iri.get(case_iri)

    def alive_stamps(self) -> dict[str, str]:
        f = self.facets
        return {f.iris[r]: f.stamps[r] for r in range(len(f.ids)) if f.alive[r]}

    def postings(self) -> dict[str, list[int]]:
        """Concept IRI -> alive rows that link it (explicit, derived or knelpunttype)."""
        if self._postings is None:
            postings: dict[str, list[int]] = {}
            for row, (concepts, types) in enumerate(zip(self.facets.concepts, self.facets.knelpunttypen)):
                if self.facets.alive[row]:
                    for concept in (*concepts, *types):
                        postings.setdefault(concept, []).append(row)
            self._postings = postings
        return self._postings

    # --- building --------------------------------------------------------------

    def add(self, docs: list[CaseDoc], progress: Callable[[int], None] | None = None) -> None:
        """Append cases (replacing older rows of the same IRI), encoding in batches."""
        for doc in docs:
            old = self._row_of_iri.get(doc.iri)
            if old is not None:
                self.facets.alive[old] = False
                self.tokens[old] = []
        new_vectors, new_rows, counts = [], [], []
        start_row = len(self)
        for batch_start in range(0, len(docs), ENCODE_BATCH):
            batch = docs[batch_start:batch_start + ENCODE_BATCH]
            texts: list[str] = []
            for i, doc in enumerate(batch):
                pieces = passage_texts(doc.title, doc.situation)
                texts.extend(pieces)
                counts.append(len(pieces))
                new_rows.extend([start_row + batch_start + i] * len(pieces))
            new_vectors.append(self.encoder.encode(texts))
            if progress:
                progress(len(batch))
        for doc in docs:
            self._row_of_iri[doc.iri] = len(self.facets.ids)
            self.facets.append(doc)
            self.tokens.append(analyse(lexical_text(doc)))
        if docs:
            self.vectors = np.vstack([self.vectors, *new_vectors])
            self.passage_row = np.concatenate([self.passage_row, np.asarray(new_rows, dtype=np.int32)])
            ends = self.row_offsets[-1] + np.cumsum(counts)
            self.row_offsets = np.concatenate([self.row_offsets, ends])
        self._rebuild_derived()

    def remove(self, case_iris: Iterable[str]) -> None:
        for case_iri in case_iris:
            row = self._row_of_iri.pop(case_iri, None)
            if row is not None:
                self.facets.alive[row] = False
                self.tokens[row] = []
        self._rebuild_derived()

    def _rebuild_derived(self) -> None:
        """faiss and BM25 are derived from vectors and tokens; rebuilding them is cheap next to encoding."""
        self._postings = None
        self.faiss = faiss.IndexFlatIP(self.encoder.dim)
        if len(self.vectors):
            self.faiss.add(self.vectors)
        self.bm25 = bm25s.BM25(k1=BM25_K1, b=BM25_B, method="lucene")
        corpus = [t or [""] for t in self.tokens] or [[""]]
        self.bm25.index(corpus, show_progress=False)
        self._idf = self._document_idf()

    def _document_idf(self) -> dict[str, float]:
        n = max(self.alive_count, 1)
        df: dict[str, int] = {}
        for tokens in self.tokens:
            for token in set(tokens):
                df[token] = df.get(token, 0) + 1
        return {t: float(np.log(1 + (n - d + 0.5) / (d + 0.5))) for t, d in df.items()}

    def idf(self, token: str) -> float:
        return self._idf.get(token, 0.0)

    # --- persistence -----------------------------------------------------------

    def save(self, directory: Path) -> None:
        """Write to a fresh directory, then swap it in: a crash leaves the old index whole."""
        tmp = directory.with_name(directory.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        np.save(tmp / "vectors.npy", self.vectors)
        np.save(tmp / "passage_row.npy", self.passage_row)
        np.save(tmp / "row_offsets.npy", self.row_offsets)
        with open(tmp / "rows.json", "w") as out:
            json.dump({"facets": self.facets.__dict__, "tokens": self.tokens}, out, ensure_ascii=False)
        meta = {"format": FORMAT_VERSION, "encoder": self.encoder.id, "dim": self.encoder.dim,
                "revision": self.revision, "rows": len(self), "alive": self.alive_count}
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
        old = directory.with_name(directory.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if directory.exists():
            os.replace(directory, old)
        os.replace(tmp, directory)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, directory: Path, encoder: Encoder) -> "SearchIndex | None":
        """The saved index, or None when it is missing, unreadable or built by another encoder."""
        old = directory.with_name(directory.name + ".old")
        if not directory.exists() and old.exists():
            os.replace(old, directory)  # a crash between the two renames in save()
        try:
            meta = json.loads((directory / "meta.json").read_text())
            if meta.get("format") != FORMAT_VERSION or meta.get("encoder") != encoder.id:
                return None
            index = cls(encoder)
            index.vectors = np.load(directory / "vectors.npy")
            index.passage_row = np.load(directory / "passage_row.npy")
            index.row_offsets = np.load(directory / "row_offsets.npy")
            rows = json.loads((directory / "rows.json").read_text())
        except (OSError, ValueError, KeyError):
            return None
        index.facets = Facets(**rows["facets"])
        index.tokens = rows["tokens"]
        index.revision = meta.get("revision")
        index._row_of_iri = {i: r for r, i in enumerate(index.facets.iris) if index.facets.alive[r]}
        index._rebuild_derived()
        return index

    def compacted(self) -> "SearchIndex":
        """A copy without dead rows (no re-encoding)."""
        keep = [r for r in range(len(self)) if self.facets.alive[r]]
        fresh = SearchIndex(self.encoder)
        fresh.revision = self.revision
        vectors, rows, offsets = [], [], [0]
        for new_row, row in enumerate(keep):
            a, b = self.row_offsets[row], self.row_offsets[row + 1]
            vectors.append(self.vectors[a:b])
            rows.extend([new_row] * int(b - a))
            offsets.append(offsets[-1] + int(b - a))
            for name, values in fresh.facets.__dict__.items():
                values.append(getattr(self.facets, name)[row])
            fresh.tokens.append(self.tokens[row])
        if vectors:
            fresh.vectors = np.vstack(vectors)
        fresh.passage_row = np.asarray(rows, dtype=np.int32)
        fresh.row_offsets = np.asarray(offsets, dtype=np.int64)
        fresh._row_of_iri = {i: r for r, i in enumerate(fresh.facets.iris)}
        fresh._rebuild_derived()
        return fresh
