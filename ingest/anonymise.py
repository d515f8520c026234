"""Privacy gate: find and redact personal data in Dutch case texts.

The text is first normalised (ingest/normalise.py: NFKC, invisible and
direction characters, dash and space variants, disguised e-mail addresses);
the detectors in DETECTORS (one line each, with its kind) run on the
normalised text and their spans are mapped back to the original.

Detectors are regex pre-filters compiled once at import; the expensive checks
(elfproef, mod-97, phonenumbers, Deduce) only run on the candidates they
yield, which keeps bulk imports fast. Precision matters as much as recall: a
false hit rejects a whole import, so every detector demands a checksum or a
strong context (salutation, name list, birth keyword, street suffix), and
institutions and streets named after people are not persons.
`make gate-eval` measures recall and false positives (ingest/gate_eval.py).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import phonenumbers
from stdnum import iban as _iban
from stdnum.nl import bsn as _bsn
from stdnum.nl import postcode as _postcode

from ingest import deduce_gate
from ingest.normalise import Normalised, normalise

__all__ = ["Finding", "find_personal_data", "redact", "redaction_summary", "warm_up"]

KINDS = ("BSN", "IBAN", "TELEFOON", "E-MAIL", "ADRES", "GEBOORTEDATUM", "NAAM", "STUURTEKEN")
# Tie-break for equally long overlapping spans: checksummed kinds are the most
# trustworthy, name heuristics the least.
_PRIORITY = {kind: rank for rank, kind in enumerate(KINDS)}
Span = tuple[int, int]  # start, end


# What each kind is called in a refusal, and what the writer can do about it.
_LABELS = {
    "BSN": "burgerservicenummer (BSN)",
    "IBAN": "rekeningnummer (IBAN)",
    "TELEFOON": "telefoonnummer",
    "E-MAIL": "e-mailadres",
    "ADRES": "adres",
    "GEBOORTEDATUM": "geboortedatum",
    "NAAM": "naam van een persoon",
    "STUURTEKEN": "onzichtbaar stuurteken dat de leesrichting omdraait",
}
_ADVICE = {
    "BSN": "Laat het nummer weg; een casus heeft geen BSN nodig.",
    "IBAN": "Laat het rekeningnummer weg.",
    "TELEFOON": "Laat het nummer weg; noem hooguit de organisatie die u kunt bellen.",
    "E-MAIL": "Laat het adres weg; noem hooguit de organisatie.",
    "ADRES": "Noem geen straat, huisnummer of postcode; schrijf bijvoorbeeld 'een wijk in Zwolle'.",
    "GEBOORTEDATUM": "Noem een leeftijd of leeftijdsgroep ('een jongen van 12') in plaats van de geboortedatum.",
    "NAAM": "Vervang de naam door een rol ('de moeder', 'de cliënt', 'zoon (12)').",
    "STUURTEKEN": "Verwijder het teken: het laat tekst anders zien dan er staat. Typ de tekst opnieuw.",
}
# Characters kept visible at the start and end of a masked span, so a person
# can find the spot in their own text ("06-••••••78", "1••••••82").
_KEEP = {"BSN": (1, 2), "IBAN": (4, 2), "TELEFOON": (2, 2)}
MASK = "•"


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int
    text: str  # the offending span exactly as written

    @property
    def placeholder(self) -> str:
        return "" if self.kind == "STUURTEKEN" else f"[{self.kind}]"

    @property
    def masked(self) -> str:
        """The span with most of it hidden, safe to show in messages and logs."""
        if self.kind == "STUURTEKEN":
            return " ".join(f"U+{ord(c):04X}" for c in self.text)
        if self.kind in _KEEP:
            head, tail = _KEEP[self.kind]
            positions = [i for i, c in enumerate(self.text) if c.isalnum()]
            shown = set(positions[:head] + positions[-tail:])
            return "".join(c if i in shown or not c.isalnum() else MASK for i, c in enumerate(self.text))
        if self.kind == "E-MAIL":
            return re.sub(r"(?<=\w)\w", MASK, self.text.rsplit(".", 1)[0]) + "." + self.text.rsplit(".", 1)[-1]
        # Names, addresses, dates: only the first character of each word.
        return re.sub(r"(?<=\w)\w", MASK, self.text)

    @property
    def message(self) -> str:
        """Dutch refusal text: what was found, where (masked), and how to fix it."""
        return f"Dit lijkt een {_LABELS[self.kind]}: {self.masked}. {_ADVICE[self.kind]}"


# --- character classes -------------------------------------------------------
# Python's re has no \p{Lu}; names like Özdemir, Łukasz and Şahin need the
# Latin-1 and Latin Extended-A letters too.
_LATIN = [chr(c) for c in range(0x41, 0x250)]
_U = "".join(c for c in _LATIN if c.isupper())
_L = "".join(c for c in _LATIN if c.islower())
UP = f"[{re.escape(_U)}]"
LO = f"[{re.escape(_L)}]"
# A capitalised word with at least one lowercase letter, which keeps acronyms
# such as UWV, SVB and BWBR out of the name and street rules. No alternation
# inside the repeat (slow in Python's engine); covers O'Neill, McDonald, Jansen's.
CAPW = rf"{UP}(?:['’]{UP})?{LO}+(?:(?:['’]{UP}?|{UP}){LO}+)*"
SP = r"[^\S\r\n]+"  # names and addresses do not continue over a line break

_PARTICLE_WORDS = [
    "van",
    "von",
    "de",
    "den",
    "der",
    "des",
    "het",
    "'t",
    "te",
    "ter",
    "ten",
    "la",
    "le",
    "du",
    "da",
    "di",
    "dos",
    "del",
    "della",
    "el",
    "al",
    "ben",
    "bin",
    "ibn",
    "ait",
    "in",
    "op",
    "aan",
    "uit",
]
# "in", "op", "aan", "uit" are particles only before an article (in 't Veld,
# op de Beek); on their own they are ordinary prepositions.
_PREPOSITION_PARTICLES = {"in", "op", "aan", "uit"}
_ARTICLES = {"de", "den", "der", "het", "'t"}
PARTICLE = (
    r"(?i:(?:in|op|aan|uit)"
    + SP
    + r"(?:de|den|der|het|'t)|"
    + "|".join(re.escape(p) for p in _PARTICLE_WORDS if p not in _PREPOSITION_PARTICLES)
    + ")"
)


# Letters NFKD does not decompose into a base letter plus accent.
_FOLD_EXTRA = str.maketrans({"ł": "l", "Ł": "L", "ı": "i", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "’": "'"})


@lru_cache(maxsize=65536)
def _fold(word: str) -> str:
    """Case- and accent-insensitive key, so 'Ozturk' matches 'Öztürk'."""
    decomposed = unicodedata.normalize("NFKD", word.translate(_FOLD_EXTRA))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


# --- word lists --------------------------------------------------------------
_NAMES_DIR = Path(__file__).with_name("names")


def _read_list(name: str) -> list[str]:
    lines = (_NAMES_DIR / name).read_text(encoding="utf-8").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]


def _surname_cores(entries: Iterable[str]) -> frozenset[str]:
    # "van den Berg" is looked up by "berg": particles are matched by the regex.
    cores = set()
    for entry in entries:
        for part in entry.replace("-", " ").split():
            if _fold(part) not in PARTICLES:
                cores.add(_fold(part))
    return frozenset(cores)


PARTICLES = frozenset(_fold(p) for p in _PARTICLE_WORDS)
FIRST_NAMES = frozenset(_fold(n) for n in _read_list("first_names.txt"))
SURNAMES = _surname_cores(_read_list("surnames.txt"))

_MONTHS = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
    "jan",
    "feb",
    "mrt",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "okt",
    "nov",
    "dec",
    "january",
    "february",
    "march",
    "may",
    "june",
    "july",
    "october",
]

# Words that open Dutch sentences; capitalised they can precede a street name
# or a surname without belonging to it.
_SENTENCE_WORDS = frozenset(
    _fold(w)
    for w in [
        "een",
        "ik",
        "jij",
        "je",
        "hij",
        "zij",
        "ze",
        "wij",
        "we",
        "jullie",
        "u",
        "men",
        "er",
        "dit",
        "dat",
        "deze",
        "die",
        "wat",
        "wie",
        "hoe",
        "waar",
        "wanneer",
        "waarom",
        "welke",
        "geen",
        "alle",
        "veel",
        "weinig",
        "zijn",
        "haar",
        "hun",
        "mijn",
        "onze",
        "uw",
        "ook",
        "nu",
        "toen",
        "daarna",
        "daarom",
        "daardoor",
        "dan",
        "na",
        "voor",
        "door",
        "omdat",
        "als",
        "maar",
        "en",
        "of",
        "want",
        "dus",
        "tot",
        "sinds",
        "tijdens",
        "vanwege",
        "volgens",
        "namens",
        "helaas",
        "gelukkig",
        "inmiddels",
        "vervolgens",
        "uiteindelijk",
        "samen",
        "ondanks",
        "hierdoor",
        "hierna",
        "bovendien",
        "verder",
        "eerst",
        "later",
        "zowel",
        "noch",
        "niet",
        "wel",
        "nog",
        "al",
        "bij",
        "met",
        "via",
        "naar",
        "op",
        "in",
        "aan",
        "uit",
        "over",
        "onder",
        "tegen",
        "zonder",
        "binnen",
        "buiten",
        "tussen",
        "mevrouw",
        "meneer",
        "mijnheer",
        "heer",
        "cliënt",
        "client",
        "cliente",
        "klant",
        "moeder",
        "vader",
        "zoon",
        "dochter",
        "kind",
        "kinderen",
        "ouders",
        "partner",
        "echtgenoot",
        "echtgenote",
        "woont",
        "woonde",
        "wonen",
        "adres",
        "woonadres",
    ]
)
# Capitalised words that are never the surname part of a name: besides the
# sentence words, months, days, places, organisations and law words.
_NON_NAME_WORDS = set(_MONTHS) | {
    "maandag",
    "dinsdag",
    "woensdag",
    "donderdag",
    "vrijdag",
    "zaterdag",
    "zondag",
    "gemeente",
    "raad",
    "thuis",
    "veilig",
    "juiste",
    "loket",
    "hoop",
    "kinderbescherming",
    "belastingdienst",
    "toeslagen",
    "sociale",
    "verzekeringsbank",
    "zaken",
    "wijkteam",
    "jeugdzorg",
    "jeugdbescherming",
    "reclassering",
    "voedselbank",
    "schuldhulpverlening",
    "stichting",
    "centrum",
    "leger",
    "heils",
    "rode",
    "kruis",
    "zilveren",
    "menzis",
    "achmea",
    "humanitas",
    "cordaan",
    "parnassia",
    "arkin",
    "lister",
    "kwadraad",
    "vluchtelingenwerk",
    "ggd",
    "ggz",
    "mee",
    "zorgkantoor",
    "zorgverzekeraar",
    "ziekenhuis",
    "huisarts",
    "rechtbank",
    "gerechtshof",
    "hof",
    "kantonrechter",
    "ombudsman",
    "rijksoverheid",
    "overheid",
    "ministerie",
    "staat",
    "provincie",
    "waterschap",
    "politie",
    "justitie",
    "wet",
    "wetten",
    "participatiewet",
    "jeugdwet",
    "zorgtoeslag",
    "huurtoeslag",
    "kinderopvangtoeslag",
    "wmo",
    "wlz",
    "zvw",
    "awb",
    "ww",
    "wia",
    "wajong",
    "aow",
    "anw",
    "artikel",
    "lid",
    "bijlage",
    "hoofdstuk",
    "paragraaf",
    "afdeling",
    "nederland",
    "nederlands",
    "nederlandse",
    "amsterdam",
    "rotterdam",
    "utrecht",
    "den",
    "haag",
    "eindhoven",
    "groningen",
    "tilburg",
    "almere",
    "breda",
    "nijmegen",
    "arnhem",
    "zwolle",
    "leiden",
    "maastricht",
    "haarlem",
    "enschede",
    "apeldoorn",
    "amersfoort",
    "limburg",
    "brabant",
    "holland",
    "friesland",
    "gelderland",
    "zeeland",
    "drenthe",
    "overijssel",
    "flevoland",
    "suriname",
    "turkije",
    "marokko",
    "polen",
    "syrië",
    "eritrea",
    "noord",
    "zuid",
    "oost",
    "west",
    "nieuw",
    "nieuwe",
    "oude",
    "groot",
    "grote",
    "klein",
    "kleine",
    "sint",
    "st",
    "prins",
    "prinses",
    "koning",
    "koningin",
    "sociaal",
    "maatschappelijk",
    "maatschappelijke",
    "centrale",
    "nationale",
    "algemene",
    "openbaar",
    "openbare",
    "publieke",
    "regionale",
    "gemeentelijke",
    "landelijk",
    "landelijke",
    "huis",
    "museum",
    "school",
    "arena",
    "stadion",
    "kerk",
    "moskee",
    "bibliotheek",
}
_NOT_A_NAME = frozenset(_fold(w) for w in _NON_NAME_WORDS) | _SENTENCE_WORDS | PARTICLES
# Sentence words swept into a street prefix are dropped ("In de Kerkstraat"),
# but not particles that begin street names ("De Ruyterkade", "Van Goghstraat").
_STREET_TRIM = (_SENTENCE_WORDS | _PREPOSITION_PARTICLES) - {"de", "het", "van"}

# Endings of Dutch nouns and institutions that a surname practically never has
# (Participatiewet, Belastingdienst, Anna Paulownastraat...).
_NON_NAME_SUFFIXES = (
    "wet",
    "heid",
    "schap",
    "teit",
    "dienst",
    "zorg",
    "loket",
    "bank",
    "raad",
    "team",
    "fonds",
    "centrum",
    "ziekenhuis",
    "school",
    "college",
    "instelling",
    "werk",
    "wonen",
    "ing",
    "straat",
    "laan",
    "weg",
    "plein",
    "gracht",
    "kade",
    "singel",
    "steeg",
    "dreef",
    "markt",
    "boulevard",
    "plantsoen",
    "toeslag",
)


def _is_surname(word: str) -> bool:
    if not word[:1].isupper() or word.isupper():
        return False
    key = _fold(word)
    if key in SURNAMES:
        return True
    if key in _NOT_A_NAME or len(key) < 2:
        return False
    return len(key) < 7 or not key.endswith(_NON_NAME_SUFFIXES)


# --- generic helpers ---------------------------------------------------------
# Patterns start with a plain character (class) and check the preceding
# character in a lookbehind placed after it: a leading lookbehind stops the
# regex engine from skipping ahead to possible first characters, which made
# every detector several times slower.
def _boundary(first: str, not_before: str) -> str:
    return rf"{first}(?<!{not_before}{first})"


def _longest_valid(text: str, start: int, end: int, cuts: Iterable[int], valid: Callable[[str], bool]):
    """Longest prefix of text[start:end] ending at a cut point that validates.

    Greedy pre-filters may swallow a following word or number ("NL91...00 en",
    "06-12345678 2023"); backing off to group boundaries recovers the real span.
    """
    for cut in sorted((c for c in cuts if start < c <= end), reverse=True):
        if valid(text[start:cut]):
            return cut
    return None


def _group_ends(text: str, start: int, end: int) -> list[int]:
    return [i + 1 for i in range(start, end) if text[i].isalnum() and (i + 1 == end or not text[i + 1].isalnum())]


def _regex_search(pattern: re.Pattern) -> Callable[[str, int], Span | None]:
    def search(text: str, pos: int) -> Span | None:
        m = pattern.search(text, pos)
        return m.span() if m else None

    return search


def _scan_validated(
    search: Callable[[str, int], Span | None], text: str, valid: Callable[[str], bool]
) -> Iterator[Span]:
    """Validated spans of a greedy search; scanning resumes after the validated
    end, not the greedy one, so a swallowed neighbour is still found."""
    pos = 0
    while (span := search(text, pos)) is not None:
        start, greedy_end = span
        end = _longest_valid(text, start, greedy_end, _group_ends(text, start, greedy_end), valid)
        if end is None:
            pos = start + 1
            continue
        yield start, end
        pos = end


# --- BSN -----------------------------------------------------------------------
# Nine digits in any grouping (123-456-782, 1234 56 782, 12.34.56.782), also
# glued to a label (BSN123456782); the elfproef decides.
_BSN_RE = re.compile(r"\d(?<!\d\d)(?<!\d[.,/-]\d)(?:[ .-]?\d){8}(?![.,/-]?\d)")
# A labelled number that passes the elfproef by chance is still not a BSN:
# "Zaaknummer 123456782", "€ 123.456.782", "123.456.782 euro".
_NOT_BSN_BEFORE_RE = re.compile(
    r"(?:€|eur|euro|(?:zaak|dossier)(?:nummer|nr\.?)?|kenmerk|referentie|ref\.?|bwbr?|"
    r"(?:aanvraag|factuur|klant|order|relatie|polis|registratie|lening|contract|melding|kvk)(?:nummer|nr\.?))[\s:.#-]*\Z"
)
_BSN_LABEL_RE = re.compile(r"(?:bsn|burgerservicenummer|sofi\w*)[\s:.#-]*\Z")
_NOT_BSN_AFTER_RE = re.compile(r"[\s,-]*(?:euro|eur|€)")


def _find_bsn(text: str, lowered: str) -> Iterator[Span]:
    for m in _BSN_RE.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if digits == "000000000" or not _bsn.is_valid(digits):
            continue
        before = lowered[max(0, m.start() - 24) : m.start()]
        if not _BSN_LABEL_RE.search(before) and (
            _NOT_BSN_BEFORE_RE.search(before)
            or _NOT_BSN_AFTER_RE.match(lowered, m.end())
            or not _grouped_like_a_bsn(m.group())
        ):
            continue
        yield m.start(), m.end()


def _grouped_like_a_bsn(number: str) -> bool:
    """People group a BSN in threes or fours (123-456-782, 1234 56 782) or not at all; a group of five
    or more digits after a separator is a numbered series ("51-0000071"), unless a label says BSN."""
    groups = re.split(r"[ .-]", number)
    return len(groups) == 1 or max(len(g) for g in groups) <= 4


# --- IBAN ----------------------------------------------------------------------
# Anchored on the check digits (a digit after two letters, "NL30" or "NL 30"),
# so that the engine skips ahead to digits; the country code is read back from
# there. Lowercase, dashed and irregularly grouped forms are accepted: mod-97
# (and the national check stdnum knows) decides.
_IBAN_RE = re.compile(
    r"\d(?:(?<=(?<![A-Za-z0-9])[A-Za-z]{2}\d)|(?<=(?<![A-Za-z0-9])[A-Za-z]{2} \d))\d(?:[ -]?[A-Za-z0-9]){10,32}"
)


def _search_iban(text: str, pos: int) -> Span | None:
    """Next candidate starting at or after pos, widened back to its country code."""
    m = _IBAN_RE.search(text, pos)
    while m:
        start = m.start() - 2 - (text[m.start() - 1] == " ")
        if start >= pos:
            return start, m.end()
        m = _IBAN_RE.search(text, m.start() + 1)
    return None


def _find_iban(text: str, lowered: str) -> Iterator[Span]:
    yield from _scan_validated(_search_iban, text, _iban.is_valid)


# --- phone numbers -------------------------------------------------------------
# One dash or slash at most, after the area code: "01-03-1985" is a date, and
# a second dash would let a date and a following number pass as one phone number.
_AREA_SEP = r"(?: ?[-/.] ?| )?"
_DIGITS = r"\d(?:[ .-]?\d)"
_INTL_REST = rf"[1-9]\d{{0,2}}[ .-]?(?:\(0\) ?)?\d{{1,4}}{_AREA_SEP}{_DIGITS}{{4,10}}"
_PHONE_RE = re.compile(
    "(?:"
    + _boundary("[+]", r"[\w+]")
    + _INTL_REST
    + "|"
    + _boundary("0", r"[\w+.]")
    + rf"(?:0{_INTL_REST}|\d{{1,3}}{_AREA_SEP}{_DIGITS}{{4,8}})"
    + "|"
    + _boundary("[(]", r"[\w+]")
    + rf"0\d{{1,3}}\) ?{_DIGITS}{{4,8}}"
    + r")(?!\d)"
)


_PHONE_SEARCH = _regex_search(_PHONE_RE)


def _valid_phone(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    if candidate.startswith(("0", "(")) and not candidate.startswith("00") and len(digits) != 10:
        return False
    try:
        number = phonenumbers.parse(candidate, "NL")
    except phonenumbers.NumberParseException:
        return False
    # 0800/0900 numbers belong to services, not persons.
    return phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) not in _SERVICE_NUMBERS


_SERVICE_NUMBERS = frozenset(
    {
        phonenumbers.PhoneNumberType.TOLL_FREE,
        phonenumbers.PhoneNumberType.PREMIUM_RATE,
        phonenumbers.PhoneNumberType.SHARED_COST,
    }
)


def _find_phone(text: str, lowered: str) -> Iterator[Span]:
    yield from _scan_validated(_PHONE_SEARCH, text, _valid_phone)


# --- e-mail --------------------------------------------------------------------
_EMAIL_RE = re.compile(r"(?<![\w.%+-])[\w.%+-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w@])")


def _find_email(text: str, lowered: str) -> Iterator[Span]:
    if "@" in text:
        for m in _EMAIL_RE.finditer(text):
            yield m.start(), m.end()


# --- addresses -----------------------------------------------------------------
# "8011 AB", "8011AB", "8011-AB", "8011ab"; "8011 ab" only where an address
# goes on (a place name or a house number), since "2023 en" is ordinary text.
_POSTCODE_RE = re.compile(
    _boundary("[1-9]", r"[\w.,-]")
    + r"\d{3}(?:[ -]?[A-Z]{2}|[a-z]{2}|[ -][a-z]{2}(?=,?[^\S\r\n]+[A-Z][a-z])|-[a-z]{2}(?=[^\S\r\n]+\d))(?![\w-])"
)
# Letter pairs that follow numbers as abbreviations ("sinds 2019 WW") or, in
# lowercase, as units ("1500km"); after a year they are read as text too.
_POSTCODE_STOP = frozenset(["WW", "ZW", "EU", "NL", "BV", "NV", "UK", "VS"])
_POSTCODE_UNITS = frozenset(
    [
        "km",
        "kg",
        "mg",
        "ml",
        "cm",
        "mm",
        "gb",
        "mb",
        "kb",
        "tb",
        "uu",
        "ct",
        "pk",
        "is",
        "en",
        "in",
        "op",
        "te",
        "om",
        "of",
        "ik",
        "je",
        "we",
        "ze",
        "al",
        "na",
        "nu",
        "zo",
        "ja",
        "ga",
    ]
)
_POSTCODE_AFTER_YEAR = frozenset(
    [
        "AI",
        "IT",
        "HR",
        "PC",
        "OV",
        "ID",
        "TV",
        "CV",
        "KB",
        "MB",
        "GB",
        "TB",
        "KM",
        "KG",
        "ML",
        "CM",
        "MM",
        "MG",
        "EN",
        "IN",
        "OP",
        "TE",
    ]
)


def _postcode_ok(candidate: str) -> bool:
    digits, letters = candidate[:4], candidate[-2:]
    if letters.upper() in _POSTCODE_STOP or letters in _POSTCODE_UNITS:
        return False
    if digits[:2] in ("19", "20") and letters.upper() in _POSTCODE_AFTER_YEAR:
        return False
    return _postcode.is_valid(candidate.replace("-", " ").upper())


_STREET_SUFFIXES = (
    "straat",
    "straatweg",
    "laan",
    "weg",
    "plein",
    "gracht",
    "kade",
    "singel",
    "dijk",
    "hof",
    "pad",
    "steeg",
    "dreef",
    "park",
    "markt",
    "boulevard",
    "plantsoen",
    "baan",
    "wal",
    "allee",
    "hoven",
    "veld",
    "vaart",
    "zijde",
    "brink",
    "burg",
    "pleintje",
    "straatje",
    "kanaal",
)
# Ordinary nouns with a street ending that do get followed by a year or count.
_NOT_A_STREET = frozenset(
    _fold(w)
    for w in [
        "Arbeidsmarkt",
        "Woningmarkt",
        "Gerechtshof",
        "Loopbaan",
        "Zorgpad",
        "Levenspad",
        "Binnenhof",
        "Speelveld",
        "Werkveld",
    ]
)
_HOUSE_NO = (
    r"\d{1,4}(?![\d%]|[.,]\d)"
    r"(?:-?[A-Za-z](?![\w])|-(?:[IVX]{1,4}|\d{1,4})(?![\w])"
    r"|[ -](?:hs|bis|huis|boven|bg|I{1,3})(?![\w])|[ ][A-Za-z](?![\w.]))?"
)
# Anchored on a number right after a word ending like a street suffix (a
# same-width lookbehind, so the engine can still skip to digits); the street
# word and its capitalised prefix ("Lange", "Johan de") are then read backwards.
# Searched in the lowercased text, so KERKSTRAAT 12 and dorpsstraat 5 match
# too; "str." and "ln." are the usual abbreviations.
_STREET_ABBREVIATIONS = ("str.", "ln.", "pln.", "gr.")
_NUMBER_AFTER_WORD_RE = re.compile(
    r"\d(?<=(?:" + "|".join(sorted({x[-3:] for x in _STREET_SUFFIXES} | {"tr.", "ln."})) + r")[^\S\r\n]\d)"
)
_HOUSE_NO_RE = re.compile(_HOUSE_NO + r"(?!\s*(?:euro|procent|jaar|jaren|uur|keer|dagen|weken|maanden|km|kilometer)\b)")
_STREET_PREFIX_RE = re.compile(rf"(?<![\w'’-])(?:{CAPW}{SP}(?:{PARTICLE}{SP}){{0,3}}){{1,3}}\Z")
_STREET_WORD_CHARS = frozenset("'’-")


def _find_postcode(text: str, lowered: str) -> Iterator[Span]:
    for m in _POSTCODE_RE.finditer(text):
        if _postcode_ok(m.group()):
            yield m.start(), m.end()


def _trim_street_start(text: str, start: int, street_end: int) -> int | None:
    """Drop sentence words swept into the street prefix ("Via de Kerkstraat")."""
    words = list(re.finditer(r"\S+", text[start:street_end]))
    i = 0
    while i < len(words) - 1 and _fold(words[i].group()) in _STREET_TRIM:
        i += 1
        while i < len(words) - 1 and words[i].group().islower() and _fold(words[i].group()) in PARTICLES:
            i += 1
    street_word = words[-1].group()
    if _fold(street_word.rstrip(".")) in _NOT_A_STREET:
        return None
    return start + words[i].start()


def _street_word_start(text: str, end: int) -> int:
    start = end - 1 if text[end - 1 : end] == "." else end
    while start > 0 and (text[start - 1].isalpha() or text[start - 1] in _STREET_WORD_CHARS):
        start -= 1
    return start


def _is_street_word(word: str) -> bool:
    # The suffix alone ("Markt 3", "Hof 12") is too often an ordinary noun.
    if not (word.istitle() or word.isupper() or word.islower()):
        return False
    lowered = word.lower()
    if lowered.endswith(_STREET_ABBREVIATIONS):
        return len(lowered) > 4 and word[:1].isupper()
    return any(lowered.endswith(s) and len(lowered) > len(s) for s in _STREET_SUFFIXES)


def _is_year(house_number: str) -> bool:
    # "Kerkstraat 2023" names a project; a house number is rarely a year.
    return house_number.isdigit() and 1900 <= int(house_number) <= 2099


def _find_street(text: str, lowered: str) -> Iterator[Span]:
    for m in _NUMBER_AFTER_WORD_RE.finditer(lowered):
        street_end = m.start() - 1
        word_start = _street_word_start(text, street_end)
        if not _is_street_word(text[word_start:street_end]):
            continue
        house = _HOUSE_NO_RE.match(text, m.start())
        if house is None or (word_start and text[word_start - 1].isdigit()) or _is_year(house.group()):
            continue
        prefix = _STREET_PREFIX_RE.search(text, max(0, word_start - 80), word_start)
        start = _trim_street_start(text, prefix.start() if prefix else word_start, street_end)
        if start is not None:
            yield start, house.end()


# Streets whose name has no street suffix ("Laan van Meerdervoort 12", "Oude
# Gracht 123", "Heer Bokelweg"): the one to four words before a house number,
# looked up in Deduce's list of Dutch street names.
_NUMBER_AFTER_SPACE_RE = re.compile(r"\d(?<=[^\S\r\n]\d)")
_WORD_BEFORE_RE = re.compile(r"[\w'’.-]+")


def _find_listed_street(text: str, lowered: str) -> Iterator[Span]:
    streets = deduce_gate.street_names()
    for m in _NUMBER_AFTER_SPACE_RE.finditer(text):
        house = _HOUSE_NO_RE.match(text, m.start())
        if house is None or _is_year(house.group()) or (m.start() > 1 and not text[m.start() - 2].isalpha()):
            continue
        words = list(_WORD_BEFORE_RE.finditer(text, max(0, m.start() - 60), m.start()))[-4:]
        for first in range(len(words)):
            name = lowered[words[first].start() : words[-1].end()]
            if name in streets and _is_listed_street_name(text[words[first].start() : words[-1].end()]):
                yield words[first].start(), house.end()
                break


def _is_listed_street_name(name: str) -> bool:
    # The list also holds one-word streets that are ordinary words ("Artikel",
    # "Regenboog"): a name must start with a capital and not be one known non-name.
    words = name.split()
    return name[:1].isupper() and not (
        len(words) == 1 and (_fold(name) in _NOT_A_NAME or name.lower() in deduce_gate.common_words())
    )


# --- dates of birth ------------------------------------------------------------
_MONTH_ALT = "|".join(sorted(_MONTHS, key=len, reverse=True))
# Trigger words, searched in the lowercased text with literal first letters
# (see _SALUTATION_M_RE for why); the date must follow within a few words.
# "°" and "*" are the genealogical birth signs; "geb" without a dot only
# counts when a number follows ("geb 3 maart 2005", not "gebeld").
_DOB_TRIGGER_RE = re.compile(
    r"(?:geb(?:oren|oorte[^\S\r\n]?datum|\.?[^\S\r\n]?datum|\.|(?=[^\S\r\n]+\d))|dob|d\.o\.b\.?"
    r"|date[^\S\r\n]+of[^\S\r\n]+birth|born|°|(?<![\w*])\*(?=[^\S\r\n]?\d)|(?<=is )van(?=[^\S\r\n]+\d))(?![^\W\d_])"
)
# "is van 12-03-2005" is a birth date only when it is said of a person.
_PERSON_BEFORE_IS_VAN_RE = re.compile(
    r"(?:zoon|dochter|kind|baby|broer|broertje|zus|zusje|cliënt|client|cliente|hij|zij|ze|meneer|mevrouw|moeder|"
    r"vader|jongste|oudste|tweeling)(?:[^\S\r\n]+[^\W\d_]+){0,2}[^\S\r\n]+is[^\S\r\n]+\Z"
)
_WEEKDAYS = "maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag|ma|di|wo|do|vr|za|zo"
_DOB_DATE_RE = re.compile(
    rf"(?i)[^\S\r\n]*[(:]?[^\S\r\n]*"
    rf"(?:(?:[^\W\d_]+[^\S\r\n]*){{1,3}}?:[^\S\r\n]*"
    rf"|(?:op|on|per|d\.d\.){SP}(?:(?:{_WEEKDAYS})\.?,?{SP})?"
    rf"|(?:{_WEEKDAYS})\.?,?{SP}"
    rf"|(?:te|in){SP}{UP}[\w-]+(?:{SP}op)?{SP})?"
    r"(?P<date>\d{1,2}[-/.]\d{1,2}[-/.](?:\d{4}|\d{2})"
    rf"|\d{{1,2}}{SP}(?:{_MONTH_ALT})\.?{SP}\d{{4}}"
    r"|\d{4}-\d{1,2}-\d{1,2})(?![\w]|[-/.]\d)"
)


def _plausible_date(date: str) -> bool:
    numbers = [int(n) for n in re.findall(r"\d+", date)]
    if len(numbers) == 2:  # day + month name + year
        return 1 <= numbers[0] <= 31
    day, month = (numbers[2], numbers[1]) if numbers[0] > 999 else (numbers[0], numbers[1])
    return 1 <= day <= 31 and 1 <= month <= 12


# Plain "geb" would also fire on gebruik, gebeld, gebied...
_DOB_HINTS = ("geboren", "geb.", "geb ", "geboorte", "gebdatum", "dob", "d.o.b", "birth", "born", "°", "*", "is van ")


def _find_birth_date(text: str, lowered: str) -> Iterator[Span]:
    if not any(hint in lowered for hint in _DOB_HINTS):
        return
    for trigger in _DOB_TRIGGER_RE.finditer(lowered):
        if trigger.start() and lowered[trigger.start() - 1].isalnum():
            continue
        if trigger.group() == "van" and not _PERSON_BEFORE_IS_VAN_RE.search(
            lowered, max(0, trigger.start() - 60), trigger.start()
        ):
            continue
        m = _DOB_DATE_RE.match(text, trigger.end())
        if m and _plausible_date(m.group("date")):
            yield m.start("date"), m.end("date")


# --- person names --------------------------------------------------------------
# Searched in the lowercased text as literal tries: a literal first character
# lets the engine skip ahead, which a case-insensitive or lookbehind-first
# pattern does not. The common m-words (mevrouw, mevr., mw, meneer, mijnheer,
# mejuffrouw, mr.) get their own scan; the rest (de heer, dhr., dr., drs.,
# juffrouw, familie, fam., hr., ir., prof.) only run when a hint is present.
_SALUTATION_M_RE = re.compile(r"m(?:e(?:vr(?:ouw|\.)?|neer|j(?:uffrouw|\.)?)|ijnheer|w\.?|r\.)")
_SALUTATION_OTHER_RE = re.compile(r"(?:d(?:e[^\S\r\n]+heer|hr\.?|rs?\.)|juffrouw|fam(?:ilie|\.)|hr\.|ir\.|prof\.)")
_SALUTATION_OTHER_HINTS = ("heer", "dhr", "dr.", "drs.", "juf", "fam", "hr.", "ir.", "prof.")
_INITIALS = rf"(?:{UP}\.[^\S\r\n]?){{1,4}}"
# "-de Vries" and Surinamese-Chinese "Tjon-A-Loi" continue a surname.
_DOUBLE = rf"(?:-(?:{PARTICLE}[- ]|{UP}-)*{CAPW})?"
_SAL_FULL_RE = re.compile(rf"{SP}(?P<name>(?:{_INITIALS}{SP}?|{CAPW}{SP})?(?:{PARTICLE}{SP}){{0,3}}{CAPW}{_DOUBLE})")
_SAL_SHORT_RE = re.compile(rf"{SP}(?P<name>(?:{PARTICLE}{SP}){{0,3}}{CAPW}{_DOUBLE})")
_INITIALS_RE = re.compile(
    _boundary(UP, r"[\w.]")
    + rf"\.[^\S\r\n]?(?:{UP}\.[^\S\r\n]?){{0,3}}(?:{PARTICLE}{SP}){{0,3}}(?P<core>{CAPW}){_DOUBLE}"
)
# Two or more capitalised words, optionally joined by particles or hyphens:
# the only places a "first name + surname" can occur. Kept loose (any word
# characters) because it runs over every capital in the text; the tokens are
# checked in Python.
_CASED_PARTICLES = "|".join(
    sorted({re.escape(v) for p in _PARTICLE_WORDS for v in (p, p[0].upper() + p[1:])}, key=len, reverse=True)
)
_RUN_RE = re.compile(_boundary(UP, r"[\w'’-]") + rf"[\w'’]*(?:[ -](?:(?:{_CASED_PARTICLES})[ -]){{0,3}}{UP}[\w'’]*)+")
_TOKEN_RE = re.compile(r"[\w'’]+")


def _capitalised_words(name: str) -> list[str]:
    return [w for w in _TOKEN_RE.findall(name) if w[0].isupper() and _fold(w) not in PARTICLES]


def _not_blocked(word: str) -> bool:
    key = _fold(word)
    return key in SURNAMES or key in FIRST_NAMES or key not in _NOT_A_NAME


def _salutation_name_ok(name: str) -> bool:
    words = _capitalised_words(name)
    return bool(words) and _is_surname(words[-1]) and all(map(_not_blocked, words))


def _may_start_name(text: str, pos: int) -> bool:
    """Cheap pre-check: "mevrouw heeft" and "meneer is" need no regex."""
    after = text[pos : pos + 12].split(None, 1)
    if not after or not text[pos : pos + 1].isspace():
        return False
    word = after[0]
    return word[0].isupper() or word[0] in "'’" or word.rstrip(".,;:") in PARTICLES


def _name_after_salutation(text: str, pos: int) -> re.Match | None:
    if not _may_start_name(text, pos):
        return None
    m = _SAL_FULL_RE.match(text, pos)
    if m is None or _salutation_name_ok(m.group("name")):
        return m
    # The optional first-name slot may have taken a surname ("mevrouw Jansen Veilig Thuis").
    m = _SAL_SHORT_RE.match(text, pos)
    return m if m and _salutation_name_ok(m.group("name")) else None


def _salutations(lowered: str) -> Iterator[re.Match]:
    yield from _SALUTATION_M_RE.finditer(lowered)
    if any(hint in lowered for hint in _SALUTATION_OTHER_HINTS):
        yield from _SALUTATION_OTHER_RE.finditer(lowered)


def _find_salutation_names(text: str, lowered: str) -> Iterator[Span]:
    for sal in _salutations(lowered):
        if sal.start() and (lowered[sal.start() - 1].isalnum() or lowered[sal.start() - 1] == "_"):
            continue
        m = _name_after_salutation(text, sal.end())
        if m:
            yield m.start("name"), m.end("name")


def _find_initials_names(text: str, lowered: str) -> Iterator[Span]:
    for m in _INITIALS_RE.finditer(text):
        if _fold(m.group("core")) in SURNAMES:
            yield m.start(), m.end()


def _is_first_name(word: str) -> bool:
    return word[0].isupper() and _fold(word) in FIRST_NAMES


def _is_particle_at(tokens: list[re.Match], k: int) -> bool:
    key = _fold(tokens[k].group())
    if key in _PREPOSITION_PARTICLES:
        return k + 1 < len(tokens) and _fold(tokens[k + 1].group()) in _ARTICLES
    return key in PARTICLES


def _surname_end(tokens: list[re.Match], text: str, k: int) -> int:
    """Index of the last token of a surname at k, following "-Bakker" or "-de Vries"."""
    while k + 1 < len(tokens) and text[tokens[k + 1].start() - 1] == "-":
        j = k + 1
        while j < len(tokens) - 1 and _fold(tokens[j].group()) in PARTICLES:
            j += 1
        if not tokens[j].group()[0].isupper():
            break
        k = j
    return k


def _names_in_run(text: str, tokens: list[re.Match]) -> Iterator[Span]:
    i, n = 0, len(tokens)
    while i < n:
        if not _is_first_name(tokens[i].group()):
            i += 1
            continue
        j = i + 1
        # Further first names, as long as a surname or particle follows them.
        while (
            j < n - 1
            and _is_first_name(tokens[j].group())
            and (tokens[j + 1].group()[0].isupper() or _is_particle_at(tokens, j + 1))
        ):
            j += 1
        k = j
        while k < n and _is_particle_at(tokens, k):
            k += 1
        if k < n and tokens[k].group()[0].isupper() and _is_surname(tokens[k].group()):
            last = _surname_end(tokens, text, k)
        elif j > i + 1:  # "Jan Peter": a second first name stands in for the surname
            last = j - 1
        else:
            i += 1
            continue
        yield i, last
        i = last + 1


def _find_first_last_names(text: str, lowered: str) -> Iterator[Span]:
    for run in _RUN_RE.finditer(text):
        if not any(_fold(w) in FIRST_NAMES for w in _TOKEN_RE.findall(run.group())):
            continue  # most runs are organisations or sentence starts
        tokens = list(_TOKEN_RE.finditer(text, run.start(), run.end()))
        for i, last in _names_in_run(text, tokens):
            yield tokens[i].start(), tokens[last].end()


# Lowercase names after a salutation ("mevrouw de vries") and first names in a
# family context ("zoon Daan (12)") are checked against Deduce's name lists.
_LOWER_SAL_NAME_RE = re.compile(rf"{SP}(?P<name>(?:{PARTICLE}{SP}){{0,3}}(?P<core>{LO}+))(?![\w-])")


def _known_surname(word: str) -> bool:
    key = _fold(word)
    return key in SURNAMES or word.lower() in deduce_gate.names("surname")


def _known_first_name(word: str) -> bool:
    return _fold(word) in FIRST_NAMES or word.lower() in deduce_gate.names("first_name")


def _find_lowercase_salutation_names(text: str, lowered: str) -> Iterator[Span]:
    for sal in _salutations(lowered):
        if sal.start() and (lowered[sal.start() - 1].isalnum() or lowered[sal.start() - 1] == "_"):
            continue
        m = _LOWER_SAL_NAME_RE.match(text, sal.end())
        if m and _fold(m["core"]) not in _NOT_A_NAME and _known_surname(m["core"]):
            yield m.start("name"), m.end("name")


_FAMILY_WORDS = (
    "zoon|dochter|zoontje|dochtertje|kind|kindje|baby|broer|broertje|zus|zusje|zuster|moeder|vader|"
    "partner|echtgenoot|echtgenote|man|vrouw|vriend|vriendin|oma|opa|neef|nicht|oom|tante|stiefzoon|"
    "stiefdochter|pleegzoon|pleegdochter|kleinzoon|kleindochter|schoonzoon|schoondochter|buurman|buurvrouw|"
    "mantelzorger|jongste|oudste|tweelingbroer|tweelingzus"
)
_FAMILY_NAME_RE = re.compile(rf"(?i:{_FAMILY_WORDS})[,:]?{SP}(?P<name>{CAPW})(?![\w'’-])")


def _find_family_first_names(text: str, lowered: str) -> Iterator[Span]:
    for m in _FAMILY_NAME_RE.finditer(text):
        if m.start() and (text[m.start() - 1].isalnum() or text[m.start() - 1] == "-"):
            continue
        # A capitalised word right after "zoon", "moeder", ... is a name unless
        # it is a known non-name ("zoon Mohammed", but "moeder Gemeente" no).
        if _fold(m["name"]) not in _NOT_A_NAME and _fold(m["name"]) not in _ROLE_WORDS:
            yield m.start("name"), m.end("name")


def _find_capitalised_pairs(text: str, lowered: str) -> Iterator[Span]:
    """Two capitalised words mid-sentence that are no known non-name: a name from
    a list nobody has ("Tesfalem Noori", "Xiaoming Savchenko")."""
    for run in _RUN_RE.finditer(text):
        before = text[: run.start()].rstrip()
        if not before or before[-1] in ".!?:;(\"'‘“\n" or before[-1].isdigit():
            continue  # a sentence start capitalises any word
        words = _capitalised_words(run.group())
        if not 2 <= len(words) <= 4 or not all(map(_could_be_name_word, words)):
            continue
        if _is_surname(words[-1]):
            yield run.start(), run.end()


def _could_be_name_word(word: str) -> bool:
    key = _fold(word)
    return (
        not word.isupper()
        and key not in _NOT_A_NAME
        and key not in _ROLE_WORDS
        and key not in deduce_gate.common_words()
        and not (len(key) >= 7 and key.endswith(_NON_NAME_SUFFIXES))
    )


# "De Vries, J.", "Bakker, Fatima", "El Amrani, M.A.": surname first, as in a register.
_SURNAME_FIRST_RE = re.compile(
    rf"(?<![\w'’-])(?:{PARTICLE}{SP}){{0,3}}(?P<core>{CAPW}{_DOUBLE}),{SP}(?P<given>{_INITIALS}|{CAPW})"
)


def _find_surname_first_names(text: str, lowered: str) -> Iterator[Span]:
    if "," not in text:
        return
    for m in _SURNAME_FIRST_RE.finditer(text):
        if m.start() and text[m.start() - 1].isalnum():
            continue
        given, parts = m["given"].rstrip(), m["core"].split("-")
        if all(_fold(p) in _NOT_A_NAME or _fold(p) in _ROLE_WORDS for p in parts):
            continue
        core = parts[-1]
        # "Kovalenko, A." reads as a register entry whatever the surname;
        # "Kovalenko, Yonas" needs one of the two names to be known.
        if "." in given or _known_surname(core) or _known_first_name(given):
            yield m.start(), m.start("given") + len(given)


_LEADING_TITLE_RE = re.compile(
    r"(?:(?:mevrouw|mevr\.?|mw\.?|meneer|mijnheer|de heer|dhr\.?|hr\.|familie|fam\.|dr\.|drs\.|mr\.|ir\.|prof\.)\s+)+"
)


# Deduce costs about a millisecond a text; it only runs where it can find
# something: a capitalised word that is in its name lists, or (for a street
# with a house number) any capitalised word that is no known non-name plus a digit.
_TITLE_WORD_RE = re.compile(rf"(?<![\w'’-]){UP}{LO}[\w'’]*")


# Deduce also reads any capitalised word after initials or a title as a name.
_INITIAL_OR_TITLE_RE = re.compile(
    rf"(?<![\w.]){UP}\.[^\S\r\n]?(?:{UP}\.[^\S\r\n]?)*(?:{PARTICLE}{SP})*{UP}"
    rf"|(?i:\b(?:dhr|mw|mevr|hr|dr|drs|mr|ir|prof|heer|mevrouw|meneer|mijnheer)\b)\.?{SP}(?:{PARTICLE}{SP})*{UP}"
)


def _deduce(text: str) -> tuple[deduce_gate.Annotation, ...]:
    if _INITIAL_OR_TITLE_RE.search(text):
        return deduce_gate.annotate(text)
    has_digit = any(c.isdigit() for c in text)
    names = deduce_gate.name_words()
    for m in _TITLE_WORD_RE.finditer(text):
        key = m.group().lower()
        if key in names or (has_digit and _fold(key) not in _NOT_A_NAME and key not in deduce_gate.common_words()):
            return deduce_gate.annotate(text)
    return ()


def _find_deduce_names(text: str, lowered: str) -> Iterator[Span]:
    for note in _deduce(text):
        if note.tag != "persoon":
            continue
        # Deduce includes the title ("mevrouw Jansen"); the name alone is what is replaced.
        title = _LEADING_TITLE_RE.match(lowered, note.start, note.end)
        start = title.end() if title else note.start
        end = _cut_organisation_tail(text, start, note.end)
        if start < end and _plausible_deduce_name(text[start:end]):
            yield start, end


def _find_deduce_addresses(text: str, lowered: str) -> Iterator[Span]:
    for note in _deduce(text):
        span = text[note.start : note.end]
        number = re.search(r"(\d+)\w*\Z", span)
        if note.tag == "locatie" and number and not _is_year(number.group(1)):
            yield note.start, note.end


# Words Deduce's lists hold as names but that open or fill Dutch sentences in
# this domain ("Pas na drie maanden", "Burgemeester en wethouders").
_ROLE_WORDS = frozenset(
    _fold(w)
    for w in [
        "burgemeester",
        "wethouder",
        "wethouders",
        "consulent",
        "casemanager",
        "regisseur",
        "jeugdconsulent",
        "klantmanager",
        "schuldhulpverlener",
        "bewindvoerder",
        "mentor",
        "curator",
        "advocaat",
        "rechter",
        "huisarts",
        "wijkverpleegkundige",
        "verpleegkundige",
        "psycholoog",
        "psychiater",
        "hulpverlener",
        "begeleider",
        "ambtenaar",
        "medewerker",
        "coördinator",
        "directeur",
        "teamleider",
        "pas",
        "hoop",
        "maatje",
        "buddy",
    ]
)


def _plausible_deduce_name(span: str) -> bool:
    words = _capitalised_words(span) or span.split()
    if any(w.isupper() and len(w) > 1 for w in words):
        return False  # acronyms: UWV, FACT, GGZ
    if len(words) == 1:
        # A lone surname from Deduce's list is too often a Dutch word ("Wijs",
        # "Schakel", "Boek"); a lone first name is kept. Surnames in context
        # (mevrouw X, J. X, X, J.) are the other detectors' work.
        key = _fold(words[0])
        return key not in _NOT_A_NAME and key not in _ROLE_WORDS and _known_first_name(words[0])
    return not all(_fold(w) in _NOT_A_NAME or _fold(w) in _ROLE_WORDS for w in words)


# "Anna van het Sociaal Wijkteam": Deduce reads the particle as part of a
# surname; when only non-names follow it, the name ends before the particle.
_PARTICLE_TAIL_RE = re.compile(rf"{SP}(?:{PARTICLE}{SP})+(?P<tail>.+)\Z")


def _cut_organisation_tail(text: str, start: int, end: int) -> int:
    m = _PARTICLE_TAIL_RE.search(text, start, end)
    if m and all(_fold(w) in _NOT_A_NAME or _fold(w) in _ROLE_WORDS for w in _capitalised_words(m["tail"]) or [""]):
        return m.start()
    return end


# Institutions named after people are not persons: "Jan van Es Stichting",
# "Stichting Jan van Es", "Dr. Schaepmanschool", "Antoni van Leeuwenhoek ziekenhuis".
_INSTITUTION_NOUNS = (
    "stichting",
    "instituut",
    "ziekenhuis",
    "gasthuis",
    "kliniek",
    "centrum",
    "fonds",
    "college",
    "lyceum",
    "academie",
    "school",
    "huis",
    "hospice",
    "universiteit",
    "hogeschool",
    "prijs",
    "museum",
    "kindcentrum",
    "praktijk",
    "groep",
    "zorg",
    "foundation",
    "kerk",
    "moskee",
    "bibliotheek",
    "vereniging",
    "ziekenhuizen",
    "schoolgroep",
    "campus",
    "theater",
    "zaal",
    "park",
    "hal",
    "huize",
    "basisschool",
)
_NAME_WORD = rf"(?:Dr\.|Prof\.|Mr\.|St\.|{UP}\.|[IVX]{{1,4}}\b|{CAPW}|{PARTICLE})"
_INSTITUTION_RUN_RE = re.compile(rf"{_NAME_WORD}(?:[ -]{_NAME_WORD})*(?:[ -](?:{'|'.join(_INSTITUTION_NOUNS)})\b)?")


def _institution_spans(text: str) -> list[tuple[int, int]]:
    spans = [(n.start, n.end) for n in _deduce(text) if n.tag == "ziekenhuis"]
    for m in _INSTITUTION_RUN_RE.finditer(text):
        words = re.findall(r"[\w'’]+", m.group().lower())
        if (len(words) > 1 and any(w.endswith(_INSTITUTION_NOUNS) for w in words)) or (
            len(words) == 1 and words[0].endswith(_INSTITUTION_NOUNS) and words[0] not in _INSTITUTION_NOUNS
        ):
            spans.append((m.start(), m.end()))
    return spans


def _find_bidi_controls(normalised: Normalised) -> list[tuple[str, int, int]]:
    return [("STUURTEKEN", start, end) for start, end in normalised.controls]


# --- public API ----------------------------------------------------------------
@dataclass(frozen=True)
class Detector:
    kind: str
    find: Callable[[str, str], Iterable[Span]]


# The one list of detectors: adding a detector is adding a line.
DETECTORS = (
    Detector("BSN", _find_bsn),
    Detector("IBAN", _find_iban),
    Detector("TELEFOON", _find_phone),
    Detector("E-MAIL", _find_email),
    Detector("ADRES", _find_postcode),
    Detector("ADRES", _find_street),
    Detector("ADRES", _find_deduce_addresses),
    Detector("ADRES", _find_listed_street),
    Detector("GEBOORTEDATUM", _find_birth_date),
    Detector("NAAM", _find_salutation_names),
    Detector("NAAM", _find_lowercase_salutation_names),
    Detector("NAAM", _find_initials_names),
    Detector("NAAM", _find_first_last_names),
    Detector("NAAM", _find_surname_first_names),
    Detector("NAAM", _find_family_first_names),
    Detector("NAAM", _find_capitalised_pairs),
    Detector("NAAM", _find_deduce_names),
)


def _resolve_overlaps(candidates: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """Keep the longest span of each overlapping group; ties go to the stricter kind."""
    chosen: list[tuple[str, int, int]] = []
    for kind, start, end in sorted(candidates, key=lambda c: (c[1] - c[2], _PRIORITY[c[0]], c[1])):
        if all(end <= s or start >= e for _, s, e in chosen):
            chosen.append((kind, start, end))
    return sorted(chosen, key=lambda c: c[1])


def _lower_same_length(text: str) -> str:
    """text.lower() with offsets intact (a few letters, like 'İ', lowercase to two)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def _inside(span: tuple[int, int], outer: list[tuple[int, int]]) -> bool:
    return any(s <= span[0] and span[1] <= e for s, e in outer)


def _detect(text: str) -> list[tuple[str, int, int]]:
    lowered = _lower_same_length(text)
    candidates = [(d.kind, s, e) for d in DETECTORS for s, e in d.find(text, lowered)]
    if any(kind == "NAAM" for kind, _, _ in candidates):
        # Streets and institutions are often named after people; as a whole
        # ("Johan de Wittlaan 14", "Jan van Es Stichting") they are not a person.
        institutions = _institution_spans(text)
        addresses = [(s, e) for kind, s, e in candidates if kind == "ADRES"]
        candidates = [
            c for c in candidates if c[0] != "NAAM" or not (_inside(c[1:], institutions) or _overlaps(c[1:], addresses))
        ]
    return candidates


def _overlaps(span: tuple[int, int], others: list[tuple[int, int]]) -> bool:
    return any(s < span[1] and span[0] < e for s, e in others)


def find_personal_data(text: str) -> list[Finding]:
    """All personal-data spans in text, sorted by start and non-overlapping.

    Detection runs on the normalised text; spans are those of the original.
    """
    normalised = normalise(text)
    candidates = [(kind, *normalised.original_span(s, e)) for kind, s, e in _detect(normalised.text)]
    candidates += _find_bidi_controls(normalised)
    return [Finding(kind, start, end, text[start:end]) for kind, start, end in _resolve_overlaps(candidates)]


def redact(text: str) -> tuple[str, list[Finding]]:
    """text with every finding replaced by its placeholder, e.g. "[BSN]";
    direction controls are removed."""
    findings = find_personal_data(text)
    parts, pos = [], 0
    for f in findings:
        parts.append(text[pos : f.start])
        parts.append(f.placeholder)
        pos = f.end
    parts.append(text[pos:])
    return "".join(parts), findings


def redaction_summary(findings: Iterable) -> str:
    """One Dutch line for the import summary: "vervangen: 3× [NAAM], 1× [BSN]".

    Takes anything with a `.kind` (Findings, or the importer's redaction records)."""
    counts: dict[str, int] = {}
    for f in findings:
        key = "stuurteken verwijderd" if f.kind == "STUURTEKEN" else f"[{f.kind}]"
        counts[key] = counts.get(key, 0) + 1
    if not counts:
        return "vervangen: niets"
    order = {f"[{kind}]": rank for rank, kind in enumerate(KINDS)}
    return "vervangen: " + ", ".join(
        f"{n}× {key}" for key, n in sorted(counts.items(), key=lambda kv: order.get(kv[0], 99))
    )


def warm_up() -> float:
    """Load Deduce's lookup structures now (seconds taken); for `make install` / `maatwerk init`."""
    return deduce_gate.warm_up()
