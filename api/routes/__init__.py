"""The JSON API: similar cases and cases (cases.py), reference data (reference.py), autocomplete (concepts.py).

Routes that touch the graph or the index are plain `def`s, so FastAPI runs them
in its threadpool and the event loop stays free for other requests.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.http import maatwerk
from api.models import Health
from api.routes import cases, concepts, feedback, gate, history, reference

# The app documents the import format (CASES_BODY_SCHEMA).
from api.routes.cases import CASES_BODY_SCHEMA

router = APIRouter()


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
