"""Reference data (ontology/*.ttl): counts, verified BWB ids, links between resources and canonical labels.

Plain rdflib only, so these checks run without the store or the search stack.
The canonical label lists below are a copy of the labels case files use; each must
resolve to the right resource as skos:prefLabel or skos:altLabel (@nl).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
import rdflib
from rdflib import RDF, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, SKOS

ONTOLOGY = Path(__file__).resolve().parents[1] / "ontology"
FILES = ["mw.ttl", "vocabularies.ttl", "laws.ttl", "organisations.ttl", "voorzieningen.ttl"]

ELI = Namespace("http://data.europa.eu/eli/ontology#")
ORG = Namespace("http://www.w3.org/ns/org#")
CPSV = Namespace("http://purl.org/vocab/cpsv#")
CV = Namespace("http://data.europa.eu/m8g/")
MW = Namespace("https://w3id.org/maatwerk/def#")
ID = "https://w3id.org/maatwerk/id/"


def node(kind: str, slug: str) -> URIRef:
    return URIRef(f"{ID}{kind}/{slug}")


def scheme(name: str) -> URIRef:
    return node("schema", name)


# --- canonical labels (copied from the list shared with the case writers) -----------------

LEVENSGEBIEDEN = {
    "financien": ["financiën"],
    "werk-en-opleiding": ["werk & opleiding"],
    "tijdsbesteding": ["tijdsbesteding"],
    "huisvesting": ["huisvesting"],
    "huiselijke-relaties": ["huiselijke relaties"],
    "geestelijke-gezondheid": ["geestelijke gezondheid"],
    "lichamelijke-gezondheid": ["lichamelijke gezondheid"],
    "verslaving": ["verslaving"],
    "basale-adl": ["basale ADL"],
    "instrumentele-adl": ["instrumentele ADL"],
    "sociaal-netwerk": ["sociaal netwerk"],
    "maatschappelijke-participatie": ["maatschappelijke participatie"],
    "justitie": ["justitie"],
}

KNELPUNTTYPEN = {
    "kennis-en-kunde": ["kennis en kunde"],
    "samenwerking": ["samenwerking"],
    "communicatie": ["communicatie"],
    "ict-systemen": ["ICT-systemen"],
    "wet-en-regelgeving": ["wet- en regelgeving"],
}

LEERORDES = {"1": "1e orde", "2": "2e orde", "3": "3e orde"}

# slug -> (prefLabel, BWB id or None, extra labels)
LAWS = {
    "wmo-2015": ("Wmo 2015", "BWBR0035362", []),
    "jeugdwet": ("Jeugdwet", "BWBR0034925", []),
    "participatiewet": ("Participatiewet", "BWBR0015703", []),
    "zvw": ("Zvw", "BWBR0018450", ["Zorgverzekeringswet"]),
    "wlz": ("Wlz", "BWBR0035917", ["Wet langdurige zorg"]),
    "wia": ("WIA", "BWBR0019057", []),
    "wajong": ("Wajong", "BWBR0008657", []),
    "wgs": ("Wgs", "BWBR0031331", ["Wet gemeentelijke schuldhulpverlening"]),
    "awb": ("Awb", "BWBR0005537", []),
    "wsf-2000": ("Wsf 2000", "BWBR0011453", []),
    "awir": ("Awir", "BWBR0018472", []),
    "wet-kinderopvang": ("Wet kinderopvang", "BWBR0017017", []),
    "wet-op-de-zorgtoeslag": ("Wet op de zorgtoeslag", "BWBR0018451", []),
    "wet-op-de-huurtoeslag": ("Wet op de huurtoeslag", "BWBR0008659", []),
    "ww": ("WW", "BWBR0004045", ["Werkloosheidswet"]),
    "ziektewet": ("Ziektewet", "BWBR0001888", []),
    "aow": ("AOW", "BWBR0002221", []),
    "wet-brp": ("Wet BRP", "BWBR0033715", []),
    "wet-op-de-identificatieplicht": ("Wet op de identificatieplicht", "BWBR0006297", []),
    "woningwet": ("Woningwet", "BWBR0005181", []),
    "faillissementswet": ("Faillissementswet", "BWBR0001860", ["Wsnp", "schuldsanering"]),
    "wpo": ("WPO", "BWBR0003420", ["Wet op het primair onderwijs"]),
    "gemeentewet": ("Gemeentewet", "BWBR0005416", []),
    "wvggz": ("Wvggz", "BWBR0040635", []),
    "wzd": ("Wzd", "BWBR0040632", []),
    "leerplichtwet-1969": ("Leerplichtwet 1969", None, []),
    "wet-inburgering-2021": ("Wet inburgering 2021", None, []),
    "wvo-2020": ("WVO 2020", None, ["Wet op het voortgezet onderwijs"]),
    "algemene-kinderbijslagwet": ("Algemene Kinderbijslagwet", None, ["AKW"]),
    "wet-op-het-kindgebonden-budget": ("Wet op het kindgebonden budget", None, []),
    "vreemdelingenwet-2000": ("Vreemdelingenwet 2000", None, []),
    "bw-boek-1": ("Burgerlijk Wetboek Boek 1", None, []),
    "wet-forensische-zorg": ("Wet forensische zorg", None, []),
    "penitentiaire-beginselenwet": ("Penitentiaire beginselenwet", None, []),
    "wet-publieke-gezondheid": ("Wet publieke gezondheid", None, []),
    "wet-tijdelijk-huisverbod": ("Wet tijdelijk huisverbod", None, []),
    "ioaw": ("IOAW", None, []),
    "wet-hersteloperatie-toeslagen": ("Wet hersteloperatie toeslagen", None, []),
    "uitvoeringswet-huurprijzen-woonruimte": ("Uitvoeringswet huurprijzen woonruimte", None, []),
}

VERIFIED_BWB = {bwb: pref for pref, bwb, _ in LAWS.values() if bwb}

ORGANISATIONS = {
    "gemeente": ["gemeente", "sociale dienst", "Wmo-loket", "afdeling werk en inkomen"],
    "wijkteam": ["wijkteam", "sociaal wijkteam"],
    "uwv": ["UWV"],
    "svb": ["SVB"],
    "ciz": ["CIZ"],
    "cak": ["CAK"],
    "zorgkantoor": ["zorgkantoor"],
    "zorgverzekeraar": ["zorgverzekeraar"],
    "duo": ["DUO"],
    "belastingdienst": ["Belastingdienst"],
    "dienst-toeslagen": ["Dienst Toeslagen", "Belastingdienst/Toeslagen", "Toeslagen"],
    "coa": ["COA"],
    "ind": ["IND"],
    "woningcorporatie": ["woningcorporatie"],
    "ggz-instelling": ["GGZ-instelling"],
    "reclassering": ["reclassering"],
    "beschermingsbewindvoerder": ["beschermingsbewindvoerder", "bewindvoerder"],
    "samenwerkingsverband-passend-onderwijs": ["samenwerkingsverband passend onderwijs"],
    "raad-voor-de-kinderbescherming": ["Raad voor de Kinderbescherming"],
    "veilig-thuis": ["Veilig Thuis"],
    "nza": ["NZa"],
    "het-juiste-loket": ["Het Juiste Loket"],
    "maatwerkloket": ["Maatwerkloket"],
    "gecertificeerde-instelling": ["gecertificeerde instelling", "jeugdbescherming"],
    "school": ["school"],
    "leerplichtambtenaar": ["leerplichtambtenaar"],
    "huisarts": ["huisarts"],
    "ggd": ["GGD"],
    "schuldhulpverlening": ["schuldhulpverlening", "gemeentelijke schuldhulp"],
    "dji": ["Dienst Justitiële Inrichtingen", "DJI"],
    "penitentiaire-inrichting": ["penitentiaire inrichting"],
    "maatschappelijke-opvang": ["maatschappelijke opvang"],
    "lbio": ["LBIO"],
    "cjib": ["CJIB"],
    "huurcommissie": ["Huurcommissie"],
    "juridisch-loket": ["Juridisch Loket"],
    "vluchtelingenwerk": ["VluchtelingenWerk"],
    "zorgaanbieder": ["zorgaanbieder"],
    "thuiszorgorganisatie": ["thuiszorgorganisatie"],
    "jeugdhulpaanbieder": ["jeugdhulpaanbieder"],
    "werkgever": ["werkgever"],
    "bedrijfsarts": ["bedrijfsarts", "arbodienst"],
    "deurwaarder": ["deurwaarder"],
    "energieleverancier": ["energieleverancier"],
    "clientondersteuner": ["cliëntondersteuner"],
    "mantelzorgsteunpunt": ["mantelzorgsteunpunt"],
    "vng": ["VNG"],
    "ministerie-van-vws": ["ministerie van VWS"],
    "ministerie-van-szw": ["ministerie van SZW"],
    "nationale-ombudsman": ["Nationale ombudsman"],
    "kinderombudsman": ["Kinderombudsman"],
    "igj": ["IGJ"],
    "pensioenfonds": ["pensioenfonds"],
}

VOORZIENINGEN = {
    "hulp-bij-het-huishouden": ["hulp bij het huishouden"],
    "begeleiding": ["begeleiding", "Wmo begeleiding individueel", "begeleiding individueel"],
    "dagbesteding": ["dagbesteding"],
    "persoonlijke-verzorging": ["persoonlijke verzorging"],
    "kortdurend-verblijf": ["kortdurend verblijf"],
    "respijtzorg": ["respijtzorg"],
    "woningaanpassing": ["woningaanpassing"],
    "traplift": ["traplift"],
    "rolstoel": ["rolstoel"],
    "scootmobiel": ["scootmobiel"],
    "wmo-vervoer": ["Wmo-vervoer", "regiotaxi"],
    "beschermd-wonen": ["beschermd wonen"],
    "maatschappelijke-opvang-voorziening": ["maatschappelijke opvang", "nachtopvang", "daklozenopvang"],
    "vrouwenopvang": ["vrouwenopvang"],
    "mantelzorgondersteuning": ["mantelzorgondersteuning"],
    "onafhankelijke-clientondersteuning": ["onafhankelijke cliëntondersteuning"],
    "persoonsgebonden-budget": ["persoonsgebonden budget", "pgb"],
    "wijkverpleging": ["wijkverpleging"],
    "hulpmiddelen-zvw": ["hulpmiddelen Zvw"],
    "geneeskundige-ggz": ["geneeskundige ggz"],
    "ziekenvervoer": ["ziekenvervoer"],
    "basisverzekering": ["basisverzekering"],
    "incontinentiemateriaal": ["incontinentiemateriaal"],
    "wlz-indicatie": ["Wlz-indicatie"],
    "wlz-verblijf": ["verblijf in een Wlz-instelling"],
    "volledig-pakket-thuis": ["volledig pakket thuis", "vpt"],
    "modulair-pakket-thuis": ["modulair pakket thuis", "mpt"],
    "jeugdhulp": ["jeugdhulp", "ambulante jeugdhulp"],
    "jeugd-ggz": ["jeugd-ggz"],
    "pleegzorg": ["pleegzorg"],
    "gesloten-jeugdhulp": ["gesloten jeugdhulp"],
    "ondertoezichtstelling": ["ondertoezichtstelling", "OTS"],
    "dyslexiezorg": ["dyslexiezorg"],
    "algemene-bijstand": ["algemene bijstand", "bijstandsuitkering", "bijstand"],
    "bijzondere-bijstand": ["bijzondere bijstand"],
    "individuele-inkomenstoeslag": ["individuele inkomenstoeslag"],
    "loonkostensubsidie": ["loonkostensubsidie"],
    "beschut-werk": ["beschut werk"],
    "re-integratietraject": ["re-integratietraject"],
    "ww-uitkering": ["WW-uitkering"],
    "ziektewet-uitkering": ["Ziektewet-uitkering"],
    "wia-uitkering": ["WIA-uitkering", "WGA", "IVA"],
    "wajong-uitkering": ["Wajong-uitkering"],
    "jobcoach": ["jobcoach"],
    "werkplekaanpassing": ["werkplekaanpassing"],
    "aow-pensioen": ["AOW-pensioen"],
    "kinderbijslag": ["kinderbijslag"],
    "aio-aanvulling": ["AIO-aanvulling"],
    "zorgtoeslag": ["zorgtoeslag"],
    "huurtoeslag": ["huurtoeslag", "huursubsidie"],
    "kinderopvangtoeslag": ["kinderopvangtoeslag"],
    "kindgebonden-budget": ["kindgebonden budget"],
    "schuldhulpverlening-traject": ["schuldhulpverlening", "minnelijk traject"],
    "wsnp-schuldsanering": ["Wsnp-schuldsanering"],
    "budgetbeheer": ["budgetbeheer"],
    "beschermingsbewind": ["beschermingsbewind"],
    "saneringskrediet": ["saneringskrediet"],
    "vroegsignalering-schulden": ["vroegsignalering schulden"],
    "studiefinanciering": ["studiefinanciering"],
    "tegemoetkoming-scholieren": ["tegemoetkoming scholieren"],
    "leerlingenvervoer": ["leerlingenvervoer"],
    "onderwijsarrangement": ["onderwijsarrangement", "extra ondersteuning passend onderwijs"],
    "vrijstelling-leerplicht": ["vrijstelling leerplicht"],
    "urgentieverklaring": ["urgentieverklaring"],
    "briefadres": ["briefadres"],
    "inburgeringsvoorziening": ["inburgeringsvoorziening"],
    "huisvesting-statushouders": ["huisvesting statushouders"],
    "reclasseringstoezicht": ["reclasseringstoezicht"],
    "nazorg-ex-gedetineerden": ["nazorg ex-gedetineerden"],
    "identiteitskaart": ["identiteitskaart"],
    "collectieve-zorgverzekering-minima": ["collectieve zorgverzekering minima"],
    "kwijtschelding-gemeentelijke-belastingen": ["kwijtschelding gemeentelijke belastingen"],
    "herstelregeling-toeslagen": ["herstelregeling toeslagen"],
    "forensische-zorg": ["forensische zorg"],
    "verplichte-ggz": ["verplichte ggz", "zorgmachtiging", "crisismaatregel"],
}

# The measures named next to BW Boek 1 are voorzieningen of their own, not labels of the law.
BW_BOEK_1_MEASURES = {
    "beschermingsbewind": "beschermingsbewind",
    "curatele": "curatele",
    "mentorschap": "mentorschap",
    "ondertoezichtstelling": "ondertoezichtstelling",
}

# article prefLabel -> (law slug, number)
ARTICLES = {
    "Wmo 2015 art. 1.1.1": ("wmo-2015", "1.1.1"),
    "Wmo 2015 art. 2.3.2": ("wmo-2015", "2.3.2"),
    "Wmo 2015 art. 2.3.5": ("wmo-2015", "2.3.5"),
    "Wmo 2015 art. 2.3.6": ("wmo-2015", "2.3.6"),
    "Wmo 2015 art. 2.1.4": ("wmo-2015", "2.1.4"),
    "Jeugdwet art. 1.1": ("jeugdwet", "1.1"),
    "Jeugdwet art. 2.3": ("jeugdwet", "2.3"),
    "Participatiewet art. 11": ("participatiewet", "11"),
    "Participatiewet art. 15": ("participatiewet", "15"),
    "Participatiewet art. 16": ("participatiewet", "16"),
    "Participatiewet art. 18": ("participatiewet", "18"),
    "Participatiewet art. 31": ("participatiewet", "31"),
    "Participatiewet art. 34": ("participatiewet", "34"),
    "Participatiewet art. 35": ("participatiewet", "35"),
    "Participatiewet art. 36": ("participatiewet", "36"),
    "Participatiewet art. 58": ("participatiewet", "58"),
    "Zvw art. 10": ("zvw", "10"),
    "Zvw art. 11": ("zvw", "11"),
    "Zvw art. 13": ("zvw", "13"),
    "Wlz art. 3.2.1": ("wlz", "3.2.1"),
    "Awb art. 3:4": ("awb", "3:4"),
    "Awb art. 4:13": ("awb", "4:13"),
    "Awb art. 4:84": ("awb", "4:84"),
    "Awb art. 6:7": ("awb", "6:7"),
    "Awir art. 26": ("awir", "26"),
}

# Synonyms the reference data promises beyond the canonical list: (kind, slug, label).
SYNONYMS = [
    ("levensgebied", "financien", "geld"),
    ("levensgebied", "financien", "schulden"),
    ("levensgebied", "huisvesting", "wonen"),
    ("levensgebied", "huisvesting", "dakloos"),
    ("levensgebied", "geestelijke-gezondheid", "psychische problemen"),
    ("levensgebied", "lichamelijke-gezondheid", "ziekte"),
    ("levensgebied", "lichamelijke-gezondheid", "chronisch ziek"),
    ("levensgebied", "basale-adl", "ADL"),
    ("levensgebied", "basale-adl", "zelfzorg"),
    ("levensgebied", "verslaving", "middelengebruik"),
    ("wet", "participatiewet", "bijstandswet"),
    ("wet", "participatiewet", "WWB"),
    ("wet", "participatiewet", "Wet werk en bijstand"),
    ("wet", "wmo-2015", "Wmo"),
    ("wet", "wmo-2015", "Wet maatschappelijke ondersteuning"),
    ("organisatie", "uwv", "Uitvoeringsinstituut Werknemersverzekeringen"),
    ("organisatie", "svb", "Sociale Verzekeringsbank"),
    ("organisatie", "ciz", "Centrum indicatiestelling zorg"),
    ("organisatie", "cak", "Centraal Administratie Kantoor"),
    ("organisatie", "duo", "Dienst Uitvoering Onderwijs"),
    ("voorziening", "hulp-bij-het-huishouden", "huishoudelijke hulp"),
    ("voorziening", "beschermingsbewind", "bewind"),
    ("voorziening", "wijkverpleging", "thuiszorg"),
]

# The only label strings that two label-resolved resources share, by design of the canonical list.
SHARED_BY_DESIGN = {"maatschappelijke opvang", "schuldhulpverlening"}


# --- fixtures and helpers ------------------------------------------------------------------


@pytest.fixture(scope="module")
def g() -> rdflib.Graph:
    graph = rdflib.Graph()
    for name in FILES:
        graph.parse(ONTOLOGY / name, format="turtle")
    return graph


def labels(g: rdflib.Graph, s: URIRef) -> set[str]:
    found = set()
    for p in (SKOS.prefLabel, SKOS.altLabel):
        for o in g.objects(s, p):
            assert isinstance(o, Literal) and o.language == "nl", f"{s} {p} {o!r} is not @nl"
            found.add(str(o))
    return found


def pref(g: rdflib.Graph, s: URIRef) -> str:
    prefs = [str(o) for o in g.objects(s, SKOS.prefLabel)]
    assert len(prefs) == 1, f"{s} has prefLabels {prefs}"
    return prefs[0]


def of_type(g: rdflib.Graph, cls: URIRef) -> set[URIRef]:
    return set(g.subjects(RDF.type, cls))


def in_scheme(g: rdflib.Graph, name: str) -> set[URIRef]:
    return set(g.subjects(SKOS.inScheme, scheme(name)))


def is_wetten_link(o) -> bool:
    return str(o).startswith("https://wetten.overheid.nl/")


# --- files ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FILES)
def test_each_file_parses_on_its_own(name):
    text = (ONTOLOGY / name).read_text(encoding="utf-8")
    assert text.lstrip().startswith("@prefix"), f"{name} does not start with its @prefix lines"
    assert len(rdflib.Graph().parse(data=text, format="turtle")) > 0


# --- counts --------------------------------------------------------------------------------


def test_counts(g):
    assert len(of_type(g, ELI.LegalResource)) >= 30
    assert len(of_type(g, ORG.Organization)) >= 40
    assert len(of_type(g, CPSV.PublicService)) >= 60
    articles = [
        a
        for a in of_type(g, ELI.LegalResourceSubdivision)
        if any(str(i).startswith("jci1.3:c:") for i in g.objects(a, DCTERMS.identifier))
        and g.value(a, ELI.is_part_of) is not None
    ]
    assert len(articles) >= 20
    assert len(list(g.objects(None, SKOS.altLabel))) >= 150


def test_vocabularies_complete(g):
    assert {str(s) for s in in_scheme(g, "levensgebieden")} == {str(node("levensgebied", k)) for k in LEVENSGEBIEDEN}
    assert {str(s) for s in in_scheme(g, "knelpunttypen")} == {str(node("knelpunttype", k)) for k in KNELPUNTTYPEN}
    assert {str(s) for s in in_scheme(g, "leerordes")} == {str(node("leerorde", k)) for k in LEERORDES}
    for name in ("levensgebieden", "knelpunttypen", "leerordes", "organisatietypen", "voorzieningcategorieen"):
        assert (scheme(name), RDF.type, SKOS.ConceptScheme) in g
        assert len(in_scheme(g, name)) > 0
    for s in set(g.subjects(SKOS.inScheme, None)):
        assert (s, RDF.type, SKOS.Concept) in g, s
        assert g.value(s, SKOS.notation) is not None, f"{s} has no skos:notation"
        definition = g.value(s, SKOS.definition)
        assert isinstance(definition, Literal) and definition.language == "nl", f"{s} has no @nl definition"
        pref(g, s)


def test_leerordes_by_number(g):
    for nr, label in LEERORDES.items():
        s = node("leerorde", nr)
        assert str(g.value(s, SKOS.notation)) == nr
        assert pref(g, s) == label


# --- laws and articles ---------------------------------------------------------------------


def test_verified_bwb_ids_on_the_right_laws(g):
    by_id = defaultdict(set)
    for law in of_type(g, ELI.LegalResource):
        for o in g.objects(law, DCTERMS.identifier):
            by_id[str(o)].add(pref(g, law))
    for bwb, expected in VERIFIED_BWB.items():
        assert by_id.get(bwb) == {expected}, f"{bwb} should sit on {expected}, found {by_id.get(bwb)}"
    assert set(by_id) <= set(VERIFIED_BWB), f"unverified ids: {set(by_id) - set(VERIFIED_BWB)}"


def test_laws_follow_the_conventions(g):
    verified = {node("wet", slug) for slug, (_, bwb, _) in LAWS.items() if bwb}
    for law in of_type(g, ELI.LegalResource):
        pref(g, law)
        assert g.value(law, ELI.title) is not None, law
        assert g.value(law, DCTERMS.description) is not None, law
        ids = {str(o) for o in g.objects(law, DCTERMS.identifier)}
        local = {str(o) for o in g.objects(law, ELI.id_local)}
        links = {str(o) for o in g.objects(law, rdflib.RDFS.seeAlso) if is_wetten_link(o)}
        if law in verified:
            assert len(ids) == 1 and ids == local, law
            assert links == {f"https://wetten.overheid.nl/{next(iter(ids))}"}, law
        else:
            assert not ids and not local and not links, f"{law} has no verified BWB id but carries one"


def test_articles_follow_the_conventions(g):
    for art in of_type(g, ELI.LegalResourceSubdivision):
        law = g.value(art, ELI.is_part_of)
        assert (law, RDF.type, ELI.LegalResource) in g, art
        bwb = g.value(law, DCTERMS.identifier)
        assert bwb is not None, f"{art} belongs to a law without a BWB id"
        nr = str(g.value(art, ELI.number))
        assert pref(g, art) == f"{pref(g, law)} art. {nr}"
        jci = f"jci1.3:c:{bwb}&artikel={nr}"
        assert {str(o) for o in g.objects(art, DCTERMS.identifier)} == {jci}
        assert URIRef(f"https://wetten.overheid.nl/{jci}") in set(g.objects(art, rdflib.RDFS.seeAlso))
        assert g.value(art, ELI.title) is not None, art
        assert g.value(art, DCTERMS.description) is not None, art


def test_key_articles_present(g):
    by_label = {pref(g, a): a for a in of_type(g, ELI.LegalResourceSubdivision)}
    for label, (law_slug, nr) in ARTICLES.items():
        assert label in by_label, f"missing article {label}"
        art = by_label[label]
        assert g.value(art, ELI.is_part_of) == node("wet", law_slug)
        assert str(g.value(art, ELI.number)) == nr


# --- organisations and voorzieningen -------------------------------------------------------


def test_organisations_follow_the_conventions(g):
    types = in_scheme(g, "organisatietypen")
    for o in of_type(g, ORG.Organization):
        pref(g, o)
        classes = set(g.objects(o, ORG.classification))
        assert classes and classes <= types, f"{o} classification {classes}"
        assert g.value(o, MW.rol) is not None, o
        assert g.value(o, MW.contact) is not None, o
        assert not list(g.objects(o, rdflib.OWL.sameAs)), o


def test_voorzieningen_follow_the_conventions(g):
    laws = of_type(g, ELI.LegalResource)
    orgs = of_type(g, ORG.Organization)
    categories = in_scheme(g, "voorzieningcategorieen")
    for v in of_type(g, CPSV.PublicService):
        pref(g, v)
        assert g.value(v, DCTERMS.description) is not None, v
        legal = set(g.objects(v, CV.hasLegalResource))
        authorities = set(g.objects(v, CV.hasCompetentAuthority))
        assert legal and legal <= laws, f"{v} legal resources {legal - laws}"
        assert authorities and authorities <= orgs, f"{v} authorities {authorities - orgs}"
        assert set(g.objects(v, MW.categorie)) and set(g.objects(v, MW.categorie)) <= categories, v


@pytest.mark.parametrize(
    "prop",
    [ELI.is_part_of, CV.hasLegalResource, CV.hasCompetentAuthority, ORG.classification, MW.categorie, MW.voertUit],
)
def test_links_point_at_defined_resources(g, prop):
    expected = {
        ELI.is_part_of: {ELI.LegalResource},
        CV.hasLegalResource: {ELI.LegalResource},
        CV.hasCompetentAuthority: {ORG.Organization},
        ORG.classification: {SKOS.Concept},
        MW.categorie: {SKOS.Concept},
        MW.voertUit: {ELI.LegalResource},
    }[prop]
    objects = set(g.objects(None, prop))
    assert objects, f"nothing uses {prop}"
    for o in objects:
        assert set(g.objects(o, RDF.type)) & expected, f"{o} (object of {prop}) is not defined"
        assert g.value(o, SKOS.prefLabel) is not None, o


# --- labels --------------------------------------------------------------------------------


def assert_labels(g, kind: str, cls: URIRef | None, table: dict[str, list[str]]):
    for slug, wanted in table.items():
        s = node(kind, slug)
        if cls is not None:
            assert (s, RDF.type, cls) in g, f"{s} is not a {cls}"
        missing = set(wanted) - labels(g, s)
        assert not missing, f"{s} lacks labels {missing}"


def test_canonical_vocabulary_labels(g):
    assert_labels(g, "levensgebied", SKOS.Concept, LEVENSGEBIEDEN)
    assert_labels(g, "knelpunttype", SKOS.Concept, KNELPUNTTYPEN)
    for slug, wanted in LEVENSGEBIEDEN.items():
        assert pref(g, node("levensgebied", slug)) == wanted[0]


def test_canonical_law_labels(g):
    assert_labels(g, "wet", ELI.LegalResource, {slug: [p, *extra] for slug, (p, _, extra) in LAWS.items()})
    for slug, (p, _, _) in LAWS.items():
        assert pref(g, node("wet", slug)) == p


def test_canonical_organisation_labels(g):
    assert_labels(g, "organisatie", ORG.Organization, ORGANISATIONS)
    for slug, wanted in ORGANISATIONS.items():
        assert pref(g, node("organisatie", slug)) == wanted[0]


def test_canonical_voorziening_labels(g):
    assert_labels(g, "voorziening", CPSV.PublicService, VOORZIENINGEN)
    for slug, wanted in VOORZIENINGEN.items():
        assert pref(g, node("voorziening", slug)) == wanted[0]
    assert_labels(g, "voorziening", CPSV.PublicService, {s: [lab] for s, lab in BW_BOEK_1_MEASURES.items()})


def test_promised_synonyms(g):
    for kind, slug, label in SYNONYMS:
        assert label in labels(g, node(kind, slug)), f"{label!r} missing on {kind}/{slug}"


def test_alt_labels_are_unambiguous(g):
    owners = defaultdict(set)
    for s, o in g.subject_objects(SKOS.altLabel):
        owners[str(o).casefold()].add(s)
    shared = {label: sorted(map(str, s)) for label, s in owners.items() if len(s) > 1}
    assert not shared, f"altLabels on more than one resource: {shared}"


def test_labels_of_resolvable_resources_do_not_collide(g):
    """Laws, articles, organisations, voorzieningen and levensgebieden are found by label in case files and text."""
    resolvable = (
        of_type(g, ELI.LegalResource)
        | of_type(g, ELI.LegalResourceSubdivision)
        | of_type(g, ORG.Organization)
        | of_type(g, CPSV.PublicService)
        | in_scheme(g, "levensgebieden")
    )
    owners = defaultdict(set)
    for s in resolvable:
        for label in labels(g, s):
            owners[" ".join(label.casefold().replace("-", " ").split())].add(s)
    shared = {label for label, s in owners.items() if len(s) > 1}
    assert shared == SHARED_BY_DESIGN, f"labels on more than one resource: {shared - SHARED_BY_DESIGN}"
