"""Dutch text handling for search: passages for the encoder, analysed tokens for BM25."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import Stemmer

from graph.concepts import fold

_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[A-Z0-9À-ſ\"'(])")
_WORD = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset((Path(__file__).parent / "stopwords_nl.txt").read_text().split())
_stemmer = Stemmer.Stemmer("dutch")

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


@lru_cache(maxsize=500_000)
def _stem(word: str) -> str:
    return _stemmer.stemWord(word)


def analyse(text: str) -> list[str]:
    """BM25 tokens: folded, stopwords out, Snowball Dutch stems."""
    return [_stem(w) for w in _WORD.findall(fold(text)) if w not in STOPWORDS and len(w) > 1]
