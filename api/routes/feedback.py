"""Feedback on a search result: "nuttig", "niet nuttig" or "dit is de casus die ik zocht".

Stored in the data directory (api/feedback.py), not in the graph. The query text is kept only
when the privacy gate finds no personal data in it; otherwise only the vote is kept.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from api.http import ApiError, check_text, maatwerk
from api.models import ERRORS, NOT_FOUND
from graph.case import case_details, case_iri

router = APIRouter(tags=["feedback"])


class FeedbackInput(BaseModel):
    query: str = Field(description="De zoekvraag zoals gezocht (wordt niet bewaard als er persoonsgegevens in staan)")
    case_id: str = Field(max_length=200, description="Id van de casus in het resultaat")
    vote: Literal["nuttig", "niet_nuttig", "gezocht"] = Field(
        description="nuttig, niet_nuttig, of gezocht (dit is de casus die ik zocht)"
    )


class FeedbackStored(BaseModel):
    opgeslagen: bool = True
    query_bewaard: bool = Field(
        description="false als de zoekvraag persoonsgegevens bevatte: alleen de stem is bewaard"
    )


@router.post(
    "/api/feedback",
    status_code=201,
    response_model=FeedbackStored,
    responses={**ERRORS, **NOT_FOUND},
    summary="Feedback op een zoekresultaat (nuttig / niet nuttig / gezochte casus)",
)
def feedback(request: Request, body: FeedbackInput):
    core = maatwerk(request)
    check_text(request, body.query, "zoekvraag")
    if not case_details(core.kg, [case_iri(body.case_id)], core.concepts):
        raise ApiError(404, "Onbekende casus", f"Er is geen casus met id {body.case_id!r}")
    stored = core.feedback.add(body.query, body.case_id, body.vote)
    return FeedbackStored(query_bewaard=stored.query_kept)
