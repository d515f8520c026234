"""Hybrid, graph-aware ranking of cases, with an explanation per result.

Three signals, each on an absolute 0..1 scale so that a query that matches
nothing gets low scores rather than a stretched top result:
- dense: best cosine similarity between the query and a case's passages (faiss);
- lexical: BM25 over title (twice), situation and solution, compound words
  indexed with their parts (search/text.py), divided by the score a document
  matching every query term once would get, capped at 1; the query is expanded
  with the SKOS labels of the concepts found in it (thesaurus words such as
  "statushouder" included), at a reduced weight; a query word no case contains
  counts as its compound parts or a known word one typo away, and otherwise
  raises that ceiling as a very rare word would;
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

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from graph.concepts import Concept, ConceptIndex
from graph.stem import stem
from ontology.vocabulary import CASE_LINKS, THESAURUS_KINDS
from search.index import SearchIndex
from search.text import MIN_PART, analyse, split_compound, stems, words

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
# A question word no case contains counts as its compound parts ("dagopvang" -> dag, opvang), each at
# this weight (tune split, hybrid+graph MRR 0.946 -> 0.947; 0.3-0.7 the same, 1.0 lower) ...
COMPOUND_WEIGHT = 0.5
# ... or else as the known word one typo away ("spijbelt" -> spijbel): MRR unchanged, out-of-fold
# share of no-precedent questions answered "none" 0.71 -> 0.74. Words of FUZZY_MIN letters or more
# only (shorter ones have too many neighbours); allowing two typos in long words changed nothing.
FUZZY_WEIGHT = 0.5
FUZZY_MIN = 5
# The kinds the graph signal compares: what a case links to (knelpunttypen are not found in a question).
GRAPH_KINDS = frozenset(k.kind for k in CASE_LINKS)
# Ranking.lead compares the best candidate with the one at this rank (the first page of results).
LEAD_RANK = 10
# Ranking.rarest looks at this many of the question's rarest words (batches 2-5 each left out in turn and
# predicted by a calibration fitted on the others: 1 word 259 of 273 no-precedent questions "none", 2 and
# 3 words 259 and 258; without the feature 256).
RAREST_TERMS = 1
# A question's multi-word labels may have this many other words between their own ("vast te hebben
# gezeten" for "vast gezeten"); case texts are linked exactly.
QUERY_GAP = 2
# The graph signal leaves out the thesaurus's skos:related links (statushouder -> Wet inburgering):
# counting them, even at half weight, lowered MRR on the tune split (0.914 -> 0.907).


@dataclass(frozen=True)
class Weights:
    # Grid search on batches 1-3 of the labelled set (2026-12-06, after the thesaurus's part 3): a
    # plateau (MRR 0.939-0.942) for dense 0.15-0.25 with graph 0.05-0.10; graph 0.15 gave 0.935-0.938,
    # 0.20 0.930-0.936, 0 0.934-0.937, dense 0.30 0.926-0.933. We took dense 0.20, graph 0.10 (MRR
    # 0.941, recall@5 0.975) rather than the single best cell. (On batches 1-2 the plateau had been
    # graph 0.10-0.20, and 0.15 was taken.)
    # On batches 1-8 after the thesaurus's part 6 (2026-12-06): a plateau (MRR 0.962-0.965) for graph
    # 0.025-0.10 at dense 0.15-0.25; graph 0 gave 0.959-0.960 and lowered the own-words lines' MRR
    # 0.72 -> 0.59; dense 0.30-0.35 0.944-0.959. Kept as they are.
    dense: float = 0.20
    lexical: float = 0.70
    graph: float = 0.10


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
    known_share: float = 1.0
    """The share of the question's words that some case contains (directly, as compound parts or one
    typo away): low for a question from outside the field."""
    evidence: int = 0
    """How much the question says that the search can use: its distinct terms that some case contains
    plus the concepts recognised in it. One everyday word ("probleem") is 1."""
    lead: float = 0.0
    """How far the best candidate's fused score lies above the LEAD_RANK-th best (0 when fewer): a
    question that singles out no situation ("beschikking") matches many cases about equally."""
    explained: float = 0.0
    """The share of the question's information (summed idf of its own terms, an unknown word counted as
    the rarest) that the best case contains."""
    rarest: float = 0.0
    """The share of the question's RAREST_TERMS rarest words (an unknown word is the rarest of all) that
    the best case contains: an absent situation told with common words of the field ("de eigen bijdrage
    voor een hoortoestel") matches a case on those and misses the word that names it."""


@dataclass
class QueryTerms:
    weights: dict[str, float]
    """BM25 term -> its weight in the question."""
    unknown: int
    """Words of the question no case contains, nor their compound parts or a near spelling."""
    words: int
    known_terms: int = 0
    """Distinct terms of the question itself (not of its expansion) that some case contains."""

    @property
    def own(self) -> list[str]:
        """The question's own terms (its words, their compound parts or near spellings), before its expansion."""
        return list(self.weights)[: self.known_terms]

    @property
    def known_share(self) -> float:
        return 1.0 - self.unknown / max(self.words, 1)


class Ranker:
    def __init__(self, index: SearchIndex, concepts: ConceptIndex):
        self.index = index
        self.concepts = concepts
        self._vocab: _Vocabulary | None = None

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
            found = query_concepts if query_concepts is not None else self.concepts.linked_concepts(text, QUERY_GAP)
            concepts = [c for c in found if c.kind in GRAPH_KINDS]
            thesaurus = [c for c in found if c.kind in THESAURUS_KINDS]
        dense = lexical = graph = qvec = None
        if weights.dense:
            with clock("encode"):
                qvec = query_vector if query_vector is not None else self.index.encoder.encode([text])[0]
            with clock("dense"):
                dense = self._dense(qvec, allowed)
        with clock("lexical"):
            query = self._query_terms(text, concepts + thesaurus)
            if weights.lexical:
                lexical = self._lexical(query, allowed)
        with clock("graph"):
            graph = self._graph(concepts, allowed)
        with clock("fusion"):
            hits, lead = self._fuse(weights, dense, lexical, graph, concepts, allowed, k)
            explained, rarest = self._explained(query, hits[0].row) if hits else (0.0, 0.0)
        evidence = query.known_terms + len({c.iri for c in found})
        return Ranking(hits, found, timings, qvec, query.known_share, evidence, lead, explained, rarest)

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
            mask &= f.status_in(filters.status)
        if filters.year_from is not None or filters.year_to is not None:
            lo = filters.year_from if filters.year_from is not None else -1
            hi = filters.year_to if filters.year_to is not None else 10_000
            mask &= f.year_between(lo, hi)
        return mask

    # --- signals ---------------------------------------------------------------

    def _dense(self, qvec: np.ndarray, allowed: np.ndarray) -> dict[int, float]:
        index = self.index
        if not len(index.passage_row) or not allowed.any():
            return {}
        query = np.ascontiguousarray(qvec.reshape(1, -1), dtype=np.float32)
        k = CANDIDATES * 4
        if allowed.all():
            scores, ids = index.dense_search(query, k)
            return _best_per_row(index.passage_row, scores, ids)
        passage_ok = allowed[index.passage_row]
        n_ok = int(passage_ok.sum())
        if n_ok <= EXACT_BELOW:
            ids = np.flatnonzero(passage_ok)
            sims = np.asarray(index.vectors[ids]) @ query[0]
            top = _top_rows(sims, min(k, n_ok))
            return _best_per_row(index.passage_row, sims[top], ids[top])
        scores, ids = index.dense_search(query, min(k, n_ok), passage_ok)
        return _best_per_row(index.passage_row, scores, ids)

    def _explained(self, query: QueryTerms, row: int) -> tuple[float, float]:
        """The share of the question's idf mass that the case at `row` contains (Ranking.explained), and
        the share of its rarest words it contains (Ranking.rarest)."""
        index = self.index
        idf = {t: index.idf(t) for t in query.own}
        total = sum(idf.values()) + query.unknown * _rarest_idf(index.alive_count)
        held = set(index.terms_in_row(query.own, row))
        found = sum(idf[t] for t in held)
        rare = [False] * query.unknown + [t in held for t in sorted(idf, key=lambda t: (-idf[t], t))]
        rare = rare[:RAREST_TERMS]
        return (found / total if total else 0.0), (sum(rare) / len(rare) if rare else 0.0)

    def _lexical(self, query: QueryTerms, allowed: np.ndarray) -> dict[int, float]:
        index = self.index
        weighted = query.weights
        if not weighted:
            return {}
        scores = np.zeros(len(index), dtype=np.float32)
        by_weight: dict[float, list[str]] = {}
        for term, weight in weighted.items():
            by_weight.setdefault(weight, []).append(term)
        for weight, terms in by_weight.items():
            scores += weight * index.lexical_scores(terms)
        ceiling = sum(weight * index.idf(t) for t, weight in weighted.items())
        # a word no case contains counts against the match as a very rare word would, so that
        # "asdfgh qwerty bel" does not fully match a case that says "belde"
        ceiling += UNKNOWN_WEIGHT * query.unknown * _rarest_idf(index.alive_count)
        scores[~allowed] = 0.0
        top = _top_rows(scores, CANDIDATES)
        return {int(r): min(float(scores[r]) / max(ceiling, 1e-6), 1.0) for r in top if scores[r] > 0}

    def _query_terms(self, text: str, concepts: list[Concept]) -> QueryTerms:
        """The question's BM25 terms with their weights, and how many of its words stay unknown.

        A word the cases contain counts 1; an unknown word counts as its compound parts
        ("dagopvang" -> dag, opvang) or else as a known word one typo away ("spijbelt" -> spijbel),
        each at a reduced weight; the labels of the question's concepts count EXPANSION_WEIGHT.
        """
        vocab = self._vocabulary()
        weighted: dict[str, float] = {}

        def add(term: str, weight: float) -> None:
            weighted[term] = max(weighted.get(term, 0.0), weight)

        unknown = 0
        question = list(dict.fromkeys(words(text)))
        for word in question:
            token = stem(word)
            if token in vocab.tokens:
                add(token, 1.0)
                continue
            # (adding the parts of known words too, as the case texts have them, lowered MRR: 0.947 -> 0.943)
            parts = split_compound(word, vocab.tokens.__contains__, MIN_PART)
            if parts:
                for part in parts:
                    add(part, COMPOUND_WEIGHT)
                continue
            close = vocab.closest(token)
            if close:
                add(close, FUZZY_WEIGHT)
            else:
                unknown += 1
        known_terms = len(weighted)
        for term in self._expansion_terms(concepts):
            if term in vocab.tokens:
                add(term, EXPANSION_WEIGHT)
        return QueryTerms(weighted, unknown, len(question), known_terms)

    def _vocabulary(self) -> _Vocabulary:
        if self._vocab is None:  # a Ranker serves one index: a sync makes a new Ranker
            self._vocab = _Vocabulary(self.index.vocabulary())
        return self._vocab

    def _expansion_terms(self, concepts: list[Concept]) -> list[str]:
        labels = self.concepts.labels_of
        # plain stems: the parts of a compound label ("huur" of "huurachterstand") are too broad
        # for an expansion (tune split: MRR 0.941 with them, 0.947 without)
        return [t for c in concepts for label in labels(c.iri) for t in stems(label)]

    def _graph(self, concepts: list[Concept], allowed: np.ndarray) -> np.ndarray:
        """Per row, how many of the given concepts it links (0 for rows not allowed)."""
        counts = np.zeros(len(self.index), dtype=np.int32)
        postings = self.index.postings()
        for concept_iri in {c.iri for c in concepts}:
            counts[postings.get(concept_iri, _NO_ROWS)] += 1
        counts[~allowed] = 0
        return counts

    def _fuse(self, w: Weights, dense, lexical, graph: np.ndarray, concepts, allowed, k) -> tuple[list[Hit], float]:
        """The k best candidates, and how far the best lies above the LEAD_RANK-th (Ranking.lead)."""
        dense, lexical = dense or {}, lexical or {}
        unique = list({c.iri: c for c in concepts}.values())
        candidates = set(dense) | set(lexical)
        if w.graph and unique:
            # cases that share most of the query's concepts are candidates even if the text differs
            strong = np.flatnonzero(graph >= max(2, len(unique) // 2))
            candidates.update(strong[_top_rows(graph[strong].astype(np.float32), CANDIDATES)].tolist())
        if not candidates:
            return [], 0.0
        rows = np.fromiter(candidates, dtype=np.int64, count=len(candidates))
        d = np.fromiter((dense.get(r, 0.0) for r in rows.tolist()), dtype=np.float64, count=len(rows))
        lex = np.fromiter((lexical.get(r, 0.0) for r in rows.tolist()), dtype=np.float64, count=len(rows))
        g = graph[rows] / len(unique) if unique else np.zeros(len(rows))
        scores = w.dense * d + w.lexical * lex + w.graph * g
        order = np.lexsort((rows, -scores))[:k]  # best first; ties by row, as before
        runner_up = -np.partition(-scores, LEAD_RANK - 1)[LEAD_RANK - 1] if len(scores) >= LEAD_RANK else 0.0
        lead = float(scores.max() - runner_up)
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
        return hits, lead

    # --- explanation -----------------------------------------------------------

    def best_passage(self, row: int, pieces: list[str], qvec: np.ndarray | None, text: str) -> str:
        """The situation passage closest to the query (pieces[0] is the title, as in passage_texts)."""
        body = pieces[1:] or pieces
        if qvec is not None and len(pieces) == self.index.row_offsets[row + 1] - self.index.row_offsets[row]:
            sims = self.index.vectors[self.index.row_offsets[row] : self.index.row_offsets[row + 1]] @ qvec
            return body[int(np.argmax(sims[len(pieces) - len(body) :]))]
        terms = set(analyse(text))
        return max(body, key=lambda p: len(terms & set(analyse(p))))


class _Vocabulary:
    """The BM25 tokens of an index, with a typo-tolerant lookup."""

    def __init__(self, tokens: frozenset[str]):
        self.tokens = tokens
        self._buckets: dict[tuple[str, int], list[str]] | None = None

    def closest(self, token: str) -> str | None:
        """A known token one edit (insertion, deletion or substitution) away from `token`, if any.

        One edit leaves the first or the last letter in place and changes the length by at most one,
        so only tokens of a neighbouring length that share the first or the last letter are compared
        (a few hundredths of a large vocabulary). Among several, the first in alphabetical order.
        """
        if len(token) < FUZZY_MIN:
            return None
        if self._buckets is None:
            self._buckets = {}
            for known in sorted(t for t in self.tokens if t):
                for key in (("^" + known[0], len(known)), ("$" + known[-1], len(known))):
                    self._buckets.setdefault(key, []).append(known)
        n, buckets = len(token), self._buckets
        candidates = sorted(
            {
                c
                for size in (n - 1, n, n + 1)
                for end in ("^" + token[0], "$" + token[-1])
                for c in buckets.get((end, size), ())
            }
        )
        found = process.extractOne(token, candidates, scorer=Levenshtein.distance, score_cutoff=1)
        return found[0] if found else None


def _rarest_idf(n: int) -> float:
    """The idf a word found in no case would have: how an unknown question word counts."""
    return math.log(1 + (n + 0.5) / 0.5)


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
