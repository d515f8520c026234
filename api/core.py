"""The application: one data directory's graph, concepts and search, and the operations on them.

The CLI and the HTTP app both work through `Maatwerk`, so an import, a search or
a validation means the same thing everywhere.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from functools import cached_property
from itertools import chain, islice
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

import pyoxigraph as ox

from api.feedback import FeedbackStore
from api.settings import Settings
from graph import KnowledgeGraph
from graph.case import Writer, history_writer
from graph.cases import CaseDoc
from graph.concepts import ConceptIndex
from graph.contacts import DEMO_CONTACTS_FILE, ContactImport, import_contacts, replace_contacts
from graph.limited import Limits
from graph.sparql_worker import pool_for
from ingest.bwb import BWBR_RE, MAX_BYTES, BwbError, fetch_toestand, law_quads, parse_toestand
from ingest.cases import ImportResult, import_cases
from ingest.gate import AHEAD_MIN_RECORDS, GateAhead, usable_cores
from ingest.problems import ImportRejected
from ingest.readers import read_records
from ontology import DEMO_CASES_FILE, graph_for_law, iri
from search.ahead import CaseEncoder
from search.encoders import get_encoder
from search.service import SearchService, SyncReport

if TYPE_CHECKING:
    from graph.publish import PublishReport, Target
    from graph.validate import Report

log = logging.getLogger(__name__)
Progress = Callable[[int, int, str], None]  # (done, total or 0 if unknown, phase)
# Values kept by `Maatwerk.cached`: charts are cached per year range, so the names are not a fixed set.
CACHED_NAMES = 256
T = TypeVar("T")
GRAPH_REVISION = object()
"""`Maatwerk.cached`'s default version: the graph revision at the time of the call."""


class Maatwerk:
    def __init__(self, settings: Settings, background_merges: bool = False):
        self.settings = settings
        # the server merges index segments in a thread; a CLI process leaves a due merge to the next server
        # start or `maatwerk reindex --compact` rather than start one its exit would cut short
        self.background_merges = background_merges
        self.kg = KnowledgeGraph(settings.store_dir)
        self.concepts = ConceptIndex.from_graph(self.kg)
        self._search: SearchService | None = None
        self._search_lock = threading.Lock()
        self.last_sync: SyncReport | None = None
        self.limits = Limits.of(settings)  # the public SPARQL endpoint's limits, for reads that grow with the data
        if self.kg.path is not None:  # the SPARQL sandbox's workers, sized by the settings (started on first use)
            pool_for(self.kg, size=settings.sparql_workers, memory_limit=settings.sparql_worker_memory_mb << 20)
        self._import_lock = threading.Lock()
        self._cache: OrderedDict[Hashable, tuple[Hashable, Any]] = OrderedDict()
        self._cache_lock = threading.Lock()
        # run after each case import, once the index is in step (the server warms its overview caches)
        self.after_import: list[Callable[[], None]] = []

    # --- lifecycle -------------------------------------------------------------

    def init(self, demo: bool = True, progress: Progress | None = None) -> ImportResult | None:
        """Load ontology and reference data (idempotent), optionally the illustrative cases, build indexes."""
        self.kg.load_ontology_and_reference()
        self.concepts = ConceptIndex.from_graph(self.kg)
        result = None
        if demo:
            result = self.import_file(DEMO_CASES_FILE, progress=progress)
            self.import_contacts(DEMO_CONTACTS_FILE)
        else:
            self.search(progress)
        return result

    def search(
        self,
        progress: Progress | None = None,
        known: dict[str, CaseDoc] | None = None,
        since: str | None = None,
        ahead: CaseEncoder | None = None,
    ) -> SearchService:
        """The search service, loaded (and synced with the graph) on first use (`since`, `ahead`: see
        SearchService.sync)."""
        if self._search is not None:  # no lock: a sync in progress swaps the index in when done
            return self._search
        with self._search_lock:
            if self._search is None:
                encoder = get_encoder(self.settings.encoder)
                self._search, self.last_sync = SearchService.open(
                    self.kg,
                    self.concepts,
                    self.settings.index_dir,
                    encoder,
                    _phase(progress, "indexeren"),
                    known,
                    self.background_merges,
                    since,
                    ahead,
                )
            return self._search

    def close(self) -> None:
        self.kg.close()

    @cached_property
    def feedback(self) -> FeedbackStore:
        """Votes on search results, in the data directory (not in the graph)."""
        return FeedbackStore(self.settings.data_dir)

    # --- imports ---------------------------------------------------------------

    def import_file(self, path: Path, redact: bool = False, progress: Progress | None = None) -> ImportResult:
        return self.import_records(read_records(path), redact, progress, expected=_line_count(path))

    def import_records(
        self,
        records: Iterable[tuple[str, Any]],
        redact: bool = False,
        progress: Progress | None = None,
        expected: int = 0,
        writer: Writer | None = None,
    ) -> ImportResult:
        """Gate, link and commit all cases or none; then bring the indexes up to date.

        One import at a time: each is all-or-nothing, and its index sync must not interleave with another's.
        A `writer` (a save from the browser form) is recorded as a new version of each case (graph.case).
        """
        with self._import_lock:
            started = time.perf_counter()
            log.info("import: started%s", f" ({expected} records expected)" if expected else "")
            try:
                result = self._import(records, redact, progress, expected, writer)
            except ImportRejected as exc:
                log.info("import: refused with %d problems; nothing stored", len(exc.problems))
                raise
            log.info(
                "import: %d cases committed as revision %s, %d redactions, %.1f s",
                len(result.cases),
                result.revision,
                len(result.redactions),
                time.perf_counter() - started,
            )
            return result

    def _import(
        self,
        records: Iterable[tuple[str, Any]],
        redact: bool,
        progress: Progress | None,
        expected: int,
        writer: Writer | None = None,
    ) -> ImportResult:
        counted = 0
        # every write of cases takes the import lock: if the index reflected this revision, the cases
        # below are all that changes for it, and its sync need not compare every case's stamp
        before = self.kg.revision()

        def step(n: int) -> None:
            nonlocal counted
            counted += n
            if progress:
                progress(counted, max(expected, counted), "controleren")

        # pySHACL runs on what an import adds; past the limit the check would cost more than the
        # rest of the import, and the cases are built from resolved concepts anyway.
        limit = self.settings.shacl_import_limit
        records = iter(records)
        head = list(islice(records, limit + 1))  # the rest streams from the file
        validate = self._shacl_check if len(head) <= limit else None
        history = history_writer(self.kg, self.concepts, writer) if writer else None
        large = expected >= AHEAD_MIN_RECORDS and usable_cores() > 1
        with self._encode_ahead(large) as ahead:
            result = import_cases(
                self.kg,
                chain(head, records),
                self.concepts,
                redact,
                step,
                validate,
                max_text=self.settings.max_text_chars,
                history=history,
                gate=GateAhead(redact) if large else None,
                accepted_doc=ahead.feed if ahead else None,
            )
            self._after_write(progress, result.docs, before, ahead)
        return result

    @contextmanager
    def _encode_ahead(self, large: bool) -> Iterator[CaseEncoder | None]:
        """For a large import, worker processes that encode the cases already checked while the rest is
        checked and written (search/ahead.py); they stop when the import ends, landed or refused."""
        encoder = get_encoder(self.settings.encoder) if large else None
        if encoder is None or not encoder.in_workers:
            yield None
            return
        with CaseEncoder(encoder, usable_cores(), spill_dir=self.settings.data_dir) as ahead:
            yield ahead

    def _shacl_check(self, quads) -> list[tuple[str, str]]:
        from graph.validate import context_for, validate_triples  # pySHACL and rdflib take a second to import

        cases = sorted({q.graph_name.value for q in quads})
        objects = {q.object.value for q in quads if isinstance(q.object, ox.NamedNode)}
        report = validate_triples([*quads, *context_for(self.kg, objects)], focus=cases)
        return [(v.focus.rsplit("/", 1)[-1], str(v)) for v in report.violations]

    def import_law(self, source: str) -> dict[str, Any]:
        """A law from a BWB toestand file or, given a BWB id, from the official repository.

        Every refusal (no such file, a directory, not a BWB id, bad XML, the repository) is a BwbError
        with a Dutch message.
        """
        if "\x00" in source:  # Path.exists() and friends just say False to this
            raise BwbError(f"{source!r} is geen geldige bestandsnaam en geen BWB-id: het bevat een NUL-teken.")
        path = Path(source)
        try:
            if path.is_dir():
                raise BwbError(f"{source} is een map; geef een BWB toestand-XML-bestand of een BWB-id (BWBR…).")
            if path.exists() and not path.is_file():
                raise BwbError(f"{source} is geen gewoon bestand; geef een BWB toestand-XML-bestand.")
            if path.is_file() and path.stat().st_size > MAX_BYTES:
                raise BwbError(
                    f"{source} is groter dan {MAX_BYTES // (1024 * 1024)} MB; zo groot is geen BWB-toestand."
                )
            data = path.read_bytes() if path.is_file() else None
        except BwbError:
            raise
        except OSError as exc:  # unreadable, a name too long for the file system, ...
            raise BwbError(f"Kan {source} niet lezen: {exc.strerror or exc}.") from exc
        if data is None:
            if not BWBR_RE.match(source.strip().upper()):
                raise BwbError(
                    f"Bestand {source} bestaat niet."
                    if path.suffix or "/" in source
                    else f"{source} is geen bestand en geen geldig BWB-id: geef een BWB toestand-XML-bestand "
                    "of BWBR gevolgd door 7 cijfers, bijv. BWBR0035362."
                )
            data = fetch_toestand(source)
        law = parse_toestand(data)
        existing = self.concepts.resolve("wet", law.bwb_id)
        law_iri = existing[0].iri if existing else None
        short = existing[0].label if existing else None
        quads = law_quads(law, law_iri, short_name=short)
        self.kg.commit(quads, drop_graphs=[graph_for_law(law.bwb_id)])
        self.concepts = ConceptIndex.from_graph(self.kg)
        if self._search is not None:
            self._search.refresh_concepts(self.concepts)
        return {
            "bwb_id": law.bwb_id,
            "title": law.citeertitel,
            "uri": law_iri or iri("wet", law.bwb_id),
            "articles": len(law.articles),
            "leden": sum(len(a.leden) for a in law.articles),
        }

    def import_contacts(self, path: Path) -> ContactImport:
        """The maatwerkregister from a CSV: every organisation in it gets exactly the file's contact points.

        Not case text, so the privacy gate does not run (mailboxes and phone numbers are the point);
        all rows are checked first, and one commit replaces them, or nothing changes.
        """
        with self._import_lock:
            return import_contacts(self.kg, path, self.concepts)

    def replace_contacts(self, organisation: str, rows: list[dict[str, str]]) -> ContactImport:
        """One organisation's contact points from the writers' form, checked as `import_contacts` checks a file."""
        with self._import_lock:
            return replace_contacts(self.kg, organisation, rows, self.concepts)

    def _after_write(
        self,
        progress: Progress | None,
        known: dict[str, CaseDoc] | None = None,
        since: str | None = None,
        ahead: CaseEncoder | None = None,
    ) -> None:
        if self._search is None:
            self.search(progress, known, since, ahead)
        else:
            with self._search_lock:
                self.last_sync = self._search.sync(_phase(progress, "indexeren"), known, since, ahead)
        for hook in self.after_import:
            hook()

    def publish(
        self, target: Target, full: bool = False, progress: Callable[[int, int], None] | None = None
    ) -> PublishReport:
        """Push the named graphs that changed since the last publish to `target` (see graph.publish)."""
        from graph.publish import publish

        return publish(self.kg, target, self.settings.publish_dir, full=full, progress=progress)

    # --- checks ----------------------------------------------------------------

    def validate(self) -> Report:
        from graph.validate import validate_store

        return validate_store(self.kg)

    def check_analytics(self) -> list[str]:
        """Differences between the analytics layer and a recomputation from the graph (graph.analytics)."""
        return self.kg.check_analytics()

    def health(self) -> dict[str, Any]:
        # Read from the analytics layer (a scan of the store only while it is behind): once per revision.
        def count() -> MappingProxyType:
            cases, triples = self.kg.sizes()
            return MappingProxyType({"cases": cases, "triples": triples})

        counts = self.cached("health", count)
        return {"status": "ok", **counts, "encoder": self.settings.encoder}

    # --- derived values --------------------------------------------------------

    def cached(self, name: Hashable, build: Callable[[], T], version: Hashable = GRAPH_REVISION) -> T:
        """`build()`, computed once per version of what it is built from, and shared by every caller.

        By default the version is the graph revision: a value is kept only if no commit happened
        while it was built, so it is never served for a revision it does not show. Values built from
        something else pass that object as `version` (the search index for its row order, the
        concept index for its labels); it is compared by identity, and held until replaced.
        Callers get the very object stored: values are immutable by contract (tuples, read-only
        arrays) and no caller may change one.
        """
        graph_keyed = version is GRAPH_REVISION
        if graph_keyed:
            version = self.kg.revision()
        with self._cache_lock:
            entry = self._cache.get(name)
            if (
                entry is not None
                and version is not None
                and (entry[0] is version or (graph_keyed and entry[0] == version))
            ):
                self._cache.move_to_end(name)
                return entry[1]
        settled = not graph_keyed or self._graph_settled()
        value = build()
        if graph_keyed and not (settled and self._graph_settled() and self.kg.revision() == version):
            return value  # it may mix two revisions: good enough for this caller, kept for no one
        with self._cache_lock:
            self._cache[name] = (version, value)
            self._cache.move_to_end(name)
            while len(self._cache) > CACHED_NAMES:
                self._cache.popitem(last=False)
        return value

    def _graph_settled(self) -> bool:
        """A revision to key on, and no commit under way: while one holds the write lock, the SPARQL
        sandbox answers from its previous checkpoint, so what a build reads may be older than the revision."""
        return self.kg.revision() is not None and not self.kg.write_lock.locked()


def _phase(progress: Progress | None, phase: str) -> Callable[[int, int], None] | None:
    return progress and (lambda done, total: progress(done, total, phase))


def _line_count(path: Path) -> int:
    """Records to expect in a .jsonl file (for the progress bar's ETA); 0 when the format does not tell."""
    if path.suffix.lower() != ".jsonl":
        return 0
    with open(path, "rb") as handle:
        return sum(1 for line in handle if line.strip())
