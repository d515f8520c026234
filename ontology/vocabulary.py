"""The one table of concept kinds: how each kind is found in the graph and named everywhere else.

A case links to laws, articles, voorzieningen, organisations and levensgebieden, and is
classified by knelpunttypen and leerordes. Each kind has one row here; the import
format, the JSON answers, the filters of the API, UI and CLI, the RDF writer and reader,
entity linking and the Dutch labels of the UI all derive their lists from this table,
so adding a link kind is one new row.
"""

from __future__ import annotations

from dataclasses import dataclass

from ontology import ID


@dataclass(frozen=True)
class Kind:
    """One kind of concept a case can refer to."""

    kind: str
    """Concept kind, also the IRI type segment: `wet` -> https://w3id.org/maatwerk/id/wet/..."""
    label: str
    """Dutch name, singular, capitalised for the UI: `Wet`."""
    plural: str
    """Dutch name, plural: `Wetten`."""
    rdf_type: str | None = None
    """The class of its concepts (`eli:LegalResource`), for kinds that are not a SKOS scheme."""
    scheme: str | None = None
    """The SKOS concept scheme its concepts are in, for vocabulary kinds."""
    field: str | None = None
    """Field in the case contract, the same in the import format and in JSON answers: `laws`."""
    param: str | None = None
    """Filter parameter, the same in the API, the UI and the CLI: `law`."""
    predicate: str | None = None
    """Predicate from a case straight to a concept of this kind: `mw:betreftWet`."""
    linkable: bool = False
    """Entity linking looks for it in free text (knelpunttypen and leerordes are ordinary words)."""

    @property
    def is_case_link(self) -> bool:
        return self.predicate is not None


KINDS: tuple[Kind, ...] = (
    Kind(
        "wet",
        "Wet",
        "Wetten",
        rdf_type="eli:LegalResource",
        field="laws",
        param="law",
        predicate="mw:betreftWet",
        linkable=True,
    ),
    Kind(
        "artikel",
        "Wetsartikel",
        "Wetsartikelen",
        rdf_type="eli:LegalResourceSubdivision",
        field="articles",
        predicate="mw:betreftArtikel",
        linkable=True,
    ),
    Kind(
        "voorziening",
        "Voorziening",
        "Voorzieningen",
        rdf_type="cpsv:PublicService",
        field="voorzieningen",
        param="voorziening",
        predicate="mw:betreftVoorziening",
        linkable=True,
    ),
    Kind(
        "organisatie",
        "Organisatie",
        "Organisaties",
        rdf_type="org:Organization",
        field="organisations",
        param="organisation",
        predicate="mw:betrokkenOrganisatie",
        linkable=True,
    ),
    Kind(
        "levensgebied",
        "Levensgebied",
        "Levensgebieden",
        scheme=ID + "schema/levensgebieden",
        field="levensgebieden",
        param="levensgebied",
        predicate="mw:levensgebied",
        linkable=True,
    ),
    # Knelpunten are nodes of their own (mw:knelpunt / mw:knelpuntType), not a direct link.
    Kind("knelpunttype", "Knelpunttype", "Knelpunttypen", scheme=ID + "schema/knelpunttypen", param="knelpunttype"),
    Kind("leerorde", "Leerorde", "Leerordes", scheme=ID + "schema/leerordes"),
    # How far a leerpunt has been followed up (mw:opvolgstatus on the leerpunt node).
    Kind("opvolgstatus", "Opvolgstatus", "Opvolgstatussen", scheme=ID + "schema/opvolgstatussen"),
    # The lay-language thesaurus (ontology/thesaurus.ttl): cases do not link to these concepts;
    # entity linking finds them in a question, and skos:related leads on to laws, voorzieningen
    # and organisations.
    Kind("doelgroep", "Doelgroep", "Doelgroepen", scheme=ID + "schema/doelgroepen", linkable=True),
    Kind("situatie", "Situatie", "Situaties", scheme=ID + "schema/situaties", linkable=True),
    Kind("aandoening", "Aandoening", "Aandoeningen", scheme=ID + "schema/aandoeningen", linkable=True),
)

BY_KIND: dict[str, Kind] = {k.kind: k for k in KINDS}
BY_FIELD: dict[str, Kind] = {k.field: k for k in KINDS if k.field}
BY_PARAM: dict[str, Kind] = {k.param: k for k in KINDS if k.param}
CASE_LINKS: tuple[Kind, ...] = tuple(k for k in KINDS if k.is_case_link)
LINKABLE: frozenset[str] = frozenset(k.kind for k in KINDS if k.linkable)
# Thesaurus kinds: found in questions and shown in explanations, never a link of a case.
THESAURUS_KINDS: frozenset[str] = frozenset(k.kind for k in KINDS if k.linkable and not k.is_case_link)

# Case facets that are values, not concepts.
STATUSES: tuple[str, ...] = ("opgelost", "lopend", "niet opgelost")
# A leerpunt's follow-up, in order; the labels of the opvolgstatus concepts (ontology/vocabularies.ttl).
FOLLOW_UP_STATUSES: tuple[str, ...] = ("open", "voorgelegd", "opgepakt", "doorgevoerd", "niet opgepakt")
YEAR_PARAMS: tuple[str, str] = ("year_from", "year_to")
FILTER_PARAMS: tuple[str, ...] = (*BY_PARAM, "status", *YEAR_PARAMS)

# Dutch names of the other resource types that have a page of their own.
RESOURCE_LABELS: dict[str, str] = {
    **{k.kind: k.label for k in KINDS},
    "organisatietype": "Soort organisatie",
    "voorzieningcategorie": "Categorie voorzieningen",
    "schema": "Begrippenlijst",
    "casus": "Casus",
}
