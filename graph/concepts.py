"""Concepts (laws, articles, voorzieningen, organisations, SKOS concepts) and their labels, read from the graph.

One `ConceptIndex`, read from the graph, serves three jobs: resolving the labels
in an import file, entity linking in free text, and autocomplete. Labels are
compared after Dutch normalisation: lowercase, accents and hyphens removed,
each word reduced by the Dutch stemmer (`graph.stem`), articles and possessives
made one word, so "Wmo-consulent", "WMO consulent", "rolstoelen"/"rolstoel" and
"in de hals"/"in haar hals" meet.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

from graph.stem import stem
from ontology.vocabulary import KINDS as KIND_ROWS
from ontology.vocabulary import LINKABLE, THESAURUS_KINDS

KINDS = tuple(k.kind for k in KIND_ROWS)
# Kinds that entity linking looks for in free text. Knelpunttypen ("communicatie") and
# leerordes are ordinary words in case texts, so they are only resolved when asked.
LINKABLE_KINDS = LINKABLE

_TOKEN = re.compile(r"[a-z0-9]+(?:[.:][a-z0-9]+)*")
_IGNORED_WORDS = frozenset({"en"})  # "werk & opleiding" == "werk en opleiding"
# Articles and possessives are one token, so a label matches whoever it is about: "slangetje in de
# hals" also finds "slangetje in haar hals", "opent zijn post niet" also "opent mijn post niet".
_DETERMINERS = frozenset(
    ["de", "het", "een", "zijn", "haar", "hun", "mijn", "onze", "ons", "je", "jouw", "uw", "jullie"]
)
_DETERMINER = "_det"

_CONCEPTS_QUERY = """
SELECT ?s ?kind ?pref ?label ?labelKind ?bwb WHERE {{
  {{
    VALUES (?type ?kind) {{ {types} }}
    ?s a ?type .
  }} UNION {{
    VALUES (?scheme ?kind) {{ {schemes} }}
    ?s skos:inScheme ?scheme .
  }}
  ?s skos:prefLabel ?pref .
  OPTIONAL {{ ?s dcterms:identifier ?bwb FILTER(STRSTARTS(STR(?bwb), "BWBR")) }}
  {{
    ?s skos:prefLabel ?label BIND("pref" AS ?labelKind)
  }} UNION {{
    ?s skos:altLabel ?label BIND("alt" AS ?labelKind)
  }} UNION {{
    ?s skos:hiddenLabel ?label BIND("hidden" AS ?labelKind)
  }} UNION {{
    ?s eli:title ?label BIND("title" AS ?labelKind)
  }} UNION {{
    ?s skos:notation ?label BIND("notation" AS ?labelKind)
  }} UNION {{
    ?s dcterms:identifier ?label BIND("identifier" AS ?labelKind)
  }}
}}
""".format(
    types=" ".join(f'({k.rdf_type} "{k.kind}")' for k in KIND_ROWS if k.rdf_type),
    schemes=" ".join(f'(<{k.scheme}> "{k.kind}")' for k in KIND_ROWS if k.scheme),
)

# What a thesaurus concept (statushouder, huurachterstand) usually involves: laws, voorzieningen,
# organisations and levensgebieden, by skos:related.
_THESAURUS_SCHEMES = " ".join(f"<{k.scheme}>" for k in KIND_ROWS if k.scheme and k.kind in THESAURUS_KINDS)
_RELATED_QUERY = f"""
SELECT ?s ?o WHERE {{
  VALUES ?scheme {{ {_THESAURUS_SCHEMES} }}
  ?s skos:inScheme ?scheme ; skos:related ?o .
}}
"""


@dataclass(frozen=True)
class Concept:
    iri: str
    kind: str
    label: str
    bwb_id: str | None = None

    @property
    def slug(self) -> str:
        return self.iri.rsplit("/", 1)[1]


@dataclass(frozen=True)
class Mention:
    concept: Concept
    start: int
    end: int
    text: str


def fold(text: str) -> str:
    """Lowercase without accents; hyphens and slashes become spaces."""
    return _fold_mapped(text)[0]


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


@lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    """One non-ASCII character without its accents; may be longer ('ﬁ' -> 'fi') or empty (a lone accent)."""
    return "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))


def _fold_mapped(text: str) -> tuple[str, list[int] | None]:
    """fold(text), and where each folded character came from in `text` (None: the same place).

    NFKD works per character (its reordering only moves combining marks, which are dropped), so
    folding each non-ASCII character on its own gives the same result as folding the whole text, and
    tells where the length changes: 'ﬁ' and '㎏' become two characters, a lone accent none.
    """
    if text.isascii():  # most words and many texts are: skip the per-character pass for them
        return _separators(text.lower()), None
    shifted = False

    def one(m: re.Match) -> str:
        nonlocal shifted
        folded = _fold_char(m.group())
        shifted = shifted or len(folded) != 1
        return folded

    joined = _NON_ASCII.sub(one, text)
    lowered = joined.lower()
    if len(lowered) != len(joined):  # only U+0130 lowercases to two characters, and NFKD splits it first
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in joined)
    folded = _separators(lowered)
    if not shifted:
        return folded, None
    offsets: list[int] = []
    for i, ch in enumerate(text):
        offsets.extend([i] * (1 if ch.isascii() else len(_fold_char(ch))))
    return folded, offsets


def _separators(text: str) -> str:
    return text.replace("-", " ").replace("/", " ").replace("_", " ")  # faster than str.translate


def tokens(text: str) -> list[tuple[str, int, int]]:
    """Stemmed tokens with their character spans in `text` (also where folding changed the length)."""
    folded, offsets = _fold_mapped(text)
    found = []
    for m in _TOKEN.finditer(folded):
        word = m.group().rstrip(".:")
        if word and word not in _IGNORED_WORDS:
            start, end = m.start(), m.start() + len(word)
            if offsets is not None:
                start, end = offsets[start], offsets[end - 1] + 1
            found.append((_DETERMINER if word in _DETERMINERS else stem(word), start, end))
    return found


def label_key(label: str) -> tuple[str, ...]:
    return tuple(t for t, _, _ in tokens(label))


@dataclass
class ConceptIndex:
    concepts: dict[str, Concept] = field(default_factory=dict)
    # kind -> normalised label -> concept IRIs
    _by_label: dict[str, dict[tuple[str, ...], set[str]]] = field(default_factory=lambda: defaultdict(dict))
    # kind -> original labels, for suggestions and autocomplete
    _labels: dict[str, dict[str, set[str]]] = field(default_factory=lambda: defaultdict(dict))
    # first token -> [(token sequence, IRIs)], longest first: the entity-linking matcher
    _matcher: dict[str, list[tuple[tuple[str, ...], frozenset[str]]]] = field(default_factory=dict)
    # IRI -> every label (for query expansion)
    _labels_by_iri: dict[str, list[str]] = field(default_factory=dict)
    # normalised label -> IRIs, for the labels entity linking may find in text
    _link_labels: dict[tuple[str, ...], set[str]] = field(default_factory=dict)
    # IRI -> eli:title (an article's heading: "Bijzondere bijstand")
    _titles: dict[str, str] = field(default_factory=dict)
    # thesaurus concept IRI -> the concepts it is skos:related to
    _related: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_graph(cls, kg) -> ConceptIndex:
        index = cls()
        for row in kg.select(_CONCEPTS_QUERY):
            index.add(Concept(row["s"], row["kind"], row["pref"], row["bwb"]), row["label"], row["labelKind"])
        for row in kg.select(_RELATED_QUERY):
            index._related.setdefault(row["s"], []).append(row["o"])
        index.compile()
        return index

    def add(self, concept: Concept, label: str, label_kind: str = "pref") -> None:
        self.concepts.setdefault(concept.iri, concept)
        for text in (label, concept.slug.replace("-", " ")):
            key = label_key(text)
            if key:
                self._by_label[concept.kind].setdefault(key, set()).add(concept.iri)
        if label_kind != "hidden":  # misspellings resolve and link, but are never shown or offered
            self._labels[concept.kind].setdefault(label, set()).add(concept.iri)
        if label_kind in ("pref", "alt", "title"):
            self._labels_by_iri.setdefault(concept.iri, []).append(label)
        if label_kind == "title":
            self._titles.setdefault(concept.iri, label)
        self._linkable_label(concept, label, label_kind)

    def _linkable_label(self, concept: Concept, label: str, label_kind: str) -> None:
        if concept.kind not in LINKABLE_KINDS or label_kind == "notation":
            return
        if label_kind == "identifier" and not label.startswith("BWBR"):
            return
        key = label_key(label)
        while key[:1] == (_DETERMINER,):  # "het CAK" is found as "CAK", so "een CAK-bijdrage" stays one
            key = key[1:]
        if key:
            self._link_labels.setdefault(key, set()).add(concept.iri)

    def compile(self) -> None:
        matcher: dict[str, list[tuple[tuple[str, ...], frozenset[str]]]] = defaultdict(list)
        for key, iris in self._link_labels.items():
            matcher[key[0]].append((key, frozenset(iris)))
        for candidates in matcher.values():
            candidates.sort(key=lambda c: -len(c[0]))
        self._matcher = dict(matcher)

    # --- label resolution ----------------------------------------------------

    def resolve(self, kind: str, label: str) -> list[Concept]:
        """Concepts of `kind` with this label, IRI, slug, abbreviation or identifier."""
        label = label.strip()
        if label in self.concepts and self.concepts[label].kind == kind:
            return [self.concepts[label]]
        iris = self._by_label[kind].get(label_key(label), set())
        return [self.concepts[i] for i in sorted(iris)]

    def suggestions(self, kind: str, label: str, n: int = 3) -> list[str]:
        labels = list(self._labels[kind])
        folded = {fold(lab): lab for lab in labels}
        close = difflib.get_close_matches(fold(label), list(folded), n=n, cutoff=0.5)
        return [folded[c] for c in close]

    def labels(self, kinds: tuple[str, ...] = KINDS) -> list[tuple[str, Concept]]:
        return [(label, self.concepts[i]) for k in kinds for label, iris in self._labels[k].items() for i in iris]

    def labels_of(self, concept_iri: str) -> list[str]:
        return self._labels_by_iri.get(concept_iri, [])

    def title_of(self, concept_iri: str) -> str | None:
        return self._titles.get(concept_iri)

    def related(self, concept_iri: str) -> list[Concept]:
        """The known concepts a thesaurus concept is skos:related to."""
        return [self.concepts[i] for i in sorted(self._related.get(concept_iri, ())) if i in self.concepts]

    def of_kind(self, kind: str) -> list[Concept]:
        return sorted((c for c in self.concepts.values() if c.kind == kind), key=lambda c: c.label.lower())

    # --- entity linking ------------------------------------------------------

    def link(self, text: str, gap: int = 0) -> list[Mention]:
        """Longest-match scan over the stemmed tokens: one dict lookup per token.

        With `gap`, a label of two or more words also matches with up to that many other words
        between its own, within one sentence ("vast te hebben gezeten" for "vast gezeten").
        """
        toks = tokens(text)
        words = [t for t, _, _ in toks]
        mentions: list[Mention] = []
        i = 0
        while i < len(toks):
            width = self._match_at(words, i, text, toks, mentions, gap)
            i += width or 1
        return mentions

    def _match_at(self, words, i, text, toks, mentions, gap: int) -> int:
        for key, iris in self._matcher.get(words[i], ()):
            if tuple(words[i : i + len(key)]) == key:
                width = len(key)
            else:
                width = _gapped_width(words, i, key, gap)
                if width and _SENTENCE_BREAK.search(text, toks[i][1], toks[i + width - 1][2]):
                    width = 0
            if width:
                start, end = toks[i][1], toks[i + width - 1][2]
                for iri in sorted(iris):
                    mentions.append(Mention(self.concepts[iri], start, end, text[start:end]))
                return width
        return 0

    def linked_concepts(self, text: str, gap: int = 0) -> list[Concept]:
        seen: dict[str, Concept] = {}
        for mention in self.link(text, gap):
            seen.setdefault(mention.concept.iri, mention.concept)
        return list(seen.values())


_SENTENCE_BREAK = re.compile(r"[.!?;]")


def _gapped_width(words: list[str], i: int, key: tuple[str, ...], gap: int) -> int:
    """How many tokens from `i` hold `key` in order with at most `gap` others between (0: not so).
    Taking each next word at its first occurrence gives the shortest such span."""
    if gap <= 0 or len(key) < 2:
        return 0
    j, limit = i + 1, min(len(words), i + len(key) + gap)
    for word in key[1:]:
        while j < limit and words[j] != word:
            j += 1
        if j >= limit:
            return 0
        j += 1
    return j - i
