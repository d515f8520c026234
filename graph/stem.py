"""Dutch stemming: Snowball's Dutch algorithm, kept from removing a "ge" that is no participle's.

Snowball 3's Dutch stemmer (Kraaij-Pohlmann) removes "ge" wherever it may start a past
participle, inside words too. That joins forms of one verb ("gewerkt", "werken") but also words
that only look like participles: "gewoon" and "wonen" both become "woon", "begeleiding" becomes
"beleid", "gezin" "zin", "gemeente" "meen", "werkgever" "werkver". Concept labels and BM25 then
match the wrong words (a resident's "gewoon" linked levensgebied huisvesting).

Here a "ge" may only go where a participle has it: at the start of the word or right after a
separable particle ("opgenomen", "afgewezen"), in a word that ends like a participle ("-d",
"-t", "-en", "-de", "-te"), and not at the start of a word this module knows to be no
participle ("gezin", "gemeente", "gebruik", ...). Every other "ge" is hidden from the stemmer by
swapping its "g" for a placeholder consonant, so vowels and endings, and with them the suffixes
the stemmer removes, stay as they were.
"""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer

_snowball = Stemmer.Stemmer("dutch")

# Particles a separable verb puts before the "ge" of its participle: "aan-ge-vraagd".
_PARTICLES = frozenset(
    {
        "aan",
        "af",
        "bij",
        "binnen",
        "buiten",
        "door",
        "in",
        "kwijt",
        "los",
        "mee",
        "na",
        "neer",
        "om",
        "onder",
        "op",
        "over",
        "samen",
        "stop",
        "tegen",
        "terug",
        "thuis",
        "toe",
        "uit",
        "uithuis",
        "vast",
        "voor",
        "voort",
        "vrij",
        "weg",
    }
)
_PARTICIPLE_ENDS = ("d", "t", "en", "de", "te")
# Words that start with "ge" and end like a participle but are none: nouns, adjectives and verbs
# whose "ge" belongs to the word. A word that starts with one keeps its "ge" ("gezinnen",
# "gezinshuis", "gemeentelijke"); inside a compound ("pleeggezin") no "ge" is a participle's anyway.
_NOT_PARTICIPLES = (
    "gebeur",
    "gebied",
    "gebit",
    "geboorte",
    "gebouw",
    "gebrek",
    "gebruik",
    "gedachte",
    "gedeelte",
    "gedrag",
    "geduld",
    "geest",
    "geheim",
    "geheugen",
    "geld",
    "gelijk",
    "geloof",
    "geluk",
    "gemak",
    "gemeente",
    "gemiddeld",
    "geneesk",
    "genoeg",
    "genot",
    "gerecht",
    "geschiedenis",
    "geschil",
    "geslacht",
    "gesprek",
    "getal",
    "getuige",
    "gevaar",
    "geval",
    "gevangene",
    "gevangenis",
    "gevoel",
    "gevolg",
    "gewest",
    "gewicht",
    "gewoon",
    "gezag",
    "gezamenlijk",
    "gezicht",
    "gezin",
    "gezond",
    "geweld",
)
# Snowball only removes a "ge" followed by a vowel and then a consonant. Any other "ge" stays
# visible: hiding the one in "woningen" or "nodige" would change the suffix the stemmer removes.
_VOWEL_THEN_CONSONANT = re.compile(r"[aeiouy][^aeiouy]")
_HIDDEN_G = "ǥ"  # a letter the stemmer counts as a consonant and never meets in Dutch text


@lru_cache(maxsize=500_000)
def stem(word: str) -> str:
    """The stem of one folded word (lowercase, no accents)."""
    return snowball_stem(_hide_other_ge(word)).replace(_HIDDEN_G, "g")


def snowball_stem(word: str) -> str:
    """Snowball's Dutch stem as it comes: for the plain BM25 baseline, which stays off the shelf."""
    return _snowball.stemWord(word)


def _hide_other_ge(word: str) -> str:
    chars = list(word)
    start = word.find("ge")
    while start >= 0:
        if _VOWEL_THEN_CONSONANT.search(word, start + 2) and not _participle_ge(word, start):
            chars[start] = _HIDDEN_G
        start = word.find("ge", start + 2)
    return "".join(chars)


def _participle_ge(word: str, at: int) -> bool:
    before, rest = word[:at], word[at:]
    return (
        (not before or before in _PARTICLES)
        and len(rest) > 4
        and rest.endswith(_PARTICIPLE_ENDS)
        and not rest.startswith(_NOT_PARTICIPLES)
    )
