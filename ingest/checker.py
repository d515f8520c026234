"""The checker: raw records in, CaseRecords out, with every problem of a file collected.

The contract (graph/case.py) says what a case looks like; this module holds the domain
rules on top of it: personal data in every text the contract marks as gated (the id
included: an id is refused, never redacted), labels resolved to concepts, the ids unique
per file and against the store, and the lengths ontology/shapes.ttl asks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import reprlib
from collections.abc import Callable
from typing import Any

from graph.case import (
    FIELDS,
    ID_FIELD,
    MAX_ID,
    MIN_SITUATION,
    MIN_TITLE,
    CaseRecord,
    LearningPoint,
    LearningPointInput,
    case_iri,
    gated_texts,
)
from graph.concepts import Concept, ConceptIndex
from ingest.gate import Gate
from ingest.problems import Problem, Redaction
from ingest.readers import MAX_TEXT, Unparsable
from ontology import slugify
from ontology.vocabulary import BY_FIELD, FOLLOW_UP_STATUSES, STATUSES

# Values quoted in messages are cut to this many characters: a message must not carry megabytes.
SHOWN_CHARS = 80


class RecordChecker:
    """Turns raw records into CaseRecords, collecting every problem instead of stopping at the first."""

    def __init__(
        self,
        concepts: ConceptIndex,
        redact_personal_data: bool = False,
        existing_id: Callable[[str], str | None] | None = None,
        max_text: int = MAX_TEXT,
        gate: Gate | None = None,
    ):
        """`existing_id(case IRI)` gives the id of the case stored under that IRI (or None): an id that
        slugifies to a stored case's IRI but is not that case's id would overwrite another case.
        `gate`: the privacy gate, run here unless a large import runs it ahead (ingest/gate.py)."""
        self.concepts = concepts
        self.gate = gate or Gate()
        self.redact = redact_personal_data
        self.max_text = max_text
        self.existing_id = existing_id
        self.problems: list[Problem] = []
        self.redactions: list[Redaction] = []
        self._ids: set[str] = set()
        self._slugs: set[str] = set()

    def check(self, location: str, raw: Any) -> CaseRecord | None:
        before = len(self.problems)
        if isinstance(raw, Unparsable):
            self._fail(location, "record", "invalid", raw.message)
            return None
        if not isinstance(raw, dict):
            self._fail(location, "record", "invalid", "Een casus is een JSON-object")
            return None
        # Problems name a case by its id, unless the id itself holds personal data.
        named = raw.get(ID_FIELD) and not self.gate.find(str(raw[ID_FIELD]))
        case = _shown(raw[ID_FIELD], quoted=False) if named else location
        unknown = set(raw) - FIELDS
        if unknown:
            self._fail(case, "record", "invalid", f"Onbekende velden: {_shown(', '.join(sorted(unknown)), False)}")
        texts = self._texts(case, raw)
        record = self._build(case, raw, texts) if texts is not None else None
        return record if len(self.problems) == before else None

    def _fail(self, case: str, field_name: str, kind: str, message: str, span: str | None = None) -> None:
        self.problems.append(Problem(case, field_name, kind, message, span))

    def _texts(self, case: str, raw: dict) -> dict[str, str] | None:
        """Every text the contract marks as gated, checked for personal data (or redacted), in record order.

        The id is gated by `_case_id`: it is refused, never redacted.
        """
        texts: dict[str, str] = {}
        for name, value in gated_texts(raw):
            if name == ID_FIELD:
                continue
            if not isinstance(value, str):
                self._fail(case, name, "invalid", "Moet tekst zijn")
                continue
            value = value.strip()
            if len(value) > self.max_text:
                self._fail(case, name, "invalid", f"Tekst is langer dan {self.max_text} tekens")
                continue
            texts[name] = self._gate(case, name, value)
        if not texts.get("situation"):
            self._fail(case, "situation", "invalid", "Verplicht veld 'situation' ontbreekt of is leeg")
            return None
        # The lengths mws:CasusShape asks, measured on what would be stored (after redaction).
        if len(texts["situation"]) < MIN_SITUATION:
            self._fail(
                case,
                "situation",
                "invalid",
                f"De situatiebeschrijving moet minstens {MIN_SITUATION} tekens "
                f"lang zijn (nu {len(texts['situation'])})",
            )
        if texts.get("title") and len(texts["title"]) < MIN_TITLE:
            self._fail(
                case,
                "title",
                "invalid",
                f"De titel moet minstens {MIN_TITLE} tekens lang zijn "
                f"(nu {len(texts['title'])}); laat hem weg om de eerste zin "
                "van de situatie als titel te nemen",
            )
        return texts

    def _gate(self, case: str, name: str, value: str) -> str:
        if self.redact:
            cleaned, findings = self.gate.redact(value)
            self.redactions.extend(Redaction(case, name, f.kind) for f in findings)
            return cleaned
        for finding in self.gate.find(value):
            # The span is shown masked: a refusal must not echo the personal data into answers and logs.
            self._fail(case, name, "personal-data", finding.message, finding.masked)
        return value

    def _build(self, case: str, raw: dict, texts: dict[str, str]) -> CaseRecord:
        record = CaseRecord(
            id=self._case_id(case, raw, texts),
            title=texts.get("title") or _title_from(texts["situation"]),
            situation=texts["situation"],
            solution=texts.get("solution", ""),
            status=self._status(case, raw.get("status")),
            year=self._year(case, raw.get("year")),
            fictional=self._flag(case, "fictional", raw.get("fictional")),
            source=texts.get("source") or None,
        )
        for name, link in BY_FIELD.items():
            record.links[link.kind] = self._resolve_all(case, name, link.kind, raw.get(name))
        record.knelpunten = self._knelpunten(case, raw.get("knelpunten"), texts)
        # In the order of the record (texts keeps it): a sort of the paths would put [10] before [2].
        record.interventions = [text for path, text in texts.items() if path.startswith("interventions[")]
        record.learning_points = self._learning_points(case, raw.get("learning_points"), texts)
        explicit = record.concept_iris()
        linked = self.concepts.linked_concepts(" \n ".join((record.title, record.situation, record.solution)))
        record.derived = [c for c in linked if c.iri not in explicit]
        return record

    def _case_id(self, case: str, raw: dict, texts: dict[str, str]) -> str:
        raw_id = raw.get("id")
        if isinstance(raw_id, str) and not raw_id.strip():
            raw_id = None
        if not raw_id:
            # Without an id, the text itself names the case, so re-importing it cannot duplicate it.
            return self._unique_id(case, "c-" + hashlib.sha1(texts["situation"].encode()).hexdigest()[:12])
        if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)):
            self._fail(case, "id", "invalid", f"Het id moet tekst of een geheel getal zijn, niet {_shown(raw_id)}")
            return case
        case_id = str(raw_id)
        if len(case_id) > MAX_ID:
            self._fail(case, "id", "invalid", f"Het id is langer dan {MAX_ID} tekens ({len(case_id)})")
            return case
        findings = self.gate.find(case_id)
        for finding in findings:
            # The id names the case (IRI, /id pages, re-imports): replacing part of it would silently
            # merge or rename cases, so it is refused even when the other fields are redacted.
            self._fail(
                case,
                "id",
                "personal-data",
                f"Het id bevat persoonsgegevens ({finding.kind}); een id wordt "
                "nooit vervangen, ook niet met redact: geef de casus een id zonder persoonsgegevens",
                finding.text,
            )
        return case if findings else self._unique_id(case, case_id)

    def _unique_id(self, case: str, case_id: str) -> str:
        """Refuse an id whose case IRI another id in this file, or another stored case, already has."""
        slug = slugify(case_id)
        if case_id in self._ids:
            self._fail(case, "id", "invalid", f"Het id {_shown(case_id)} komt meer dan eens voor in dit bestand")
        elif slug in self._slugs:
            self._fail(
                case,
                "id",
                "invalid",
                f"Het id {_shown(case_id)} geeft dezelfde casus-IRI (.../casus/{slug}) als een ander id in dit bestand",
            )
        elif self.existing_id is not None:
            stored = self.existing_id(case_iri(case_id))
            if stored is not None and stored != case_id:
                self._fail(
                    case,
                    "id",
                    "invalid",
                    f"Het id {_shown(case_id)} geeft dezelfde casus-IRI "
                    f"(.../casus/{slug}) als de opgeslagen casus {_shown(stored)}, "
                    "die dan zou worden overschreven; gebruik precies dat id om "
                    "die casus te vervangen, of een ander id",
                )
        self._ids.add(case_id)
        self._slugs.add(slug)
        return case_id

    def _flag(self, case: str, name: str, value: Any) -> bool:
        if value is None:
            return False
        if not isinstance(value, bool):
            self._fail(case, name, "invalid", f"Moet true of false zijn, niet {_shown(value)}")
            return False
        return value

    def _status(self, case: str, value: Any) -> str | None:
        if value in (None, ""):
            return None
        status = str(value).strip().lower()
        if status not in STATUSES:
            self._fail(case, "status", "invalid", f"Onbekende status {_shown(value)}; kies uit {', '.join(STATUSES)}")
            return None
        return status

    def _year(self, case: str, value: Any) -> int | None:
        if value in (None, ""):
            return None
        if isinstance(value, float) and not value.is_integer():
            self._fail(case, "year", "invalid", f"Jaar {_shown(value)} is geen geheel getal")
            return None
        try:
            year = int(value)
        except (TypeError, ValueError, OverflowError):  # OverflowError: int(float("inf"))
            self._fail(case, "year", "invalid", f"Jaar {_shown(value)} is geen geheel getal")
            return None
        if not 1990 <= year <= 2100:
            self._fail(case, "year", "invalid", f"Jaar {year} ligt niet tussen 1990 en 2100")
            return None
        return year

    def _resolve_all(self, case: str, name: str, kind: str, values: Any) -> list[Concept]:
        if values in (None, ""):
            return []
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list):
            self._fail(case, name, "invalid", "Moet een lijst van labels zijn")
            return []
        resolved: dict[str, Concept] = {}
        for value in values:
            concept = self._resolve(case, name, kind, value)
            if concept:
                resolved.setdefault(concept.iri, concept)
        return list(resolved.values())

    def _resolve(self, case: str, name: str, kind: str, value: Any) -> Concept | None:
        if not isinstance(value, (str, int)) or not str(value).strip():
            self._fail(case, name, "invalid", f"Ongeldig label {_shown(value)}")
            return None
        found = self.concepts.resolve(kind, str(value))
        if len(found) == 1:
            return found[0]
        if found:
            options = ", ".join(c.label for c in found)
            self._fail(case, name, "ambiguous-label", f"Label {_shown(value)} is niet eenduidig: {options}")
            return None
        close = self.concepts.suggestions(kind, str(value))
        hint = f"; bedoelde u: {', '.join(close)}?" if close else ""
        self._fail(case, name, "unknown-label", f"Onbekend {kind} {_shown(value)}{hint}")
        return None

    def _knelpunten(self, case: str, values: Any, texts: dict[str, str]) -> list[tuple[Concept, str]]:
        result = []
        for i, value in enumerate(_as_list(values)):
            kind_label = value.get("type") if isinstance(value, dict) else value
            concept = self._resolve(case, f"knelpunten[{i}]", "knelpunttype", kind_label)
            if concept:
                result.append((concept, texts.get(f"knelpunten[{i}].text", "")))
        return result

    def _learning_points(self, case: str, values: Any, texts: dict[str, str]) -> list[LearningPoint]:
        result = []
        for i, value in enumerate(_as_list(values)):
            item = value if isinstance(value, dict) else {}
            at = f"learning_points[{i}]"
            unknown = set(item) - LEARNING_POINT_FIELDS
            if unknown:
                self._fail(case, at, "invalid", f"Onbekende velden: {_shown(', '.join(sorted(unknown)), False)}")
            concept = self._resolve(case, f"{at}.order", "leerorde", str(item.get("order", 1)))
            path = f"{at}.text" if isinstance(value, dict) else at
            text = texts.get(path, "")
            point = LearningPoint(
                text,
                concept,  # type: ignore[arg-type]  # None only when a problem was recorded
                addressees=self._resolve_all(case, f"{at}.addressees", "organisatie", item.get("addressees")),
                follow_up=self._follow_up(case, f"{at}.follow_up", item.get("follow_up")),
                presented_on=self._date(case, f"{at}.presented_on", item.get("presented_on")),
                response_on=self._date(case, f"{at}.response_on", item.get("response_on")),
                response=texts.get(f"{at}.response", ""),
            )
            if not text and not any(p.case == case and p.field == path for p in self.problems):
                self._fail(case, path, "invalid", "Een leerpunt heeft tekst nodig")
            elif concept and text:
                result.append(point)
        return result

    def _follow_up(self, case: str, name: str, value: Any) -> Concept | None:
        """A follow-up status by its label (open, voorgelegd, ...), resolved to its opvolgstatus concept."""
        if value in (None, ""):
            return None
        if not isinstance(value, str) or value.strip().lower() not in FOLLOW_UP_STATUSES:
            self._fail(
                case,
                name,
                "invalid",
                f"Onbekende opvolgstatus {_shown(value)}; kies uit {', '.join(FOLLOW_UP_STATUSES)}",
            )
            return None
        return self._resolve(case, name, "opvolgstatus", value.strip().lower())

    def _date(self, case: str, name: str, value: Any) -> dt.date | None:
        if value in (None, ""):
            return None
        try:
            return dt.date.fromisoformat(value.strip()) if isinstance(value, str) else None
        except ValueError:
            pass
        self._fail(case, name, "invalid", f"Datum {_shown(value)} is geen datum als 2024-03-31 (JJJJ-MM-DD)")
        return None


LEARNING_POINT_FIELDS = frozenset(LearningPointInput.model_fields)

_SHORT_REPR = reprlib.Repr()
_SHORT_REPR.maxstring = _SHORT_REPR.maxother = _SHORT_REPR.maxlong = SHOWN_CHARS
_SHORT_REPR.maxlevel = 3


def _shown(value: Any, quoted: bool = True) -> str:
    """A value for a message: quoted text or a short repr, cut to about SHOWN_CHARS characters with '…'."""
    if isinstance(value, str):
        text = value if len(value) <= SHOWN_CHARS else value[: SHOWN_CHARS - 1] + "…"
        return f"'{text}'" if quoted else text
    text = _SHORT_REPR.repr(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def _as_list(values: Any) -> list:
    if values in (None, ""):
        return []
    return values if isinstance(values, list) else [values]


def _title_from(situation: str) -> str:
    """The first sentence (or, when that is shorter than MIN_TITLE, the text), at most 80 characters."""
    first = situation.split(". ")[0]
    if len(first.strip()) < MIN_TITLE:
        first = situation
    if len(first) <= 80:
        return first
    cut = first[:77].rsplit(" ", 1)[0]
    return (cut if len(cut.strip()) >= MIN_TITLE else first[:77]) + "…"
