"""The search service: keeps the index in step with the graph and answers similar-case questions.

Responses are plain dicts in the shape of the HTTP contract (docs/http.md), so
the CLI's `--json` and the API return the same thing.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pyoxigraph as ox

from graph.case import case_details, case_iri
from graph.cases import CaseDoc, case_docs, case_stamps
from graph.concepts import Concept, ConceptIndex
from graph.errors import InvalidInput, NotFound
from ontology import ID, term
from ontology.vocabulary import BY_FIELD, BY_PARAM, FILTER_PARAMS, THESAURUS_KINDS, YEAR_PARAMS
from search import privacy
from search.ahead import CaseEncoder, EncodedCases
from search.calibration import Calibration
from search.encoders import Encoder, workers_for
from search.engine import MODES, Filters, Hit, Ranker, Ranking
from search.index import MERGE_APPEND_MAX, SearchIndex, analysis_id, lexical_text, passage_texts
from search.text import analyse

SUGGESTIONS = 5
# Suggestions look at the best few results only (none when no comparable case is known); a concept
# linked by at least UBIQUITOUS of all cases (gemeente) is suggested only when the question names it
# or MOST of those results link it.
PRECEDENTS = 5
UBIQUITOUS = 0.25
MOST = 0.6
# Evidence from a thesaurus word of the question (statushouder -> VluchtelingenWerk) counts less
# than a precedent that links the concept.
IMPLIED_WEIGHT = 0.5
# What the question names (and, without a precedent, the generic help) is listed before the rest.
ALWAYS = 10.0
# Where to turn when no comparable case is known: the national Maatwerkloket and the municipality.
GENERIC_HELP = (ID + "organisatie/maatwerkloket", ID + "organisatie/gemeente")
_ROLE, _CONTACT = ox.NamedNode(term("mw:rol")), ox.NamedNode(term("mw:contact"))
# What answers suggest next to the cases: the kinds a person acts on (levensgebieden are context).
SUGGESTED_KINDS = ("wet", "artikel", "voorziening", "organisatie")
_CASE_LINK_FIELDS = tuple(BY_FIELD)


log = logging.getLogger(__name__)


class UnknownCase(NotFound):
    """No case with this id in the index (404, exit 2)."""

    def __init__(self, case_id: str):
        super().__init__(f"Onbekende casus: {case_id}", exit_code=2)
        self.case_id = case_id


class BadFilter(InvalidInput):
    """A filter that names no known concept, status or year (422, exit 2)."""


@dataclass
class SyncReport:
    action: str  # "up-to-date" | "caught-up" | "rebuilt"
    added: int = 0
    removed: int = 0


class SearchService:
    def __init__(
        self, kg, concepts: ConceptIndex, index: SearchIndex, index_dir: Path, background_merges: bool = False
    ):
        self.kg = kg
        self.concepts = concepts
        self.index = index
        self.index_dir = index_dir
        self.ranker = Ranker(index, concepts)
        # A server merges segments in a thread; a CLI process does not start what its exit would cut short
        # (an unfinished merge only leaves files no manifest names, removed when the index is next loaded).
        self.background_merges = background_merges
        self._lock = threading.RLock()  # one change of the index at a time: syncs and a merge's swap
        self._merge: threading.Thread | None = None

    @cached_property
    def calibration(self) -> Calibration:
        """Read when the first answer needs it, so that `maatwerk eval --fit-calibration` can open the
        service to refit a calibration whose features no longer match the code."""
        return Calibration.load()

    # --- lifecycle -------------------------------------------------------------

    @classmethod
    def open(
        cls,
        kg,
        concepts: ConceptIndex,
        index_dir: Path,
        encoder: Encoder,
        progress: Callable[[int, int], None] | None = None,
        known: dict[str, CaseDoc] | None = None,
        background_merges: bool = False,
        since: str | None = None,
        ahead: CaseEncoder | None = None,
    ) -> tuple[SearchService, SyncReport]:
        """Load the saved index and bring it in step with the graph (rebuild if the encoder changed)."""
        started = time.perf_counter()
        index = SearchIndex.load(index_dir, encoder)
        log.info("index loaded in %.2f s: %s rows", time.perf_counter() - started, len(index) if index else "no index")
        rebuilt = index is None
        if index is not None and index.analysis != analysis_id():
            index = _reanalysed(kg, index, index_dir)
        service = cls(kg, concepts, index or SearchIndex(encoder), index_dir, background_merges)
        report = service.sync(progress, known, since, ahead)
        if rebuilt and report.action != "up-to-date":
            report.action = "rebuilt"
        return service, report

    def sync(
        self,
        progress: Callable[[int, int], None] | None = None,
        known: dict[str, CaseDoc] | None = None,
        since: str | None = None,
        ahead: CaseEncoder | None = None,
    ) -> SyncReport:
        """Add what the index misses, drop what the graph no longer has, re-encode what changed.

        `known` holds docs the caller just wrote (an import), so they need not be read back from
        the graph; their stamps still come from the graph, which stays the one source of truth.
        `since` is the graph revision before that write: when the index reflects it, the known cases
        are all that changed, and only their stamps are read (comparing every case's stamp takes
        seconds at 100k cases). Changes go to the append segment and the dead set (search/index.py);
        a merge into a new base runs in the background when due, or here when the append segment
        grew too large. `ahead` holds the vectors of the known cases, encoded while the import checked
        them (search/ahead.py); cases it lacks are encoded here, the same way.
        """
        with self._lock:
            report = self._sync(progress, known, since, ahead)
            self._start_merge_if_due()
            return report

    def _sync(
        self,
        progress: Callable[[int, int], None] | None,
        known: dict[str, CaseDoc] | None,
        since: str | None,
        ahead: CaseEncoder | None,
    ) -> SyncReport:
        revision = self.kg.revision()
        if self.index.revision == revision and revision is not None:
            return SyncReport("up-to-date")
        if known and since is not None and self.index.revision == since:
            in_graph = case_stamps(self.kg, sorted(known))
            in_index = self.index.stamps_of(in_graph)
            gone = []
        else:
            in_graph = case_stamps(self.kg)
            in_index = self.index.alive_stamps()
            gone = [i for i in in_index if i not in in_graph]
        stale = [i for i, stamp in in_graph.items() if in_index.get(i) != stamp]
        if not stale and not gone:
            self.index.revision = revision
            if self.index.on_disk:
                self.index.save_revision(self.index_dir)
            else:
                self.index.save(self.index_dir)
            return SyncReport("up-to-date")
        # change a twin, then swap: searches keep using the current index meanwhile
        started = time.perf_counter()
        log.info(
            "index sync: %d cases to (re-)encode, %d to drop, index has %d", len(stale), len(gone), len(self.index)
        )
        index = self.index.copy()
        if gone:
            index.remove(gone)
        if stale:
            docs = self._docs(sorted(stale), in_graph, known or {})
            done = 0

            def step(n: int) -> None:
                nonlocal done
                done += n
                if progress:
                    progress(done, len(docs))

            case_encoder = ahead or self._case_encoder(docs)
            try:
                vectors = self._encoded(case_encoder, docs, known or {}, step)
                if index.extra.rows + len(docs) > MERGE_APPEND_MAX:  # would merge at once: straight into a new base
                    index.remove(d.iri for d in docs)
                    log.info("index merge: %d rows and %d new cases into a new base", index.alive_count, len(docs))
                    index = index.merged(directory=self.index_dir, adding=docs, encoded=vectors)
                else:
                    index.add(docs, encoded=vectors)
            finally:
                if case_encoder is not ahead:
                    case_encoder.close()
        encoded = time.perf_counter()
        if index.merge_urgent():
            log.info("index merge: %d rows into a new base, in this sync", len(index))
            index = index.merged(directory=self.index_dir)
        index.revision = revision
        index.save(self.index_dir)
        self._swap(index)
        log.info(
            "index sync done in %.1f s (encode and add %.1f s, save %.1f s): %d cases, %d in the append segment",
            time.perf_counter() - started,
            encoded - started,
            time.perf_counter() - encoded,
            index.alive_count,
            index.extra.rows,
        )
        return SyncReport("caught-up", added=len(stale), removed=len(gone))

    def _swap(self, index: SearchIndex) -> None:
        self.ranker = Ranker(index, self.concepts)
        self.index = index

    # --- merging segments ------------------------------------------------------

    def merge(self) -> bool:
        """Build a new base from both segments now, in this thread (`maatwerk reindex --compact`)."""
        self.wait_for_merge()
        with self._lock:
            if not self.index.extra.rows and not len(self.index.dead_base_rows):
                return False
            index = self.index.merged(directory=self.index_dir)
            index.save(self.index_dir)
            self._swap(index)
            return True

    def wait_for_merge(self, timeout: float | None = None) -> None:
        merge = self._merge
        if merge is not None:
            merge.join(timeout)

    def _start_merge_if_due(self) -> None:
        if not self.background_merges or not self.index.merge_due():
            return
        if self._merge is not None and self._merge.is_alive():
            return
        self._merge = threading.Thread(target=self._merge_in_background, args=(self.index,), daemon=True)
        self._merge.start()

    def _merge_in_background(self, snapshot: SearchIndex) -> None:
        """Merge a snapshot without holding the lock (searches and syncs go on), then swap it in
        with whatever syncs added meanwhile carried over (no re-encoding)."""
        started = time.perf_counter()
        log.info("index merge: %d rows into a new base, in the background", len(snapshot))
        try:
            merged = snapshot.merged(directory=self.index_dir)
            merged.save_base(self.index_dir)  # the large write, outside the lock
            with self._lock:
                if self.index.base is not snapshot.base:
                    log.info("index merge: dropped, the base changed meanwhile")
                    return
                index = self.index.rebased(merged)
                index.save(self.index_dir)
                self._swap(index)
        except Exception:
            log.exception("index merge failed; the segments stay as they were")
            return
        log.info("index merge done in %.1f s: %d cases in the new base", time.perf_counter() - started, index.base.rows)

    def _case_encoder(self, docs: list[CaseDoc]) -> CaseEncoder:
        """Worker processes when there is enough to encode and the encoder can run in them."""
        encoder = self.index.encoder
        texts = sum(len(passage_texts(d.title, d.situation)) for d in docs)
        workers = workers_for(encoder, texts)
        if not workers:
            return CaseEncoder(encoder)
        self.index_dir.mkdir(parents=True, exist_ok=True)
        return CaseEncoder(encoder, workers, spill_dir=self.index_dir)

    @staticmethod
    def _encoded(
        case_encoder: CaseEncoder, docs: list[CaseDoc], known: dict[str, CaseDoc], progress: Callable[[int], None]
    ) -> EncodedCases:
        """The vectors of `docs`, fed in the import's order (`known`'s), then the rest: the order an import
        fed them ahead, so that a case gets the same vectors either way."""
        stale = {d.iri for d in docs}
        in_import_order = [known[i] for i in known if i in stale]
        for doc in [*in_import_order, *(d for d in docs if d.iri not in known)]:
            if doc.iri not in case_encoder:
                case_encoder.feed(doc)
        return case_encoder.finish(progress)

    def _docs(self, iris: list[str], stamps: dict[str, str], known: dict[str, CaseDoc]) -> list[CaseDoc]:
        unknown = [i for i in iris if i not in known]
        read = {d.iri: d for d in case_docs(self.kg, unknown)} if unknown else {}
        docs = [known.get(i) or read[i] for i in iris if i in known or i in read]
        for doc in docs:
            doc.stamp = stamps[doc.iri]
        return docs

    def refresh_concepts(self, concepts: ConceptIndex) -> None:
        self.concepts = concepts
        self.ranker = Ranker(self.index, concepts)

    # --- questions -------------------------------------------------------------

    def search(self, text: str, k: int = 10, filters: dict | None = None, mode: str = "hybrid+graph") -> dict[str, Any]:
        ranker = self.ranker  # one index for the whole answer, even if a sync swaps in a new one meanwhile
        return self._response(ranker, ranker.rank(text, k, self.filters(filters), mode), text)

    def similar(self, case_id: str, k: int = 10, filters: dict | None = None) -> dict[str, Any]:
        """Cases like a stored one: its text as the query, its own links as the query concepts, itself excluded."""
        ranker = self.ranker
        index = ranker.index
        iri = case_id if case_id.startswith("http") else case_iri(case_id)
        row = index.row_of(iri)
        case = case_details(self.kg, [iri], self.concepts).get(iri) if row is not None else None
        if row is None or case is None:
            raise UnknownCase(case_id)
        concepts = [self.concepts.concepts[c] for c in index.facets.concepts[row] if c in self.concepts.concepts]
        a, b = index.row_offsets[row], index.row_offsets[row + 1]
        vector = np.asarray(index.vectors[a:b]).mean(axis=0)
        vector /= max(float(np.linalg.norm(vector)), 1e-12)
        text = f"{case['title']}. {case['situation']}"
        ranking = ranker.rank(
            text, k, self.filters(filters), "hybrid+graph", exclude={row}, query_vector=vector, query_concepts=concepts
        )
        response = self._response(ranker, ranking, text)
        response["case"] = {"id": case["id"], "uri": iri, "title": case["title"]}
        return response

    def filters(self, raw: dict | None) -> Filters:
        """API/CLI filters (labels, slugs or IRIs) -> a Filters of concept IRIs; unknown labels are an error."""
        filters = Filters()
        for key, value in (raw or {}).items():
            if value in (None, "", []):
                continue
            if key in BY_PARAM:
                filters.concepts[key] = [self._concept(BY_PARAM[key].kind, v).iri for v in _as_list(value)]
            elif key == "status":
                filters.status = [str(v).lower() for v in _as_list(value)]
            elif key in YEAR_PARAMS:
                setattr(filters, key, _year(key, value))
            else:
                raise BadFilter(f"Onbekend filter '{key}'; gebruik {', '.join(FILTER_PARAMS)}")
        return filters

    def _concept(self, kind: str, label: str) -> Concept:
        found = self.concepts.resolve(kind, str(label))
        if len(found) != 1:
            close = self.concepts.suggestions(kind, str(label))
            hint = f"; bedoelde u: {', '.join(close)}?" if close else ""
            raise BadFilter(f"Onbekend {kind} '{label}' in filter{hint}")
        return found[0]

    # --- response --------------------------------------------------------------

    def _response(self, ranker: Ranker, ranking: Ranking, text: str) -> dict[str, Any]:
        iris = [ranker.index.facets.iris[h.row] for h in ranking.hits]
        details = case_details(self.kg, iris, self.concepts)
        query_terms = set(analyse(text))  # once per answer, not once per result
        relevance = self.calibration.relevance(ranking)
        thesaurus = [c for c in ranking.query_concepts if c.kind in THESAURUS_KINDS]
        results = [
            self._result(ranker, hit, details[iri], ranking, text, query_terms, p, thesaurus)
            for hit, iri, p in zip(ranking.hits, iris, relevance, strict=True)
            if iri in details
        ]
        quality = self.calibration.quality([r["relevance"] for r in results])
        found = privacy.findings(text)
        return {
            "match_quality": quality,
            "query_concepts": [_concept_json(c) for c in ranking.query_concepts],
            "results": results,
            "suggested": self._suggested(ranker, results, ranking.query_concepts, quality),
            "warnings": privacy.warnings(found),
            "timings_ms": {name: round(ms, 2) for name, ms in ranking.timings_ms.items()},
        }

    def relevance_label(self, relevance: float) -> str:
        """The plain words the page shows for a relevance."""
        if relevance >= self.calibration.strong:
            return "sterke overeenkomst"
        return "mogelijk relevant" if relevance >= self.calibration.weak else "zwakke overeenkomst"

    def _result(
        self,
        ranker: Ranker,
        hit: Hit,
        case: dict[str, Any],
        ranking: Ranking,
        text: str,
        query_terms: set[str],
        relevance: float,
        thesaurus: list[Concept],
    ) -> dict[str, Any]:
        pieces = passage_texts(case["title"], case["situation"])
        weights = MODES["hybrid+graph"]
        return {
            **{key: case[key] for key in ("id", "uri", "title")},
            "score": round(hit.score, 4),
            "relevance": round(relevance, 4),
            "relevance_label": self.relevance_label(relevance),
            **{key: case[key] for key in ("situation", "solution", "status", "year", *_CASE_LINK_FIELDS, "derived")},
            "explanation": {
                "shared_concepts": [_concept_json(c) for c in [*self._shared_words(case, thesaurus), *hit.shared]],
                "best_passage": ranker.best_passage(hit.row, pieces, ranking.query_vector, text),
                "matched_terms": sorted(
                    query_terms & set(analyse(lexical_text(case["title"], case["situation"], case["solution"])))
                ),
                "signals": {
                    "dense": round(hit.dense, 4),
                    "lexical": round(hit.lexical, 4),
                    "graph": round(hit.graph, 4),
                },
                "contributions": {
                    "dense": round(weights.dense * hit.dense, 4),
                    "lexical": round(weights.lexical * hit.lexical, 4),
                    "graph": round(weights.graph * hit.graph, 4),
                },
            },
        }

    def _shared_words(self, case: dict[str, Any], thesaurus: list[Concept]) -> list[Concept]:
        """The question's thesaurus concepts (statushouder, huurachterstand) that the case's text names too."""
        if not thesaurus:
            return []
        in_case = {c.iri for c in self.concepts.linked_concepts(f"{case['title']}. {case['situation']}")}
        return [c for c in thesaurus if c.iri in in_case]

    def _suggested(
        self, ranker: Ranker, results: list[dict], query_concepts: list[Concept], quality: str
    ) -> dict[str, list[dict]]:
        """Laws, articles, voorzieningen and organisations, ranked by specificity, each with why.

        A concept's weight is how much it is shared (named in the question, linked by the best
        precedents, or implied by a thesaurus word of the question) times its idf over all cases, so
        a concept every case links (gemeente) ranks low, and is left out unless the question names it
        or most precedents link it. What the question names is always listed.
        """
        groups = {link.kind: name for name, link in BY_FIELD.items() if link.kind in SUGGESTED_KINDS}
        precedents = [] if quality == "none" else results[:PRECEDENTS]
        evidence = self._evidence(groups, precedents, query_concepts, quality)
        postings, alive = ranker.index.postings(), max(ranker.index.alive_count, 1)
        suggested: dict[str, list[dict]] = {group: [] for group in groups.values()}
        ranked = []
        for iri, ev in evidence.items():
            share = len(postings.get(iri, ())) / alive
            specific = share < UBIQUITOUS or ev.cases / max(len(precedents), 1) >= MOST
            # one mention in a lower-ranked case alone is too little: the best case, two cases or the question
            supported = ev.cases >= 2 or ev.in_best or ev.implied_by
            if ev.named or ev.generic or (specific and supported):
                idf = math.log((alive + 1) / (share * alive + 1))
                ranked.append((ev.score() * idf + (ALWAYS if ev.named or ev.generic else 0.0), ev))
        for weight, ev in sorted(ranked, key=lambda x: -x[0]):
            group = suggested[groups[ev.item["kind"]]]
            if ev.named or ev.generic or len(group) < SUGGESTIONS:
                group.append(self._suggestion(ev, weight, len(precedents)))
        self._add_roles(suggested["organisations"])
        return suggested

    def _evidence(
        self, groups: dict[str, str], precedents: list[dict], query_concepts: list[Concept], quality: str
    ) -> dict[str, _Evidence]:
        """Per concept, what speaks for suggesting it."""
        evidence: dict[str, _Evidence] = {}
        for concept in query_concepts:
            if concept.kind in groups:
                evidence.setdefault(concept.iri, _Evidence(_concept_json(concept))).named = True
        for rank, result in enumerate(precedents):
            for field_name in groups.values():
                for link in result[field_name]:
                    ev = evidence.setdefault(link["uri"], _Evidence({**link, "kind": BY_FIELD[field_name].kind}))
                    ev.cases += 1
                    ev.support += 0.5 + result["relevance"]  # a likelier precedent is stronger evidence
                    ev.in_best = ev.in_best or rank == 0
        for concept in query_concepts:
            if concept.kind in THESAURUS_KINDS:
                for related in self.concepts.related(concept.iri):
                    if related.kind in groups:
                        evidence.setdefault(related.iri, _Evidence(_concept_json(related))).implied_by.append(
                            concept.label
                        )
        if quality == "none":
            for iri in GENERIC_HELP:
                if iri in self.concepts.concepts:
                    evidence.setdefault(iri, _Evidence(_concept_json(self.concepts.concepts[iri]))).generic = True
        return evidence

    def _suggestion(self, ev: _Evidence, weight: float, n_precedents: int) -> dict[str, Any]:
        item = {k: v for k, v in ev.item.items() if k not in ("kind",)}
        concept = self.concepts.concepts.get(item["uri"])
        if concept is not None:
            item.setdefault("bwb_id", concept.bwb_id)
        if ev.item["kind"] == "artikel":
            item["title"] = self.concepts.title_of(item["uri"]) or ""
        why = []
        if ev.named:
            why.append("genoemd in uw beschrijving")
        if ev.cases:
            why.append(f"in {ev.cases} van de {n_precedents} vergelijkbare casus{'sen' if n_precedents != 1 else ''}")
        if ev.implied_by:
            why.append(
                "hoort bij " + ", ".join(f"‘{w}’" for w in dict.fromkeys(ev.implied_by)) + " uit uw beschrijving"
            )
        if ev.generic:
            why.append("algemene hulp wanneer geen vergelijkbare casus bekend is")
        return item | {"weight": round(weight, 4), "why": why}

    def _add_roles(self, organisations: list[dict]) -> None:
        for org in organisations:
            node = ox.NamedNode(org["uri"])
            for key, predicate in (("role", _ROLE), ("contact", _CONTACT)):
                found = next(self.kg.store.quads_for_pattern(node, predicate, None, None), None)
                org[key] = found.object.value if found else ""


@dataclass
class _Evidence:
    """Why a concept is suggested: named in the question, linked by precedents, implied by thesaurus words."""

    item: dict[str, Any]
    named: bool = False
    cases: int = 0
    support: float = 0.0
    in_best: bool = False
    implied_by: list[str] = field(default_factory=list)
    generic: bool = False

    def score(self) -> float:
        return float(self.named) + self.support + IMPLIED_WEIGHT * bool(self.implied_by)


def _concept_json(concept: Concept) -> dict[str, Any]:
    return {"id": concept.slug, "uri": concept.iri, "label": concept.label, "kind": concept.kind}


def _year(key: str, value: Any) -> int:
    try:  # int() alone: its ValueError can only mean "not a year"
        return int(value)
    except (TypeError, ValueError) as exc:
        raise BadFilter(f"{key} moet een jaartal zijn, niet {value!r}") from exc


def _reanalysed(kg, index: SearchIndex, index_dir: Path) -> SearchIndex:
    """The index with BM25 tokens made by today's analysis from the graph's texts (an upgrade or a
    changed lexicon); the vectors stay. Cases the graph no longer holds drop out at the next sync."""
    started = time.perf_counter()
    texts = {d.iri: lexical_text(d.title, d.situation, d.solution) for d in case_docs(kg)}
    fresh = index.merged(texts, directory=index_dir)
    fresh.save(index_dir)
    log.info("index re-analysed (%s -> %s) in %.1f s", index.analysis, fresh.analysis, time.perf_counter() - started)
    return fresh


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]
