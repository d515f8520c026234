"""Reference data: laws, organisations and voorzieningen, with their links and case counts (graph.reference)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.http import maatwerk
from api.models import Law, Organisation, Voorziening
from graph import reference

router = APIRouter(tags=["referentiedata"])


@router.get("/api/laws", response_model=list[Law], summary="Wetten met BWB-id en koppelingen")
def laws(request: Request):
    return reference_list(maatwerk(request), "laws")


@router.get(
    "/api/organisations",
    response_model=list[Organisation],
    summary="Organisaties met rol, contact en de wetten die ze uitvoeren",
)
def organisations(request: Request):
    return reference_list(maatwerk(request), "organisations")


@router.get(
    "/api/voorzieningen",
    response_model=list[Voorziening],
    summary="Voorzieningen met hun wetten en bevoegde organisaties",
)
def voorzieningen(request: Request):
    return reference_list(maatwerk(request), "voorzieningen")


LISTS = {"laws": reference.laws, "organisations": reference.organisations, "voorzieningen": reference.voorzieningen}


def reference_list(core, name: str) -> list[dict]:
    """The lists change only with a commit: built once per graph revision, under the SPARQL limits."""
    build = LISTS[name]
    return list(core.cached(("reference", name), lambda: build(core.kg, core.limits)))


def warm(core) -> None:
    for name in LISTS:
        reference_list(core, name)
