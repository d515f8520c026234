"""Writers edit an organisation's contact points in the maatwerkregister (`/organisatie/{slug}/contactpunten`).

The rows are checked by graph.contacts, the same checks as `maatwerk import-contacts`, and replace
exactly this organisation's contact points in one commit, or nothing changes. Not case text: the
privacy gate does not run here. A named person is kept only with the organisation's consent (the
box); without it the checks refuse the row. Works without JavaScript: two empty rows are always
offered, and "Nog een rij" adds one more without saving.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import csrf_ok, csrf_token, current_account, sign_in_url
from api.http import maatwerk
from api.ui.pages import json_twin, local_url, not_found, page, wants_json
from graph.concepts import Concept
from graph.contacts import CHANNELS, ROLES, ContactPoint, ContactsRefused, contact_points
from ontology import iri

router = APIRouter(include_in_schema=False)

# The form's columns: graph.contacts' CSV columns, less `organisatie` (the URL names it).
COLUMNS = ("rol", "kanaal", "adres", "omschrijving", "toestemming_naam", "naam", "naam_email", "naam_telefoon")
EMPTY_ROWS = 2  # always offered, so a point can be added without JavaScript
PREFIX = "cp"


def edit_url(slug: str) -> str:
    return f"/organisatie/{quote(slug)}/contactpunten"


@router.get("/organisatie/{slug}/contactpunten", response_class=HTMLResponse)
def edit_contacts(request: Request, slug: str) -> Response:
    if current_account(request) is None:
        return RedirectResponse(sign_in_url(request), status_code=303)
    organisation = _organisation(request, slug)
    if organisation is None:
        return not_found(request, f"Er is geen organisatie ‘{slug}’.")
    points = contact_points(maatwerk(request).kg, [organisation.iri]).get(organisation.iri, [])
    if wants_json(request):  # the form's data: the rows as the CSV of `maatwerk import-contacts` has them
        rows = [{"organisatie": organisation.label, **_row(p)} for p in points]
        return json_twin({"organisatie": organisation.iri, "label": organisation.label, "contactpunten": rows})
    return _form(request, organisation, [_row(p) for p in points])


@router.post("/organisatie/{slug}/contactpunten", response_class=HTMLResponse)
async def save_contacts(request: Request, slug: str) -> Response:
    if current_account(request) is None:
        return RedirectResponse(sign_in_url(request), status_code=303)
    organisation = _organisation(request, slug)
    if organisation is None:
        return not_found(request, f"Er is geen organisatie ‘{slug}’.")
    data = await request.form()
    rows = _rows_from_post(data)
    if not csrf_ok(request, data.get("csrf")):
        return _form(request, organisation, rows, general=["Het formulier was verlopen; sla opnieuw op."], status=400)
    if data.get("actie") == "rij":
        return _form(request, organisation, rows, extra=1)
    try:
        await run_in_threadpool(maatwerk(request).replace_contacts, organisation.iri, rows)
    except ContactsRefused as exc:
        errors: dict[str, list[str]] = {}
        for n, column, message in exc.problems:
            errors.setdefault(f"{PREFIX}-{n}-{column}", []).append(message)
        general = ["De contactpunten zijn niet opgeslagen. Pas de velden met een melding aan en sla opnieuw op."]
        return _form(request, organisation, rows, errors, general, status=422)
    return RedirectResponse(local_url(organisation.iri), status_code=303)


def _organisation(request: Request, slug: str) -> Concept | None:
    found = maatwerk(request).concepts.resolve("organisatie", iri("organisatie", slug))
    return found[0] if found else None


def _row(point: ContactPoint) -> dict[str, str]:
    """A stored point as the form shows it (and as graph.contacts checks it again on save)."""
    return {
        "rol": point.role,
        "kanaal": point.channel,
        "adres": point.shown_address,
        "omschrijving": point.description,
        "toestemming_naam": "ja" if point.person else "nee",
        "naam": point.person,
        "naam_email": point.person_email,
        "naam_telefoon": point.person_phone,
    }


def _rows_from_post(data) -> list[dict[str, str]]:
    """The filled rows in form order, less those marked for removal; row n is item n of the check."""
    numbers = sorted({int(m.group(1)) for key in data for m in [re.match(rf"{PREFIX}-(\d+)-", key)] if m})
    rows = []
    for n in numbers:
        if data.get(f"{PREFIX}-{n}-verwijderen") == "ja":
            continue
        row = {column: str(data.get(f"{PREFIX}-{n}-{column}") or "").strip() for column in COLUMNS}
        row["toestemming_naam"] = "ja" if row["toestemming_naam"] == "ja" else "nee"
        # A row counts when something is typed in it; a role or channel picked alone is no row.
        if any(row[c] for c in ("adres", "omschrijving", "naam", "naam_email", "naam_telefoon")):
            rows.append(row)
    return rows


def _form(
    request: Request,
    organisation: Concept,
    rows: list[dict[str, str]],
    errors: dict[str, list[str]] | None = None,
    general: list[str] | None = None,
    status: int = 200,
    extra: int = 0,
) -> HTMLResponse:
    blank = dict.fromkeys(COLUMNS, "")
    context: dict[str, Any] = {
        "nav": "",
        "organisation": organisation,
        "organisation_url": local_url(organisation.iri),
        "action": edit_url(organisation.slug),
        "rows": rows + [dict(blank) for _ in range(EMPTY_ROWS + extra)],
        "filled": len(rows),
        "roles": ROLES,
        "channels": list(CHANNELS),
        "errors": errors or {},
        "general": general or [],
        "csrf": csrf_token(request),
    }
    return page(request, "contactpunten_form.html", context, status)
