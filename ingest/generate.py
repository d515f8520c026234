"""Synthetic cases in the import format, for scale tests only (never part of the illustrative corpus).

Each case combines a household, one or two problem themes (each with its own
levensgebied, law, voorziening and organisations), a reason it got stuck (one per
knelpunttype) and a way out, so texts vary while staying valid Dutch that passes
the anonymisation gate. Deterministic per seed.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ontology.vocabulary import STATUSES


@dataclass(frozen=True)
class Theme:
    levensgebied: str
    law: str
    voorziening: str
    organisations: tuple[str, str]
    problem: str
    remedy: str


THEMES = [
    Theme(
        "financiën",
        "Wgs",
        "schuldhulpverlening",
        ("gemeente", "deurwaarder"),
        "heeft oplopende schulden bij de energieleverancier en de zorgverzekeraar",
        "een minnelijk schuldhulptraject met budgetbeheer",
    ),
    Theme(
        "financiën",
        "Awir",
        "zorgtoeslag",
        ("Dienst Toeslagen", "gemeente"),
        "moet een groot bedrag aan zorgtoeslag terugbetalen na een wijziging in het inkomen",
        "een betalingsregeling naar draagkracht en bijzondere bijstand",
    ),
    Theme(
        "huisvesting",
        "Woningwet",
        "urgentieverklaring",
        ("woningcorporatie", "gemeente"),
        "dreigt de woning kwijt te raken door een huurachterstand",
        "een urgentieverklaring en afspraken over de achterstand",
    ),
    Theme(
        "huisvesting",
        "Wet BRP",
        "briefadres",
        ("gemeente", "maatschappelijke opvang"),
        "staat nergens ingeschreven en krijgt daardoor geen uitkering",
        "een briefadres via de opvang zodat de uitkering kon starten",
    ),
    Theme(
        "lichamelijke gezondheid",
        "Zvw",
        "hulpmiddelen Zvw",
        ("zorgverzekeraar", "gemeente"),
        "heeft een tillift nodig maar verzekeraar en gemeente wijzen naar elkaar",
        "een afspraak dat de verzekeraar de tillift verstrekt en de gemeente de woning aanpast",
    ),
    Theme(
        "basale ADL",
        "Wmo 2015",
        "persoonlijke verzorging",
        ("wijkteam", "zorgverzekeraar"),
        "kan zich niet meer zelf wassen en aankleden",
        "wijkverpleging via de verzekeraar naast begeleiding vanuit de Wmo",
    ),
    Theme(
        "instrumentele ADL",
        "Wmo 2015",
        "hulp bij het huishouden",
        ("gemeente", "CAK"),
        "krijgt het huishouden niet meer rond sinds een operatie",
        "hulp bij het huishouden met een lagere eigen bijdrage",
    ),
    Theme(
        "geestelijke gezondheid",
        "Wmo 2015",
        "beschermd wonen",
        ("GGZ-instelling", "gemeente"),
        "kan na een opname niet terug naar huis en wacht op een plek",
        "een plek in beschermd wonen met begeleiding bij de uitstroom",
    ),
    Theme(
        "verslaving",
        "Wmo 2015",
        "begeleiding",
        ("GGZ-instelling", "wijkteam"),
        "gebruikt al jaren en raakt steeds verder achter met post en rekeningen",
        "begeleiding thuis gekoppeld aan verslavingszorg",
    ),
    Theme(
        "werk & opleiding",
        "Participatiewet",
        "loonkostensubsidie",
        ("UWV", "gemeente"),
        "wil graag werken maar heeft een beperkte loonwaarde",
        "een baan met loonkostensubsidie en een jobcoach",
    ),
    Theme(
        "werk & opleiding",
        "WW",
        "WW-uitkering",
        ("UWV", "gemeente"),
        "is ontslagen en wacht weken op de beslissing over de WW",
        "een voorschot op de bijstand tot de WW werd uitbetaald",
    ),
    Theme(
        "huiselijke relaties",
        "Jeugdwet",
        "jeugdhulp",
        ("wijkteam", "Veilig Thuis"),
        "heeft thuis veel spanningen en de kinderen zitten ertussen",
        "ambulante jeugdhulp en een gezinsplan met het wijkteam",
    ),
    Theme(
        "tijdsbesteding",
        "Wmo 2015",
        "dagbesteding",
        ("gemeente", "zorgaanbieder"),
        "zit de hele dag thuis zonder structuur",
        "dagbesteding dichtbij huis met vervoer",
    ),
    Theme(
        "sociaal netwerk",
        "Wmo 2015",
        "mantelzorgondersteuning",
        ("mantelzorgsteunpunt", "gemeente"),
        "zorgt alleen voor een partner met dementie en raakt uitgeput",
        "respijtzorg en ondersteuning voor de mantelzorger",
    ),
    Theme(
        "maatschappelijke participatie",
        "Wet inburgering 2021",
        "inburgeringsvoorziening",
        ("gemeente", "COA"),
        "is net gehuisvest als statushouder en begrijpt de brieven niet",
        "een inburgeringstraject met hulp bij de administratie",
    ),
    Theme(
        "justitie",
        "Participatiewet",
        "nazorg ex-gedetineerden",
        ("reclassering", "gemeente"),
        "komt binnenkort vrij zonder woning, inkomen of identiteitsbewijs",
        "een aanvraag voor uitkering en ID-bewijs al voor de vrijlating",
    ),
]
# Most cases in a register are solved: the first status (opgelost) three times as often as each other.
_STATUS_MIX = (STATUSES[0],) * 3 + STATUSES[1:]
HOUSEHOLDS = [
    "Een alleenstaande man van {age}",
    "Een alleenstaande vrouw van {age}",
    "Een moeder van {age} met twee kinderen",
    "Een vader van {age} met een zoon",
    "Een stel van rond de {age}",
    "Een jongere van {young}",
    "Een oudere vrouw van {old}",
    "Een man van {age} die net gescheiden is",
]
STUCK = {
    "samenwerking": "De organisaties wachten op elkaar en niemand neemt de regie.",
    "communicatie": "De brieven zijn onduidelijk en niemand legt uit wat er nodig is.",
    "wet- en regelgeving": "De regels sluiten niet op elkaar aan, waardoor geen van beide loketten mag betalen.",
    "kennis en kunde": "De medewerker aan het loket kent de regeling niet en verwijst door.",
    "ICT-systemen": "Het systeem kan de combinatie van inkomen en zorg niet registreren.",
}
OPENINGS = ["Na lang zoeken lukte het via", "De oplossing kwam via", "Uiteindelijk hielp", "Het brak open door"]


def generate(n: int, seed: int = 1) -> Iterator[dict]:
    rng = random.Random(seed)
    for i in range(n):
        yield _case(rng, f"gen-{seed}-{i:07d}")


def _case(rng: random.Random, case_id: str) -> dict:
    themes = rng.sample(THEMES, rng.choice((1, 2, 2, 3)))
    knelpunt = rng.choice(list(STUCK))
    who = rng.choice(HOUSEHOLDS).format(age=rng.randint(25, 64), young=rng.randint(17, 23), old=rng.randint(66, 90))
    problems = "; daarnaast ".join(t.problem for t in themes)
    first, other = themes[0].organisations
    situation = (
        f"{who} {problems}. {first.capitalize()} verwijst naar {other} en andersom. {STUCK[knelpunt]} "
        f"Ondertussen lopen de problemen verder op."
    )
    solution = f"{rng.choice(OPENINGS)} {' en '.join(t.remedy for t in themes)}, met één vaste contactpersoon."
    return {
        "id": case_id,
        "title": f"{themes[0].voorziening.capitalize()}: {themes[0].problem.split(' en ')[0]}"[:90],
        "situation": situation,
        "solution": solution,
        "status": rng.choice(_STATUS_MIX),
        "year": rng.randint(2019, 2025),
        "laws": sorted({t.law for t in themes}),
        "voorzieningen": sorted({t.voorziening for t in themes}),
        "organisations": sorted({o for t in themes for o in t.organisations}),
        "levensgebieden": sorted({t.levensgebied for t in themes}),
        "knelpunten": [{"type": knelpunt, "text": STUCK[knelpunt]}],
        "learning_points": [
            {
                "text": "Leg eerder vast wie de regie heeft als twee loketten naar elkaar wijzen.",
                "order": rng.choice((1, 2, 3)),
            }
        ],
    }


def write(path: Path, n: int, seed: int = 1) -> int:
    with open(path, "w", encoding="utf-8") as out:
        for record in generate(n, seed):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return n
