"""Writes gate_set.jsonl: the labelled set that measures the privacy gate.

Each line is {"id", "split", "kind", "span", "text"}: `kind` is null for a
clean sentence, else the kind of personal data and `span` the exact offending
text inside `text`. Values are synthetic (valid check digits where the real
thing has them); sentences are written for the Dutch social domain. The
two halves draw from disjoint halves of every pool (names, streets, e-mail
names, institutions, sentence frames), so "heldout" (never looked at while
tuning the gate) also measures names and frames the detectors were not tuned on. Run: python tests/data/gate/make_gate_set.py
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from stdnum import iban as stdnum_iban

OUT = Path(__file__).with_name("gate_set.jsonl")
rng = random.Random(20261206)
SPLIT = 0  # 0: tune, 1: heldout


def pick(pool):
    """A random element of this split's half of the pool."""
    return rng.choice(pool[SPLIT::2])


CONTEXTS = [
    "Tijdens het keukentafelgesprek noemde de cliënt {x} als gegeven voor het dossier.",
    "In de aanvraag voor bijzondere bijstand staat {x}, dat hoort daar niet.",
    "De consulent van het wijkteam noteerde {x} in het verslag van het huisbezoek.",
    "Bij de melding over de huurachterstand werd {x} vermeld.",
    "De schuldhulpverlener heeft {x} doorgegeven aan de bewindvoerder.",
    "Het bezwaarschrift tegen de Wmo-beschikking bevat {x}.",
    "{x} staat in de brief over de terugvordering van de toeslag.",
    "Volgens de jeugdconsulent is {x} bekend bij Veilig Thuis.",
]


def elfproef_ok(digits: str) -> bool:
    total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1))) - int(digits[8])
    return total % 11 == 0


def bsn() -> str:
    while True:
        d = f"{rng.randint(10_000_000, 99_999_999)}{rng.randint(0, 9)}"
        if elfproef_ok(d):
            return d


def not_bsn() -> str:
    while True:
        d = f"{rng.randint(100_000_000, 999_999_999)}"
        if not elfproef_ok(d):
            return d


def iban(country="NL") -> str:
    banks = ["ABNA", "INGB", "RABO", "SNSB", "ASNB", "TRIO", "KNAB", "BUNQ", "RBRB"]
    if country == "NL":
        bban = rng.choice(banks) + "".join(rng.choice("0123456789") for _ in range(10))
    elif country == "BE":
        head = rng.randint(10**9, 10**10 - 1)
        bban = f"{head:010d}{head % 97 or 97:02d}"
    else:
        bban = "".join(rng.choice("0123456789") for _ in range(18))
    number = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    code = f"{country}{98 - number % 97:02d}{bban}"
    # stdnum also checks national rules (a known Belgian bank code): only real-looking numbers.
    return code if stdnum_iban.is_valid(code) else iban(country)


def bsn_forms():
    for _ in range(10):
        d = bsn()
        yield (
            rng.choice(
                [
                    d,
                    f"{d[:3]}-{d[3:6]}-{d[6:]}",
                    f"{d[:4]} {d[4:6]} {d[6:]}",
                    f"{d[:2]}.{d[2:4]}.{d[4:6]}.{d[6:]}",
                    f"{d[:3]}.{d[3:6]}.{d[6:]}",
                    f"{d[:3]}\u00a0{d[3:6]}\u00a0{d[6:]}",
                    f"{d[:4]}\u200b{d[4:]}",
                    f"{d[:3]} {d[3:6]} {d[6:]}",
                    "".join(chr(0xFF10 + int(c)) for c in d),
                    f"{d[:4]}.{d[4:6]}.{d[6:]}",
                ]
            ),
            "",
        )
    for _ in range(4):
        d = bsn()
        yield d, rng.choice(["BSN", "bsn:", "BSN:", "Burgerservicenummer "])


def iban_forms():
    for _ in range(12):
        code = iban(rng.choice(["NL", "NL", "NL", "BE", "DE"]))
        grouped = " ".join(code[i : i + 4] for i in range(0, len(code), 4))
        yield (
            rng.choice(
                [
                    code,
                    grouped,
                    code.lower(),
                    grouped.lower(),
                    "-".join(code[i : i + 4] for i in range(0, len(code), 4)),
                    f"{code[:2]} {code[2:4]} {code[4:8]} {code[8:11]} {code[11:]}",
                    grouped.replace(" ", "\u00a0"),
                    f"{code[:4]} {code[4:]}",
                ]
            ),
            "",
        )


def phone_forms():
    for _ in range(16):
        rest = f"{rng.randint(1, 9)}{rng.randint(0, 9_999_999):07d}"
        area, _local = rng.choice([("38", 7), ("20", 7), ("10", 7), ("30", 7), ("591", 6), ("50", 7), ("6", 8)])
        digits = (area + rest)[:9]
        if area == "6":
            digits = "6" + rng.choice("123458") + rest[1:8]
        a, r = digits[: len(area)], digits[len(area) :]
        yield (
            rng.choice(
                [
                    f"0{a}-{r}",
                    f"0{a}{r}",
                    f"0{a} {r[:3]} {r[3:5]} {r[5:]}" if len(r) == 7 else f"0{a} {r[:4]} {r[4:]}",
                    "0" + ".".join([a] + [r[i : i + 2] for i in range(0, len(r), 2)])
                    if len(r) == 8
                    else f"0{a}.{r[:3]}.{r[3:5]}.{r[5:]}",
                    f"+31 {a} {r}",
                    f"+31 (0){a}-{r}",
                    f"0031{a}{r}",
                    f"0{a}\u2013{r}",
                    f"0{a}\u00a0{r}",
                    f"(0{a}) {r}",
                    f"+31{a}{r}",
                    f"0{a} - {r}",
                ]
            ),
            "",
        )


FIRST = [
    "Fatima",
    "Mohamed",
    "Youssef",
    "Ayşe",
    "Mehmet",
    "Emre",
    "Daan",
    "Sanne",
    "Lotte",
    "Bram",
    "Anouk",
    "Priya",
    "Ravi",
    "Shanti",
    "Rayen",
    "Marisol",
    "Jurgen",
    "Kasia",
    "Piotr",
    "Agnieszka",
    "Tomasz",
    "Omar",
    "Rania",
    "Ahmad",
    "Nour",
    "Yonas",
    "Selam",
    "Filmon",
    "Abdi",
    "Hodan",
    "Farhan",
    "Zahra",
    "Mustafa",
    "Olena",
    "Dmytro",
    "Oksana",
    "Wei",
    "Mei",
    "Jun",
    "Lucas",
    "Noah",
    "Emma",
    "Julia",
    "Thijs",
    "Femke",
    "Mila",
    "Sem",
    "Khadija",
    "Hamza",
    "Elif",
    "Burak",
    "Zeynep",
    "Sunita",
    "Rajesh",
    "Jurriën",
    "Shaquille",
    "Anastasia",
    "Marek",
    "Zofia",
    "Yara",
    "Samir",
    "Ahmed",
    "Tesfalem",
    "Saba",
    "Hamdi",
    "Ayaan",
    "Farid",
    "Zarmina",
    "Iryna",
    "Bohdan",
    "Xiaoming",
    "Lin",
    "Ruben",
    "Esther",
    "Finn",
    "Saar",
]
SURNAMES = [
    "Jansen",
    "de Vries",
    "Bakker",
    "van den Berg",
    "El Amrani",
    "Yılmaz",
    "Öztürk",
    "Ramdin",
    "Martina",
    "Kowalski",
    "Nowak",
    "Al-Hassan",
    "Tesfay",
    "Warsame",
    "Ahmadi",
    "Kovalenko",
    "Chen",
    "van Dijk",
    "Bouzid",
    "Kaya",
    "Pinas",
    "Isenia",
    "Haddad",
    "Abdi",
    "Shevchenko",
    "Visser",
    "Mulder",
    "Doelwijt",
    "Meijer",
    "Ait Taleb",
    "Çelik",
    "Sewdien",
    "Rosario",
    "Wiśniewska",
    "Gebremedhin",
    "Hussein",
    "Rahimi",
    "Bondarenko",
    "Wang",
    "van der Linden",
    "Bos",
    "Benali",
    "Demir",
    "Kalloe",
    "Coffie",
    "Zieliński",
    "Al-Khatib",
    "Tekle",
    "Farah",
    "Karimi",
    "Melnyk",
    "Liu",
    "Smit",
    "de Jong",
    "Ouali",
    "Aydın",
    "Ramsaran",
    "Statia",
    "Lewandowski",
    "Darwish",
    "Haile",
    "Osman",
    "Noori",
    "Tkachenko",
    "Huang",
    "Hendriks",
    "van Leeuwen",
    "Chaara",
    "Şahin",
    "Jagessar",
    "Felida",
    "Kamińska",
    "Sabbagh",
    "Berhane",
    "Jama",
    "Sultani",
    "Savchenko",
    "Zhou",
    "Dekker",
    "Kramer",
    "Azzouzi",
    "Doğan",
    "Baldewsingh",
]


def email_forms():
    domains = ["hotmail.com", "gmail.com", "ziggo.nl", "kpnmail.nl", "outlook.com", "casema.nl", "live.nl"]
    for _ in range(14):
        local = pick(
            [
                "fatima.elamrani",
                "j.devries",
                "mehmet1978",
                "kasia_nowak",
                "yonas.t",
                "pinas.r",
                "oma.bakker",
                "olena.k",
                "wei.chen",
                "daan2009",
                "h.warsame",
            ]
        )
        name, tld = pick(domains).rsplit(".", 1)
        yield (
            rng.choice(
                [
                    f"{local}@{name}.{tld}",
                    f"{local} [at] {name} [dot] {tld}",
                    f"{local}(at){name}.{tld}",
                    f"{local} at {name}.{tld}",
                    f"{local} @ {name}.{tld}",
                    f"{local}＠{name}.{tld}",
                    f"{local}[at]{name}(punt){tld}",
                    f"{local.upper()}@{name.upper()}.{tld.upper()}",
                ]
            ),
            "",
        )


STREETS = [
    "Kerkstraat",
    "Dorpsstraat",
    "Molenweg",
    "Wilhelminalaan",
    "Stationsplein",
    "Julianastraat",
    "Beatrixlaan",
    "Schoolstraat",
    "Hoofdweg",
    "Emmasingel",
    "Kanaalkade",
    "Voorstraat",
    "Burgwal",
    "Rozengracht",
    "Esdoornhof",
    "Lindendreef",
    "Populierenpad",
    "Zuiderdijk",
]
LONG_STREETS = [
    "Laan van Meerdervoort",
    "Oude Gracht",
    "Lange Nieuwstraat",
    "Van Goghstraat",
    "Johan de Wittlaan",
    "Burgemeester de Withstraat",
    "Prins Hendrikkade",
    "Nieuwe Binnenweg",
    "Oude Kerkstraat",
    "Jan van Galenstraat",
    "Plein 1992",
    "Heer Bokelweg",
]


def house():
    return rng.choice(
        [
            str(rng.randint(1, 250)),
            f"{rng.randint(1, 99)}a",
            f"{rng.randint(1, 99)}-II",
            f"{rng.randint(1, 99)} bis",
            f"{rng.randint(1, 99)}B",
        ]
    )


def address_forms():
    for _ in range(18):
        street = pick(STREETS)
        no = house()
        pc = f"{rng.randint(1000, 9999)}"
        letters = rng.choice(["AB", "KL", "GH", "TR", "BP", "XN", "DM"])
        yield (
            rng.choice(
                [
                    f"{street} {no}",
                    f"{street[:-4]}str. {no}" if street.endswith("straat") else f"{street} {no}",
                    f"{street.upper()} {no}",
                    f"{street.lower()} {no}",
                    f"{pick(LONG_STREETS)} {no}",
                    f"{pc} {letters}",
                    f"{pc}{letters}",
                    f"{pc} {letters.lower()} Zwolle",
                    f"{pc}-{letters} {no}",
                    f"{street} {no}, {pc} {letters}",
                    f"{pick(LONG_STREETS)} {no}",
                ]
            ),
            "",
        )


MONTHS = [
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
]


def birth_forms():
    for _ in range(16):
        d, m, y = rng.randint(1, 28), rng.randint(1, 12), rng.randint(1935, 2022)
        day = rng.choice(["maandag", "dinsdag", "woensdag", "zaterdag"])
        forms = [
            ("geboren op ", f"{d} {MONTHS[m - 1]} {y}"),
            ("geb. ", f"{d:02d}-{m:02d}-{y}"),
            ("(°", f"{d:02d}-{m:02d}-{y}"),
            ("geb ", f"{d} {MONTHS[m - 1]} {y}"),
            (f"geboren op {day} ", f"{d} {MONTHS[m - 1]} {y}"),
            ("geboortedatum: ", f"{d:02d}/{m:02d}/{y}"),
            ("* ", f"{d}-{m}-{y}"),
            ("geboren ", f"{y}-{m:02d}-{d:02d}"),
            ("geb.datum ", f"{d}.{m}.{y}"),
            ("geboren te Tilburg op ", f"{d} {MONTHS[m - 1]} {y}"),
            ("Geboren: ", f"{d:02d}-{m:02d}-{y}"),
        ]
        yield rng.choice(forms)[::-1]


BIRTH_CONTEXTS = [
    "De zoon ({p}{x}{q}) gaat sinds kort naar het speciaal onderwijs.",
    "Cliënt, {p}{x}{q}, vraagt een indicatie voor begeleiding aan.",
    "Mevrouw is {p}{x}{q} en woont sinds haar scheiding alleen.",
    "In het dossier staat dat de dochter {p}{x}{q} is, wat voor de toeslag telt.",
    "Het kind ({p}{x}{q}) heeft een indicatie voor jeugdhulp.",
]


def name_forms():
    sal = ["mevrouw", "meneer", "mevr.", "dhr.", "de heer", "mw.", "familie", "Mevrouw", "Meneer"]
    for _ in range(30):
        last = pick(SURNAMES)
        first = pick(FIRST)
        yield rng.choice(
            [
                (f"{first} {last}", ""),
                (last, rng.choice(sal) + " "),
                (last.lower(), rng.choice(sal[:6]) + " "),
                (f"{last[0].upper() + last[1:]}, {first[0]}.", ""),
                (f"{last[0].upper() + last[1:]}, {first}", ""),
                (first, rng.choice(["zoon ", "dochter ", "broertje ", "zus ", "moeder ", "partner "]) + "__AGE__"),
                (f"{first[0]}. {last}", ""),
                (f"{first} {last[0].upper() + last[1:]}", ""),
            ]
        )


NAME_CONTEXTS = [
    "Tijdens het huisbezoek vertelde {p}{x} over de schulden bij de energieleverancier.",
    "Het gesprek met {p}{x} ging over de wachttijd voor beschermd wonen.",
    "De mantelzorg wordt vooral gedaan door {p}{x}, die zelf ook ziek is.",
    "Volgens het verslag heeft {p}{x} de afspraak bij het UWV gemist.",
    "De consulent belde {p}{x} terug over de beschikking.",
    "Bij de aanmelding was {p}{x} aanwezig, samen met een tolk.",
]


def positives():
    items = []

    def add(kind, value, prefix, contexts, fmt="{p}{x}{q}"):
        text = pick(contexts)
        age = ""
        if prefix.endswith("__AGE__"):
            prefix, age = prefix[:-7], f" ({rng.randint(3, 17)})"
        if "{p}" not in text:
            text = text.replace("{x}", "{p}{x}{q}")
        items.append({"kind": kind, "span": value, "text": text.format(p=prefix, x=value, q=age)})

    for _ in range(4):
        for v, p in bsn_forms():
            add("BSN", v, p + (" " if p and not p.endswith(" ") and rng.random() < 0.5 else ""), CONTEXTS)
        for v, prefix in iban_forms():
            add("IBAN", v, prefix, CONTEXTS)
        for v, prefix in phone_forms():
            add("TELEFOON", v, prefix, CONTEXTS)
        for v, prefix in email_forms():
            add("E-MAIL", v, prefix, CONTEXTS)
        for v, prefix in address_forms():
            add("ADRES", v, prefix, CONTEXTS)
        for v, p in birth_forms():
            add("GEBOORTEDATUM", v, p, BIRTH_CONTEXTS)
        for v, p in name_forms():
            add("NAAM", v, p, NAME_CONTEXTS)
    return items


CLEAN = [
    "Het {inst} biedt dagbesteding aan jongeren met een licht verstandelijke beperking.",
    "De cliënt wordt behandeld in het {inst} en wacht op een plek in beschermd wonen.",
    "Via de {inst} kreeg het gezin een bijdrage voor schoolkosten.",
    "Het project {project} loopt nog tot het einde van het jaar.",
    "Volgens {law} moet de gemeente binnen acht weken beslissen.",
    "De schuld bedraagt {amount} en is ontstaan door een terugvordering.",
    "{case} is in behandeling bij de afdeling bezwaar en beroep.",
    "De beschikking is gedateerd {date} en is te laat verstuurd.",
    "Mevrouw is {age} en woont al jaren zelfstandig met hulp van haar dochter.",
    "De zoon van {age2} jaar gaat naar het voortgezet speciaal onderwijs.",
    "Voor vragen over toeslagen kan het gezin bellen met {service}.",
    "In het systeem staat nummer {bad9}, maar dat blijkt geen geldig BSN te zijn.",
    "De regeling staat in {bwb} en geldt sinds de decentralisatie.",
    "Het college van burgemeester en wethouders besloot op {date} tot een maatwerkvoorziening.",
    "Meneer ({age3}) heeft sinds {date} een indicatie voor huishoudelijke hulp via het {inst}.",
    "De {age2}-jarige dochter is aangemeld bij het {inst} voor een onderzoek.",
    "Na {law} volgde een hoorzitting; het bezwaar over {amount} werd gegrond verklaard.",
    "De wachtlijst bij het {inst} is {age3} weken; {case} loopt nog.",
    "Op {date} is het gezin verhuisd naar een woning van de corporatie in het project {project}.",
    "Moeder en zoon wonen samen; de vader is in {year} overleden en er is een schuld van {amount}.",
]
INSTITUTIONS = [
    "Jan van Es Instituut",
    "Antoni van Leeuwenhoek ziekenhuis",
    "Prinses Máxima Centrum",
    "Wilhelmina Kinderziekenhuis",
    "Dr. Schaepmanschool",
    "Stichting Jan Pieter Heije",
    "Jeroen Bosch Ziekenhuis",
    "Albert Schweitzer ziekenhuis",
    "Koning Willem I College",
    "Anne Frank Stichting",
    "Maria Montessorischool",
    "Pieter Baan Centrum",
    "Sophia Kinderziekenhuis",
    "Willem de Zwijger College",
    "Johannes Wier Stichting",
    "Rembrandt College",
    "Sint Maartenskliniek",
    "Erasmus Universiteit",
    "Dr. Leo Kannerhuis",
    "Vincent van Gogh instituut",
    "Reinier de Graaf Gasthuis",
    "Juliana Kinderziekenhuis",
    "Stichting Leergeld",
    "Jeugdfonds Sport & Cultuur",
]
PROJECTS = [
    "Kerkstraat 2023",
    "Dorpsstraat 2030",
    "Stationsplein 2024",
    "Wijkaanpak Molenweg 2025",
    "Zuiderpark 2022",
    "Kanaalzone 2026",
    "Schoolstraat 2021",
]
LAWS = [
    "art. 2.3.5 Wmo 2015",
    "artikel 8a lid 1 Jeugdwet",
    "art. 4:17 Awb",
    "artikel 35 Participatiewet",
    "art. 12 lid 2 Wet langdurige zorg",
    "artikel 2.1.3 Wmo 2015",
    "art. 7:658 BW",
    "artikel 6:2 Awb",
    "art. 3.2 Jeugdwet",
    "artikel 18 lid 2 Participatiewet",
]


def amounts():
    return rng.choice(
        [
            f"€ {rng.randint(100, 999)}.{rng.randint(100, 999)}.{rng.randint(100, 999)}",
            f"€ {rng.randint(1, 99)}.{rng.randint(100, 999)},{rng.randint(10, 99)}",
            f"{rng.randint(100, 999)}.{rng.randint(100, 999)}.{rng.randint(100, 999)} euro",
            f"EUR {rng.randint(1000, 99999)}",
        ]
    )


def clean_items():
    items = []
    for _ in range(30):
        for template in CLEAN[SPLIT::2]:
            d, m, y = rng.randint(1, 28), rng.randint(1, 12), rng.randint(2015, 2025)
            text = template.format(
                inst=pick(INSTITUTIONS),
                project=pick(PROJECTS),
                law=pick(LAWS),
                amount=amounts(),
                case=rng.choice(["Zaaknummer", "Dossiernummer", "Kenmerk", "Zaak", "Factuurnummer"]) + f" {bsn()}",
                date=rng.choice([f"{d}-{m}-{y}", f"{d} {MONTHS[m - 1]} {y}", f"{d:02d}/{m:02d}/{y}"]),
                age=rng.choice([f"{rng.randint(18, 95)} jaar", f"{rng.randint(18, 95)} jaar oud"]),
                age2=f"{rng.randint(4, 17)}",
                age3=rng.randint(18, 95),
                year=rng.randint(1990, 2024),
                service=rng.choice(["0800-0543", "14 020", "0800-1234", "14 050", "0900-8844", "112", "0800 2345"]),
                bad9=not_bsn(),
                bwb=f"BWBR00{rng.randint(10000, 99999)}",
            )
            items.append({"kind": None, "span": None, "text": text})
    return items


def main():
    global SPLIT
    seen, rows = set(), []
    for SPLIT, split in enumerate(("tune", "heldout")):  # noqa: B007 - SPLIT is the global the generators read
        for item in positives() + clean_items():
            if item["text"] not in seen:
                seen.add(item["text"])
                rows.append({"split": split, **item})
    with OUT.open("w", encoding="utf-8") as out:
        for i, row in enumerate(rows):
            out.write(json.dumps({"id": i, **row}, ensure_ascii=False) + "\n")
    kinds = {}
    for row in rows:
        kinds[row["kind"]] = kinds.get(row["kind"], 0) + 1
    print(len(rows), kinds)


if __name__ == "__main__":
    main()
