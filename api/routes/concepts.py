"""Autocomplete over the names and synonyms of every concept."""

from __future__ import annotations

import re

from fastapi import APIRouter, Query, Request

from api.http import ApiError, maatwerk
from api.models import ERRORS, ConceptMatch
from graph.concepts import KINDS, Concept, ConceptIndex, fold

router = APIRouter(tags=["referentiedata"])

AUTOCOMPLETE_LIMIT = 20


@router.get(
    "/api/concepts",
    response_model=list[ConceptMatch],
    responses=ERRORS,
    summary="Autocomplete over namen en synoniemen van alle begrippen",
)
def concepts(
    request: Request,
    q: str = Query("", max_length=200, description="Begin of deel van een naam"),
    kind: list[str] = Query(
        [],
        description=f"Beperk tot soorten: {', '.join(KINDS)}",
        json_schema_extra={"items": {"type": "string", "enum": list(KINDS)}},
    ),
    limit: int = Query(AUTOCOMPLETE_LIMIT, ge=1, le=50),
):
    unknown = [k for k in kind if k not in KINDS]
    if unknown:
        raise ApiError(422, f"Onbekende soort: {', '.join(unknown)}", f"Kies uit {', '.join(KINDS)}")
    needle = _normal(q)
    if not needle:
        return []
    core = maatwerk(request)
    index = core.concepts  # read once: an import_law may swap in a new index meanwhile
    table = core.cached("concept labels", lambda: _label_table(index), version=index)
    best: dict[str, tuple[tuple, dict]] = {}
    for label, folded, concept in table:
        if kind and concept.kind not in kind:
            continue
        rank = _match_rank(needle, folded)
        if rank is None:
            continue
        key = (rank, label != concept.label, len(folded), folded)
        if concept.iri not in best or key < best[concept.iri][0]:
            best[concept.iri] = (
                key,
                {
                    "id": concept.slug,
                    "uri": concept.iri,
                    "label": concept.label,
                    "matched_label": label,
                    "kind": concept.kind,
                },
            )
    return [match for _, match in sorted(best.values(), key=lambda x: x[0])[:limit]]


def _label_table(index: ConceptIndex) -> tuple[tuple[str, str, Concept], ...]:
    """(label, folded label, concept) for every label of every concept."""
    return tuple((label, _normal(label), c) for label, c in index.labels())


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", fold(text)).strip()


def _match_rank(needle: str, folded: str) -> int | None:
    """0: the label starts with it, 1: a word starts with it, 2: somewhere inside, None: no match."""
    if folded.startswith(needle):
        return 0
    position = folded.find(needle)
    if position < 0:
        return None
    return 1 if not folded[position - 1].isalnum() else 2
