"""The maatwerkregister: the contact points of organisations, in W3C ORG and vCard.

Each organisation in the graph may have contact points: an `org:Post` (a function that exists
apart from who holds it) with a role (`org:role`, from the contactrollen scheme), a channel
(`mw:kanaal`) and its address as vCard (`vcard:hasEmail` mailto:, `vcard:hasTelephone` tel:,
`vcard:hasURL`). A named person (`org:heldBy` a `vcard:Individual` with `vcard:fn` and a work
mailbox or phone) is stored only when the organisation agreed (`mw:toestemmingNaam true`).

All of it lives in one named graph, `…/graph/maatwerkregister`, with the schemes of
ontology/maatwerkregister.ttl. It is not case text: the privacy gate of the case import does not
run on it (mailboxes and phone numbers are its point), and nothing here is written into a case.

`import_contacts` reads a CSV (columns in CSV_COLUMNS), checks every row, and replaces the contact
points of each organisation in the file in one commit, or changes nothing. `replace_contacts` does
the same for one organisation's rows from the writers' form (api/ui/contacts.py), with the same checks.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import phonenumbers
import pyoxigraph as ox

from graph.concepts import ConceptIndex
from graph.errors import InvalidInput
from graph.store import turtle_quads
from ontology import HERE, ID, iri, term

GRAPH_REGISTER = ID + "graph/maatwerkregister"
REGISTER_FILE = HERE / "maatwerkregister.ttl"
DEMO_CONTACTS_FILE = HERE / "data" / "contacts.csv"
VCARD = "http://www.w3.org/2006/vcard/ns#"

ROLES = ("maatwerkfunctionaris", "regievoerder", "escalatiepunt")
CHANNELS = {"functionele mailbox": "functionele-mailbox", "telefoon": "telefoon", "webformulier": "webformulier"}
CSV_COLUMNS = {
    "organisatie": "naam, slug of IRI van een organisatie in de graaf (verplicht)",
    "rol": "maatwerkfunctionaris, regievoerder of escalatiepunt (verplicht)",
    "kanaal": "functionele mailbox, telefoon of webformulier (verplicht)",
    "adres": "het e-mailadres, telefoonnummer of webadres dat bij het kanaal hoort (verplicht)",
    "omschrijving": "wanneer en waarvoor benaderen, bijv. 'werkdagen 9-17 uur' (optioneel)",
    "toestemming_naam": "ja als de organisatie instemt met het tonen van een persoon; anders nee (standaard nee)",
    "naam": "naam van de persoon (alleen met toestemming_naam = ja)",
    "naam_email": "werk-e-mail van de persoon (alleen met toestemming_naam = ja)",
    "naam_telefoon": "werktelefoon van de persoon (alleen met toestemming_naam = ja)",
}
REQUIRED = ("organisatie", "rol", "kanaal", "adres")
PERSON_COLUMNS = ("naam", "naam_email", "naam_telefoon")
MAX_BYTES = 2 * 1024 * 1024
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_URL = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")
_YES, _NO = {"ja", "j", "yes", "true", "1"}, {"", "nee", "n", "no", "false", "0"}


class ContactsRefused(InvalidInput):
    """Contact points that cannot be stored as they are; `detail` lists every problem (the CLI prints them),
    `problems` the same as (row index, column, message) where the rows came from a form."""

    def __init__(self, message: str, detail: Any = None, problems: list[tuple[int, str, str]] | None = None):
        super().__init__(message, detail)
        self.problems = problems or []

    def lines(self) -> list[str]:
        return [str(line) for line in self.detail or []]


@dataclass(frozen=True)
class ContactPoint:
    """One contact point as the UI shows it."""

    iri: str
    organisation: str
    role: str
    channel: str
    address: str  # mailto:, tel: or http(s): as stored
    description: str = ""
    person: str = ""
    person_email: str = ""
    person_phone: str = ""

    @property
    def shown_address(self) -> str:
        """The address without its scheme: an e-mail address, +31 20 …, a web address."""
        if self.address.startswith("mailto:"):
            return self.address[len("mailto:") :]
        if self.address.startswith("tel:"):
            return _readable_phone(self.address[len("tel:") :])
        return self.address


@dataclass
class ContactImport:
    """What an import changed: the organisations whose contact points were replaced, and how many points now."""

    organisations: list[str] = field(default_factory=list)
    points: int = 0


# --- import ------------------------------------------------------------------------------------


def import_contacts(kg, path: Path, concepts: ConceptIndex) -> ContactImport:
    """Check every row of the CSV, then replace the contact points of each organisation in it in one commit.

    Any error in any row: InvalidInput (exit 2 / 422) listing every error, and the graph unchanged.
    """
    rows = _read_csv(path)
    checked, problems = check_rows([row for _, row in rows], concepts)
    if problems:
        errors = [f"regel {rows[n][0]}: {message}" for n, _, message in problems]
        raise ContactsRefused(f"{path.name}: {len(errors)} fout(en); er is niets ingelezen.", errors)
    if not checked:
        raise ContactsRefused(f"{path.name}: geen contactpunten in het bestand; er is niets ingelezen.")
    by_org: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for point in checked:
        by_org[point["organisation"]].append(point)
    _replace(kg, by_org)
    return ContactImport(sorted(by_org), len(checked))


def replace_contacts(kg, organisation: str, rows: list[dict[str, str]], concepts: ConceptIndex) -> ContactImport:
    """Give one organisation exactly these contact points (rows with CSV_COLUMNS keys, `organisatie` left out).

    The rows are checked as `import_contacts` checks them; any problem: ContactsRefused whose `problems` are
    (row index, column, message), and the graph unchanged. No rows: the organisation has no contact points.
    """
    checked, problems = check_rows([{**row, "organisatie": organisation} for row in rows], concepts)
    if problems:
        messages = [message for _, _, message in problems]
        raise ContactsRefused(f"{len(problems)} fout(en); er is niets opgeslagen.", messages, problems)
    _replace(kg, {organisation: checked})
    return ContactImport([organisation], len(checked))


def check_rows(
    rows: list[dict[str, str]], concepts: ConceptIndex
) -> tuple[list[dict[str, Any]], list[tuple[int, str, str]]]:
    """The checked contact points, and every problem as (row index, column, message)."""
    checked, problems = [], []
    for n, row in enumerate(rows):
        point, found = _check_row(row, concepts)
        problems += [(n, column, message) for column, message in found]
        if point:
            checked.append(point)
    return checked, problems


def _replace(kg, by_org: dict[str, list[dict[str, Any]]]) -> None:
    """One commit: these organisations get exactly these points; every other organisation keeps its own."""
    new = [q for org, points in by_org.items() for n, p in enumerate(points, 1) for q in _point_quads(org, n, p)]
    kept = [q for q in _register_quads(kg) if not _belongs_to(q, set(by_org))]
    scheme = list(turtle_quads([REGISTER_FILE], GRAPH_REGISTER))
    kg.commit([*_unique(scheme + kept), *new], drop_graphs=[GRAPH_REGISTER])


def _read_csv(path: Path) -> list[tuple[int, dict[str, str]]]:
    try:
        if path.stat().st_size > MAX_BYTES:
            limit = MAX_BYTES // 1024 // 1024
            raise ContactsRefused(f"{path.name} is groter dan {limit} MB; dat is geen contactenlijst.")
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ContactsRefused(f"{path.name} is geen UTF-8-tekst.") from exc
    except OSError as exc:
        raise ContactsRefused(f"Kan {path} niet lezen: {exc.strerror or exc}.") from exc
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if missing or unknown:
        problems = [f"kolom ontbreekt: {c}" for c in missing] + [f"onbekende kolom: {c}" for c in unknown]
        raise ContactsRefused(f"{path.name}: de kolommen kloppen niet; er is niets ingelezen.", problems)
    try:
        return [
            (n, {k.strip(): (v or "").strip() for k, v in row.items() if k}) for n, row in enumerate(reader, start=2)
        ]
    except csv.Error as exc:
        raise ContactsRefused(f"{path.name}: geen geldige CSV ({exc}); er is niets ingelezen.") from exc


def _check_row(row: dict[str, str], concepts: ConceptIndex) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
    """The point as `_point_quads` takes it, or None and every problem as (column, message)."""
    problems = [(c, f"'{c}' is leeg") for c in REQUIRED if not row.get(c)]
    if problems:
        return None, problems
    found = concepts.resolve("organisatie", row["organisatie"])
    if not found:
        hint = concepts.suggestions("organisatie", row["organisatie"])
        problems.append(
            (
                "organisatie",
                f"organisatie '{row['organisatie']}' staat niet in de graaf"
                + (f" (bedoelt u {hint[0]}?)" if hint else ""),
            )
        )
    role = row["rol"].lower()
    if role not in ROLES:
        problems.append(("rol", f"rol '{row['rol']}' is onbekend; kies uit {', '.join(ROLES)}"))
    channel = CHANNELS.get(row["kanaal"].lower()) or (
        row["kanaal"].lower() if row["kanaal"].lower() in CHANNELS.values() else None
    )
    if channel is None:
        problems.append(("kanaal", f"kanaal '{row['kanaal']}' is onbekend; kies uit {', '.join(CHANNELS)}"))
    address = _address(channel, row["adres"], "adres", problems) if channel else None
    consent = row.get("toestemming_naam", "").lower()
    if consent not in _YES | _NO:
        problems.append(("toestemming_naam", f"toestemming_naam '{row.get('toestemming_naam')}' moet ja of nee zijn"))
    agreed = consent in _YES
    person = {c: row.get(c, "") for c in PERSON_COLUMNS}
    if any(person.values()) and not agreed:
        message = "een persoon (naam, naam_email, naam_telefoon) mag alleen met toestemming_naam = ja"
        problems.append(("toestemming_naam", message))
    if agreed and not person["naam"]:
        problems.append(("naam", "toestemming_naam = ja maar geen naam"))
    person_email = (
        _address("functionele-mailbox", person["naam_email"], "naam_email", problems) if person["naam_email"] else ""
    )
    person_phone = (
        _address("telefoon", person["naam_telefoon"], "naam_telefoon", problems) if person["naam_telefoon"] else ""
    )
    if problems:
        return None, problems
    return {
        "organisation": found[0].iri,
        "role": role,
        "channel": channel,
        "address": address,
        "description": row.get("omschrijving", ""),
        "agreed": agreed,
        "person": person["naam"] if agreed else "",
        "person_email": person_email if agreed else "",
        "person_phone": person_phone if agreed else "",
    }, []


def _address(channel: str, value: str, column: str, problems: list[tuple[str, str]]) -> str:
    """The address as an IRI (mailto:, tel: in E.164, http(s):), or '' with a problem noted for `column`."""
    if channel == "functionele-mailbox":
        if _EMAIL.match(value):
            return "mailto:" + value
        problems.append((column, f"'{value}' is geen e-mailadres"))
    elif channel == "telefoon":
        try:
            number = phonenumbers.parse(value, "NL")
            if phonenumbers.is_valid_number(number):
                return "tel:" + phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        except phonenumbers.NumberParseException:
            pass
        problems.append((column, f"'{value}' is geen geldig telefoonnummer"))
    else:
        if _URL.match(value):
            return value
        problems.append((column, f"'{value}' is geen webadres (http:// of https://)"))
    return ""


def _point_quads(org: str, n: int, point: dict[str, Any]) -> list[ox.Quad]:
    graph = ox.NamedNode(GRAPH_REGISTER)
    post = ox.NamedNode(f"{iri('contactpunt', org.rsplit('/', 1)[-1])}/{n}")
    role_label = point["role"]
    predicate = {"functionele-mailbox": "hasEmail", "telefoon": "hasTelephone", "webformulier": "hasURL"}

    def q(s: ox.NamedNode, p: str, o: ox.NamedNode | ox.Literal) -> ox.Quad:
        return ox.Quad(s, ox.NamedNode(p), o, graph)

    quads = [
        q(ox.NamedNode(org), term("org:hasPost"), post),
        q(post, term("rdf:type"), ox.NamedNode(term("org:Post"))),
        q(post, term("rdf:type"), ox.NamedNode(VCARD + "Kind")),
        q(post, term("org:role"), ox.NamedNode(iri("contactrol", point["role"]))),
        q(post, VCARD + "role", ox.Literal(role_label, language="nl")),
        q(post, term("mw:kanaal"), ox.NamedNode(iri("contactkanaal", point["channel"]))),
        q(post, VCARD + predicate[point["channel"]], ox.NamedNode(point["address"])),
        q(
            post,
            term("mw:toestemmingNaam"),
            ox.Literal("true" if point["agreed"] else "false", datatype=ox.NamedNode(term("xsd:boolean"))),
        ),
    ]
    if point["description"]:
        quads.append(q(post, VCARD + "note", ox.Literal(point["description"], language="nl")))
    if point["person"]:
        person = ox.NamedNode(f"{post.value}/persoon")
        quads += [
            q(post, term("org:heldBy"), person),
            q(person, term("rdf:type"), ox.NamedNode(VCARD + "Individual")),
            q(person, VCARD + "fn", ox.Literal(point["person"])),
        ]
        if point["person_email"]:
            quads.append(q(person, VCARD + "hasEmail", ox.NamedNode(point["person_email"])))
        if point["person_phone"]:
            quads.append(q(person, VCARD + "hasTelephone", ox.NamedNode(point["person_phone"])))
    return quads


def _register_quads(kg) -> list[ox.Quad]:
    return list(kg.store.quads_for_pattern(None, None, None, ox.NamedNode(GRAPH_REGISTER)))


def _belongs_to(quad: ox.Quad, organisations: set[str]) -> bool:
    """A quad of a contact point (or its org:hasPost link) of one of these organisations."""
    if not isinstance(quad.subject, ox.NamedNode):
        return False
    subject = quad.subject.value
    if subject in organisations and quad.predicate.value == term("org:hasPost"):
        return True
    return any(subject.startswith(iri("contactpunt", o.rsplit("/", 1)[-1]) + "/") for o in organisations)


def _unique(quads: list[ox.Quad]) -> list[ox.Quad]:
    return list(dict.fromkeys(quads))


# --- read --------------------------------------------------------------------------------------

_POINTS_QUERY = """
SELECT ?org ?post ?rol ?kanaal ?adres ?notitie ?naam ?naamMail ?naamTel WHERE {{
  VALUES ?org {{ {orgs} }}
  GRAPH <{graph}> {{
    ?org org:hasPost ?post .
    ?post org:role ?role ; mw:kanaal ?kanaalIri .
    ?role skos:prefLabel ?rol . ?kanaalIri skos:prefLabel ?kanaal .
    OPTIONAL {{ ?post vcard:hasEmail ?mail }}
    OPTIONAL {{ ?post vcard:hasTelephone ?tel }}
    OPTIONAL {{ ?post vcard:hasURL ?url }}
    BIND(COALESCE(?mail, ?tel, ?url) AS ?adres)
    OPTIONAL {{ ?post vcard:note ?notitie }}
    OPTIONAL {{
      ?post mw:toestemmingNaam true ; org:heldBy ?persoon .
      ?persoon vcard:fn ?naam .
      OPTIONAL {{ ?persoon vcard:hasEmail ?naamMail }} OPTIONAL {{ ?persoon vcard:hasTelephone ?naamTel }}
    }}
  }}
}} ORDER BY ?org ?post
"""


def contact_points(kg, org_iris: list[str]) -> dict[str, list[ContactPoint]]:
    """Organisation IRI -> its contact points (roles in the order maatwerkfunctionaris, regievoerder, escalatiepunt).

    One query for all organisations; organisations without contact points are absent.
    """
    wanted = [o for o in dict.fromkeys(org_iris) if o.startswith(ID)]
    if not wanted:
        return {}
    query = (
        "PREFIX vcard: <"
        + VCARD
        + ">\n"
        + _POINTS_QUERY.format(orgs=" ".join(f"<{o}>" for o in wanted), graph=GRAPH_REGISTER)
    )
    points: dict[str, list[ContactPoint]] = defaultdict(list)
    for row in kg.select(query):
        points[row["org"]].append(
            ContactPoint(
                row["post"],
                row["org"],
                row["rol"],
                row["kanaal"],
                row["adres"] or "",
                row["notitie"] or "",
                row["naam"] or "",
                (row["naamMail"] or "").removeprefix("mailto:"),
                _readable_phone((row["naamTel"] or "").removeprefix("tel:")),
            )
        )
    order = {role: n for n, role in enumerate(ROLES)}
    return {org: sorted(ps, key=lambda p: (order.get(p.role, 9), p.iri)) for org, ps in points.items()}


def _readable_phone(e164: str) -> str:
    if not e164:
        return ""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164, "NL"), phonenumbers.PhoneNumberFormat.NATIONAL)
    except phonenumbers.NumberParseException:
        return e164
