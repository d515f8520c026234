"""A case's versions: who (an opaque writer IRI, never a name) saved it when, and what changed."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from api.http import ApiError, maatwerk
from api.models import NOT_FOUND
from graph.case import case_iri, read_case, read_history

router = APIRouter(tags=["casussen"])


class CaseVersion(BaseModel):
    version: int = Field(description="Versienummer, vanaf 1")
    uri: str
    at: str | None = Field(description="Tijdstip (prov:generatedAtTime)")
    writer: str | None = Field(description="IRI van de schrijver (prov:wasAttributedTo); null voor een import")
    writer_label: str | None = Field(description="Kort kenmerk van de schrijver (geen naam)")
    changed: list[str] = Field(description="Velden van het importformaat die anders zijn dan in de vorige versie")
    content: dict = Field(description="De casus in deze versie, in het importformaat")


@router.get(
    "/api/cases/{case_id}/history",
    response_model=list[CaseVersion],
    responses=NOT_FOUND,
    summary="De versies van een casus, nieuwste eerst (PROV-O)",
)
def history(request: Request, case_id: str):
    core = maatwerk(request)
    uri = case_iri(case_id)
    if read_case(core.kg, uri, core.concepts) is None:
        raise ApiError(404, f"Onbekende casus: {case_id}")
    return read_history(core.kg, uri)
