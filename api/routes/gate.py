"""The privacy gate as a small JSON endpoint, for pages that check text as it is typed.

`POST /api/check-text` runs the same `find_personal_data` the import runs, so what the case form
and the search page warn about as you type is exactly what a save would refuse. The answer holds
no personal data: each finding gives its kind, its place and a masked form; the text is not kept.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.http import check_text
from api.models import BAD_BODY, ERRORS, CheckTextRequest, CheckTextResponse
from search import privacy

router = APIRouter(tags=["privacy"])


@router.post(
    "/api/check-text",
    response_model=CheckTextResponse,
    responses={**BAD_BODY, **ERRORS},
    summary="Lijkt deze tekst persoonsgegevens te bevatten? (dezelfde poort als de import)",
)
def check_personal_data(request: Request, body: CheckTextRequest):
    if len(body.text) > request.app.state.settings.max_text_chars:
        check_text(request, body.text)  # the usual 413 with its message
    found = privacy.findings(body.text)
    return {"findings": [f.__dict__ for f in found], "warnings": privacy.warnings(found)}
