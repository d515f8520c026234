"""The lay-language thesaurus (ontology/thesaurus.ttl): extra labels for existing concepts and
three new SKOS schemes (doelgroepen, situaties, aandoeningen), checked with plain rdflib.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from pathlib import Path

import pytest
import rdflib
from rdflib import RDF, Literal, URIRef
from rdflib.namespace import DCTERMS, SKOS

from ontology import HERE, ID, ONTOLOGY_FILES, REFERENCE_FILES

THESAURUS = HERE / "thesaurus.ttl"
NEW_SCHEMES = {"doelgroepen": "doelgroep", "situaties": "situatie", "aandoeningen": "aandoening"}
LABELS = (SKOS.prefLabel, SKOS.altLabel, SKOS.hiddenLabel)
STOPWORDS = set(Path(HERE.parent / "search" / "stopwords_nl.txt").read_text(encoding="utf-8").split())

# Labels that deliberately name two resources: a word that is both a levensgebied and a situation.
SHARED_BY_DESIGN = {"huisuitzetting"}

# The words of issue 16 that were not concepts, and the concept each must now name.
ISSUE_WORDS = {
    "statushouder": "doelgroep/statushouder",
    "vluchteling met verblijfsvergunning": "doelgroep/statushouder",
    "LVB": "doelgroep/lvb",
    "licht verstandelijke beperking": "doelgroep/lvb",
    "overbelast": "situatie/overbelasting",
    "huurachterstand": "situatie/huurachterstand",
    "ontruiming": "situatie/ontruiming",
    "diabetes": "aandoening/diabetes",
    "eenoudertoeslag": "voorziening/kindgebonden-budget",
    "stookkosten": "situatie/stookkosten",
    "zzp'er": "doelgroep/zzp-er",
    "overspannen": "aandoening/burn-out",
    "achttien worden": "doelgroep/jongvolwassene",
    # everyday words the brief asked for, some already in the other files
    "sociale dienst": "organisatie/gemeente",
    "bijstandsuitkering": "voorziening/algemene-bijstand",
    "zorgverzekering": "voorziening/basisverzekering",
    "PGB": "voorziening/persoonsgebonden-budget",
    "burn-out": "aandoening/burn-out",
    "mantelzorger": "doelgroep/mantelzorger",
    "ex-gedetineerde": "doelgroep/ex-gedetineerde",
    "arbeidsmigrant": "doelgroep/arbeidsmigrant",
    "dakloze": "doelgroep/dakloze",
    "energieschuld": "situatie/energieschuld",
    "loonbeslag": "situatie/beslag",
    "terugvordering": "situatie/terugvordering",
    "thuiszitter": "situatie/thuiszitten",
    "schooluitval": "situatie/schooluitval",
    "dementie": "aandoening/dementie",
    "NAH": "aandoening/nah",
    "autisme": "aandoening/autisme",
    "psychose": "aandoening/psychose",
}


def fold(label: str) -> str:
    """Case, accents, hyphens and slashes do not make a label different (as in entity linking)."""
    text = "".join(c for c in unicodedata.normalize("NFKD", label) if not unicodedata.combining(c))
    return " ".join(text.casefold().replace("-", " ").replace("/", " ").split())


@pytest.fixture(scope="module")
def thesaurus() -> rdflib.Graph:
    return rdflib.Graph().parse(THESAURUS, format="turtle")


@pytest.fixture(scope="module")
def others() -> rdflib.Graph:
    graph = rdflib.Graph()
    for path in ONTOLOGY_FILES + REFERENCE_FILES:
        if path != THESAURUS:
            graph.parse(path, format="turtle")
    return graph


@pytest.fixture(scope="module")
def shipped(thesaurus, others) -> rdflib.Graph:
    return thesaurus + others


@pytest.fixture(scope="module")
def owners(shipped) -> dict[str, set[URIRef]]:
    return label_owners(shipped)


def node(path: str) -> URIRef:
    return URIRef(ID + path)


def new_concepts(g: rdflib.Graph) -> dict[URIRef, str]:
    """New concept -> its kind (the IRI type segment)."""
    return {
        s: kind for scheme, kind in NEW_SCHEMES.items() for s in g.subjects(SKOS.inScheme, node(f"schema/{scheme}"))
    }


def label_owners(g: rdflib.Graph) -> dict[str, set[URIRef]]:
    owners: dict[str, set[URIRef]] = defaultdict(set)
    for p in LABELS:
        for s, o in g.subject_objects(p):
            owners[fold(str(o))].add(s)
    return owners


def test_thesaurus_is_loaded_with_the_reference_data():
    assert THESAURUS in REFERENCE_FILES
    assert THESAURUS.read_text(encoding="utf-8").lstrip().startswith("@prefix")


def test_at_least_300_new_labels(thesaurus, others):
    existing = {(s, fold(str(o))) for p in LABELS for s, o in others.subject_objects(p)}
    added = {(s, fold(str(o))) for p in LABELS for s, o in thesaurus.subject_objects(p)}
    assert not added & existing, f"labels the other files already give: {sorted(added & existing)[:5]}"
    assert len(added) >= 300
    on_existing_concepts = {(s, label) for s, label in added if (s, None, None) in others}
    assert len(on_existing_concepts) >= 100


def test_every_label_is_dutch_and_not_a_bare_function_word(thesaurus):
    for p in LABELS:
        for s, o in thesaurus.subject_objects(p):
            assert isinstance(o, Literal) and o.language == "nl", f"{s} {o!r} is not @nl"
            assert set(fold(str(o)).split()) - STOPWORDS, f"{o!r} on {s} is only function words"


def test_every_referenced_iri_exists(thesaurus, others, shipped):
    """Extra labels go on resources that exist; skos:related points to resources that exist."""
    defined = set(shipped.subjects(RDF.type, None))
    for s, p, o in thesaurus:
        for resource in (s, o):
            if isinstance(resource, URIRef) and str(resource).startswith(ID):
                assert resource in defined, f"{resource} (in {s} {p}) is not defined in the shipped Turtle"
    extended = {s for s in thesaurus.subjects() if (s, RDF.type, None) not in thesaurus}
    assert extended and all((s, RDF.type, None) in others for s in extended)


def test_new_schemes_are_declared_like_the_others(thesaurus):
    for scheme in NEW_SCHEMES:
        s = node(f"schema/{scheme}")
        assert (s, RDF.type, SKOS.ConceptScheme) in thesaurus
        assert thesaurus.value(s, SKOS.prefLabel) == Literal(scheme, lang="nl")
        assert thesaurus.value(s, DCTERMS.description).language == "nl"


def test_new_concepts_are_complete_and_linked(thesaurus, others):
    concepts = new_concepts(thesaurus)
    for kind in NEW_SCHEMES.values():
        assert sum(k == kind for k in concepts.values()) >= 15, f"few concepts of kind {kind}"
    notations = defaultdict(list)
    for s, kind in concepts.items():
        assert str(s).startswith(f"{ID}{kind}/"), f"{s} is not under id/{kind}/"
        assert (s, RDF.type, SKOS.Concept) in thesaurus
        assert len(set(thesaurus.objects(s, SKOS.inScheme))) == 1
        assert (s, SKOS.topConceptOf, thesaurus.value(s, SKOS.inScheme)) in thesaurus
        assert len(list(thesaurus.objects(s, SKOS.prefLabel))) == 1, s
        definition = thesaurus.value(s, SKOS.definition)
        assert isinstance(definition, Literal) and definition.language == "nl", s
        notations[str(thesaurus.value(s, SKOS.notation))].append(s)
        variants = list(thesaurus.objects(s, SKOS.altLabel)) + list(thesaurus.objects(s, SKOS.hiddenLabel))
        assert len(variants) >= 3, f"{s} has only {len(variants)} alternative labels"
        related = set(thesaurus.objects(s, SKOS.related))
        concrete = {r for r in related if "/levensgebied/" not in str(r)}
        assert concrete, f"{s} links no law, voorziening or organisation"
    assert all(len(v) == 1 for v in notations.values()), "notations repeat"


def test_no_label_names_two_resources(thesaurus, owners):
    ours = {fold(str(o)) for p in LABELS for o in thesaurus.objects(None, p)}
    shared = {label: sorted(str(s) for s in owners[label]) for label in ours if len(owners[label]) > 1}
    assert set(shared) == SHARED_BY_DESIGN, f"labels on two resources: {shared}"


@pytest.mark.parametrize("word,concept", sorted(ISSUE_WORDS.items()))
def test_words_of_the_field_name_their_concept(owners, word, concept):
    assert owners[fold(word)] == {node(concept)}
