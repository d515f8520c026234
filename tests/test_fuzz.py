"""Fuzzing: schemathesis over every documented route, hypothesis over the anonymisation gate,
the label resolver, entity linking and the web UI's query parameters.

Schemathesis runs through its ASGI transport against one app on a copy of the small corpus
(schemathesis starts the app's lifespan once and keeps it until the module ends). Its pytest
plugin (`schemathesis.pytest.from_fixture`) does not work with pytest 9 (it sets
`request.node._nodeid`), so each operation's strategy is driven by plain hypothesis here.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import unicodedata
from dataclasses import replace

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi as schemathesis_asgi
from stdnum import iban as stdnum_iban
from stdnum.be import iban as be_iban

from api.app import create_app
from api.settings import Settings
from graph.case import FIELDS as KNOWN_FIELDS
from graph.concepts import KINDS, LINKABLE_KINDS, label_key, tokens
from ingest.anonymise import Finding, find_personal_data
from ingest.checker import RecordChecker
from ingest.problems import ImportRejected
from ingest.readers import parse_stream

KEY = "fuzz-sleutel-3c9d"
AUTH = {"Authorization": f"Bearer {KEY}"}
FAST_EXAMPLES = 25  # per operation, valid and invalid input mixed: about 20 s for all routes here
SLOW_EXAMPLES = 400

# Every operation in /openapi.json. test_every_documented_operation_is_fuzzed fails when a route is
# added or removed, so no route goes unfuzzed without a decision here. Nothing is excluded:
# - /sparql is fuzzed too. Generated strings are almost never valid SPARQL (they get a 400), so this
#   does not probe runaway queries; query time limits belong to graph/sparql.py and its own tests.
#   A 503 (query time limit) would fail this test: with random input it would be a real finding.
# - POST /api/cases is fuzzed with a valid key, so valid generated cases really are imported into
#   this module's copy of the data dir; that is the point (the write path is where 5xx would hide).
OPERATIONS = (
    "GET /health",
    "POST /api/similar-cases",
    "POST /api/check-text",
    "GET /api/cases/{case_id}/similar",
    "GET /api/cases",
    "POST /api/cases",
    "GET /api/cases/{case_id}",
    "GET /api/cases/{case_id}/history",
    "POST /api/check-text",
    "GET /api/laws",
    "GET /api/organisations",
    "GET /api/voorzieningen",
    "GET /api/concepts",
    "GET /sparql",
    "POST /sparql",
    "GET /id/{kind}/{slug}",
    "POST /api/feedback",
)
HYPOTHESIS = {"deadline": None, "database": None, "suppress_health_check": list(HealthCheck)}


@pytest.fixture(scope="module")
def fuzz_app(small_dir, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("fuzz") / "data"
    shutil.copytree(small_dir, data_dir)
    app = create_app(replace(Settings(), data_dir=data_dir, api_keys=(KEY,)))
    yield app
    schemathesis_asgi.shutdown_lifespans()  # closes the store this module opened


@pytest.fixture(scope="module")
def api_schema(fuzz_app):
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)


@pytest.fixture(scope="module")
def http(fuzz_app):
    """A requests session on the same running app (a TestClient would open the data dir a second time)."""
    with schemathesis_asgi.get_client(fuzz_app) as client:
        yield client


@pytest.fixture(scope="module")
def concepts(http, fuzz_app):
    return fuzz_app.state.maatwerk.concepts


def operation(schema, label: str):
    method, path = label.split(" ", 1)
    return schema[path][method]


def assert_clean_error(status: int, content_type: str, content: bytes) -> None:
    """docs/http.md: every error is JSON with a clear message, never a stack trace (HTML pages for browsers)."""
    assert b"Traceback" not in content
    if status >= 400 and not content_type.startswith("text/html"):
        assert content_type.startswith("application/json"), (status, content_type, content[:200])
        assert isinstance(json.loads(content).get("error"), str), content[:200]


def fuzz(op, examples: int) -> None:
    strategy = st.one_of(op.as_strategy(GenerationMode.POSITIVE), op.as_strategy(GenerationMode.NEGATIVE))

    @settings(max_examples=examples, **HYPOTHESIS)
    @given(strategy)
    def run(case):
        response = case.call(headers=AUTH)
        case.validate_response(response, checks=[not_a_server_error])
        content_type = (response.headers.get("content-type") or [""])[0]
        assert_clean_error(response.status_code, content_type, response.content)

    run()


# --- schemathesis -----------------------------------------------------------------------------


def test_every_documented_operation_is_fuzzed(api_schema):
    documented = {f"{op.ok().method.upper()} {op.ok().path}" for op in api_schema.get_all_operations()}
    assert documented == set(OPERATIONS)


@pytest.mark.parametrize("label", OPERATIONS)
def test_no_server_errors(api_schema, label):
    fuzz(operation(api_schema, label), FAST_EXAMPLES)


@pytest.mark.slow
@pytest.mark.parametrize("label", OPERATIONS)
def test_no_server_errors_long(api_schema, label):
    fuzz(operation(api_schema, label), SLOW_EXAMPLES)


# --- raw JSON bodies: what schemathesis does not generate -------------------------------------------
# Schema-driven generation never produces lone surrogates (\ud800 escapes), NaN/Infinity, huge numbers
# or nesting; json.dumps below does, with the import format's field names so the checker gets deep.

# hypothesis' text() leaves out surrogates, so they (and control characters) are mixed in on purpose.
CHARS = st.one_of(st.characters(), st.integers(0xD800, 0xDFFF).map(chr), st.sampled_from("\x00\x1b\t\n\u2028"))
TEXT = st.text(CHARS, max_size=40)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    TEXT,
    st.sampled_from(["Wmo 2015", "UWV", "financiën", "samenwerking", "opgelost", 2023]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(CHARS, max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)
CASE_FIELDS = dict.fromkeys(sorted(KNOWN_FIELDS - {"situation"}), VALUES)
RECORDS = st.one_of(
    VALUES, st.fixed_dictionaries({"situation": st.one_of(st.text(CHARS, min_size=1), VALUES)}, optional=CASE_FIELDS)
)
JSON_BODIES = st.one_of(RECORDS, st.lists(RECORDS, max_size=3)).map(lambda v: json.dumps(v).encode())


@settings(max_examples=60, **HYPOTHESIS)
@given(body=st.one_of(JSON_BODIES, st.binary(max_size=200)))
def test_any_json_import_body_is_answered_cleanly(http, body):
    response = http.post("/api/cases", data=body, headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code < 500, response.text
    assert_clean_error(response.status_code, response.headers.get("content-type", ""), response.content)


@settings(max_examples=60, **HYPOTHESIS)
@given(
    body=st.one_of(
        st.fixed_dictionaries({"text": st.text(CHARS, min_size=1)}, optional={"k": VALUES, "filters": VALUES}), VALUES
    ).map(lambda v: json.dumps(v).encode())
)
def test_any_json_search_body_is_answered_cleanly(http, body):
    response = http.post("/api/similar-cases", data=body, headers={"Content-Type": "application/json"})
    assert response.status_code < 500, response.text
    assert_clean_error(response.status_code, response.headers.get("content-type", ""), response.content)


def csv_bytes(rows: str) -> bytes:
    return ("id,situation,laws\n" + rows).encode("utf-8", "surrogatepass")  # invalid UTF-8 on purpose, at times


@settings(max_examples=80, **HYPOTHESIS)
@given(
    suffix=st.sampled_from([".jsonl", ".json", ".csv"]),
    data=st.one_of(
        st.binary(max_size=300),
        JSON_BODIES,
        st.lists(JSON_BODIES, max_size=3).map(b"\n".join),
        st.text(CHARS, max_size=300).map(csv_bytes),
    ),
)
def test_reading_any_file_gives_records_or_a_clear_refusal(concepts, suffix, data):
    """Import files go through read_records and the checker; anything else than ImportRejected is a bug."""
    try:
        records = list(parse_stream(io.BufferedReader(io.BytesIO(data)), suffix, "bestand"))
    except ImportRejected as exc:
        assert exc.problems and all(p.message for p in exc.problems)
        return
    checker = RecordChecker(concepts)
    for location, raw in records:
        checker.check(location, raw)
    assert all(isinstance(str(p), str) and p.message for p in checker.problems)


# --- the web UI (not in the OpenAPI document) --------------------------------------------------

UI_PARAMS = ("q", "levensgebied", "wet", "organisatie", "voorziening", "knelpunt", "status", "aantal")


def _year_text():
    # Digits outside ASCII ("²", "٣") are included on purpose: str.isdigit() accepts them, int() refuses.
    return st.one_of(st.text(max_size=12), st.text("0123456789²³٣९", max_size=12))


@settings(max_examples=40, **HYPOTHESIS)
@given(
    params=st.dictionaries(st.sampled_from(UI_PARAMS), st.text(max_size=60), max_size=4),
    years=st.dictionaries(st.sampled_from(("jaar_van", "jaar_tot")), _year_text(), max_size=2),
    case_id=st.text(min_size=1, max_size=40),
)
def test_ui_pages_never_5xx(http, params, years, case_id):
    for path, query in (("/", {**params, **years}), ("/systeemleren", years)):
        response = http.get(path, params=query)
        assert response.status_code < 500, (path, query)
    response = http.get("/casus/" + case_id.replace("/", "%2F"))
    assert response.status_code < 500 and b"Traceback" not in response.content


@pytest.mark.parametrize(
    "path",
    [
        "/?q=schulden&jaar_van=%C2%B2",
        "/systeemleren?jaar_tot=%C2%B2",
        "/?q=schulden&jaar_tot=%D9%A3",
        "/?q=schulden&jaar_tot=" + "9" * 5000,
        "/systeemleren?jaar_van=" + "9" * 5000,
        "/systeemleren?jaar_van=20233",
    ],
)
def test_ui_year_parameters_that_are_no_year_get_a_dutch_message(http, path):
    """'²'.isdigit() is true but int('²') raises, and so does int() on over 4300 digits (was a 500)."""
    response = http.get(path)
    assert response.status_code == 200, response.status_code
    assert "moet een jaartal zijn, bijvoorbeeld 2023" in response.text and "Traceback" not in response.text


def test_ui_year_parameters_that_are_years_still_filter(http):
    response = http.get("/systeemleren", params={"jaar_van": " 2019 ", "jaar_tot": "2030"})
    assert response.status_code == 200 and "moet een jaartal zijn" not in response.text


# --- anonymisation gate: IBANs from other countries ------------------------------------------------
# tests/test_anonymise.py already covers random valid BSNs (all layouts) and Dutch IBANs in random text;
# this adds IBANs of other countries, whose account parts hold letters or other lengths.

# country -> BBAN layout from the IBAN registry: (count, "n" digits / "a" capitals / "c" either)
BBAN_LAYOUTS = {
    "BE": [(12, "n")],
    "DE": [(18, "n")],
    "FR": [(10, "n"), (11, "c"), (2, "n")],
    "GB": [(4, "a"), (14, "n")],
    "AT": [(16, "n")],
    "LU": [(3, "n"), (13, "c")],
    "IT": [(1, "a"), (10, "n"), (12, "c")],
    "DK": [(14, "n")],
}
BE_BANKS = [code for code in (f"{n:03d}" for n in range(1000)) if be_iban.info(f"BE00{code}000000000")]
CHARSETS = {"n": "0123456789", "a": "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "c": "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
WORDS = [
    "de",
    "gemeente",
    "heeft",
    "het",
    "bedrag",
    "voor",
    "de",
    "huur",
    "en",
    "de",
    "zorgtoeslag",
    "overgemaakt",
    "naar",
    "rekening",
    "van",
    "meneer",
    "bij",
    "een",
    "bank",
    "in",
    "het",
    "buitenland",
    "volgens",
    "het",
    "dossier",
]


def _mod97(text: str) -> int:
    return int("".join(str(int(c, 36)) for c in text)) % 97


@st.composite
def foreign_iban(draw):
    country = draw(st.sampled_from(sorted(BBAN_LAYOUTS)))
    bban = "".join(draw(st.text(CHARSETS[kind], min_size=n, max_size=n)) for n, kind in BBAN_LAYOUTS[country])
    if country == "BE":  # a known bank code and the account's own mod-97 check, both verified by stdnum
        bban = draw(st.sampled_from(BE_BANKS)) + bban[3:10]
        bban += f"{int(bban) % 97 or 97:02d}"
    compact = f"{country}{98 - _mod97(bban + country + '00'):02d}{bban}"
    grouped = draw(st.booleans())
    return compact, " ".join(compact[i : i + 4] for i in range(0, len(compact), 4)) if grouped else compact


@settings(max_examples=150, **HYPOTHESIS)
@given(
    foreign_iban(),
    st.lists(st.sampled_from(WORDS), max_size=10),
    st.sampled_from(WORDS),
    st.sampled_from(["", ",", ".", ";", ")"]),
)
def test_random_valid_foreign_iban_is_found_with_exact_span(iban, before, after, punct):
    compact, shown = iban
    assert stdnum_iban.is_valid(compact)  # the generator itself must be right
    text = " ".join([*before, shown]) + f"{punct} {after} rest"
    start = text.index(shown)
    assert Finding("IBAN", start, start + len(shown), shown) in find_personal_data(text)


# --- label resolution ------------------------------------------------------------------------------
# graph/concepts.py promises: labels, altLabels, abbreviations and ids resolve case- and
# accent-insensitively; hyphens, slashes and underscores count as spaces; '&' and 'en' are equal.

ACCENTED = dict(zip("aeiouAEIOU", "áëïöüÁÉÏÓÜ"))


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def test_every_label_resolves_to_its_concept_in_every_spelling(concepts):
    labels = concepts.labels()
    assert len(labels) > 500
    for label, concept in labels:
        for variant in (
            label,
            label.upper(),
            label.lower(),
            f"  {label}\t",
            strip_accents(label),
            label.replace(" ", "   "),
            label.replace(" ", "-"),
            label.replace(" & ", " en "),
        ):
            assert concept in concepts.resolve(concept.kind, variant), (label, variant)


@st.composite
def respelled(draw, text: str) -> str:
    """`text` with random case, accents added or removed, and word separators changed."""
    out = []
    for ch in strip_accents(text) if draw(st.booleans()) else text:
        if ch == " ":
            ch = draw(st.sampled_from([" ", "  ", "-", " - ", "\t", "_", "/"]))
        elif ch.isalpha():
            ch = draw(st.sampled_from([ch, ch.upper(), ch.lower(), ACCENTED.get(ch, ch)]))
        out.append(ch)
    padding = st.sampled_from(["", " ", "  ", "\n"])
    return draw(padding) + "".join(out) + draw(padding)


@settings(max_examples=200, **HYPOTHESIS)
@given(data=st.data())
def test_respelled_labels_resolve_to_their_concept(concepts, data):
    label, concept = data.draw(st.sampled_from(concepts.labels()))
    variant = data.draw(respelled(label))
    assert concept in concepts.resolve(concept.kind, variant), (label, variant)


@settings(max_examples=200, **HYPOTHESIS)
@given(kind=st.sampled_from((*KINDS, "onbekend")), label=st.text(max_size=200))
def test_resolve_never_raises_and_keeps_to_its_kind(concepts, kind, label):
    found = concepts.resolve(kind, label)
    assert all(c.kind == kind and c.iri in concepts.concepts for c in found)


@settings(max_examples=100, **HYPOTHESIS)
@given(kind=st.sampled_from(KINDS), label=st.text(max_size=80), n=st.integers(1, 10))
def test_suggestions_are_few_existing_labels(concepts, kind, label, n):
    known = {lab for lab, c in concepts.labels((kind,))}
    found = concepts.suggestions(kind, label, n)
    assert len(found) <= n and len(set(found)) == len(found) and set(found) <= known


# --- entity linking --------------------------------------------------------------------------------

FILLER = st.lists(
    st.sampled_from(["Zij", "vroeg", "hulp", "aan", "bij", "na", "een", "brief", "over", "maar"]), max_size=6
).map(" ".join)


@settings(max_examples=150, **HYPOTHESIS)
@given(text=st.one_of(st.text(max_size=400), st.lists(st.one_of(st.text(max_size=8), FILLER)).map(" ".join)))
def test_linking_arbitrary_text_never_raises_and_finds_known_concepts(concepts, text):
    for concept in concepts.linked_concepts(text):
        assert concepts.concepts[concept.iri] == concept and concept.kind in LINKABLE_KINDS


@pytest.fixture(scope="module")
def linkable(concepts) -> list[tuple[str, str]]:
    """(label, IRI) of what entity linking looks for: pref, alt and title labels of the linkable kinds."""
    return sorted(
        {(label, c.iri) for label, c in concepts.labels(tuple(LINKABLE_KINDS)) if label in concepts.labels_of(c.iri)}
    )


@settings(max_examples=150, **HYPOTHESIS)
@given(data=st.data(), before=FILLER, after=FILLER)
def test_a_label_in_a_sentence_is_linked(concepts, linkable, data, before, after):
    label, iri = data.draw(st.sampled_from(linkable))
    text = f"{before} {data.draw(respelled(label))} {after}."
    found = concepts.linked_concepts(text)
    # Longest match wins, so a longer label around this one may be what is found instead; then that
    # longer match must still contain every token of this label.
    assert iri in {c.iri for c in found} or any(
        set(label_key(label)) <= set(label_key(m.text)) for m in concepts.link(text)
    ), (label, text)


@settings(max_examples=150, **HYPOTHESIS)
@given(data=st.data(), before=FILLER, after=FILLER, gaps=st.lists(st.integers(0, 2), min_size=8, max_size=8))
def test_a_label_with_other_words_between_its_own_is_linked_with_gap(concepts, linkable, data, before, after, gaps):
    # a gapped match never crosses a full stop, not even one of the label's own ("art. 10d")
    multiword = [(lab, i) for lab, i in linkable if len(label_key(lab)) >= 2 and not re.search("[.!?;]", lab)]
    label, iri = data.draw(st.sampled_from(multiword))
    # up to two words in all go between the label's words
    budget, parts = 2, []
    for n, word in zip(gaps, label.split(), strict=False):
        parts += [word] + ["vaak"] * min(n, budget)
        budget -= min(n, budget)
    text = f"{before} {' '.join(parts)} {after}."
    mentions = concepts.link(text, gap=2)
    assert iri in {m.concept.iri for m in mentions} or any(
        set(label_key(label)) <= set(label_key(m.text)) for m in mentions
    ), (label, text)
    for m in mentions:  # each mention holds its label's words in order, at most two others between
        key, found = label_key(m.text), [k for k in concepts._link_labels if m.concept.iri in concepts._link_labels[k]]
        assert any(_in_order(k, key) and len(key) - len(k) <= 2 for k in found), (m.text, text)


def _in_order(needle: tuple[str, ...], haystack: tuple[str, ...]) -> bool:
    rest = iter(haystack)
    return all(word in rest for word in needle)


def test_mention_spans_point_at_the_label_after_a_ligature(concepts):
    """fold() turns 'ﬁ' into two characters: spans must still index the original text."""
    mentions = concepts.link("De ﬁnanciële hulp via de Wmo 2015 stopte.")
    assert "Wmo 2015" in [m.text for m in mentions]


# Characters whose folded form is longer ('ﬁ' -> 'fi', '㎏' -> 'kg', '…' -> '...'), shorter (a lone
# combining accent) or the same length, mixed with plain text.
SHIFTING = ["ﬁ", "ﬂ", "㎏", "…", "™", "①", "ǅ", "İ", "\u0301", "é", "ß", "Σ", "-", "ＷＭＯ"]


@settings(max_examples=150, **HYPOTHESIS)
@given(
    data=st.data(),
    before=st.lists(st.one_of(st.sampled_from(SHIFTING), FILLER), max_size=8).map(" ".join),
    after=st.lists(st.one_of(st.sampled_from(SHIFTING), FILLER), max_size=4).map(" ".join),
)
def test_every_mention_text_is_a_label_of_its_concept(concepts, linkable, data, before, after):
    label, _iri = data.draw(st.sampled_from(linkable))
    text = f"{before} {label} {after}"
    mentions = concepts.link(text)
    assert mentions, text
    for m in mentions:
        assert m.concept.iri in concepts._link_labels.get(label_key(m.text), ()), (m.text, m.concept.label, text)


@settings(max_examples=300, **HYPOTHESIS)
@given(
    text=st.lists(st.one_of(st.characters(), st.sampled_from([*SHIFTING, "½", "ﬃ", "㍱"])), max_size=40).map("".join)
)
def test_token_spans_index_the_original_text(text):
    for stem, start, end in tokens(text):
        assert 0 <= start < end <= len(text)
        assert stem in {t for t, _, _ in tokens(text[start:end])}, (text, stem, text[start:end])
