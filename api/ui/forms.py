"""Writers' pages: sign in and out (`/aanmelden`, `/afmelden`), register and edit a case (`/casus/nieuw`,
`/casus/{id}/bewerken`).

A save goes through `Maatwerk.import_records`, the same path as every import, so the privacy gate,
label resolution and SHACL apply, and its refusals are shown next to the fields they name. The
writer is recorded (by an opaque IRI, never their name) on a new version of the case (graph/case.py).
The form works without JavaScript; api/static/js/casusformulier.js adds the gate as you type,
autocomplete, entity-linking suggestions and the duplicate check.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from api.auth import Account, csrf_ok, csrf_token, current_account, safe_next, sign_in, sign_in_url
from api.http import ApiError, maatwerk
from api.ui.pages import local_url, not_found, page, templates
from graph.case import case_iri, read_case, read_history, version_count
from ingest.problems import ImportRejected, Problem
from ontology.vocabulary import BY_FIELD, BY_KIND, FOLLOW_UP_STATUSES, STATUSES

router = APIRouter(include_in_schema=False)

# The form's link fields, in the order of the contract (laws, articles, voorzieningen, ...).
LINK_FIELDS = tuple((name, kind) for name, kind in BY_FIELD.items())
SEPARATOR = ";"
SUGGESTED = 8  # entity-linking chips shown at most
DUPLICATES = 3  # similar cases shown before saving
ACTIONS = {"knelpunt": "knelpunten", "leerpunt": "learning_points"}  # "add a row" buttons
FIELD_NAMES = {
    "title": "Titel",
    "situation": "Situatie",
    "solution": "Oplossing",
    "status": "Status",
    "year": "Jaar",
    "source": "Bron",
    "fictional": "Fictief",
    "knelpunten": "Knelpunten",
    "interventions": "Interventies",
    "learning_points": "Leerpunten",
    **{name: kind.plural for name, kind in BY_FIELD.items()},
}


# --- signing in and out --------------------------------------------------------------------------


@router.get("/aanmelden", response_class=HTMLResponse)
def sign_in_page(request: Request, volgende: str = "/"):
    return _sign_in_form(request, volgende)


@router.post("/aanmelden", response_class=HTMLResponse)
async def sign_in_post(request: Request):
    form = await request.form()
    target = safe_next(str(form.get("volgende") or "/"))
    name = str(form.get("naam") or "").strip()
    if not csrf_ok(request, form.get("csrf")):
        return _sign_in_form(request, target, name, "Het formulier was verlopen. Probeer het nog een keer.", 400)
    backoff = request.app.state.backoff
    wait = backoff.wait(name)
    if wait > 0:
        message = f"Te veel mislukte pogingen voor deze naam. Probeer het over {int(wait) + 1} seconden opnieuw."
        return _sign_in_form(request, target, name, message, 429)
    accounts = request.app.state.accounts
    account = await run_in_threadpool(accounts.verify, name, str(form.get("wachtwoord") or ""))
    if account is None:
        backoff.failed(name)
        return _sign_in_form(request, target, name, "Naam of wachtwoord klopt niet.", 401)
    backoff.succeeded(name)
    sign_in(request, account)
    return RedirectResponse(target, status_code=303)


@router.post("/afmelden")
async def sign_out(request: Request):
    form = await request.form()
    if csrf_ok(request, form.get("csrf")):
        request.session.clear()
    return RedirectResponse("/", status_code=303)


def _sign_in_form(request: Request, target: str, name: str = "", error: str = "", status: int = 200) -> HTMLResponse:
    context = {"nav": "", "volgende": safe_next(target), "name": name, "error": error, "csrf": csrf_token(request)}
    return page(request, "aanmelden.html", context, status)


# --- registering and editing a case --------------------------------------------------------------


@router.get("/casus/nieuw", response_class=HTMLResponse)
def new_case(request: Request):
    account = current_account(request)
    if account is None:
        return RedirectResponse(sign_in_url(request), status_code=303)
    return _case_form(request, account, _empty_form(), new=True)


@router.post("/casus/nieuw", response_class=HTMLResponse)
async def new_case_post(request: Request):
    return await _save(request, None)


@router.get("/casus/{case_id}/bewerken", response_class=HTMLResponse)
def edit_case(request: Request, case_id: str):
    account = current_account(request)
    if account is None:
        return RedirectResponse(sign_in_url(request), status_code=303)
    core = maatwerk(request)
    detail = read_case(core.kg, case_iri(case_id), core.concepts)
    if detail is None:
        return not_found(request, f"Er is geen casus met kenmerk ‘{case_id}’.")
    form = _form_from_case(detail)
    form["version"] = version_count(core.kg, detail["uri"])
    return _case_form(request, account, form, new=False)


@router.post("/casus/{case_id}/bewerken", response_class=HTMLResponse)
async def edit_case_post(request: Request, case_id: str):
    return await _save(request, case_id)


async def _save(request: Request, case_id: str | None) -> Response:
    account = current_account(request)
    if account is None:
        return RedirectResponse(sign_in_url(request), status_code=303)
    data = await request.form()
    form = _form_from_post(data, case_id)
    new = case_id is None
    if not csrf_ok(request, data.get("csrf")):
        expired = ["Het formulier was verlopen; sla opnieuw op."]
        return _case_form(request, account, form, new, general=expired, status=400)
    action = str(data.get("actie") or "opslaan")
    if action in ACTIONS:  # one more empty row, without saving (works without JavaScript)
        form[ACTIONS[action]].append(_BLANK[ACTIONS[action]]())
        return _case_form(request, account, form, new)
    core = maatwerk(request)
    conflict = _conflict(core, form, new)
    if conflict:
        return _case_form(request, account, form, new, general=[conflict], status=409)
    try:
        result = await run_in_threadpool(core.import_records, [("formulier", _record(form))], writer=account.writer)
    except ImportRejected as exc:
        fields, general = _problems_by_field(exc.problems)
        return _case_form(request, account, form, new, fields, general, status=422)
    return RedirectResponse(local_url(result.cases[0].iri), status_code=303)


def _conflict(core, form: dict[str, Any], new: bool) -> str | None:
    """A new case must not overwrite a stored one; an edit must start from the version now stored."""
    if new:
        if form["id"] and read_case(core.kg, case_iri(form["id"]), core.concepts) is not None:
            return f"Er is al een casus met kenmerk {form['id']}; kies een ander kenmerk of bewerk die casus."
        return None
    if form.get("version") != version_count(core.kg, case_iri(form["id"])):
        return (
            "Iemand anders heeft deze casus intussen opgeslagen. Open de casus opnieuw om de nieuwste versie "
            "te bewerken; uw tekst staat hieronder nog, zodat u die kunt overnemen."
        )
    return None


def _case_form(
    request: Request,
    account: Account,
    form: dict[str, Any],
    new: bool,
    errors: dict[str, list[str]] | None = None,
    general: list[str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    for key, blank in _BLANK.items():
        if not form[key] or any(form[key][-1].values()):
            form[key].append(blank())  # always one empty row to fill in
    core = maatwerk(request)
    context = {
        "nav": "",
        "new": new,
        "form": form,
        "errors": errors or {},
        "general": general or [],
        "csrf": csrf_token(request),
        "statuses": STATUSES,
        "follow_ups": FOLLOW_UP_STATUSES,
        "link_fields": [(name, kind.plural, kind.kind) for name, kind in LINK_FIELDS],
        "knelpunttypen": [c.label for c in core.concepts.of_kind("knelpunttype")],
        "leerordes": [(1, "1e orde"), (2, "2e orde"), (3, "3e orde")],
        "action": "/casus/nieuw" if new else f"/casus/{quote(form['id'])}/bewerken",
        "account": account,
    }
    return page(request, "casus_form.html", context, status)


# --- the form <-> the import format ---------------------------------------------------------------


def _blank_knelpunt() -> dict[str, str]:
    return {"type": "", "text": ""}


def _blank_learning_point() -> dict[str, str]:
    keys = ("text", "order", "addressees", "follow_up", "presented_on", "response_on", "response")
    return dict.fromkeys(keys, "")


_BLANK = {"knelpunten": _blank_knelpunt, "learning_points": _blank_learning_point}


def _empty_form() -> dict[str, Any]:
    return {
        **dict.fromkeys(("id", "title", "situation", "solution", "status", "year", "source", "interventions"), ""),
        "fictional": False,
        "links": {name: "" for name, _ in LINK_FIELDS},
        "knelpunten": [],
        "learning_points": [],
        "version": 0,
    }


def _joined(labels: list[str]) -> str:
    return f"{SEPARATOR} ".join(labels)


def _form_from_case(detail: dict[str, Any]) -> dict[str, Any]:
    form = _empty_form()
    form.update({key: detail.get(key) or "" for key in ("id", "title", "situation", "solution", "status", "source")})
    form["year"] = str(detail["year"] or "")
    form["fictional"] = bool(detail.get("fictional"))
    form["interventions"] = "\n".join(detail["interventions"])
    form["links"] = {name: _joined([link["label"] for link in detail[name]]) for name, _ in LINK_FIELDS}
    form["knelpunten"] = [{"type": k["type"], "text": k["text"]} for k in detail["knelpunten"]]
    form["learning_points"] = [
        {
            "text": p["text"],
            "order": str(p["order"]),
            "addressees": _joined([link["label"] for link in p["addressees"]]),
            "follow_up": p["follow_up"] or "",
            "presented_on": p["presented_on"] or "",
            "response_on": p["response_on"] or "",
            "response": p["response"] or "",
        }
        for p in detail["learning_points"]
    ]
    return form


def _form_from_post(data, case_id: str | None) -> dict[str, Any]:
    """What the writer typed, as the form shows it again; empty rows dropped, so row n is item n of the record."""

    def value(name: str) -> str:
        return str(data.get(name) or "").strip()

    form = _empty_form()
    for key in ("id", "title", "situation", "solution", "status", "year", "source", "interventions"):
        form[key] = value(key)
    if case_id is not None:
        form["id"] = case_id  # an edit never changes the id (the URL names the case)
    form["fictional"] = data.get("fictional") == "ja"
    form["links"] = {name: value(name) for name, _ in LINK_FIELDS}
    version = value("versie")
    form["version"] = int(version) if version.isdigit() else -1
    form["knelpunten"] = _rows(data, "kp", _blank_knelpunt())
    form["learning_points"] = _rows(data, "lp", _blank_learning_point())
    return form


def _rows(data, prefix: str, blank: dict[str, str]) -> list[dict[str, str]]:
    numbers = sorted({int(m.group(1)) for key in data for m in [re.match(rf"{prefix}-(\d+)-", key)] if m})
    rows = [{key: str(data.get(f"{prefix}-{n}-{key}") or "").strip() for key in blank} for n in numbers]
    # A row counts when its own words are filled in; an order or status picked alone is no row.
    return [row for row in rows if any(v for k, v in row.items() if k not in ("order", "follow_up"))]


def _labels(text: str) -> list[str]:
    return [part.strip() for part in text.split(SEPARATOR) if part.strip()]


def _record(form: dict[str, Any]) -> dict[str, Any]:
    """The form in the import format (graph/case.py CaseInput): the checker does the rest."""
    record: dict[str, Any] = {
        key: form[key] for key in ("id", "title", "situation", "solution", "status", "source") if form[key]
    }
    if form["year"]:
        record["year"] = int(form["year"]) if form["year"].isdigit() else form["year"]
    record["fictional"] = form["fictional"]
    for name, _ in LINK_FIELDS:
        record[name] = _labels(form["links"][name])
    record["interventions"] = [line.strip() for line in form["interventions"].splitlines() if line.strip()]
    record["knelpunten"] = [{"type": k["type"], "text": k["text"]} for k in form["knelpunten"]]
    record["learning_points"] = [_learning_point(p) for p in form["learning_points"]]
    return record


def _learning_point(row: dict[str, str]) -> dict[str, Any]:
    point: dict[str, Any] = {"text": row["text"], "order": int(row["order"]) if row["order"].isdigit() else 1}
    point["addressees"] = _labels(row["addressees"])
    for key in ("follow_up", "presented_on", "response_on", "response"):
        if row[key]:
            point[key] = row[key]
    return point


_PATH = re.compile(r"^(knelpunten|learning_points)\[(\d+)\](?:\.(\w+))?$")
_ROW_PREFIX = {"knelpunten": "kp", "learning_points": "lp"}


def field_id(path: str) -> str | None:
    """The form field a problem's path names (`learning_points[1].response` -> `lp-1-response`), if any."""
    if path in FIELD_NAMES or path == "id":
        return path
    if path.startswith("interventions"):
        return "interventions"
    match = _PATH.match(path)
    if match:
        name, row, part = match.groups()
        return f"{_ROW_PREFIX[name]}-{row}-{part or ('type' if name == 'knelpunten' else 'text')}"
    return None


def _problems_by_field(problems: list[Problem]) -> tuple[dict[str, list[str]], list[str]]:
    fields: dict[str, list[str]] = {}
    general = []
    for problem in problems:
        # The span of personal data is not repeated on the page: the field shows where it is.
        message = problem.message
        target = field_id(problem.field)
        if target:
            fields.setdefault(target, []).append(message)
        else:
            general.append(message)
    if fields:
        general.insert(0, "De casus is niet opgeslagen. Pas de velden met een melding aan en sla opnieuw op.")
    return fields, general


# --- helpers for the form's script -------------------------------------------------------------


@router.post("/casus/hulp")
async def form_help(request: Request):
    """Concepts recognised in the texts (to add as links) and the most similar stored cases (a duplicate?)."""
    if current_account(request) is None:
        raise ApiError(401, "Niet aangemeld", "Meld u aan als schrijver.")
    try:
        body = await request.json()
    except ValueError:  # not JSON, or not UTF-8
        raise ApiError(422, "Geen geldige JSON", 'Verwacht {"text": "...", "id": "..."}') from None
    text = str(body.get("text") or "") if isinstance(body, dict) else ""
    own = str(body.get("id") or "") if isinstance(body, dict) else ""
    limit = request.app.state.settings.max_text_chars
    if not text.strip() or len(text) > limit:
        return JSONResponse({"concepts": [], "similar": []})
    core = maatwerk(request)
    return JSONResponse(await run_in_threadpool(_help, core, text, own))


def _help(core, text: str, own: str) -> dict[str, Any]:
    fields = {kind.kind: name for name, kind in LINK_FIELDS}
    concepts = [
        {"field": fields[c.kind], "kind": BY_KIND[c.kind].label, "label": c.label}
        for c in core.concepts.linked_concepts(text)
        if c.kind in fields
    ][:SUGGESTED]
    own_iri = case_iri(own) if own else None
    results = core.search().search(text, DUPLICATES + 1)["results"]
    similar = [
        {"title": r["title"], "url": local_url(r["uri"]), "relevance": r.get("relevance")}
        for r in results
        if r["uri"] != own_iri
    ][:DUPLICATES]
    return {"concepts": concepts, "similar": similar}


# --- for the case page ---------------------------------------------------------------------------


def case_history(request: Request, case_uri: str) -> list[dict[str, Any]]:
    """The case's versions for its page, with "u" for the signed-in writer's own saves."""
    account = current_account(request)
    versions = read_history(maatwerk(request).kg, case_uri)
    for version in versions:
        mine = account is not None and version["writer"] == account.writer.iri
        version["who"] = "u" if mine else (version["writer_label"] or "import")
        version["what"] = (
            "nieuw" if version["version"] == 1 else ", ".join(FIELD_NAMES.get(f, f) for f in version["changed"])
        )
    return versions


MONTHS = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
]


def datum(value: str | None) -> str:
    """An ISO date or time as Dutch readers write it: `1 maart 2025`, `6 december 2026 02:49 UTC`."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    day = f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"
    return day if len(value) <= 10 else f"{day} {moment:%H:%M} UTC"


templates.env.globals.update(current_account=current_account, csrf_token=csrf_token, case_history=case_history)
templates.env.filters.update(datum=datum)
