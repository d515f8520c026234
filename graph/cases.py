"""Cases in bulk, as search reads them: text, facets and concepts, without N+1 queries.

One case in full (the contract, its RDF writer and reader) is graph/case.py."""

from __future__ import annotations

from dataclasses import dataclass, field

from ontology.vocabulary import CASE_LINKS

# What a case links to, straight or by entity linking: search's graph signal and filters read these.
_CONCEPT_PATH = "|".join([*(k.predicate for k in CASE_LINKS if k.predicate), "mw:afgeleidConcept"])


@dataclass
class CaseDoc:
    """What search needs of a case: its text, facets and concepts."""

    id: str
    iri: str
    title: str
    situation: str
    solution: str = ""
    status: str | None = None
    year: int | None = None
    stamp: str = ""
    concepts: set[str] = field(default_factory=set)  # explicit and derived links
    knelpunttypen: set[str] = field(default_factory=set)


def _values(iris: list[str]) -> str:
    return " ".join(f"<{i}>" for i in iris)


# Past this many IRIs a VALUES block costs more to join than scanning every case.
VALUES_LIMIT = 1_000


def case_docs(kg, iris: list[str] | None = None) -> list[CaseDoc]:
    """All cases (or the given ones) as CaseDocs: three queries, whatever the number of cases."""
    scope = f"VALUES ?c {{ {_values(iris)} }}" if iris is not None and len(iris) <= VALUES_LIMIT else ""
    docs: dict[str, CaseDoc] = {}
    for row in kg.select(f"""
        SELECT ?c ?id ?title ?sit ?sol ?status ?jaar ?stamp WHERE {{
          {scope}
          ?c a mw:Casus ; dcterms:identifier ?id ; dcterms:title ?title ; mw:situatie ?sit .
          OPTIONAL {{ ?c mw:oplossing ?sol }} OPTIONAL {{ ?c mw:status ?status }}
          OPTIONAL {{ ?c mw:jaar ?jaar }} OPTIONAL {{ ?c prov:generatedAtTime ?stamp }}
        }}"""):
        docs[row["c"]] = CaseDoc(
            row["id"],
            row["c"],
            row["title"],
            row["sit"],
            row["sol"] or "",
            row["status"],
            row["jaar"],
            row["stamp"] or "",
        )
    for row in kg.select(f"""
        SELECT ?c ?o WHERE {{
          {scope}
          ?c a mw:Casus ; {_CONCEPT_PATH} ?o .
        }}"""):
        if row["c"] in docs:
            docs[row["c"]].concepts.add(row["o"])
    for row in kg.select(f"""
        SELECT ?c ?t WHERE {{ {scope} ?c a mw:Casus ; mw:knelpunt/mw:knelpuntType ?t . }}"""):
        if row["c"] in docs:
            docs[row["c"]].knelpunttypen.add(row["t"])
    ordered = iris if iris is not None else sorted(docs)
    return [docs[i] for i in ordered if i in docs]


def case_stamps(kg, iris: list[str] | None = None) -> dict[str, str]:
    """Case IRI -> import time (of every case, or of the given ones): which cases an index misses or has stale."""
    scope = f"VALUES ?c {{ {_values(iris)} }}" if iris is not None and len(iris) <= VALUES_LIMIT else ""
    rows = kg.select(f"SELECT ?c ?s WHERE {{ {scope} ?c a mw:Casus . OPTIONAL {{ ?c prov:generatedAtTime ?s }} }}")
    stamps = {r["c"]: r["s"] or "" for r in rows}
    return stamps if iris is None or scope else {i: stamps[i] for i in iris if i in stamps}
