"""Hybrid, graph-aware ranking of cases, with an explanation per result.

Three signals, each on an absolute 0..1 scale so that a query that matches
nothing gets low scores rather than a stretched top result:
- dense: best cosine similarity between the query and a case's passages (faiss);
- lexical: BM25 over title, situation and solution, divided by the score a
  document matching every query term once would get, capped at 1; the query is
  expanded with the SKOS labels of the concepts found in it (thesaurus words
  such as "statushouder" included), at a reduced weight; a query word no case
  contains raises that ceiling as a very rare word would;
- graph: the share of the query's concepts (laws, voorzieningen, organisations,
  levensgebieden) that the case links to.
The fused score is a weighted sum (weights tuned on the labelled set, see
`maatwerk eval`). Filters restrict the candidate rows before any ranking.
"""

from __future__ import annotations

import math
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial

import faiss
import numpy as np

from graph.concepts import Concept, ConceptIndex
from ontology.vocabulary import CASE_LINKS, THESAURUS_KINDS
from search.index import SearchIndex
from search.text import analyse

CANDIDATES = 200
# A filter that leaves fewer passages than this is searched exactly: cheaper than probing
# an approximate index that may hold few allowed passages in the cells it visits.
EXACT_BELOW = 20_000
_NO_ROWS = np.zeros(0, dtype=np.int64)
# Expansion with the labels of the concepts found in the question, thesaurus concepts included
# ("overspannen" -> "burn-out"); 0.3 was best on the tune split of 0.3/0.5/0.7.
EXPANSION_WEIGHT = 0.3
# Tune split, out-of-fold share of no-precedent questions answered "none" (MRR unchanged, 0.920-0.922):
# 0.52 at 0, 0.69 at 1.0, 0.70 at 1.5, 0.67 at 2.0; we took 1.0, a word no case has counts once.
UNKNOWN_WEIGHT = 1.0
# The kinds the graph signal compares: what a case links to (knelpunttypen are not found in a question).
GRAPH_KINDS = frozenset(k.kind for k in CASE_LINKS)
# The graph signal leaves out the thesaurus's skos:related links (statushouder -> Wet inburgering):
# counting them, even at half weight, lowered MRR on the tune split (0.914 -> 0.907).


@dataclass(frozen=True)
class Weights:
    # Tuned by grid search on search/eval/gold.jsonl: a broad plateau around dense:lexical = 1:2
    # with a small graph share; we took its middle rather than the single best cell.
    dense: float = 0.30
    lexical: float = 0.55
    graph: float = 0.15


MODES = {
    "lexical": Weights(0.0, 1.0, 0.0),
    "dense": Weights(1.0, 0.0, 0.0),
    "hybrid": Weights(0.35, 0.65, 0.0),
    "hybrid+graph": Weights(),
}


@dataclass
class Filters:
    """What a search may return: concept IRIs per filter parameter (any of them), statuses, a year range."""

    concepts: dict[str, list[str]] = field(default_factory=dict)  # filter param (law, …) -> concept IRIs
    status: list[str] = field(default_factory=list)
    year_from: int | None = None
    year_to: int | None = None

    def empty(self) -> bool:
        return not any(self.concepts.values()) and not self.status and self.year_from is None and self.year_to is None


@dataclass
class Hit:
    row: int
    score: float
    dense: float
    lexical: float
    graph: float
    shared: list[Concept]


@dataclass
class Ranking:
    hits: list[Hit]
    query_concepts: list[Concept]
    timings_ms: dict[str, float]
    query_vector: np.ndarray | None = None


class Ranker:
    def __init__(self, index: SearchIndex, concepts: ConceptIndex):
        self.index = index
        self.concepts = concepts

    def rank(
        self,
        text: str,
        k: int = 10,
        filters: Filters | None = None,
        mode: str = "hybrid+graph",
        exclude: set[int] | None = None,
        query_vector: np.ndarray | None = None,
        query_concepts: list[Concept] | None = None,
    ) -> Ranking:
        weights = MODES[mode]
        timings: dict[str, float] = {}
        clock = partial(_timed, timings)
        allowed = self.allowed_rows(filters or Filters(), exclude or set())
        with clock("link"):
            found = query_concepts if query_concepts is not None else self.concepts.linked_concepts(text)
            concepts = [c for c in found if c.kind in GRAPH_KINDS]
            thesaurus = [c for c in found if c.kind in THESAURUS_KINDS]
        dense = lexical = graph = qvec = None
        if weights.dense:
            with clock("encode"):
                qvec = query_vector if query_vector is not None else self.index.encoder.encode([text])[0]
            with clock("dense"):
                dense = self._dense(qvec, allowed)
        if weights.lexical:
            with clock("lexical"):
                lexical = self._lexical(text, concepts + thesaurus, allowed)
        with clock("graph"):
            graph = self._graph(concepts, allowed)
        with clock("fusion"):
            hits = self._fuse(weights, dense, lexical, graph, concepts, allowed, k)
        return Ranking(hits, found, timings, qvec)

    # --- candidate rows --------------------------------------------------------

    def allowed_rows(self, filters: Filters, exclude: Collection[int] = frozenset()) -> np.ndarray:
        """Mask of the rows a search may return: alive, not excluded, passing every filter."""
        f = self.index.facets
        mask = self.index.alive_mask()
        for r in exclude:
            mask[r] = False
        if filters.empty():
            return mask
        postings = self.index.postings()
        for group in filters.concepts.values():
            if group:
                in_group = np.zeros_like(mask)
                for concept in group:
                    in_group[postings.get(concept, [])] = True
                mask &= in_group
        if filters.status:
            mask &= np.asarray([s in filters.status for s in f.status], dtype=bool)
        if filters.year_from is not None or filters.year_to is not None:
            lo = filters.year_from if filters.year_from is not None else -1
            hi = filters.year_to if filters.year_to is not None else 10_000
            mask &= np.asarray([y is not None and lo <= y <= hi for y in f.year], dtype=bool)
        return mask

    # --- signals ---------------------------------------------------------------

    def _dense(self, qvec: np.ndarray, allowed: np.ndarray) -> dict[int, float]:
        index = self.index
        if not len(index.passage_row) or not allowed.any():
            return {}
        dense = index.dense
        assert dense is not None, "an index with passages has its dense index"
        query = np.ascontiguousarray(qvec.reshape(1, -1), dtype=np.float32)
        k = CANDIDATES * 4
        if allowed.all():
            scores, ids = nearest_passages(dense, index.vectors, query, min(k, dense.ntotal))
            return _best_per_row(index.passage_row, scores, ids)
        passage_ok = allowed[index.passage_row]
        n_ok = int(passage_ok.sum())
        if n_ok <= EXACT_BELOW:
            ids = np.flatnonzero(passage_ok)
            sims = np.asarray(index.vectors[ids]) @ query[0]
            top = _top_rows(sims, min(k, n_ok))
            return _best_per_row(index.passage_row, sims[top], ids[top])
        bitmap = np.packbits(passage_ok, bitorder="little")
        # faiss.swig_ptr is SWIG plumbing, not documented API: tested with faiss-cpu 1.9-1.15 (pyproject caps <1.16).
        selector = faiss.IDSelectorBitmap(len(passage_ok), faiss.swig_ptr(bitmap))
        params: faiss.SearchParameters
        # faiss's generated stubs declare the SearchParameters constructors without their keyword arguments
        if isinstance(dense, faiss.IndexIVF):
            params = faiss.SearchParametersIVF(sel=selector, nprobe=dense.nprobe)  # type: ignore[call-arg]
        else:
            params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
        scores, ids = nearest_passages(dense, index.vectors, query, min(k, n_ok), params)
        return _best_per_row(index.passage_row, scores, ids)

    def _lexical(self, text: str, concepts: list[Concept], allowed: np.ndarray) -> dict[int, float]:
        index = self.index
        bm25 = index.bm25
        assert bm25 is not None, "every built or loaded index has its BM25"
        vocab = bm25.vocab_dict  # bm25s internals, not documented API: tested with 0.2.6-0.3 (capped <0.4)
        words = list(dict.fromkeys(analyse(text)))
        terms = [t for t in words if t in vocab]
        unknown = len(words) - len(terms)
        expansion = [t for t in dict.fromkeys(self._expansion_terms(concepts)) if t in vocab and t not in terms]
        if not terms and not expansion:
            return {}
        scores = np.zeros(len(index), dtype=np.float32)
        if terms:
            scores += bm25.get_scores(terms)[: len(index)]
        if expansion:
            scores += EXPANSION_WEIGHT * bm25.get_scores(expansion)[: len(index)]
        ceiling = sum(index.idf(t) for t in terms) + EXPANSION_WEIGHT * sum(index.idf(t) for t in expansion)
        # a word no case contains counts against the match as a very rare word would, so that
        # "asdfgh qwerty bel" does not fully match a case that says "belde"
        ceiling += UNKNOWN_WEIGHT * unknown * math.log(1 + (index.alive_count + 0.5) / 0.5)
        scores[~allowed] = 0.0
        top = _top_rows(scores, CANDIDATES)
        return {int(r): min(float(scores[r]) / max(ceiling, 1e-6), 1.0) for r in top if scores[r] > 0}

    def _expansion_terms(self, concepts: list[Concept]) -> list[str]:
        labels = self.concepts.labels_of
        return [t for c in concepts for label in labels(c.iri) for t in analyse(label)]

    def _graph(self, concepts: list[Concept], allowed: np.ndarray) -> np.ndarray:
        """Per row, how many of the given concepts it links (0 for rows not allowed)."""
        counts = np.zeros(len(self.index), dtype=np.int32)
        postings = self.index.postings()
        for concept_iri in {c.iri for c in concepts}:
            counts[postings.get(concept_iri, _NO_ROWS)] += 1
        counts[~allowed] = 0
        return counts

    def _fuse(self, w: Weights, dense, lexical, graph: np.ndarray, concepts, allowed, k) -> list[Hit]:
        dense, lexical = dense or {}, lexical or {}
        unique = list({c.iri: c for c in concepts}.values())
        candidates = set(dense) | set(lexical)
        if w.graph and unique:
            # cases that share most of the query's concepts are candidates even if the text differs
            strong = np.flatnonzero(graph >= max(2, len(unique) // 2))
            candidates.update(strong[_top_rows(graph[strong].astype(np.float32), CANDIDATES)].tolist())
        if not candidates:
            return []
        rows = np.fromiter(candidates, dtype=np.int64, count=len(candidates))
        d = np.fromiter((dense.get(r, 0.0) for r in rows.tolist()), dtype=np.float64, count=len(rows))
        lex = np.fromiter((lexical.get(r, 0.0) for r in rows.tolist()), dtype=np.float64, count=len(rows))
        g = graph[rows] / len(unique) if unique else np.zeros(len(rows))
        scores = w.dense * d + w.lexical * lex + w.graph * g
        order = np.lexsort((rows, -scores))[:k]  # best first; ties by row, as before
        hits = []
        for i in order.tolist():
            row = int(rows[i])
            linked = {*self.index.facets.concepts[row], *self.index.facets.knelpunttypen[row]}
            hits.append(
                Hit(
                    row,
                    float(scores[i]),
                    float(d[i]),
                    float(lex[i]),
                    float(g[i]),
                    [c for c in unique if c.iri in linked],
                )
            )
        return hits

    # --- explanation -----------------------------------------------------------

    def best_passage(self, row: int, pieces: list[str], qvec: np.ndarray | None, text: str) -> str:
        """The situation passage closest to the query (pieces[0] is the title, as in passage_texts)."""
        body = pieces[1:] or pieces
        if qvec is not None and len(pieces) == self.index.row_offsets[row + 1] - self.index.row_offsets[row]:
            sims = self.index.vectors[self.index.row_offsets[row] : self.index.row_offsets[row + 1]] @ qvec
            return body[int(np.argmax(sims[len(pieces) - len(body) :]))]
        terms = set(analyse(text))
        return max(body, key=lambda p: len(terms & set(analyse(p))))


def nearest_passages(
    dense: faiss.Index, vectors: np.ndarray, query: np.ndarray, k: int, params: faiss.SearchParameters | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The k passages nearest one query (shape 1 x dim), best first, scored by their exact inner product.

    A compressed index (8-bit codes, see search/index.py `_ivf_index`) only draws up the shortlist:
    its hits are re-scored from the full-precision vectors, which are memory-mapped, so only
    these k rows are read. Indexes that keep full vectors already give exact scores.
    """
    scores, ids = dense.search(query, k, params=params)
    if isinstance(dense, (faiss.IndexFlat, faiss.IndexIVFFlat)):
        return scores[0], ids[0]
    shortlist = np.sort(ids[0][ids[0] >= 0])  # in file order: neighbouring rows share pages
    exact = np.asarray(vectors[shortlist], dtype=np.float32) @ query[0]
    best = np.argsort(-exact, kind="stable")
    return exact[best], shortlist[best]


def _best_per_row(passage_row: np.ndarray, scores: np.ndarray, ids: np.ndarray) -> dict[int, float]:
    """Passage hits (best first) -> each case row's best cosine, floored at 0."""
    found = ids >= 0
    rows = passage_row[ids[found]]
    _, first = np.unique(rows, return_index=True)  # a row's first hit is its best
    return dict(zip(rows[first].tolist(), np.maximum(scores[found][first], 0.0).tolist(), strict=True))


def _top_rows(scores: np.ndarray, k: int) -> np.ndarray:
    if len(scores) <= k:
        return np.argsort(-scores)
    top = np.argpartition(-scores, k)[:k]
    return top[np.argsort(-scores[top])]


@contextmanager
def _timed(timings: dict[str, float], name: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    timings[name] = timings.get(name, 0.0) + (time.perf_counter() - start) * 1000
