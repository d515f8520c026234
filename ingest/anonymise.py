"""Anonymisation gate: find and redact personal data in Dutch case texts.

Detectors are regex pre-filters compiled once at import; the expensive checks
(elfproef, mod-97, phonenumbers) only run on the rare candidates they yield,
which keeps bulk imports fast. Precision matters as much as recall: a false
hit rejects a whole import, so every detector demands a checksum or a strong
context (salutation, first-name list, birth keyword, street suffix).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Iterator

import phonenumbers
from stdnum import iban as _iban
from stdnum.nl import bsn as _bsn
from stdnum.nl import postcode as _postcode

__all__ = ["Finding", "find_personal_data", "redact"]

KINDS = ("BSN", "IBAN", "TELEFOON", "E-MAIL", "ADRES", "GEBOORTEDATUM", "NAAM")
# Tie-break for equally long overlapping spans: checksummed kinds are the most
# trustworthy, name heuristics the least.
_PRIORITY = {kind: rank for rank, kind in enumerate(KINDS)}


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int
    text: str


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

_PARTICLE_WORDS = (
    "van von de den der des het 't te ter ten la le du da di dos del della "
    "el al ben bin ibn ait in op aan uit"
).split()
# "in", "op", "aan", "uit" are particles only before an article (in 't Veld,
# op de Beek); on their own they are ordinary prepositions.
_PREPOSITION_PARTICLES = {"in", "op", "aan", "uit"}
_ARTICLES = {"de", "den", "der", "het", "'t"}
PARTICLE = (
    r"(?i:(?:in|op|aan|uit)" + SP + r"(?:de|den|der|het|'t)|"
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

_MONTHS = (
    "januari februari maart april mei juni juli augustus september oktober "
    "november december jan feb mrt apr jun jul aug sep sept okt nov dec "
    "january february march may june july october"
).split()

# Words that open Dutch sentences; capitalised they can precede a street name
# or a surname without belonging to it.
_SENTENCE_WORDS = frozenset(
    _fold(w)
    for w in """
    een ik jij je hij zij ze wij we jullie u men er dit dat deze die
    wat wie hoe waar wanneer waarom welke geen alle veel weinig zijn haar hun
    mijn onze uw ook nu toen daarna daarom daardoor dan na voor door omdat als
    maar en of want dus tot sinds tijdens vanwege volgens namens helaas
    gelukkig inmiddels vervolgens uiteindelijk samen ondanks hierdoor hierna
    bovendien verder eerst later zowel noch niet wel nog al bij met via naar
    op in aan uit over onder tegen zonder binnen buiten tussen
    mevrouw meneer mijnheer heer cliënt client cliente klant moeder vader
    zoon dochter kind kinderen ouders partner echtgenoot echtgenote
    woont woonde wonen adres woonadres
    """.split()
)
# Capitalised words that are never the surname part of a name: besides the
# sentence words, months, days, places, organisations and law words.
_NOT_A_NAME = set(_MONTHS) | set(
    """
    maandag dinsdag woensdag donderdag vrijdag zaterdag zondag
    gemeente raad thuis veilig juiste loket hoop kinderbescherming
    belastingdienst toeslagen sociale verzekeringsbank zaken wijkteam
    jeugdzorg jeugdbescherming reclassering voedselbank schuldhulpverlening
    stichting centrum leger heils rode kruis zilveren menzis achmea
    humanitas cordaan parnassia arkin lister kwadraad vluchtelingenwerk
    ggd ggz mee zorgkantoor zorgverzekeraar ziekenhuis huisarts
    rechtbank gerechtshof hof kantonrechter ombudsman rijksoverheid
    overheid ministerie staat provincie waterschap politie justitie
    wet wetten participatiewet jeugdwet zorgtoeslag huurtoeslag
    kinderopvangtoeslag wmo wlz zvw awb ww wia wajong aow anw
    artikel lid bijlage hoofdstuk paragraaf afdeling
    nederland nederlands nederlandse amsterdam rotterdam utrecht den haag
    eindhoven groningen tilburg almere breda nijmegen arnhem zwolle leiden
    maastricht haarlem enschede apeldoorn amersfoort limburg brabant holland
    friesland gelderland zeeland drenthe overijssel flevoland suriname
    turkije marokko polen syrië eritrea
    noord zuid oost west nieuw nieuwe oude groot grote klein kleine
    sint st prins prinses koning koningin
    sociaal maatschappelijk maatschappelijke centrale nationale algemene
    openbaar openbare publieke regionale gemeentelijke landelijk landelijke
    huis museum school arena stadion kerk moskee bibliotheek
    """.split()
)
_NOT_A_NAME = frozenset(_fold(w) for w in _NOT_A_NAME) | _SENTENCE_WORDS | PARTICLES
# Sentence words swept into a street prefix are dropped ("In de Kerkstraat"),
# but not particles that begin street names ("De Ruyterkade", "Van Goghstraat").
_STREET_TRIM = (_SENTENCE_WORDS | _PREPOSITION_PARTICLES) - {"de", "het", "van"}

# Endings of Dutch nouns and institutions that a surname practically never has
# (Participatiewet, Belastingdienst, Anna Paulownastraat...).
_NON_NAME_SUFFIXES = (
    "wet", "heid", "schap", "teit", "dienst", "zorg", "loket", "bank", "raad",
    "team", "fonds", "centrum", "ziekenhuis", "school", "college", "instelling",
    "werk", "wonen", "ing", "straat", "laan", "weg", "plein", "gracht", "kade",
    "singel", "steeg", "dreef", "markt", "boulevard", "plantsoen", "toeslag",
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


def _scan_validated(pattern: re.Pattern, text: str, valid: Callable[[str], bool]) -> Iterator[tuple[int, int]]:
    """Validated spans of a greedy pattern; scanning resumes after the validated
    end, not the greedy one, so a swallowed neighbour is still found."""
    pos = 0
    while (m := pattern.search(text, pos)) is not None:
        end = _longest_valid(text, m.start(), m.end(), _group_ends(text, m.start(), m.end()), valid)
        if end is None:
            pos = m.start() + 1
            continue
        yield m.start(), end
        pos = end


# --- BSN -----------------------------------------------------------------------
_BSN_RE = re.compile(
    r"\d(?<!\w\d)(?<!\d[.,/-]\d)"
    r"(?:\d{8}|\d{3}\.\d{2}\.\d{3}|\d{2}([. ])\d{3}\1\d{3}|\d([. ])\d{3}\2\d{2}\2\d{2})"
    r"(?!\w|[.,/-]\d)"
)


def _find_bsn(text: str, lowered: str) -> Iterator[tuple[str, int, int]]:
    for m in _BSN_RE.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if digits != "000000000" and _bsn.is_valid(digits):
            yield "BSN", m.start(), m.end()


# --- IBAN ----------------------------------------------------------------------
# Country code in capitals: allowing lowercase makes every letter a start
# candidate, and lowercase IBANs are rare in case texts.
_IBAN_RE = re.compile(_boundary("[A-Z]", "[A-Za-z0-9]") + r"[A-Z]\d{2}(?: ?[A-Za-z0-9]){10,32}")


def _find_iban(text: str, lowered: str) -> Iterator[tuple[str, int, int]]:
    for start, end in _scan_validated(_IBAN_RE, text, _iban.is_valid):
        yield "IBAN", start, end


# --- phone numbers -------------------------------------------------------------
# One dash or slash at most, after the area code: "01-03-1985" is a date, and
# a second dash would let a date and a following number pass as one phone number.
_AREA_SEP = r"(?: ?[-/] ?| )?"
_INTL_REST = rf"[1-9]\d{{0,2}}[ -]?(?:\(0\) ?)?\d{{1,4}}{_AREA_SEP}\d(?: ?\d){{4,10}}"
_PHONE_RE = re.compile(
    "(?:"
    + _boundary("[+]", r"[\w+]") + _INTL_REST
    + "|" + _boundary("0", r"[\w+]") + rf"(?:0{_INTL_REST}|\d{{1,3}}{_AREA_SEP}\d(?: ?\d){{4,8}})"
    + "|" + _boundary("[(]", r"[\w+]") + r"0\d{1,3}\) ?\d(?: ?\d){4,8}"
    + r")(?!\d)"
)


def _valid_phone(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    if candidate.startswith("0") or candidate.startswith("("):
        if not candidate.startswith("00") and len(digits) != 10:
            return False
    try:
        number = phonenumbers.parse(candidate, "NL")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number)


def _find_phone(text: str, lowered: str) -> Iterator[tuple[str, int, int]]:
    for start, end in _scan_validated(_PHONE_RE, text, _valid_phone):
        yield "TELEFOON", start, end


# --- e-mail --------------------------------------------------------------------
_EMAIL_RE = re.compile(
    r"(?<![\w.%+-])[\w.%+-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w@])"
)


def _find_email(text: str, lowered: str) -> Iterator[tuple[str, int, int]]:
    if "@" in text:
        for m in _EMAIL_RE.finditer(text):
            yield "E-MAIL", m.start(), m.end()


# --- addresses -----------------------------------------------------------------
_POSTCODE_RE = re.compile(_boundary("[1-9]", r"[\w.,-]") + r"\d{3}(?:[ \u00a0]?[A-Z]{2}|[a-z]{2})(?![\w-])")
# Letter pairs that follow numbers as abbreviations ("sinds 2019 WW") or, in
# lowercase, as units ("1500km"); after a year they are read as text too.
_POSTCODE_STOP = frozenset("WW ZW EU NL BV NV UK VS".split())
_POSTCODE_UNITS = frozenset("km kg mg ml cm mm gb mb kb tb uu ct pk".split())
_POSTCODE_AFTER_YEAR = frozenset("AI IT HR PC OV ID TV CV KB MB GB TB KM KG ML CM MM MG EN IN OP TE".split())


def _postcode_ok(candidate: str) -> bool:
    digits, letters = candidate[:4], candidate[-2:]
    if letters.upper() in _POSTCODE_STOP or letters in _POSTCODE_UNITS:
        return False
    if digits[:2] in ("19", "20") and letters.upper() in _POSTCODE_AFTER_YEAR:
        return False
    return _postcode.is_valid(candidate.replace("\u00a0", " "))


_STREET_SUFFIXES = (
    "straat", "straatweg", "laan", "weg", "plein", "gracht", "kade", "singel",
    "dijk", "hof", "pad", "steeg", "dreef", "park", "markt", "boulevard",
    "plantsoen", "baan", "wal", "allee", "hoven", "veld", "vaart", "zijde",
    "brink", "burg", "pleintje", "straatje", "kanaal",
)
# Ordinary nouns with a street ending that do get followed by a year or count.
_NOT_A_STREET = frozenset(
    _fold(w) for w in "Arbeidsmarkt Woningmarkt Gerechtshof Loopbaan Zorgpad Levenspad Binnenhof Speelveld Werkveld".split()
)
_HOUSE_NO = (
    r"\d{1,4}(?![\d%]|[.,]\d)"
    r"(?:-?[A-Za-z](?![\w])|-(?:[IVX]{1,4}|\d{1,4})(?![\w])|[ -](?:hs|bis|huis|boven|bg|I{1,3})(?![\w])|[ ][A-Za-z](?![\w.]))?"
)
# Anchored on a number right after a word ending like a street suffix (a
# same-width lookbehind, so the engine can still skip to digits); the street
# word and its capitalised prefix ("Lange", "Johan de") are then read backwards.
_NUMBER_AFTER_WORD_RE = re.compile(
    r"\d(?<=(?:" + "|".join(sorted({x[-3:] for x in _STREET_SUFFIXES})) + r")[^\S\r\n]\d)"
)
_HOUSE_NO_RE = re.compile(
    _HOUSE_NO + r"(?!\s*(?:euro|procent|jaar|jaren|uur|keer|dagen|weken|maanden|km|kilometer)\b)"
)
_STREET_PREFIX_RE = re.compile(rf"(?<![\w'’-])(?:{CAPW}{SP}(?:{PARTICLE}{SP}){{0,3}}){{1,3}}\Z")
_STREET_WORD_CHARS = frozenset("'’-")


def _find_postcode(text: str, lowered: str) -> Iterator[tuple[str, int, int]]:
    for m in _POSTCODE_RE.finditer(text):
        if _postcode_ok(m.group()):
            yield "ADRES", m.start(), m.end()


def _trim_street_start(text: str, start: int, street_end: int) -> int | None:
    """Drop sentence words swept into the street prefix ("Via de Kerkstraat")."""
    words = list(re.finditer(r"\S+", text[start:street_end]))
    i = 0
    while i < len(words) - 1 and _fold(words[i].group()) in _STREET_TRIM:
        i += 1
        while i < len(words) - 1 and words[i].group().islower() and _fold(words[i].group()) in PARTICLES:
            i += 1
    street_word = words[-1].group()
    if _fold(street_word) in _NOT_A_STREET:
        return None
    return start + words[i].start()


def _street_word_start(text: str, end: int) -> int:
    start = end
    while start > 0 and (text[start - 1].isalpha() or text[start - 1] in _STREET_WORD_CHARS):
        start -= 1
    return start


def _is_street_word(word: str) -> bool:
    # The suffix alone ("Markt 3", "Hof 12") is too often an ordinary noun.
    return (
        word.endswith(_STREET_SUFFIXES)
        and word[:1].isupper()
        and word[1:].islower()
        and any(word.endswith(s) and len(word) > len(s) for s in _STREET_SUFFIXES)
    )


def _find_street(text: str, lowered: str) -> Iterator[tuple[str, int, int]]:
    for m in _NUMBER_AFTER_WORD_RE.finditer(text):
        street_end = m.start() - 1
        word_start = _street_word_start(text, street_end)
        if not _is_street_word(text[word_start:street_end]):
            continue
        house = _HOUSE_NO_RE.match(text, m.start())
        if house is None or (word_start and text[word_start - 1].isdigit()):
            continue
        prefix = _STREET_PREFIX_RE.search(text, max(0, word_start - 80), word_start)
        start = _trim_street_start(text, prefix.start() if prefix else word_start, street_end)
        if start is not None:
            yield "ADRES", start, house.end()


# --- dates of birth ------------------------------------------------------------
_MONTH_ALT = "|".join(sorted(_MONTHS, key=len, reverse=True))
# Trigger words, searched in the lowercased text with literal first letters
# (see _SALUTATION_M_RE for why); the date must follow within a few words.
_DOB_TRIGGER_RE = re.compile(
    r"(?:geb(?:oren|oorte[^\S\r\n]?datum|\.?[^\S\r\n]?datum|\.)|dob|d\.o\.b\.?|date[^\S\r\n]+of[^\S\r\n]+birth|born)(?!\w)"
)
_DOB_DATE_RE = re.compile(
    rf"(?i)[^\S\r\n]*[(:]?[^\S\r\n]*"
    rf"(?:(?:[^\W\d_]+[^\S\r\n]*){{1,3}}?:[^\S\r\n]*"
    rf"|(?:op|on|per|d\.d\.){SP}"
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
_DOB_HINTS = ("geboren", "geb.", "geb ", "geboorte", "gebdatum", "dob", "d.o.b", "birth", "born")


def _find_birth_date(text: str, lowered: str) -> Iterator[tuple[str, int, int]]:
    if not any(hint in lowered for hint in _DOB_HINTS):
        return
    for trigger in _DOB_TRIGGER_RE.finditer(lowered):
        if trigger.start() and lowered[trigger.start() - 1].isalnum():
            continue
        m = _DOB_DATE_RE.match(text, trigger.end())
        if m and _plausible_date(m.group("date")):
            yield "GEBOORTEDATUM", m.start("date"), m.end("date")


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
_SAL_FULL_RE = re.compile(
    rf"{SP}(?P<name>(?:{_INITIALS}{SP}?|{CAPW}{SP})?(?:{PARTICLE}{SP}){{0,3}}{CAPW}{_DOUBLE})"
)
_SAL_SHORT_RE = re.compile(rf"{SP}(?P<name>(?:{PARTICLE}{SP}){{0,3}}{CAPW}{_DOUBLE})")
_INITIALS_RE = re.compile(
    _boundary(UP, r"[\w.]") + rf"\.[^\S\r\n]?(?:{UP}\.[^\S\r\n]?){{0,3}}(?:{PARTICLE}{SP}){{0,3}}(?P<core>{CAPW}){_DOUBLE}"
)
# Two or more capitalised words, optionally joined by particles or hyphens:
# the only places a "first name + surname" can occur. Kept loose (any word
# characters) because it runs over every capital in the text; the tokens are
# checked in Python.
_CASED_PARTICLES = "|".join(
    sorted({re.escape(v) for p in _PARTICLE_WORDS for v in (p, p[0].upper() + p[1:])}, key=len, reverse=True)
)
_RUN_RE = re.compile(
    _boundary(UP, r"[\w'’-]") + rf"[\w'’]*(?:[ -](?:(?:{_CASED_PARTICLES})[ -]){{0,3}}{UP}[\w'’]*)+"
)
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
    after = text[pos:pos + 12].split(None, 1)
    if not after or not text[pos:pos + 1].isspace():
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


def _find_salutation_names(text: str, lowered: str) -> Iterator[tuple[str, int, int]]:
    for sal in _salutations(lowered):
        if sal.start() and (lowered[sal.start() - 1].isalnum() or lowered[sal.start() - 1] == "_"):
            continue
        m = _name_after_salutation(text, sal.end())
        if m:
            yield "NAAM", m.start("name"), m.end("name")


def _find_initials_names(text: str, lowered: str) -> Iterator[tuple[str, int, int]]:
    for m in _INITIALS_RE.finditer(text):
        if _fold(m.group("core")) in SURNAMES:
            yield "NAAM", m.start(), m.end()


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


def _names_in_run(text: str, tokens: list[re.Match]) -> Iterator[tuple[int, int]]:
    i, n = 0, len(tokens)
    while i < n:
        if not _is_first_name(tokens[i].group()):
            i += 1
            continue
        j = i + 1
        # Further first names, as long as a surname or particle follows them.
        while j < n - 1 and _is_first_name(tokens[j].group()) and (
            tokens[j + 1].group()[0].isupper() or _is_particle_at(tokens, j + 1)
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


def _find_first_last_names(text: str, lowered: str) -> Iterator[tuple[str, int, int]]:
    for run in _RUN_RE.finditer(text):
        if not any(_fold(w) in FIRST_NAMES for w in _TOKEN_RE.findall(run.group())):
            continue  # most runs are organisations or sentence starts
        tokens = list(_TOKEN_RE.finditer(text, run.start(), run.end()))
        for i, last in _names_in_run(text, tokens):
            yield "NAAM", tokens[i].start(), tokens[last].end()


# --- public API ----------------------------------------------------------------
_DETECTORS = (
    _find_bsn, _find_iban, _find_phone, _find_email, _find_postcode, _find_street,
    _find_birth_date, _find_salutation_names, _find_initials_names, _find_first_last_names,
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


def find_personal_data(text: str) -> list[Finding]:
    """All personal-data spans in text, sorted by start and non-overlapping."""
    lowered = _lower_same_length(text)
    candidates = [hit for detector in _DETECTORS for hit in detector(text, lowered)]
    return [Finding(kind, start, end, text[start:end]) for kind, start, end in _resolve_overlaps(candidates)]


def redact(text: str) -> tuple[str, list[Finding]]:
    """text with every finding replaced by its placeholder, e.g. "[BSN]"."""
    findings = find_personal_data(text)
    parts, pos = [], 0
    for f in findings:
        parts.append(text[pos:f.start])
        parts.append(f"[{f.kind}]")
        pos = f.end
    parts.append(text[pos:])
    return "".join(parts), findings
