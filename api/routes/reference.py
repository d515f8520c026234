"""Reference data: laws, organisations and voorzieningen, with their links and case counts (graph.reference)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.http import maatwerk
from api.models import Law, Organisation, Voorziening
from graph import reference

router = APIRouter(tags=["referentiedata"])


@router.get("/api/laws", response_model=list[Law], summary="Wetten met BWB-id en koppelingen")
def laws(request: Request):
    return _reference_list(request, "laws", reference.laws)


@router.get(
    "/api/organisations",
    response_model=list[Organisation],
    summary="Organisaties met rol, contact en de wetten die ze uitvoeren",
)
def organisations(request: Request):
    return _reference_list(request, "organisations", reference.organisations)


@router.get(
    "/api/voorzieningen",
    response_model=list[Voorziening],
    summary="Voorzieningen met hun wetten en bevoegde organisaties",
)
def voorzieningen(request: Request):
    return _reference_list(request, "voorzieningen", reference.voorzieningen)


def _reference_list(request: Request, name: str, build) -> list[dict]:
    """The lists change only with a commit: built once per graph revision, under the SPARQL limits."""
    core = maatwerk(request)
    return list(core.cached(("reference", name), lambda: build(core.kg, core.limits)))
