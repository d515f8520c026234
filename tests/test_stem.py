"""The Dutch stemmer (graph/stem.py): Snowball's Dutch algorithm without its false "ge-" removals."""

from __future__ import annotations

import pytest
import Stemmer

from graph.stem import stem

snowball = Stemmer.Stemmer("dutch")


@pytest.mark.parametrize(
    ("word", "other"),
    [
        ("gewoon", "wonen"),  # "ik wil gewoon ..." is no question about housing
        ("gewoonte", "woning"),
        ("gezin", "zin"),
        ("gezond", "zon"),
        ("geweld", "wel"),
        ("gemeente", "meen"),
        ("begeleiding", "beleid"),
        ("gebied", "bieden"),
        ("geest", "es"),
    ],
)
def test_a_ge_that_starts_no_participle_stays(word, other):
    assert snowball.stemWord(word) == snowball.stemWord(other), "the plain stemmer joins them"
    assert stem(word) != stem(other)


@pytest.mark.parametrize(
    "forms",
    [
        ("gewerkt", "werken", "werk"),
        ("geweigerd", "weigeren"),
        ("gestopt", "stoppen"),
        ("gehuurd", "gehuurde", "huur"),
        ("aangevraagd", "aanvraag"),
        ("opgevangen", "opvang"),
        ("geregeld", "regel"),
    ],
)
def test_participles_still_meet_their_verb(forms):
    assert len({stem(form) for form in forms}) == 1


@pytest.mark.parametrize(
    "forms",
    [
        ("gezin", "gezinnen"),
        ("gemeente", "gemeenten"),
        ("begeleiding", "begeleid"),
        ("gebruik", "gebruikt", "gebruiken"),
        ("gesprek", "gesprekken"),
        ("levensgebied", "levensgebieden"),
        ("jongere", "jongeren"),
        ("vraag", "vragen"),
    ],
)
def test_forms_of_one_word_still_meet(forms):
    assert len({stem(form) for form in forms}) == 1


def test_words_without_ge_are_stemmed_as_snowball_does():
    for word in (
        "schulden",
        "uitkering",
        "huurachterstand",
        "mantelzorger",
        "woningen",
        "nodige",
        "regelingen",
        "toeslag",
    ):
        assert stem(word) == snowball.stemWord(word)
