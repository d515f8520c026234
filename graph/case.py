"""A case, in both directions: its shape (import and output), its RDF writer and its RDF reader.

The pydantic models are the contract: they are the OpenAPI schema of `POST /api/cases` and
`GET /api/cases/{id}`, and the list of texts the privacy gate checks is read from them
(`gated_texts`), so a text field added here is gated without another list to keep.
The import (ingest) checks the domain rules (personal data, labels, ids) and hands a
`CaseRecord` to `case_quads`; the API and the UI read a case back with `read_case`.

Input and output use the same field names; link fields and their predicates come from
`ontology.vocabulary`.
"""

from __future__ import annotations

import json
import typing
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any

import pyoxigraph as ox
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, create_model, field_validator

from graph.cases import CaseDoc
from graph.concepts import Concept, ConceptIndex
from ontology import iri, slugify, term
from ontology.vocabulary import BY_FIELD, BY_KIND, CASE_LINKS, FOLLOW_UP_STATUSES, STATUSES

# What ontology/shapes.ttl (mws:CasusShape) asks of a case's texts; the importer checks them before
# anything is stored, because SHACL runs only on imports up to the configured size.
MIN_TITLE = 3
MIN_SITUATION = 20
MAX_ID = 200
ID_FIELD = "id"


class _Gated:
    """Marker on a text type: the privacy gate checks every value of this type."""

    def __repr__(self) -> str:
        return "gated"


GATED = _Gated()
GatedText = Annotated[str, GATED]
"""Free text a person wrote: checked for personal data on every import (see `gated_texts`)."""

Label = Annotated[str | StrictInt, Field(description="Label, afkorting, id, slug of IRI van een begrip")]


# --- the import shape ------------------------------------------------------------------------


class KnelpuntInput(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)
    type: Label = Field(description="Knelpunttype")
    text: GatedText = Field("", description="Wat er knelde")


def _one_of(value: str | None, allowed: tuple[str, ...]) -> str | None:
    """A status compared without regard to case; anything else is refused with the choices."""
    status = value.strip().lower() if value else None
    if status and status not in allowed:
        raise ValueError(f"kies uit {', '.join(allowed)}")
    return status


class LearningPointInput(BaseModel):
    """A leerpunt, and how it was followed up: to whom it was put, when, and what was done with it."""

    model_config = ConfigDict(str_strip_whitespace=True)
    text: GatedText = Field(min_length=1)
    order: int = Field(1, ge=1, le=3, description="Leerorde: 1, 2 of 3")
    addressees: list[Label] | Label = Field([], description="Organisaties aan wie het leerpunt is voorgelegd: labels")
    follow_up: str | None = Field(None, description=f"Opvolgstatus: {', '.join(FOLLOW_UP_STATUSES)}")
    presented_on: date | None = Field(None, description="Voorgelegd op (JJJJ-MM-DD)")
    response_on: date | None = Field(None, description="Datum van de reactie (JJJJ-MM-DD)")
    response: GatedText | None = Field(None, description="Wat is ermee gedaan, zonder persoonsgegevens")

    @field_validator("follow_up")
    @classmethod
    def _known_follow_up(cls, value: str | None) -> str | None:
        return _one_of(value, FOLLOW_UP_STATUSES)


class _CaseInputBase(BaseModel):
    """One case in the import format; labels are resolved to concepts like the CLI does.

    Accepted as the CSV columns give them: an integer id is its decimal text, a single label
    may stand for a list of one, a learning point may be plain text (order 1), and the status
    is compared without regard to case. Texts count without the spaces around them.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: Annotated[str, GATED, Field(max_length=MAX_ID)] | StrictInt | None = Field(
        None, description="Stabiel extern id (tekst of geheel getal); opnieuw importeren werkt de casus bij"
    )
    title: GatedText | None = Field(None, min_length=MIN_TITLE)
    situation: GatedText = Field(min_length=MIN_SITUATION)
    solution: GatedText | None = None
    status: str | None = Field(None, description=f"{', '.join(STATUSES)} (hoofdletters maken niet uit)")

    @field_validator("status")
    @classmethod
    def _known_status(cls, value: str | None) -> str | None:
        return _one_of(value, STATUSES)

    year: int | None = Field(None, ge=1990, le=2100)
    knelpunten: list[KnelpuntInput | Label] | KnelpuntInput | Label = []
    interventions: list[GatedText] | GatedText = []
    learning_points: list[LearningPointInput | GatedText] | LearningPointInput | GatedText = []
    fictional: StrictBool | None = Field(False, description="Verzonnen voorbeeldcasus (null: nee)")
    source: GatedText | None = Field(None, description="Bron (organisatie of project), zonder persoonsgegevens")


CaseInput = create_model(  # type: ignore[call-overload]
    "CaseInput",
    __base__=_CaseInputBase,
    **{name: (list[Label] | Label, Field([], description=f"{k.plural}: labels")) for name, k in BY_FIELD.items()},
)
FIELDS: frozenset[str] = frozenset(CaseInput.model_fields)


def gated_texts(raw: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(path, value) of every value a raw record holds where the contract has a GatedText.

    Values of the wrong type are yielded too (the checker says "moet tekst zijn"), except where
    the contract allows another type there (an integer id, a knelpunt given as a label).
    """
    for name, info in CaseInput.model_fields.items():
        value = raw.get(name)
        if value not in (None, ""):
            yield from _walk(info.annotation, info.metadata, name, value)


_UNION = type(int | None)  # `X | Y` written in a class body: types.UnionType, not typing.Union


def _walk(annotation: Any, metadata: list, path: str, value: Any) -> Iterator[tuple[str, Any]]:
    if GATED in metadata:
        yield path, value
        return
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        base, *extra = typing.get_args(annotation)
        yield from _walk(base, [*metadata, *extra], path, value)
    elif origin in (typing.Union, _UNION):
        options = typing.get_args(annotation)
        lists = [o for o in options if typing.get_origin(o) is list]
        if lists and not isinstance(value, list):  # one value where a list may stand: a list of one
            yield from _walk(lists[0], [], path, [value])
        else:
            yield from _walk(_option_for(options, value), [], path, value)
    elif origin is list:
        (item,) = typing.get_args(annotation)
        for i, child in enumerate(value):
            yield from _walk(item, [], f"{path}[{i}]", child)
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel) and isinstance(value, dict):
        for name, info in annotation.model_fields.items():
            if value.get(name) not in (None, ""):
                yield from _walk(info.annotation, info.metadata, f"{path}.{name}", value[name])


def _option_for(options: tuple, value: Any) -> Any:
    """The member of a union that describes `value`: a model for a dict, a list for a list, else text."""

    def kind_of(option: Any) -> Any:
        base = typing.get_args(option)[0] if typing.get_origin(option) is Annotated else option
        return typing.get_origin(base) or base

    for option in options:
        base = kind_of(option)
        if isinstance(value, dict) and isinstance(base, type) and issubclass(base, BaseModel):
            return option
        if isinstance(value, list) and base is list:
            return option
        if isinstance(value, int) and not isinstance(value, bool) and base is int:
            return None  # allowed as it is: nothing to gate
    texts = [o for o in options if kind_of(o) is str]
    return texts[0] if texts else None


# --- the output shape ------------------------------------------------------------------------


class LinkRef(BaseModel):
    """A law, article, voorziening, organisation or levensgebied a case is linked to."""

    id: str = Field(description="Slug, het laatste deel van de IRI")
    uri: str
    label: str
    bwb_id: str | None = Field(None, description="BWB-id voor wetten, anders null")


class DerivedLink(LinkRef):
    """A concept found in the case text by entity linking (not given explicitly)."""

    kind: str = Field(description="Soort begrip: " + ", ".join(k.kind for k in CASE_LINKS))


class CaseFields(BaseModel):
    """What every case answer starts with; subclasses add their fields after these."""

    id: str
    uri: str
    title: str


class CaseText(CaseFields):
    situation: str
    solution: str
    status: str | None
    year: int | None


CaseLinks = create_model(  # type: ignore[call-overload]
    "CaseLinks",
    __base__=CaseText,
    **dict.fromkeys(BY_FIELD, (list[LinkRef], ...)),
    derived=(list[DerivedLink], Field(description="Begrippen die entity linking in de tekst vond")),
)


class KnelpuntOutput(BaseModel):
    type: str = Field(description="Het knelpunttype (label)")
    text: str


class LearningPointOutput(BaseModel):
    text: str
    order: int = Field(description="Leerorde: 1, 2 of 3")
    type: str = Field(description="De leerorde als label (1e, 2e, 3e orde)")
    addressees: list[LinkRef] = Field([], description="Organisaties aan wie het is voorgelegd")
    follow_up: str | None = Field(None, description="Opvolgstatus; null als die niet is bijgehouden")
    presented_on: str | None = Field(None, description="Voorgelegd op (JJJJ-MM-DD)")
    response_on: str | None = Field(None, description="Datum van de reactie (JJJJ-MM-DD)")
    response: str | None = Field(None, description="Wat is ermee gedaan")


class CaseDetail(CaseLinks):  # type: ignore[misc, valid-type]
    """One case with everything it holds, in the field names of the import format."""

    fictional: bool = Field(description="Verzonnen voorbeeldcasus")
    knelpunten: list[KnelpuntOutput]
    interventions: list[str]
    learning_points: list[LearningPointOutput]
    source: str | None = Field(None, description="Bron")


# --- a checked case and its RDF ---------------------------------------------------------------


@dataclass
class LearningPoint:
    """A checked leerpunt: its text, leerorde and follow-up, labels resolved to concepts."""

    text: str
    order: Concept
    addressees: list[Concept] = field(default_factory=list)
    follow_up: Concept | None = None
    presented_on: date | None = None
    response_on: date | None = None
    response: str = ""


@dataclass
class CaseRecord:
    """A case the importer checked: texts final (gated), labels resolved to concepts."""

    id: str
    title: str
    situation: str
    solution: str = ""
    status: str | None = None
    year: int | None = None
    links: dict[str, list[Concept]] = field(default_factory=dict)  # concept kind -> concepts
    derived: list[Concept] = field(default_factory=list)
    knelpunten: list[tuple[Concept, str]] = field(default_factory=list)
    interventions: list[str] = field(default_factory=list)
    learning_points: list[LearningPoint] = field(default_factory=list)
    fictional: bool = False
    source: str | None = None

    @property
    def iri(self) -> str:
        return case_iri(self.id)

    def concept_iris(self) -> set[str]:
        explicit = {c.iri for concepts in self.links.values() for c in concepts}
        return explicit | {c.iri for c in self.derived}

    def search_doc(self) -> CaseDoc:
        """What the search index reads of this case, straight from the record (no stamp: the graph has it)."""
        return CaseDoc(
            self.id,
            self.iri,
            self.title,
            self.situation,
            self.solution,
            self.status or None,
            self.year or None,
            "",
            self.concept_iris(),
            {c.iri for c, _ in self.knelpunten},
        )


def case_iri(case_id: str) -> str:
    return iri("casus", slugify(case_id))


# concept kind -> predicate from a case to a concept of that kind
_PREDICATES: dict[str, str] = {k.kind: k.predicate for k in CASE_LINKS if k.predicate}
_N = {
    name: ox.NamedNode(term(name))
    for name in (
        "rdf:type",
        "mw:Casus",
        "mw:Knelpunt",
        "mw:Leerpunt",
        "dcterms:title",
        "dcterms:identifier",
        "mw:situatie",
        "mw:oplossing",
        "mw:status",
        "mw:jaar",
        "mw:fictief",
        "mw:knelpunt",
        "mw:knelpuntType",
        "dcterms:description",
        "mw:interventie",
        "mw:leerpunt",
        "mw:leerorde",
        "mw:afgeleidConcept",
        "mw:geadresseerde",
        "mw:opvolgstatus",
        "mw:voorgelegdOp",
        "mw:reactieOp",
        "mw:reactie",
        "prov:generatedAtTime",
        "prov:wasAttributedTo",
        "prov:Agent",
        "rdfs:label",
        *_PREDICATES.values(),
    )
}
IDENTIFIER = _N["dcterms:identifier"]
_XSD_INT = ox.NamedNode(term("xsd:integer"))
_XSD_BOOL = ox.NamedNode(term("xsd:boolean"))
_XSD_DT = ox.NamedNode(term("xsd:dateTime"))
_XSD_DATE = ox.NamedNode(term("xsd:date"))


def case_quads(record: CaseRecord, generated_at: datetime) -> list[ox.Quad]:
    """The case in its own named graph (the case IRI), so re-import replaces exactly it."""
    case = ox.NamedNode(record.iri)
    quads: list[ox.Quad] = []

    def add(s, p, o):
        quads.append(ox.Quad(s, _N[p], o, case))

    def text(value):
        return ox.Literal(value, language="nl")

    add(case, "rdf:type", _N["mw:Casus"])
    add(case, "dcterms:identifier", ox.Literal(record.id))
    add(case, "dcterms:title", text(record.title))
    add(case, "mw:situatie", text(record.situation))
    if record.solution:
        add(case, "mw:oplossing", text(record.solution))
    if record.status:
        add(case, "mw:status", ox.Literal(record.status))
    if record.year:
        add(case, "mw:jaar", ox.Literal(str(record.year), datatype=_XSD_INT))
    if record.fictional:
        add(case, "mw:fictief", ox.Literal("true", datatype=_XSD_BOOL))
    add(case, "prov:generatedAtTime", ox.Literal(generated_at.isoformat(), datatype=_XSD_DT))
    for kind, predicate in _PREDICATES.items():
        for concept in record.links.get(kind, []):
            add(case, predicate, ox.NamedNode(concept.iri))
    for concept in record.derived:
        add(case, "mw:afgeleidConcept", ox.NamedNode(concept.iri))
    for value in record.interventions:
        add(case, "mw:interventie", text(value))
    for n, (concept, description) in enumerate(record.knelpunten, 1):
        node = ox.NamedNode(f"{record.iri}/knelpunt/{n}")
        add(case, "mw:knelpunt", node)
        add(node, "rdf:type", _N["mw:Knelpunt"])
        add(node, "mw:knelpuntType", ox.NamedNode(concept.iri))
        if description:
            add(node, "dcterms:description", text(description))
    for n, point in enumerate(record.learning_points, 1):
        node = ox.NamedNode(f"{record.iri}/leerpunt/{n}")
        add(case, "mw:leerpunt", node)
        add(node, "rdf:type", _N["mw:Leerpunt"])
        add(node, "mw:leerorde", ox.NamedNode(point.order.iri))
        add(node, "dcterms:description", text(point.text))
        for organisation in point.addressees:
            add(node, "mw:geadresseerde", ox.NamedNode(organisation.iri))
        if point.follow_up:
            add(node, "mw:opvolgstatus", ox.NamedNode(point.follow_up.iri))
        if point.presented_on:
            add(node, "mw:voorgelegdOp", ox.Literal(point.presented_on.isoformat(), datatype=_XSD_DATE))
        if point.response_on:
            add(node, "mw:reactieOp", ox.Literal(point.response_on.isoformat(), datatype=_XSD_DATE))
        if point.response:
            add(node, "mw:reactie", text(point.response))
    if record.source:
        agent = ox.NamedNode(iri("bron", slugify(record.source)))
        add(case, "prov:wasAttributedTo", agent)
        add(agent, "rdf:type", _N["prov:Agent"])
        add(agent, "rdfs:label", ox.Literal(record.source))
    return quads


# --- reading a case back ----------------------------------------------------------------------

_LINK_FIELDS = {term(_PREDICATES[k.kind]): name for name, k in BY_FIELD.items()}
# The reader compares predicate IRIs as text: the writer's terms, as strings.
_P = {name: node.value for name, node in _N.items()}
_DERIVED = _P["mw:afgeleidConcept"]


def case_details(kg, iris: list[str], concepts: ConceptIndex) -> dict[str, dict[str, Any]]:
    """What a result card shows (the CaseLinks shape): each case's own triples, labels from the concept index.

    Pattern lookups, not SPARQL: a search answer needs this for ten cases at a time, and
    reading their triples directly (a few milliseconds at 100k cases) beats the joins it replaced.
    """
    details: dict[str, dict[str, Any]] = {}
    for case in iris:
        values = _objects(kg, case)
        if not values[_P["dcterms:identifier"]] or not values[_P["dcterms:title"]] or not values[_P["mw:situatie"]]:
            continue
        detail: dict[str, Any] = {
            "id": values[_P["dcterms:identifier"]][0].value,
            "uri": case,
            "title": values[_P["dcterms:title"]][0].value,
            "situation": values[_P["mw:situatie"]][0].value,
            "solution": _first(values[_P["mw:oplossing"]]) or "",
            "status": _first(values[_P["mw:status"]]),
            "year": _first(values[_P["mw:jaar"]], int),
            "fictional": _first(values[_P["mw:fictief"]]) == "true",
        }
        for predicate, key in _LINK_FIELDS.items():
            detail[key] = _links(values[predicate], concepts, derived=False)
        detail["derived"] = _links(values[_DERIVED], concepts, derived=True)
        details[case] = detail
    return details


def read_case(kg, case: str, concepts: ConceptIndex) -> dict[str, Any] | None:
    """One case with everything it holds (the CaseDetail shape), or None when there is none at `case`."""
    detail = case_details(kg, [case], concepts).get(case)
    if detail is None:
        return None
    values = _objects(kg, case)
    detail["knelpunten"] = [
        {"type": _label(part[_P["mw:knelpuntType"]], concepts), "text": _first(part[_P["dcterms:description"]]) or ""}
        for part in _parts(kg, values[_P["mw:knelpunt"]])
    ]
    detail["learning_points"] = [_learning_point(part, concepts) for part in _parts(kg, values[_P["mw:leerpunt"]])]
    detail["interventions"] = sorted(o.value for o in values[_P["mw:interventie"]])
    sources = values[_P["prov:wasAttributedTo"]]
    detail["source"] = _first(_objects(kg, sources[0].value)[_P["rdfs:label"]]) if sources else None
    return detail


def _learning_point(part: dict[str, list], concepts: ConceptIndex) -> dict[str, Any]:
    return {
        "text": _first(part[_P["dcterms:description"]]) or "",
        "order": _order(part[_P["mw:leerorde"]]),
        "type": _label(part[_P["mw:leerorde"]], concepts),
        "addressees": _links(part[_P["mw:geadresseerde"]], concepts, derived=False),
        "follow_up": _label(part[_P["mw:opvolgstatus"]], concepts) or None,
        "presented_on": _first(part[_P["mw:voorgelegdOp"]]),
        "response_on": _first(part[_P["mw:reactieOp"]]),
        "response": _first(part[_P["mw:reactie"]]),
    }


def _objects(kg, subject: str) -> dict[str, list]:
    values: dict[str, list] = defaultdict(list)
    for quad in kg.store.quads_for_pattern(ox.NamedNode(subject), None, None, None):  # subject-first index
        values[quad.predicate.value].append(quad.object)
    return values


def _parts(kg, nodes: list) -> list[dict[str, list]]:
    """The knelpunt or leerpunt nodes of a case, in the order they were written (…/knelpunt/1, /2, …)."""
    ordered = sorted({n.value for n in nodes}, key=lambda v: (len(v), v))
    return [_objects(kg, node) for node in ordered]


def _links(objects: list, concepts: ConceptIndex, derived: bool) -> list[dict[str, Any]]:
    linked = sorted(
        {concepts.concepts[o.value] for o in objects if o.value in concepts.concepts},
        key=lambda c: (c.label.lower(), c.iri),
    )
    return [
        _link_json(c) | ({"kind": c.kind} if derived else {})
        for c in linked
        if not derived or BY_KIND[c.kind].is_case_link
    ]


def _link_json(concept: Concept) -> dict[str, Any]:
    return {"id": concept.slug, "uri": concept.iri, "label": concept.label, "bwb_id": concept.bwb_id}


def _label(objects: list, concepts: ConceptIndex) -> str:
    concept = concepts.concepts.get(objects[0].value) if objects else None
    return concept.label if concept else ""


def _order(objects: list) -> int:
    slug = objects[0].value.rsplit("/", 1)[-1] if objects else ""
    return int(slug) if slug.isdigit() else 1


def _first(objects: list, cast=str):
    return cast(objects[0].value) if objects else None


# --- versions: who saved a case in the browser, when, and what it was before -----------------

HISTORY = "/geschiedenis"
"""A case's history graph is its IRI + this: kept apart from the case graph, which every import replaces."""

_H = {
    name: ox.NamedNode(term(name))
    for name in (
        "rdf:type",
        "rdfs:label",
        "mw:Casusversie",
        "mw:Schrijver",
        "mw:versienummer",
        "mw:gewijzigdVeld",
        "mw:inhoud",
        "prov:specializationOf",
        "prov:wasRevisionOf",
        "prov:wasAttributedTo",
        "prov:generatedAtTime",
    )
}
_RDF_JSON = ox.NamedNode(term("rdf:JSON"))


@dataclass(frozen=True)
class Writer:
    """A signed-in writer as the graph knows them: an opaque IRI and a short label, never their name."""

    iri: str
    label: str


def history_iri(case: str) -> str:
    return case + HISTORY


def version_iri(case: str, number: int) -> str:
    return f"{case}/versie/{number}"


def record_snapshot(record: CaseRecord) -> dict[str, Any]:
    """The checked case in the import format, labels as text: what a version keeps of it."""
    return _snapshot(
        {
            "id": record.id,
            "title": record.title,
            "situation": record.situation,
            "solution": record.solution,
            "status": record.status,
            "year": record.year,
            **{name: _names(c.label for c in record.links.get(k.kind, [])) for name, k in BY_FIELD.items()},
            "knelpunten": [{"type": c.label, "text": t} for c, t in record.knelpunten],
            "interventions": list(record.interventions),
            "learning_points": [
                {
                    "text": p.text,
                    "order": int(p.order.slug) if p.order.slug.isdigit() else 1,
                    "addressees": _names(c.label for c in p.addressees),
                    "follow_up": p.follow_up.label if p.follow_up else None,
                    "presented_on": p.presented_on.isoformat() if p.presented_on else None,
                    "response_on": p.response_on.isoformat() if p.response_on else None,
                    "response": p.response or None,
                }
                for p in record.learning_points
            ],
            "source": record.source,
        }
    )


def detail_snapshot(detail: dict[str, Any]) -> dict[str, Any]:
    """A case read back (`read_case`) in the same import format as `record_snapshot`."""
    return _snapshot(
        {
            **{key: detail.get(key) for key in ("id", "title", "situation", "solution", "status", "year", "source")},
            **{name: _names(link["label"] for link in detail.get(name, [])) for name in BY_FIELD},
            "knelpunten": list(detail.get("knelpunten", [])),
            "interventions": list(detail.get("interventions", [])),
            "learning_points": [
                {
                    **{key: p.get(key) for key in ("text", "order", "follow_up", "presented_on")},
                    **{key: p.get(key) for key in ("response_on", "response")},
                    "addressees": _names(link["label"] for link in p.get("addressees", [])),
                }
                for p in detail.get("learning_points", [])
            ],
        }
    )


def _names(labels: Iterable[str]) -> list[str]:
    """Link labels in the order the reader gives them, so a snapshot does not change with the order typed."""
    return sorted(labels, key=str.lower)


def _snapshot(values: dict[str, Any]) -> dict[str, Any]:
    """Empty values left out, so two snapshots of the same case compare equal however they were built."""

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: clean(v) for k, v in sorted(value.items()) if v not in (None, "", [])}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    return clean(values)


def changed_fields(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    """Import-format fields whose value differs; every field of `after` when there was no before."""
    before = before or {}
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def history_writer(kg, concepts: ConceptIndex, writer: Writer):
    """For `import_cases`: the quads that record a browser save of `record` as a new version.

    The first save of a case that came in by file also records what it was before, as version 1
    (attributed to no writer), so the previous version is kept whatever its origin.
    """

    def write(record: CaseRecord, at: datetime) -> list[ox.Quad]:
        case = record.iri
        number = version_count(kg, case)
        quads: list[ox.Quad] = []
        previous = read_case(kg, case, concepts)
        before = detail_snapshot(previous) if previous else None
        if before is not None and number == 0:
            stamp = stored_time(kg, case) or at
            number = 1
            quads += version_quads(case, number, None, stamp, before, changed_fields(None, before))
        after = record_snapshot(record)
        quads += version_quads(case, number + 1, writer, at, after, changed_fields(before, after))
        return quads

    return write


def version_quads(
    case: str, number: int, writer: Writer | None, at: datetime, content: dict[str, Any], changed: list[str]
) -> list[ox.Quad]:
    graph = ox.NamedNode(history_iri(case))
    version = ox.NamedNode(version_iri(case, number))
    quads = [
        ox.Quad(version, _H["rdf:type"], _H["mw:Casusversie"], graph),
        ox.Quad(version, _H["prov:specializationOf"], ox.NamedNode(case), graph),
        ox.Quad(version, _H["mw:versienummer"], ox.Literal(str(number), datatype=_XSD_INT), graph),
        ox.Quad(version, _H["prov:generatedAtTime"], ox.Literal(at.isoformat(), datatype=_XSD_DT), graph),
        ox.Quad(
            version, _H["mw:inhoud"], ox.Literal(json.dumps(content, ensure_ascii=False), datatype=_RDF_JSON), graph
        ),
        *(ox.Quad(version, _H["mw:gewijzigdVeld"], ox.Literal(name), graph) for name in changed),
    ]
    if number > 1:
        quads.append(ox.Quad(version, _H["prov:wasRevisionOf"], ox.NamedNode(version_iri(case, number - 1)), graph))
    if writer is not None:
        agent = ox.NamedNode(writer.iri)
        quads += [
            ox.Quad(version, _H["prov:wasAttributedTo"], agent, graph),
            ox.Quad(agent, _H["rdf:type"], _H["mw:Schrijver"], graph),
            ox.Quad(agent, _H["rdf:type"], ox.NamedNode(term("prov:Agent")), graph),
            ox.Quad(agent, _H["rdfs:label"], ox.Literal(writer.label), graph),
        ]
    return quads


def version_count(kg, case: str) -> int:
    graph = ox.NamedNode(history_iri(case))
    return sum(1 for _ in kg.store.quads_for_pattern(None, _H["rdf:type"], _H["mw:Casusversie"], graph))


def stored_time(kg, case: str) -> datetime | None:
    node = ox.NamedNode(case)
    for quad in kg.store.quads_for_pattern(node, _H["prov:generatedAtTime"], None, node):
        return datetime.fromisoformat(quad.object.value)
    return None


def read_history(kg, case: str) -> list[dict[str, Any]]:
    """The case's versions, newest first: number, time, writer (IRI and label, or None), changed fields, content."""
    graph = ox.NamedNode(history_iri(case))
    versions = []
    for quad in kg.store.quads_for_pattern(None, _H["rdf:type"], _H["mw:Casusversie"], graph):
        values: dict[str, list] = defaultdict(list)
        for q in kg.store.quads_for_pattern(quad.subject, None, None, graph):
            values[q.predicate.value].append(q.object)
        agent = _first(values[_H["prov:wasAttributedTo"].value])
        labels = list(kg.store.quads_for_pattern(ox.NamedNode(agent), _H["rdfs:label"], None, graph)) if agent else []
        versions.append(
            {
                "version": int(values[_H["mw:versienummer"].value][0].value),
                "uri": quad.subject.value,
                "at": _first(values[_H["prov:generatedAtTime"].value]),
                "writer": agent,
                "writer_label": labels[0].object.value if labels else None,
                "changed": sorted(o.value for o in values[_H["mw:gewijzigdVeld"].value]),
                "content": json.loads(_first(values[_H["mw:inhoud"].value]) or "{}"),
            }
        )
    return sorted(versions, key=lambda v: -v["version"])
