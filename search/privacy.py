"""Personal data in a search question: the privacy gate's findings, masked, and warnings a person can act on.

A search is answered normally (the text is used for ranking and then forgotten), but the page and
the API say when the question looks like it holds personal data, so the writer leaves it out next
time. The gate is the import's own (`ingest.anonymise.find_personal_data`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ingest.anonymise import find_personal_data

# What each kind of finding is called in a warning ("Dit lijkt een BSN").
KIND_NAMES = {
    "BSN": "een BSN",
    "IBAN": "een rekeningnummer (IBAN)",
    "TELEFOON": "een telefoonnummer",
    "E-MAIL": "een e-mailadres",
    "ADRES": "een adres",
    "GEBOORTEDATUM": "een geboortedatum",
    "NAAM": "een naam",
}


@dataclass(frozen=True)
class TextFinding:
    kind: str
    masked: str
    start: int
    end: int


def findings(text: str) -> list[TextFinding]:
    return [TextFinding(f.kind, f.masked, f.start, f.end) for f in find_personal_data(text)]


def warnings(found: list[TextFinding]) -> list[str]:
    """One sentence per kind found, in the order they appear."""
    kinds = list(dict.fromkeys(f.kind for f in found))
    return [
        f"Dit lijkt {KIND_NAMES.get(kind, kind.lower())} ({', '.join(f.masked for f in found if f.kind == kind)}); "
        "laat persoonsgegevens weg."
        for kind in kinds
    ]
