"""Dutch text handling for search: passages for the encoder, analysed tokens for BM25."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from graph.concepts import fold
from graph.stem import snowball_stem, stem
from ontology import HERE as ONTOLOGY

_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[A-Z0-9À-ſ\"'(])")
_WORD = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset((Path(__file__).parent / "stopwords_nl.txt").read_text().split())

# Characters that show nothing on their own: separators, controls, format characters (zero-width
# space and joiners, BOM, bidi marks) and combining marks without a base letter.
_INVISIBLE = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Mn", "Mc", "Me"})


def is_blank(text: str) -> bool:
    """True when `text` has nothing a person could read: only whitespace, zero-width or combining characters."""
    return all(char.isspace() or unicodedata.category(char) in _INVISIBLE for char in text)


# USE encodes in time linear to the number of tokens and does best on sentence-sized
# input, so long texts are cut into a few sentence windows of about this many words.
PASSAGE_WORDS = 45


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def passages(text: str, max_words: int = PASSAGE_WORDS) -> list[str]:
    """Greedy sentence windows of at most `max_words` words (a longer sentence stays whole)."""
    found: list[str] = []
    current: list[str] = []
    count = 0
    for sentence in sentences(text):
        words = len(sentence.split())
        if current and count + words > max_words:
            found.append(" ".join(current))
            current, count = [], 0
        current.append(sentence)
        count += words
    if current:
        found.append(" ".join(current))
    return found


def words(text: str) -> list[str]:
    """The words BM25 sees, before stemming: folded, stopwords and single letters out."""
    return [w for w in _WORD.findall(fold(text)) if w not in STOPWORDS and len(w) > 1]


def stems(text: str) -> list[str]:
    """Plain BM25 tokens: folded, stopwords out, Snowball Dutch stems (the baseline's analyser)."""
    return [snowball_stem(w) for w in words(text)]


def analyse(text: str) -> list[str]:
    """BM25 tokens: stems (`graph.stem`), each compound word followed by the stems of its parts.

    "huurachterstand" also yields "huur" and "achterstand", so a case that says
    "huurachterstand" matches a question about "achterstand in de huur" (parts are split
    against the words of the reference vocabulary, see `lexicon`).
    """
    tokens = []
    for word in words(text):
        tokens.append(stem(word))
        if len(word) >= 2 * INDEX_PART:
            tokens.extend(_parts(word))
    return tokens


@lru_cache(maxsize=200_000)
def _parts(word: str) -> tuple[str, ...]:
    return tuple(split_compound(word, lexicon().__contains__, INDEX_PART) or ())


@lru_cache(maxsize=1)
def lexicon() -> frozenset[str]:
    """Stems of the words in the shipped reference vocabulary (labels, definitions and titles in
    ontology/*.ttl): the parts a compound in a case text may be split into. The case texts
    themselves are left out so that the analysis of one case never depends on the others."""
    text = " ".join(
        " ".join(_LITERAL.findall(path.read_text(encoding="utf-8"))) for path in sorted(ONTOLOGY.glob("*.ttl"))
    )
    return frozenset(stem(w) for w in words(text))


@lru_cache(maxsize=1)
def lexicon_fingerprint() -> str:
    """Changes when the lexicon does, so an index can tell its tokens were split against another one."""
    return hashlib.sha256("\n".join(sorted(lexicon())).encode()).hexdigest()[:12]


_LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"')
# Parts of a compound split off in case texts: at least this long (4 kept slightly more than 3
# on the tune split, with fewer stray syllables).
INDEX_PART = 4
# Parts of a compound are at least this long, so that "dagopvang" splits into "dag" + "opvang"
# but no word falls apart into stray syllables.
MIN_PART = 3
# Letters Dutch puts between the parts of a compound: "levensonderhoud", "geheugenziekte".
_LINKS = ("s", "e")


def split_compound(word: str, known: Callable[[str], bool], min_part: int = MIN_PART) -> list[str] | None:
    """The stems of the fewest known parts that make up `word` (a folded word), or None.

    A part is known when `known(stem)` says so; a linking -s- or -e- may sit between two parts.
    Fewer parts win ("woonkosten" + "toeslag" over "woon" + "kosten" + "toeslag"); among splits
    with as many parts, the one whose shortest part is longest.
    """
    n = len(word)
    # best[i]: the best split of word[:i] as (parts, -shortest part, stems)
    best: list[tuple[int, int, list[str]] | None] = [None] * (n + 1)
    best[0] = (0, 0, [])
    for i in range(n):
        start = best[i]
        if start is None:
            continue
        for j in range(i + min_part, n + 1 if i else n):  # a part, never the whole word
            part = word[i:j]
            token = stem(part)
            if part in STOPWORDS or not known(token):
                continue
            shortest = min(-start[1] if start[0] else j - i, j - i)
            candidate = (start[0] + 1, -shortest, [*start[2], token])
            for end in (j, j + 1) if j < n and word[j] in _LINKS else (j,):
                if best[end] is None or candidate[:2] < best[end][:2]:  # type: ignore[index]
                    best[end] = candidate
    found = best[n]
    return found[2] if found is not None else None
