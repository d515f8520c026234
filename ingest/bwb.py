"""BWB law XML ("toestand") -> articles -> RDF quads, and fetching a toestand from the official repository.

Decisions worth knowing:
- Parsing goes through defusedxml with DTDs forbidden: a toestand never needs one (it names an XSD),
  so any DOCTYPE is refused, which also stops entity expansion and external entities.
- Vervallen (repealed) articles and leden are skipped: they carry no legal text to search, only a
  "[Vervallen per ...]" marker. Their numbers are kept in `LawText.vervallen` so callers can report them.
- Articles are taken from `wettekst` (or `regeling-tekst`) at any depth, but never from inside another
  article, so article texts quoted in amending provisions are not mistaken for articles of this law.
- When two articles share a number (possible in laws split into books or with annexes), the later one
  gets `-2`, `-3`, ... appended to its IRI slug so neither overwrites the other.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import date
from http.client import HTTPException
from urllib.parse import quote
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as SafeET
from pyoxigraph import Literal, NamedNode, Quad

from graph.errors import InvalidInput
from ontology import graph_for_law, iri, slugify, term

# Tests point this at a local http.server; there is no other reason to change it.
BASE_URL = "https://repository.officiele-overheidspublicaties.nl/bwb"
WETTEN_URL = "https://wetten.overheid.nl"
# The largest toestand files (Burgerlijk Wetboek books) are a few MB; this only stops runaway downloads.
MAX_BYTES = 100 * 1024 * 1024
# Real toestand files nest about a dozen levels deep; the parser's recursive walks need a bound
# far below Python's recursion limit, and this one is far above any real law.
MAX_DEPTH = 200

BWBR_RE = re.compile(r"^BWBR\d{7}$")
BWB_ID_RE = re.compile(r"\bBWB[A-Z]\d{7}\b")
EXPRESSION_RE = re.compile(r"^\d{4}-\d{2}-\d{2}_\d+$")
VERVALLEN_RE = re.compile(r"^\[?\s*vervallen\b", re.IGNORECASE)

BODY_TAGS = ("wettekst", "regeling-tekst")
# Never part of the running text: metadata, headings and numbers (numbers are added as prefixes).
SKIP_TAGS = {"meta-data", "kop", "lidnr", "li.nr", "noot"}
BLOCK_TAGS = {"al", "lijst", "row"}


class BwbError(InvalidInput):
    """Input that cannot be imported as a BWB law, with a message fit for the user."""


@dataclass
class Lid:
    nr: str
    text: str
    jci: str


@dataclass
class Artikel:
    nr: str
    title: str | None
    text: str
    jci: str
    leden: list[Lid]
    path: str  # enclosing divisions, e.g. "Hoofdstuk 2 > Afdeling 3"; "" at top level


@dataclass
class LawText:
    bwb_id: str
    citeertitel: str
    version_date: str | None
    articles: list[Artikel]
    vervallen: list[str] = field(default_factory=list)  # numbers of skipped repealed articles


# --- parsing -------------------------------------------------------------------------------


def parse_toestand(data: bytes) -> LawText:
    """Parse a BWB toestand XML document into its articles."""
    root = _parse_xml(data, "BWB-toestand")
    if root.tag != "toestand":
        raise BwbError(f"Dit is geen BWB-toestand: het root-element is <{root.tag}>, verwacht <toestand>.")
    bwb_id = _bwb_id(root)
    wetgeving = root.find("wetgeving")
    if wetgeving is None:
        raise BwbError(f"BWB-toestand {bwb_id} mist het element <wetgeving>.")
    law = LawText(bwb_id, _citeertitel(wetgeving, bwb_id), root.get("inwerkingtreding"), [])
    for body in _bodies(wetgeving):
        for el, path in _walk_articles(body, []):
            _add_article(law, el, path)
    return law


def _parse_xml(data: bytes, what: str) -> Element:
    if isinstance(data, str):
        data = data.encode("utf-8")
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except defusedxml.DTDForbidden as exc:
        raise BwbError(
            f"{what} geweigerd: het bevat een DTD (<!DOCTYPE>), wat BWB-XML nooit heeft; "
            "entiteiten en externe verwijzingen worden niet verwerkt."
        ) from exc
    except defusedxml.DefusedXmlException as exc:
        raise BwbError(f"{what} geweigerd: onveilige XML (entiteiten of externe verwijzingen): {exc}") from exc
    except ParseError as exc:
        raise BwbError(f"{what} is geen geldige XML: {exc}") from exc
    except LookupError as exc:  # expat looks up the encoding the XML declaration names
        raise BwbError(f"{what} is geen geldige XML: onbekende tekencodering ({exc})") from exc
    _check_depth(root, what)
    return root


def _check_depth(root: Element, what: str) -> None:
    """Refuse absurd nesting up front: the text walkers below recurse once per level."""
    stack = [(root, 1)]
    while stack:
        el, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise BwbError(f"{what} geweigerd: elementen zijn dieper dan {MAX_DEPTH} niveaus genest.")
        stack.extend((child, depth + 1) for child in el)


def _bwb_id(root: Element) -> str:
    # `bwb-id` is the documented place; the fixed-part URI is a fallback seen in the same root.
    for candidate in (root.get("bwb-id"), root.get("bwb-ng-vast-deel")):
        match = BWB_ID_RE.search(candidate or "")
        if match:
            return match.group(0)
    raise BwbError("BWB-toestand zonder BWB-id: het attribuut bwb-id op <toestand> ontbreekt of is ongeldig.")


def _citeertitel(wetgeving: Element, bwb_id: str) -> str:
    # Not every regulation has an official citeertitel; the intitule still names it.
    for tag in ("citeertitel", "intitule"):
        el = wetgeving.find(tag)
        text = _inline(el) if el is not None else ""
        if text:
            return text
    return bwb_id


def _bodies(wetgeving: Element) -> list[Element]:
    bodies = [el for tag in BODY_TAGS for el in wetgeving.iter(tag)]
    # A body inside an article is quoted text of another law, not this law's text.
    inside_articles = {id(b) for art in wetgeving.iter("artikel") for b in art.iter() if b.tag in BODY_TAGS}
    return [b for b in bodies if id(b) not in inside_articles]


def _walk_articles(el: Element, path: list[str]):
    """Yield (artikel, path) in document order, descending through divisions that have a heading."""
    for child in el:
        if child.tag == "artikel":
            yield child, path
        elif child.tag not in SKIP_TAGS:
            heading = _heading(child)
            yield from _walk_articles(child, [*path, heading] if heading else path)


def _heading(el: Element) -> str:
    kop = el.find("kop")
    if kop is None:
        return ""
    parts = [kop.find(t) for t in ("label", "nr")]
    return " ".join(_inline(p) for p in parts if p is not None and _inline(p)) or el.tag.capitalize()


def _add_article(law: LawText, el: Element, path: list[str]) -> None:
    nr = _article_nr(el)
    if el.get("status") == "vervallen":
        law.vervallen.append(nr)
        return
    leden: list[Lid] = []
    lines: list[str] = []
    for child in el:
        if child.tag == "lid":
            lid = _lid(child, law.bwb_id, nr, len(leden) + 1)
            if lid:
                leden.append(lid)
                lines.append(_numbered(lid.nr, lid.text))
        else:
            lines.extend(_lines(child))
    text = "\n".join(lines)
    if not text or VERVALLEN_RE.match(text):
        law.vervallen.append(nr)
        return
    # The short, undated Juriconnect form: it is what the reference data and wetten.overheid.nl links use,
    # so an article keeps one identifier whether it came from the reference data, an import, or both.
    jci = f"jci1.3:c:{law.bwb_id}&artikel={nr}"
    law.articles.append(Artikel(nr, _kop_titel(el), text, jci, leden, " > ".join(path)))


def _article_nr(el: Element) -> str:
    kop = el.find("kop")
    nr_el = kop.find("nr") if kop is not None else None
    nr = _inline(nr_el) if nr_el is not None else ""
    # "Enig artikel" and some old laws have no <nr>; the label attribute or text still identifies them.
    if not nr:
        nr = re.sub(r"^artikel\s*", "", el.get("label") or "", flags=re.IGNORECASE).strip()
    if not nr and kop is not None:
        nr = _inline(kop)
    if not nr:
        raise BwbError(f"Artikel zonder nummer of label gevonden (id {el.get('id') or '?'}).")
    return nr


def _kop_titel(el: Element) -> str | None:
    titel = el.find("kop/titel")
    return (_inline(titel) or None) if titel is not None else None


def _lid(el: Element, bwb_id: str, art_nr: str, position: int) -> Lid | None:
    nr_el = el.find("lidnr")
    nr = (_inline(nr_el) if nr_el is not None else "").rstrip(".") or str(position)
    text = "\n".join(_lines(el))
    if el.get("status") == "vervallen" or not text or VERVALLEN_RE.match(text):
        return None
    return Lid(nr, text, f"jci1.3:c:{bwb_id}&artikel={art_nr}&lid={nr}")


def _numbered(nr: str, text: str) -> str:
    return f"{nr}. {text}" if nr else text


# --- text extraction ------------------------------------------------------------------------


def _lines(el: Element) -> list[str]:
    """Text of a block element as lines: one per paragraph, list item or table row."""
    if el.tag in SKIP_TAGS:
        return []
    if el.tag == "lijst":
        return _list_lines(el)
    if el.tag == "row":
        cells = [_inline(c) for c in el if c.tag not in SKIP_TAGS]
        return [" | ".join(c for c in cells if c)]
    if el.tag == "al" or not _has_blocks(el):
        text = _inline(el)
        return [text] if text else []
    return [line for child in el for line in _lines(child)]


def _list_lines(lijst: Element) -> list[str]:
    lines: list[str] = []
    # Direct items only: items of nested lists come through their own parent item.
    for li in lijst.findall("li"):
        nr_el = li.find("li.nr")
        nr = _inline(nr_el) if nr_el is not None else ""
        item = [line for child in li for line in _lines(child)] if _has_blocks(li) else [_inline(li)]
        item = [line for line in item if line]
        if item and nr:
            item[0] = f"{nr} {item[0]}"
        lines.extend(item)
    return lines


def _has_blocks(el: Element) -> bool:
    return any(c.tag in BLOCK_TAGS or (c.tag not in SKIP_TAGS and _has_blocks(c)) for c in el)


def _inline(el: Element) -> str:
    """All running text of an element with inline markup flattened and whitespace normalised."""
    return " ".join("".join(_text_parts(el)).split())


def _text_parts(el: Element):
    yield el.text or ""
    for child in el:
        if child.tag not in SKIP_TAGS:
            yield from _text_parts(child)
        # The tail belongs to the parent's flow even when the child itself is skipped.
        yield child.tail or ""


# --- RDF ------------------------------------------------------------------------------------


def law_quads(law: LawText, law_iri: str | None = None, *, short_name: str | None = None) -> list[Quad]:
    """All quads for a law and its articles and leden, in the law's own named graph.

    `law_iri` links the import to a law that already exists in the reference data; it then gets no
    new skos:prefLabel. `short_name` ("Wmo 2015") names the articles; it defaults to the citeertitel,
    so pass the existing law's prefLabel to keep one prefLabel per article.
    """
    graph = NamedNode(graph_for_law(law.bwb_id))
    is_new = law_iri is None
    law_iri = law_iri or iri("wet", slugify(law.citeertitel))
    law_slug = law_iri.rstrip("/").rsplit("/", 1)[-1]
    quads = _law_resource_quads(law, NamedNode(law_iri), is_new, graph)
    used: set[str] = set()
    for art in law.articles:
        art_iri = iri("artikel", _unique(f"{law_slug}-art-{slugify(art.nr)}", used))
        quads += _article_quads(law, art, art_iri, law_iri, short_name or law.citeertitel, graph)
    return quads


def _quad(s: str | NamedNode, p: str, o, graph: NamedNode) -> Quad:
    subject = s if isinstance(s, NamedNode) else NamedNode(s)
    return Quad(subject, NamedNode(term(p)), o, graph)


def _nl(text: str) -> Literal:
    return Literal(text, language="nl")


def _law_resource_quads(law: LawText, node: NamedNode, is_new: bool, graph: NamedNode) -> list[Quad]:
    quads = [
        _quad(node, "rdf:type", NamedNode(term("eli:LegalResource")), graph),
        _quad(node, "dcterms:identifier", Literal(law.bwb_id), graph),
        _quad(node, "eli:id_local", Literal(law.bwb_id), graph),
        _quad(node, "eli:title", _nl(law.citeertitel), graph),
        _quad(node, "rdfs:seeAlso", NamedNode(f"{WETTEN_URL}/{law.bwb_id}"), graph),
    ]
    if is_new:
        quads.append(_quad(node, "skos:prefLabel", _nl(law.citeertitel), graph))
    return quads


def _article_quads(law: LawText, art: Artikel, art_iri: str, law_iri: str, name: str, graph: NamedNode) -> list[Quad]:
    quads = [
        _quad(art_iri, "rdf:type", NamedNode(term("eli:LegalResourceSubdivision")), graph),
        _quad(art_iri, "eli:is_part_of", NamedNode(law_iri), graph),
        _quad(art_iri, "eli:number", Literal(art.nr), graph),
        _quad(art_iri, "skos:prefLabel", _nl(f"{name} art. {art.nr}"), graph),
        _quad(art_iri, "mw:tekst", _nl(art.text), graph),
        _quad(art_iri, "dcterms:identifier", Literal(art.jci), graph),
        _quad(art_iri, "rdfs:seeAlso", NamedNode(_wetten_article_url(law.bwb_id, art.nr)), graph),
    ]
    if art.title:
        quads.append(_quad(art_iri, "eli:title", _nl(art.title), graph))
    used: set[str] = set()
    for lid in art.leden:
        lid_iri = _unique(f"{art_iri}-lid-{slugify(lid.nr)}", used)
        quads += [
            _quad(lid_iri, "rdf:type", NamedNode(term("eli:LegalResourceSubdivision")), graph),
            _quad(lid_iri, "eli:is_part_of", NamedNode(art_iri), graph),
            _quad(lid_iri, "eli:number", Literal(lid.nr), graph),
            _quad(lid_iri, "mw:tekst", _nl(lid.text), graph),
            _quad(lid_iri, "dcterms:identifier", Literal(lid.jci), graph),
        ]
    return quads


def _wetten_article_url(bwb_id: str, nr: str) -> str:
    # Article numbers may hold characters that are not valid in an IRI (spaces in old laws).
    return f"{WETTEN_URL}/jci1.3:c:{bwb_id}&artikel={quote(nr, safe='.:')}"


def _unique(slug: str, used: set[str]) -> str:
    candidate, n = slug, 1
    while candidate in used:
        n += 1
        candidate = f"{slug}-{n}"
    used.add(candidate)
    return candidate


# --- fetching -------------------------------------------------------------------------------


def fetch_toestand(bwb_id: str, timeout: float = 20) -> bytes:
    """Download the current toestand XML of a law from the official BWB repository."""
    bwb_id = (bwb_id or "").strip().upper()
    if not BWBR_RE.match(bwb_id):
        raise BwbError(f"Ongeldig BWB-id {bwb_id!r}: verwacht BWBR gevolgd door 7 cijfers, bijv. BWBR0035362.")
    manifest = _http_get(f"{BASE_URL}/{bwb_id}/manifest.xml", timeout, bwb_id)
    expression = latest_expression(manifest)
    return _http_get(toestand_url(bwb_id, expression), timeout, bwb_id)


def toestand_url(bwb_id: str, expression: str) -> str:
    return f"{BASE_URL}/{bwb_id}/{expression}/xml/{bwb_id}_{expression}.xml"


def latest_expression(manifest: bytes, today: date | None = None) -> str:
    """The expression label ("2025-01-01_0") of the newest version in force on `today`.

    The manifest lists every expression with metadata/datum_inwerkingtreding; versions announced
    for a future date are passed over so the graph holds the law as it applies now. Without dated
    expressions, the manifest's own `_latestItem` pointer is used.
    """
    root = _parse_xml(manifest, "BWB-manifest")
    today_iso = (today or date.today()).isoformat()
    dated = _dated_expressions(root)
    in_force = [e for e in dated if e[0] <= today_iso]
    if in_force or dated:
        return max(in_force or dated)[2]
    latest = _latest_item(root)
    if latest:
        return latest
    raise BwbError("Het BWB-manifest noemt geen enkele versie (expression) van de wet.")


def _local(tag: str) -> str:
    # The manifest format is not ours; tolerate a namespace should one be added.
    return tag.rsplit("}", 1)[-1]


def _dated_expressions(root: Element) -> list[tuple[str, int, str]]:
    found = []
    for el in root.iter():
        if _local(el.tag) != "expression":
            continue
        dates = [d.text or "" for d in el.iter() if _local(d.tag) == "datum_inwerkingtreding"]
        start = dates[0].strip() if dates else ""
        if not re.match(r"^\d{4}-\d{2}-\d{2}$", start):
            continue
        label = (el.get("label") or "").strip()
        label = label if EXPRESSION_RE.match(label) and label.startswith(start) else f"{start}_0"
        found.append((start, int(label.rsplit("_", 1)[1]), label))
    return found


def _latest_item(root: Element) -> str | None:
    for el in root.iter():
        item = el.get("_latestItem") or ""
        # Only a relative "{date}_{n}/xml/..." path is accepted, so the manifest cannot redirect us.
        match = re.match(r"^(\d{4}-\d{2}-\d{2}_\d+)/", item)
        if match:
            return match.group(1)
    return None


def _http_get(url: str, timeout: float, bwb_id: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "maatwerk-kg (BWB import)"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise BwbError(f"{bwb_id} niet gevonden in het BWB-repository ({url} gaf HTTP 404).") from exc
        raise BwbError(f"Het BWB-repository gaf HTTP {exc.code} voor {url}.") from exc
    except (urllib.error.URLError, HTTPException, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise BwbError(f"Kan het BWB-repository niet bereiken (offline?): {reason} ({url})") from exc
    if len(data) > MAX_BYTES:
        raise BwbError(f"Antwoord van {url} is groter dan {MAX_BYTES // (1024 * 1024)} MB; afgebroken.")
    return data
