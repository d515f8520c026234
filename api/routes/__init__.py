"""The JSON API: similar cases and cases (cases.py), reference data (reference.py), autocomplete (concepts.py).

Routes that touch the graph or the index are plain `def`s, so FastAPI runs them
in its threadpool and the event loop stays free for other requests. Every GET route refuses
query parameters it does not know (`known_parameters_only`), so a misspelt filter is an
error instead of a silently unfiltered answer.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from api.http import ApiError, maatwerk
from api.models import Health
from api.routes import cases, concepts, feedback, gate, history, reference

# The app documents the import format (CASES_BODY_SCHEMA).
from api.routes.cases import CASES_BODY_SCHEMA


def known_parameters_only(request: Request) -> None:
    """422 naming the route's parameters when a GET address has one the route does not declare.

    Reads only: a POST keeps its own order (the import checks the key before anything else).
    """
    if request.method not in ("GET", "HEAD"):
        return
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known = sorted(_query_names(dependant))
    unknown = sorted({name for name in request.query_params if name not in known})
    if unknown:
        listed = ", ".join(known) if known else "geen"
        raise ApiError(
            422,
            f"Onbekende parameter{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}",
            f"Bekende parameters van {request.url.path}: {listed}",
            unknown=unknown,
            known=known,
        )


def _query_names(dependant) -> set[str]:
    """The query parameters a route declares, its dependencies' included (FastAPI's Dependant tree)."""
    names = {field.alias for field in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


router = APIRouter(dependencies=[Depends(known_parameters_only)])


@router.get("/health", response_model=Health, tags=["status"], summary="Status en omvang van de graaf")
def health(request: Request):
    return maatwerk(request).health()


router.include_router(cases.router)
router.include_router(reference.router)
router.include_router(concepts.router)
router.include_router(feedback.router)
router.include_router(gate.router)
router.include_router(history.router)

__all__ = ["CASES_BODY_SCHEMA", "router"]
