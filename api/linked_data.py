"""Linked data: every IRI https://w3id.org/maatwerk/id/{type}/{slug} is served at /id/{type}/{slug}.

One description per resource (graph.resources.describe: its own triples, the nodes
under its IRI as in a Concise Bounded Description, and the labels of what it points
to). Browsers get it as the web UI's page; other clients get exactly those triples
as Turtle, JSON-LD, N-Triples or RDF/XML by Accept or `?format=`.
"""

from __future__ import annotations

import pyoxigraph as ox
from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from api.http import (
    FORMAT_NAMES,
    RDF_PREFIXES,
    RDF_TYPES,
    TURTLE,
    ApiError,
    content_type,
    maatwerk,
    negotiate,
    wants_html,
)
from api.ui.pages import not_found
from api.ui.resource import resource_page
from graph.resources import describe
from graph.sparql import GRAPH_TYPES
from ontology import ID
from ontology.vocabulary import RESOURCE_LABELS

router = APIRouter(tags=["linked data"])


@router.get(
    "/id/{kind}/{slug:path}",
    response_class=Response,
    summary="Een resource als linked data",
    responses={
        200: {
            "content": {t: {} for t in [*RDF_TYPES, "text/html"]},
            "description": "Turtle, JSON-LD, N-Triples, RDF/XML of HTML, naar Accept",
        },
        404: {"description": "Onbekende resource"},
    },
)
async def resource(request: Request, kind: str, slug: str):
    uri = f"{ID}{kind}/{slug}"
    described = await run_in_threadpool(describe, maatwerk(request).kg, uri)
    browser = wants_html(request, RDF_TYPES) and not request.query_params.get("format")
    if described is None:
        if browser:
            return not_found(request, f"Er is niets bekend over {RESOURCE_LABELS.get(kind, kind).lower()} ‘{slug}’.")
        raise ApiError(404, f"Onbekende resource: {uri}")
    if browser:
        return await run_in_threadpool(resource_page, request, kind, slug, described)
    media = _media(request)
    body = ox.serialize(described.triples, format=GRAPH_TYPES[media], prefixes=RDF_PREFIXES)
    return Response(body, media_type=content_type(media), headers={"Vary": "Accept"})


def _media(request: Request) -> str:
    name = (request.query_params.get("format") or "").strip().lower()
    named = FORMAT_NAMES.get(name, (None, None))[1]
    if named:
        return named
    media = negotiate(request.headers.get("accept"), [*RDF_TYPES, "application/json"], TURTLE)
    return "application/ld+json" if media == "application/json" else media
