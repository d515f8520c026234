"""Request and response models of the JSON API.

Every route declares one of these, so /openapi.json documents exactly what
integrations get. A case's own shapes (import and output) are its contract in
graph/case.py and are imported from there; filter names and kinds come from
ontology/vocabulary.py. Every `kind` field holds a concept kind (`wet`, `artikel`, …).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from api.settings import default
from graph.case import (  # noqa: F401 (re-exported: the case contract is part of the API's models)
    CaseDetail,
    CaseFields,
    CaseInput,
    CaseLinks,
    DerivedLink,
    LinkRef,
)
from ontology.vocabulary import BY_PARAM, KINDS, STATUSES

SearchMode = Literal["lexical", "dense", "hybrid", "hybrid+graph"]


# --- building blocks ----------------------------------------------------------


class ErrorResponse(BaseModel):
    """Every error: a clear message, plus details where they help."""

    error: str = Field(description="Wat er mis is, in gewone taal")
    detail: Any = Field(None, description="Details: ongeldige velden, de parserfout, …")


class ConceptRef(BaseModel):
    id: str = Field(description="Slug, het laatste deel van de IRI")
    uri: str
    label: str
    kind: str = Field(description="Soort begrip: " + ", ".join(k.kind for k in KINDS))


class CaseRef(BaseModel):
    id: str
    uri: str
    title: str


class Signals(BaseModel):
    dense: float
    lexical: float
    graph: float


class Explanation(BaseModel):
    shared_concepts: list[ConceptRef] = Field(description="Begrippen die vraag en casus delen")
    best_passage: str = Field(description="De passage van de casus die het best overeenkomt")
    matched_terms: list[str] = Field(description="Gedeelde (gestamde) zoektermen")
    signals: Signals = Field(description="Genormaliseerde score per signaal")
    contributions: Signals = Field(description="Bijdrage van elk signaal aan de eindscore")


# --- similar cases ----------------------------------------------------------------


class _Filters(BaseModel):
    """Labels, slugs or IRIs; several values within one filter mean 'any of'."""

    model_config = ConfigDict(extra="forbid")


if TYPE_CHECKING:  # the fields are built from the vocabulary at run time; statically it is a _Filters
    SearchFilters = _Filters
else:
    SearchFilters = create_model(
        "SearchFilters",
        __base__=_Filters,
        **{
            param: (list[str] | str | None, Field(None, description=f"{kind.label}: label, slug of IRI"))
            for param, kind in BY_PARAM.items()
        },
        status=(list[str] | str | None, Field(None, description=", ".join(STATUSES))),
        year_from=(int | None, None),
        year_to=(int | None, None),
    )


class SimilarCasesRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "text": "Een man in een rolstoel kan zijn werkplek niet bereiken; "
                    "gemeente en UWV verwijzen naar elkaar.",
                    "k": 5,
                    "filters": {"levensgebied": ["werk & opleiding"]},
                }
            ]
        },
    )
    text: str = Field(
        description="De situatie in gewone taal (Nederlands)",
        json_schema_extra={"minLength": 1, "maxLength": default("max_text_chars")},
    )
    # The upper bound is checked by the route (with a clearer message); here it is documented.
    k: int = Field(10, ge=1, description="Aantal casussen", json_schema_extra={"maximum": default("max_k")})
    filters: SearchFilters = Field(default_factory=SearchFilters)
    mode: SearchMode = Field("hybrid+graph", description="Rangschikking; standaard hybride met graaf")

    @model_validator(mode="before")
    @classmethod
    def _valid_unicode(cls, data: Any) -> Any:
        """JSON escapes can smuggle in lone surrogates, which no later step (and no response) can encode."""
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(
                "De invoer bevat een ongeldig teken (een losse surrogaat, \\ud800-\\udfff); stuur geldige Unicode-tekst"
            ) from None
        except (TypeError, ValueError):
            pass  # not plain JSON data: the field validators say what is wrong
        return data


MatchQuality = Literal["strong", "weak", "none"]


class CaseResult(CaseLinks):
    score: float = Field(description="Gewogen som van de signalen (voor rangschikking, geen kans)")
    relevance: float = Field(
        ge=0,
        le=1,
        description="Geschatte kans dat een casusregisseur dit een relevant precedent noemt (gekalibreerd)",
    )
    relevance_label: str = Field(description="De relevance in woorden: sterke overeenkomst, mogelijk relevant, …")
    explanation: Explanation


class SuggestedLink(LinkRef):
    weight: float = Field(description="Hoe specifiek gedeeld: bewijs (vraag, precedenten) maal idf over alle casussen")
    why: list[str] = Field(description="Waarom voorgesteld: ‘genoemd in uw beschrijving’, ‘in 3 van de 5 …’")
    title: str | None = Field(None, description="Opschrift van een wetsartikel")


class SuggestedOrganisation(SuggestedLink):
    role: str = Field("", description="Wat de organisatie doet")
    contact: str = Field("", description="Wanneer en hoe je contact opneemt")


class Suggested(BaseModel):
    laws: list[SuggestedLink]
    articles: list[SuggestedLink]
    voorzieningen: list[SuggestedLink]
    organisations: list[SuggestedOrganisation]


class SimilarCasesResponse(BaseModel):
    match_quality: MatchQuality = Field(
        description="strong: een vergelijkbare casus is bekend; weak: misschien; none: geen vergelijkbare casus bekend"
    )
    query_concepts: list[ConceptRef] = Field(description="Begrippen herkend in de vraag")
    results: list[CaseResult]
    suggested: Suggested
    warnings: list[str] = Field(description="Persoonsgegevens die de vraag lijkt te bevatten (gemaskeerd)")
    timings_ms: dict[str, float]


class CheckTextRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(description="De tekst die u wilt laten nakijken op persoonsgegevens")


class TextFindingOut(BaseModel):
    kind: str = Field(description="BSN, IBAN, TELEFOON, E-MAIL, ADRES, GEBOORTEDATUM of NAAM")
    masked: str = Field(description="Het gevonden stuk, gemaskeerd: 06-••••••78")
    start: int
    end: int


class CheckTextResponse(BaseModel):
    findings: list[TextFindingOut]
    warnings: list[str]


class SimilarToCaseResponse(SimilarCasesResponse):
    case: CaseRef = Field(description="De casus waarbij gezocht is (staat zelf nooit in de resultaten)")


# --- cases --------------------------------------------------------------------------


class CaseSummary(CaseFields):
    situation: str
    status: str | None
    year: int | None
    score: float | None = Field(None, description="Alleen bij zoeken met q")
    laws: list[LinkRef]
    levensgebieden: list[LinkRef]


class CaseList(BaseModel):
    total: int = Field(description="Aantal casussen dat aan de filters voldoet (met q: hoogstens de beste 1000)")
    page: int
    page_size: int
    items: list[CaseSummary]


class PersonalDataFinding(BaseModel):
    """Why a case was refused: personal data (the message names BSN, IBAN, NAAM, …; span is the text) or else."""

    case: str = Field(description="Id van de casus, of de plaats in de body (body[0])")
    field: str
    kind: str = Field(description="personal-data, invalid, unknown-label of ambiguous-label")
    message: str
    span: str | None = Field(None, description="De tekst die het probleem is")


class ImportRejectedResponse(ErrorResponse):
    findings: list[PersonalDataFinding]


class Redaction(BaseModel):
    case: str
    field: str
    kind: str


class ImportResponse(BaseModel):
    imported: int
    cases: list[CaseRef]
    redactions: list[Redaction] = Field(description="Vervangen persoonsgegevens (alleen met redact=true)")
    revision: str


# --- reference data ---------------------------------------------------------------


class Law(BaseModel):
    id: str
    uri: str
    label: str
    title: str | None = Field(description="Officiële titel")
    bwb_id: str | None
    url: str | None = Field(description="De wet op wetten.overheid.nl")
    alt_labels: list[str]
    description: str | None
    article_count: int
    case_count: int
    voorzieningen: list[LinkRef] = Field(description="Voorzieningen op grond van deze wet")
    organisations: list[LinkRef] = Field(description="Organisaties die deze wet uitvoeren")


class Organisation(BaseModel):
    id: str
    uri: str
    label: str
    alt_labels: list[str]
    type: LinkRef | None = Field(description="Organisatietype")
    role: str
    contact: str
    homepage: str | None
    laws: list[LinkRef] = Field(description="Wetten die de organisatie uitvoert")
    voorzieningen: list[LinkRef] = Field(description="Voorzieningen waarvoor zij bevoegd is")
    case_count: int


class Voorziening(BaseModel):
    id: str
    uri: str
    label: str
    alt_labels: list[str]
    description: str | None
    category: LinkRef | None
    laws: list[LinkRef]
    organisations: list[LinkRef] = Field(description="Bevoegde organisaties")
    case_count: int


class ConceptMatch(BaseModel):
    id: str
    uri: str
    label: str = Field(description="De voorkeursnaam")
    matched_label: str = Field(description="Het label (of synoniem) dat overeenkwam")
    kind: str


class Health(BaseModel):
    status: str
    cases: int
    triples: int
    encoder: str


# Error responses every JSON route may give, for the OpenAPI document.
BAD_BODY: dict[int | str, dict[str, Any]] = {400: {"model": ErrorResponse, "description": "Body is geen leesbare JSON"}}
ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorResponse, "description": "Invoer te groot"},
    422: {"model": ErrorResponse, "description": "Ongeldige invoer"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorResponse, "description": "Onbekend id"}}
