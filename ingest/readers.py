"""Reading import files: JSONL, a JSON array or CSV, as (location, raw record) pairs.

Untrusted input is read defensively: bounded lines and numbers, strict UTF-8, no characters
that RDF or XML cannot carry. A record that cannot be read becomes an `Unparsable` in the
stream, so the checker reports it with the others instead of stopping at the first.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from graph.case import FIELDS
from graph.errors import InvalidInput
from ingest.problems import ImportRejected, Problem
from ontology.vocabulary import BY_FIELD

MAX_TEXT = 20_000
LIST_FIELDS = frozenset({*BY_FIELD, "knelpunten", "interventions"})

# One case is a handful of text fields of at most MAX_TEXT characters plus labels; a physical line
# far longer than that is not a case, and is refused before it is held in memory as a whole.
MAX_LINE_CHARS = 20 * MAX_TEXT
# JSON numbers in a case are years, orders and perhaps numeric ids; more digits than this is junk
# (and past 4300 digits Python refuses to convert them at all).
MAX_NUMBER_DIGITS = 30
# No text field may hold these: lone surrogates cannot be stored as UTF-8, and C0 control
# characters (other than tab, newline, carriage return) are not allowed in XML, so they would break
# SPARQL XML results and RDF/XML exports later on.
_BAD_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


class BadInput(InvalidInput):
    """Input that cannot be read as case records; the message is meant for the user."""


def read_records(path: Path) -> Iterator[tuple[str, Any]]:
    """(location, raw record) pairs from a .jsonl, .json or .csv file."""
    name = _printable(path.name)
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".json", ".csv"):
        raise _rejected(name, "Onbekend bestandstype; gebruik .jsonl, .json of .csv")
    with open(path, "rb") as handle:
        yield from parse_stream(handle, suffix, name)


def parse_stream(handle: io.BufferedIOBase, suffix: str, name: str) -> Iterator[tuple[str, Any]]:
    _check_start(handle, name)
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", errors="strict", newline="")  # type: ignore[type-var]
    try:
        if suffix == ".jsonl":
            yield from _jsonl(text, name)
        elif suffix == ".json":
            yield from _json_array(text, name)
        else:
            yield from _csv(text, name)
    except UnicodeDecodeError as exc:
        byte = exc.object[exc.start : exc.start + 1].hex().upper()
        raise _rejected(
            name,
            f"Het bestand is geen geldige UTF-8 (byte 0x{byte}: {exc.reason}); waarschijnlijk "
            "Latin-1 of Windows-1252. Sla het bestand op als UTF-8.",
        ) from exc
    finally:
        text.detach()  # the caller owns `handle`; an undetached wrapper warns "unclosed file" when collected


def _check_start(handle: io.BufferedIOBase, name: str) -> None:
    """Recognise an empty file and UTF-16/UTF-32 by their first bytes, so the message says what is wrong."""
    peek = getattr(handle, "peek", None)
    if peek is None:
        return
    head = peek(4096)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _rejected(name, "Het bestand is UTF-16 of UTF-32 gecodeerd; sla het op als UTF-8.")
    if b"\x00" in head:
        raise _rejected(
            name, "Het bestand bevat NUL-bytes (UTF-16 zonder BOM, of geen tekstbestand); sla het op als UTF-8."
        )
    if len(head) < 4096 and not head.removeprefix(b"\xef\xbb\xbf").strip():  # the whole file, and blank
        raise _rejected(name, "Het bestand is leeg.")


def _rejected(name: str, message: str) -> ImportRejected:
    return ImportRejected([Problem(name, "bestand", "invalid", message)])


def _printable(name: str) -> str:
    # File names that are not valid UTF-8 arrive with surrogate escapes, which no output can print.
    return name.encode("utf-8", "replace").decode("utf-8")


def _lines(text: io.TextIOBase, name: str) -> Iterator[str]:
    """The physical lines of `text`, refusing any longer than MAX_LINE_CHARS without reading it whole."""
    number = 0
    while line := text.readline(MAX_LINE_CHARS + 1):
        number += 1
        if len(line) > MAX_LINE_CHARS and not line.endswith(("\n", "\r")):
            raise _rejected(
                name,
                f"Regel {number} is langer dan {MAX_LINE_CHARS} tekens; "
                "zo lang is geen casus. Is dit het goede bestand?",
            )
        yield line


def load_json(text: str | bytes) -> Any:
    """json.loads for untrusted input: finite numbers of sane length, bounded nesting, errors as BadInput."""
    try:
        return json.loads(text, parse_int=_json_int, parse_float=_json_float, parse_constant=_json_constant)
    except json.JSONDecodeError as exc:
        raise BadInput(f"Geen geldige JSON: {exc.msg} (regel {exc.lineno}, kolom {exc.colno})") from exc
    except RecursionError as exc:
        raise BadInput("Geen geldige JSON: te diep geneste lijsten of objecten") from exc


def _json_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise BadInput(f"Geen geldige JSON: getal met meer dan {MAX_NUMBER_DIGITS} cijfers")
    return int(digits)


def _json_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or len(text) > 100:
        raise BadInput(f"Geen geldige JSON: getal {text[:40]} is te groot of te lang")
    return value


def _json_constant(name: str) -> float:
    raise BadInput(f"Geen geldige JSON: {name} is geen getal in JSON")


def text_problem(value: Any) -> str | None:
    """Where a parsed record holds a character no text may hold (see _BAD_CHAR), or None."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            bad = _BAD_CHAR.search(item)
            if bad:
                return f"{where or 'waarde'}: teken U+{ord(bad.group()):04X} is niet toegestaan in tekst"
        elif isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str) and _BAD_CHAR.search(key):
                    return f"{where or 'record'}: een veldnaam bevat een teken dat niet is toegestaan"
                stack.append((f"{where}.{key}" if where else str(key), child))
        elif isinstance(item, list):
            stack.extend((f"{where}[{i}]", child) for i, child in enumerate(item))
    return None


def checked(location: str, record: Any) -> tuple[str, Any]:
    """(location, record), or the record replaced by why it is unusable; the checker reports that."""
    problem = text_problem(record)
    return location, Unparsable(f"Ongeldige tekst in {problem}") if problem else record


def _jsonl(text: io.TextIOBase, name: str) -> Iterator[tuple[str, Any]]:
    for number, line in enumerate(_lines(text, name), 1):
        if line.strip():
            try:
                yield checked(f"{name}:{number}", load_json(line))
            except BadInput as exc:
                yield f"{name}:{number}", Unparsable(str(exc))


def _json_array(text: io.TextIOBase, name: str) -> Iterator[tuple[str, Any]]:
    try:
        data = load_json(text.read())
    except BadInput as exc:
        raise _rejected(name, str(exc)) from exc
    records = data if isinstance(data, list) else [data]
    for number, record in enumerate(records, 1):
        yield checked(f"{name}[{number}]", record)


def _csv(text: io.TextIOBase, name: str) -> Iterator[tuple[str, Any]]:
    csv.field_size_limit(MAX_TEXT * 4)
    reader = csv.DictReader(_lines(text, name))
    try:
        columns = set(reader.fieldnames or [])
    except csv.Error as exc:
        raise _rejected(name, f"Ongeldige CSV: {exc}") from exc
    unknown = columns - FIELDS
    if "situation" not in columns or unknown:
        detail = f"onbekende kolommen {sorted(unknown)}" if unknown else "de kolom 'situation' ontbreekt"
        raise ImportRejected([Problem(name, "kolommen", "invalid", f"CSV-kolommen kloppen niet: {detail}")])
    try:
        for row in reader:
            yield _csv_row(f"{name}:{reader.line_num}", row)
    except csv.Error as exc:
        raise _rejected(name, f"Ongeldige CSV bij regel {reader.line_num}: {_csv_message(exc)}") from exc


def _csv_message(exc: csv.Error) -> str:
    text = str(exc)
    if text.startswith("field larger than field limit"):  # the csv module's wording for its size limit
        return f"een veld is langer dan {csv.field_size_limit()} tekens"
    return text


def _csv_row(location: str, row: dict[str | None, Any]) -> tuple[str, Any]:
    if row.get(None):  # DictReader files values beyond the header under the key None
        return location, Unparsable(f"Deze rij heeft meer waarden dan er kolommen zijn ({len(row[None])} te veel)")
    return checked(location, _csv_record(row))


def _csv_record(row: dict[str | None, Any]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for key, value in row.items():
        if key is None or value is None or value == "":
            continue
        if key in LIST_FIELDS:
            record[key] = [v.strip() for v in value.split(";") if v.strip()]
        elif key == "learning_points":
            record[key] = [_csv_learning_point(v) for v in value.split(";") if v.strip()]
        elif key == "fictional":
            record[key] = value.strip().lower() in ("1", "true", "ja", "waar")
        else:
            record[key] = value
    return record


def _csv_learning_point(value: str) -> dict[str, Any]:
    order, sep, text = value.partition(":")
    if sep and order.strip() in ("1", "2", "3"):
        return {"text": text.strip(), "order": int(order)}
    return {"text": value.strip()}


class Unparsable:
    def __init__(self, message: str):
        self.message = message
