"""Zoeken (`/`): describe a situation, get similar cases with why they match and whom to contact.

The page's form sends the situation by POST, so the text never lands in the page address, the
browser history or the access log. The filters (the API's names, ontology.vocabulary) stay in the
address: `/?law=jeugdwet` can be shared and is also a `/api/cases` call. An old link with `?q=`
still works, but the page itself never makes one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from api.http import maatwerk
from api.ui.pages import highlight, legacy_redirect, page, year_param
from graph.contacts import contact_points
from ontology.vocabulary import BY_PARAM, FILTER_PARAMS, STATUSES, YEAR_PARAMS
from search.service import BadFilter

router = APIRouter(include_in_schema=False)

RESULTS_PER_PAGE = 10
MORE_RESULTS = 25
YEAR_LABELS = dict(zip(YEAR_PARAMS, ("Jaar vanaf", "Jaar tot en met"), strict=True))
CONCEPT_FILTERS = tuple(BY_PARAM.values())  # the filters chosen from a list of concepts


@dataclass
class SearchForm:
    q: str
    values: dict[str, str]  # parameter -> what the address says, for the form fields
    errors: list[str]
    filters: dict[str, Any]  # parameter -> value, for the search
    k: int = RESULTS_PER_PAGE


# At most this many results are shown, set apart as "misschien", when no comparable case is known.
MAYBE_RESULTS = 3


def search_form(params: Mapping[str, Any], max_chars: int) -> SearchForm:
    q = str(params.get("q", "")).strip()[:max_chars]
    values = {name: str(params.get(name, "")).strip() for name in FILTER_PARAMS}
    errors: list[str] = []
    filters: dict[str, Any] = {name: values[name] for name in FILTER_PARAMS if name not in YEAR_PARAMS and values[name]}
    for name in YEAR_PARAMS:
        year = year_param(values[name], YEAR_LABELS[name], errors)
        if year is not None:
            filters[name] = year
    k = MORE_RESULTS if params.get("page_size") == str(MORE_RESULTS) else RESULTS_PER_PAGE
    return SearchForm(q, values, errors, filters, k)


@router.get("/", response_class=HTMLResponse, name="zoeken")
def zoeken(request: Request):
    redirect = legacy_redirect(request)
    if redirect:
        return redirect
    return _search_page(request, request.query_params)


@router.post("/", response_class=HTMLResponse, name="zoeken_post")
async def zoeken_post(request: Request):
    form = await request.form()
    return await run_in_threadpool(_search_page, request, {k: v for k, v in form.items() if isinstance(v, str)})


def _search_page(request: Request, params: Mapping[str, Any]) -> HTMLResponse:
    core = maatwerk(request)
    form = search_form(params, core.settings.max_text_chars)
    response = None
    if form.q and not form.errors:
        try:
            response = core.search().search(form.q, form.k, form.filters)
        except BadFilter as exc:  # an unknown label typed into the URL
            form.errors.append(str(exc))
    if response:
        _add_contact_points(core, response["suggested"]["organisations"])
    options = {f.param: core.concepts.of_kind(f.kind) for f in CONCEPT_FILTERS}
    return page(
        request,
        "zoeken.html",
        {
            "nav": "zoeken",
            "form": form,
            "filters": CONCEPT_FILTERS,
            "options": options,
            "statuses": STATUSES,
            "response": response,
            "maybe_results": MAYBE_RESULTS,
            "highlight": highlight,
            "more_results": MORE_RESULTS
            if response
            and response["match_quality"] != "none"
            and form.k < MORE_RESULTS
            and len(response["results"]) >= form.k
            else 0,
            "share_url": _share_url(form),
        },
    )


def _share_url(form: SearchForm) -> str:
    """The address to share: the filters only, never the situation text."""
    active = {k: v for k, v in form.values.items() if v}
    return "/?" + urlencode(active) if active else "/"


def _add_contact_points(core, organisations: list[dict[str, Any]]) -> None:
    """The maatwerkregister's desks and people for each organisation worth contacting."""
    points = contact_points(core.kg, [o["uri"] for o in organisations])
    for organisation in organisations:
        organisation["contactpunten"] = points.get(organisation["uri"], [])
