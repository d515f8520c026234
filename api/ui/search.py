"""Zoeken (`/`): describe a situation, get similar cases with why they match and whom to contact.

The page's parameters are the API's (`q`, the filters of ontology.vocabulary, `page_size`),
so a shared page address is also a `/api/cases` call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.http import maatwerk
from api.ui.pages import highlight, legacy_redirect, page, year_param
from ontology.vocabulary import BY_PARAM, FILTER_PARAMS, STATUSES, YEAR_PARAMS
from search.service import BadFilter

router = APIRouter(include_in_schema=False)

RESULTS_PER_PAGE = 10
MORE_RESULTS = 25
YEAR_LABELS = dict(zip(YEAR_PARAMS, ("Jaar vanaf", "Jaar tot en met")))
CONCEPT_FILTERS = tuple(BY_PARAM.values())  # the filters chosen from a list of concepts


@dataclass
class SearchForm:
    q: str
    values: dict[str, str]  # parameter -> what the address says, for the form fields
    errors: list[str]
    filters: dict[str, Any]  # parameter -> value, for the search
    k: int = RESULTS_PER_PAGE


def search_form(request: Request, max_chars: int) -> SearchForm:
    params = request.query_params
    q = params.get("q", "").strip()[:max_chars]
    values = {name: params.get(name, "").strip() for name in FILTER_PARAMS}
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
    core = maatwerk(request)
    form = search_form(request, core.settings.max_text_chars)
    response = None
    if form.q and not form.errors:
        try:
            response = core.search().search(form.q, form.k, form.filters)
        except BadFilter as exc:  # an unknown label typed into the URL
            form.errors.append(str(exc))
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
            "highlight": highlight,
            "more_url": _more_url(request)
            if response and form.k < MORE_RESULTS and len(response["results"]) >= form.k
            else "",
        },
    )


def _more_url(request: Request) -> str:
    params = {k: v for k, v in request.query_params.items() if k != "page_size"}
    return "/?" + urlencode({**params, "page_size": MORE_RESULTS})
