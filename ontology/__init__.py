"""The one place that knows the namespaces, IRI patterns and the shipped Turtle files."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"

MW = "https://w3id.org/maatwerk/def#"
ID = "https://w3id.org/maatwerk/id/"

PREFIXES: dict[str, str] = {
    "mw": MW,
    "id": ID,
    "eli": "http://data.europa.eu/eli/ontology#",
    "org": "http://www.w3.org/ns/org#",
    "cpsv": "http://purl.org/vocab/cpsv#",
    "cv": "http://data.europa.eu/m8g/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "prov": "http://www.w3.org/ns/prov#",
    "dcterms": "http://purl.org/dc/terms/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "sh": "http://www.w3.org/ns/shacl#",
    "foaf": "http://xmlns.com/foaf/0.1/",
}

SPARQL_PREFIXES = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())

# Turtle files in load order: TBox first, then vocabularies, then reference data.
ONTOLOGY_FILES = [HERE / "mw.ttl"]
SHAPES_FILE = HERE / "shapes.ttl"
REFERENCE_FILES = [
    HERE / "vocabularies.ttl",
    HERE / "laws.ttl",
    HERE / "organisations.ttl",
    HERE / "voorzieningen.ttl",
    HERE / "thesaurus.ttl",
]
DEMO_CASES_FILE = DATA / "cases.jsonl"

# Named graphs in the store: one per source, so each can be replaced on its own.
GRAPH_ONTOLOGY = ID + "graph/ontologie"
GRAPH_REFERENCE = ID + "graph/referentie"
GRAPH_META = ID + "graph/meta"  # the store's bookkeeping (revision stamps), rewritten by every commit


def graph_for_law(bwb_id: str) -> str:
    """The named graph that holds a law's imported BWB articles."""
    return f"{ID}graph/bwb/{bwb_id}"


def iri(kind: str, slug: str) -> str:
    """Instance IRI `https://w3id.org/maatwerk/id/{kind}/{slug}`."""
    return f"{ID}{kind}/{slug}"


def term(name: str) -> str:
    """Full IRI of a term, `'mw:Casus'` or `'skos:prefLabel'`."""
    prefix, local = name.split(":", 1)
    return PREFIXES[prefix] + local


def slugify(text: str) -> str:
    """Lowercase ASCII slug that stays readable in an IRI: 'Wmo 2015' -> 'wmo-2015'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-zA-Z0-9.]+", "-", ascii_text).strip("-.").lower()
    return slug or "x"
