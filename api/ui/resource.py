"""The HTML side of a linked-data IRI (`/id/{kind}/{slug}` for browsers): what it is, its official
source, what links to it and its cases. The triples are graph.resources' description, the same
that Turtle and JSON-LD clients get (api/linked_data.py)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import pyoxigraph as ox
from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from api.http import maatwerk
from api.ui.pages import local_url, page
from graph.contacts import contact_points
from graph.limited import over_limit
from graph.resources import Resource, cases_involving, incoming
from graph.sparql import SparqlError
from ontology import ID
from ontology.vocabulary import BY_KIND

CASES_ON_RESOURCE_PAGE = 200

# Outgoing properties worth showing, in this order, with a Dutch name.
PROPERTY_NAMES = {
    "http://data.europa.eu/eli/ontology#title": "Officiële titel",
    "http://www.w3.org/2004/02/skos/core#altLabel": "Ook bekend als",
    "http://purl.org/dc/terms/description": "Omschrijving",
    "http://www.w3.org/2004/02/skos/core#definition": "Definitie",
    "https://w3id.org/maatwerk/def#rol": "Rol",
    "https://w3id.org/maatwerk/def#contact": "Wanneer en hoe benaderen",
    "http://data.europa.eu/eli/ontology#number": "Artikelnummer",
    "http://purl.org/dc/terms/identifier": "Identificatie",
    "http://www.w3.org/2004/02/skos/core#notation": "Code",
    "http://data.europa.eu/eli/ontology#is_part_of": "Onderdeel van",
    "http://www.w3.org/ns/org#classification": "Soort organisatie",
    "https://w3id.org/maatwerk/def#voertUit": "Voert uit",
    "http://data.europa.eu/m8g/hasLegalResource": "Wettelijke grondslag",
    "http://data.europa.eu/m8g/hasCompetentAuthority": "Bevoegde organisatie",
    "https://w3id.org/maatwerk/def#categorie": "Categorie",
    "http://www.w3.org/2004/02/skos/core#inScheme": "Begrippenlijst",
    "http://www.w3.org/2004/02/skos/core#broader": "Valt onder",
    "http://www.w3.org/2002/07/owl#sameAs": "Zelfde als",
    "http://www.w3.org/2000/01/rdf-schema#seeAlso": "Officiële bron",
    "http://xmlns.com/foaf/0.1/homepage": "Website",
}
# Incoming properties: what the list of things pointing here is called.
INCOMING_NAMES = {
    "http://data.europa.eu/eli/ontology#is_part_of": "Artikelen",
    "https://w3id.org/maatwerk/def#voertUit": "Uitgevoerd door",
    "http://data.europa.eu/m8g/hasLegalResource": "Voorzieningen op grond hiervan",
    "http://data.europa.eu/m8g/hasCompetentAuthority": "Voorzieningen waarvoor bevoegd",
    "http://www.w3.org/ns/org#classification": "Organisaties van deze soort",
    "https://w3id.org/maatwerk/def#categorie": "Voorzieningen in deze categorie",
    "http://www.w3.org/2004/02/skos/core#inScheme": "Begrippen in deze lijst",
    "http://www.w3.org/2004/02/skos/core#broader": "Onderliggende begrippen",
}
EXTERNAL_PROPERTIES = {
    "http://www.w3.org/2000/01/rdf-schema#seeAlso",
    "http://xmlns.com/foaf/0.1/homepage",
    "http://www.w3.org/2002/07/owl#sameAs",
}
ARTICLE_TEXT = "https://w3id.org/maatwerk/def#tekst"


def resource_page(request: Request, kind: str, slug: str, resource: Resource) -> Response:
    """The page for a described resource; cases have a page of their own. Blocking: call it from a thread."""
    if kind == "casus":
        return RedirectResponse(local_url(resource.iri), status_code=303)
    core = maatwerk(request)
    context: dict[str, Any] = {"incoming": [], "cases": [], "total": 0, "limit_message": ""}
    try:
        context["incoming"] = _incoming(incoming(core.kg, resource.iri, core.limits))
        cases, context["total"] = cases_involving(core.kg, resource.iri, core.limits, CASES_ON_RESOURCE_PAGE)
        context["cases"] = [{**c, "url": local_url(c["iri"])} for c in cases]
    except SparqlError as exc:
        if not over_limit(exc):
            raise
        context["limit_message"] = (
            f"De verwijzingen en casussen bij deze pagina konden niet worden opgehaald: "
            f"{str(exc).rstrip('.')}. Probeer het later opnieuw."
        )
    return page(
        request,
        "resource.html",
        {
            "nav": "",
            "uri": resource.iri,
            "kind": kind,
            "slug": slug,
            **_describe(resource),
            **context,
            "search_filter": _search_filter_for(kind, slug),
            "contactpunten": contact_points(core.kg, [resource.iri]).get(resource.iri, []),
            "csv_export": _csv_export_for(kind, slug),
        },
    )


def _describe(resource: Resource) -> dict[str, Any]:
    """Split a resource's triples into its name, readable properties, official links and article text."""
    labels = resource.labels()
    props: dict[str, list[dict[str, str]]] = {}
    external: list[dict[str, str]] = []
    text = ""
    for predicate, obj in resource.statements():
        if predicate in EXTERNAL_PROPERTIES:
            external.append({"name": PROPERTY_NAMES[predicate], "url": obj.value})
        elif predicate == ARTICLE_TEXT:
            text = obj.value
        elif predicate in PROPERTY_NAMES:
            ours = isinstance(obj, ox.NamedNode) and obj.value.startswith(ID)
            value = {"text": labels.get(obj.value, obj.value), "url": local_url(obj.value) if ours else ""}
            if value not in props.setdefault(predicate, []):
                props[predicate].append(value)
    ordered = [(PROPERTY_NAMES[p], props[p]) for p in PROPERTY_NAMES if p in props]
    return {"label": resource.label, "properties": ordered, "external": external, "article_text": text}


def _incoming(rows: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, str]]]]:
    grouped: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        name = INCOMING_NAMES.get(row["p"], "Verwijst hiernaar")
        grouped.setdefault(name, []).append(
            {"text": row["label"] or row["s"].rsplit("/", 1)[-1], "url": local_url(row["s"])}
        )
    return [(name, sorted(items, key=lambda i: natural_key(i["text"]))) for name, items in grouped.items()]


def natural_key(text: str) -> list:
    """'art. 2' before 'art. 10': numbers compare as numbers, dotted parts one by one."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


def _search_filter_for(kind: str, slug: str) -> str:
    """A search URL pre-filtered on this concept, where the search can filter on its kind."""
    param = _filter_param(kind)
    return "/?" + urlencode({param: slug}) if param else ""


def _csv_export_for(kind: str, slug: str) -> str:
    """The newest cases on this concept as CSV from the JSON API (one page of at most 100)."""
    param = _filter_param(kind)
    return "/api/cases?" + urlencode({param: slug, "page_size": 100, "format": "csv"}) if param else ""


def _filter_param(kind: str) -> str | None:
    return BY_KIND[kind].param if kind in BY_KIND else None
