"""The privacy gate as a small JSON endpoint, for pages that check text as it is typed.

`POST /api/check-text` runs the same `find_personal_data` the import runs, so what the form
(and the search page) warn about as you type is exactly what a save would refuse. The
answer holds no personal data: each finding gives its kind, its place and a masked form.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from api.http import ApiError
from api.models import BAD_BODY, ERRORS
from ingest.anonymise import find_personal_data

router = APIRouter(tags=["privacy"])


class CheckTextRequest(BaseModel):
    text: str = Field(description="De tekst om te controleren (niet opgeslagen, niet gelogd)")


class GateFinding(BaseModel):
    kind: str = Field(description="BSN, IBAN, TELEFOON, E-MAIL, ADRES, GEBOORTEDATUM of NAAM")
    masked: str = Field(description="Het gevonden stuk, gemaskeerd (eerste en laatste teken)")
    start: int = Field(description="Begin in de tekst (tekens)")
    end: int = Field(description="Einde in de tekst (tekens, exclusief)")


class CheckTextResponse(BaseModel):
    findings: list[GateFinding]


@router.post(
    "/api/check-text",
    response_model=CheckTextResponse,
    responses={**BAD_BODY, **ERRORS},
    summary="Controleer een tekst op persoonsgegevens (de privacypoort van de import)",
)
def check_text(request: Request, body: CheckTextRequest):
    limit = request.app.state.settings.max_text_chars
    if len(body.text) > limit:
        raise ApiError(413, "De tekst is te lang", f"{len(body.text)} tekens; hoogstens {limit} toegestaan")
    findings = find_personal_data(body.text)
    return {"findings": [{"kind": f.kind, "masked": mask(f.text), "start": f.start, "end": f.end} for f in findings]}


def mask(text: str) -> str:
    """Enough to recognise the spot, not enough to read it back: first and last character."""
    if len(text) <= 2:
        return "•" * len(text)
    return text[0] + "•" * (len(text) - 2) + text[-1]
