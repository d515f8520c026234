"""The case import: read, check, write all cases of a file in one journaled commit, or none.

Every record is checked before the store commits, and quads stream straight into the
store's journal, so a large file never sits in memory as RDF. Reading is ingest/readers.py,
the domain rules ingest/checker.py, the case's shape and RDF graph/case.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyoxigraph as ox

from graph.case import IDENTIFIER, CaseRecord, case_quads
from graph.cases import CaseDoc
from graph.concepts import ConceptIndex
from ingest.checker import RecordChecker
from ingest.gate import Gate
from ingest.problems import ImportRejected, Problem, Redaction
from ingest.readers import MAX_TEXT


@dataclass(frozen=True)
class ImportedCase:
    id: str
    iri: str
    title: str


@dataclass
class ImportResult:
    """What an import stored. Not the checked records themselves: at a million cases those take ~6 GB,
    the docs search indexes ~1 GB."""

    cases: list[ImportedCase]
    docs: dict[str, CaseDoc]  # case IRI -> what the search index reads of it (CaseRecord.search_doc)
    redactions: list[Redaction]
    revision: str


def import_cases(
    kg,
    records: Iterable[tuple[str, Any]],
    concepts: ConceptIndex,
    redact_personal_data: bool = False,
    progress: Callable[[int], None] | None = None,
    validate: Callable[[list[ox.Quad]], list[tuple[str, str]]] | None = None,
    max_text: int = MAX_TEXT,
    history: Callable[[CaseRecord, datetime], list[ox.Quad]] | None = None,
    gate: Gate | None = None,
    accepted_doc: Callable[[CaseDoc], None] | None = None,
) -> ImportResult:
    """Check every record and commit all cases in one journaled commit, or raise ImportRejected.

    `validate` (SHACL) sees all new quads at once, before the commit point, and names (case, message).
    `history` (a browser save: graph.case.history_writer) adds each case's version record to the same commit.
    `accepted_doc` sees each case's search doc as soon as the case passes (search/ahead.py encodes it
    while the rest is checked); the import may still be refused after that.
    """
    gate = gate or Gate()
    checker = RecordChecker(concepts, redact_personal_data, stored_case_id(kg), max_text, gate)
    accepted: list[ImportedCase] = []
    docs: dict[str, CaseDoc] = {}
    to_validate: list[ox.Quad] = []
    now = datetime.now(UTC)  # to the microsecond: the index tells re-imports apart by this stamp

    def quads() -> Iterator[ox.Quad]:
        for location, raw in gate.records(records):
            record = checker.check(location, raw)
            if progress:
                progress(1)
            if record is None or checker.problems:
                continue  # keep checking the rest, so the report is complete
            built = case_quads(record, now)
            if validate:
                to_validate.extend(built)
            accepted.append(ImportedCase(record.id, record.iri, record.title))
            docs[record.iri] = doc = record.search_doc()
            if accepted_doc:
                accepted_doc(doc)
            yield from built
            if history:
                yield from history(record, now)
        if validate and to_validate and not checker.problems:
            checker.problems.extend(
                Problem(case, "shacl", "invalid", message) for case, message in validate(to_validate)
            )
        if checker.problems:
            raise ImportRejected(checker.problems)
        if not accepted:
            raise ImportRejected([Problem("bestand", "record", "invalid", "Het bestand bevat geen casussen")])

    drops: list[str] = []
    revision = kg.commit(_then_drops(quads(), accepted, drops), drop_graphs=drops)
    return ImportResult(accepted, docs, checker.redactions, revision)


def stored_case_id(kg) -> Callable[[str], str | None]:
    """case IRI -> the dcterms:identifier stored in that case's graph, or None.

    One index lookup per case (about 25 µs for a miss, 55 µs for a hit on a store of 100k cases),
    cheap next to the rest of checking a case.
    """
    store = kg.store

    def existing_id(case_iri: str) -> str | None:
        node = ox.NamedNode(case_iri)
        for quad in store.quads_for_pattern(node, IDENTIFIER, None, node):
            return quad.object.value
        return None

    return existing_id


def _then_drops(quads: Iterator[ox.Quad], accepted: list[ImportedCase], drops: list[str]) -> Iterator[ox.Quad]:
    """Pass quads through; once all are written, name the case graphs the commit replaces."""
    yield from quads
    drops.extend(r.iri for r in accepted)
