"""The Dutch web UI: server-rendered pages over the same `Maatwerk` the JSON API uses.

Pages: Zoeken (search.py), Casus (case.py), the HTML side of `/id/{kind}/{slug}`
(resource.py, called by api/linked_data.py), the SPARQL editor (sparql.py, called by
api/sparql_protocol.py), Systeemleren (systeemleren.py) and the writers' forms (forms.py,
contacts.py); pages.py holds what they
share. Everything the browser loads comes from /static, so the UI works on a closed network.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.ui import case, contacts, forms, report, search, systeemleren

router = APIRouter(include_in_schema=False)
router.include_router(search.router)
router.include_router(forms.router)  # before case: /casus/nieuw is not a case id
router.include_router(case.router)
router.include_router(contacts.router)
router.include_router(systeemleren.router)
router.include_router(report.router)
