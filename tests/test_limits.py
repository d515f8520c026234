"""Input limits, hostile input and authentication (docs/http.md, SECURITY.md), over ASGI, the CLI and a real server.

What tests/test_api.py already checks is not repeated here: text over the limit (413), k 0/101 on
POST /api/similar-cases, page_size 101 and page 0, a body over a lowered limit (by Content-Length),
401 for a missing or wrong key, 403 without configured keys, CORS off by default and a preflight
when configured.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import subprocess
import threading
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
from fastapi.testclient import TestClient

import api.routes.cases
from api.app import create_app
from api.core import Maatwerk
from api.settings import Settings
from graph import KnowledgeGraph
from ingest.bwb import BwbError
from ingest.problems import ImportRejected
from ingest.readers import MAX_LINE_CHARS
from tests.conftest import MAATWERK, running_server

KEY = "limiet-sleutel-51e8a7"
AUTH = {"Authorization": f"Bearer {KEY}"}
SITUATION = "Een vrouw wacht al maanden op een beslissing van het UWV over haar uitkering."
GOOD_CASE = {"id": "lim-goed", "situation": SITUATION, "laws": ["WIA"]}
LIMIT = Settings().max_body_bytes


@pytest.fixture(scope="module")
def settings(small_dir, tmp_path_factory) -> Settings:
    data_dir = tmp_path_factory.mktemp("limits") / "data"
    shutil.copytree(small_dir, data_dir)
    return replace(Settings(), data_dir=data_dir, api_keys=(KEY,), cors_origins=())


@pytest.fixture(scope="module")
def client(settings):
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def override(client):
    """Change the running app's settings for one test."""
    original = client.app.state.settings

    def set_(**changes):
        client.app.state.settings = replace(original, **changes)

    yield set_
    client.app.state.settings = original


def cases(client) -> int:
    return client.get("/health").json()["cases"]


def assert_error(response, status: int, *phrases: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body["error"], str) and body["error"] and "Traceback" not in response.text
    text = json.dumps(body, ensure_ascii=False)
    assert all(p in text for p in phrases), (phrases, text)
    return body


# --- request size ------------------------------------------------------------------------------------

WRITES = [
    ("/api/similar-cases", "application/json"),
    ("/api/cases", "application/json"),
    ("/sparql", "application/sparql-query"),
]


@pytest.mark.parametrize("path, content_type", WRITES)
def test_body_over_the_default_limit_is_413_by_content_length(client, path, content_type):
    before = cases(client)
    response = client.post(path, content=b" " * (LIMIT + 1), headers={**AUTH, "Content-Type": content_type})
    assert_error(response, 413, str(LIMIT))
    assert cases(client) == before


@pytest.mark.parametrize("path, content_type", WRITES)
def test_streamed_body_without_length_is_cut_off_at_the_limit(client, path, content_type):
    def chunks():  # no Content-Length: the limit has to be counted while reading
        for _ in range(LIMIT // 100_000 + 2):
            yield b" " * 100_000

    response = client.post(path, content=chunks(), headers={**AUTH, "Content-Type": content_type})
    assert "content-length" not in response.request.headers
    assert_error(response, 413, str(LIMIT))


def test_body_just_under_the_limit_is_read(client):
    body = b'{"text": "schulden bij de gemeente", "k": 1}'
    padded = body[:-1] + b" " * (LIMIT - len(body)) + b"}"
    response = client.post("/api/similar-cases", content=padded, headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text


# --- text, k and paging --------------------------------------------------------------------------------


def test_text_at_the_limit_is_accepted_and_one_over_says_the_limit(client):
    limit = Settings().max_text_chars
    assert client.post("/api/similar-cases", json={"text": "schuld " * (limit // 7), "k": 1}).status_code == 200
    assert_error(client.post("/api/similar-cases", json={"text": "x" * (limit + 1)}), 413, f"hoogstens {limit}")


def test_case_text_over_the_limit_is_refused_on_import(client):
    before = cases(client)
    case = {**GOOD_CASE, "situation": "De aanvraag loopt vast. " * 1000}
    assert_error(client.post("/api/cases", json=case, headers=AUTH), 422, "langer dan 20000")
    assert cases(client) == before


@pytest.mark.parametrize("k", ["0", "-1", "101", "99999999999999999999999", "veel", "2.5"])
def test_k_out_of_range_on_similar_to_case_is_422(client, k):
    body = assert_error(client.get("/api/cases/t-zorgtoeslag/similar", params={"k": k}), 422)
    if k.lstrip("-").isdigit():
        assert "tussen 1 en 100" in body["detail"]


@pytest.mark.parametrize("k", [1, 100])
def test_k_at_the_bounds_is_accepted(client, k):
    assert client.post("/api/similar-cases", json={"text": "schulden", "k": k}).status_code == 200
    assert client.get("/api/cases/t-zorgtoeslag/similar", params={"k": k}).status_code == 200


@pytest.mark.parametrize(
    "path, params",
    [
        ("/api/cases", {"page_size": 0}),
        ("/api/cases", {"page_size": "twintig"}),
        ("/api/cases", {"page": -1}),
        ("/api/concepts", {"q": "wmo", "limit": 51}),
        ("/api/concepts", {"q": "wmo", "limit": 0}),
        ("/api/concepts", {"q": "w" * 201}),
    ],
)
def test_page_and_limit_parameters_out_of_range_are_422(client, path, params):
    assert_error(client.get(path, params=params), 422)


def test_page_beyond_the_end_is_empty_not_an_error(client):
    for params in ({"page": 10**12}, {"page": 10**12, "q": "schulden"}):
        body = client.get("/api/cases", params=params).json()
        assert body["items"] == [] and body["total"] >= 1


# --- hostile JSON on the import route ----------------------------------------------------------------------

BAD_BODIES = [
    (b"", "Geen geldige JSON"),
    (b"   ", "Geen geldige JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "te diep genest"),
    (b'{"situation": "' + SITUATION.encode() + b'", "year": ' + b"1" * 5000 + b"}", "meer dan 30 cijfers"),
    (b'{"situation": "' + SITUATION.encode() + b'", "year": 1e400}', "te groot"),
    (b'{"situation": "' + SITUATION.encode() + b'", "year": NaN}', "NaN"),
    (b'{"situation": "' + SITUATION.encode() + b'", "year": -Infinity}', "Infinity"),
    (b'{"situation": "Een vrouw \\ud800 wacht op het UWV."}', "U+D800"),
    (b'{"situation": "' + SITUATION.encode() + b'", "laws": ["\\udfff"]}', "U+DFFF"),
    (b'{"\\ud800": 1, "situation": "' + SITUATION.encode() + b'"}', "veldnaam"),
    (b'{"situation": "Een vrouw \\u0000 wacht op het UWV."}', "U+0000"),
    (b'{"situation": "Een vrouw \\u001b[31m wacht op het UWV."}', "U+001B"),
    (json.dumps(GOOD_CASE).encode("utf-16"), "geen geldige UTF-8"),
    (
        json.dumps({**GOOD_CASE, "situation": SITUATION + " Financiën."}, ensure_ascii=False).encode("latin-1"),
        "geen geldige UTF-8",
    ),
    (b"42", "Verwacht"),
    (b"[]", "Verwacht"),
    (b"[1, 2]", "JSON-object"),
    (b'{"situation": 12}', "Moet tekst zijn"),
    (b'{"situation": ["een", "lijst"]}', "Moet tekst zijn"),
    (b'{"situation": null}', "situation"),
    (b'{"situation": "' + SITUATION.encode() + b'", "laws": {"Wmo 2015": true}}', "Moet een lijst"),
    (b'{"situation": "' + SITUATION.encode() + b'", "title": {"nl": "titel"}}', "Moet tekst zijn"),
    (b'{"situation": "' + SITUATION.encode() + b'", "year": "twee"}', "geen geheel getal"),
    (b'{"situation": "' + SITUATION.encode() + b'", "knelpunten": [{"type": ["samenwerking"]}]}', "Ongeldig label"),
    (b'{"situation": "' + SITUATION.encode() + b'", "kleur": "blauw"}', "Onbekende velden"),
]


@pytest.mark.parametrize("content, phrase", BAD_BODIES, ids=[f"body{i}" for i in range(len(BAD_BODIES))])
def test_hostile_import_body_is_a_clear_422_and_stores_nothing(client, content, phrase):
    before = cases(client)
    response = client.post("/api/cases", content=content, headers={**AUTH, "Content-Type": "application/json"})
    body = assert_error(response, 422, phrase)
    assert body["findings"] and all(isinstance(f["message"], str) for f in body["findings"])
    assert cases(client) == before


def test_surrogates_in_a_search_are_a_clear_422(client):
    for body in (b'{"text": "schulden \\ud800"}', b'{"text": "schulden", "filters": {"law": "\\udc00"}}'):
        response = client.post("/api/similar-cases", content=body, headers={"Content-Type": "application/json"})
        assert_error(response, 422, "surrogaat")


def test_import_body_with_utf8_bom_is_accepted(client):
    before = cases(client)
    content = b"\xef\xbb\xbf" + json.dumps({**GOOD_CASE, "id": "lim-bom"}).encode()
    response = client.post("/api/cases", content=content, headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    assert cases(client) == before + 1


# --- hostile files: `maatwerk import-cases` -----------------------------------------------------------------

CSV_HEADER = "id,title,situation,laws\n"
CSV_ROW = f"lim-1,Titel,{SITUATION},WIA\n"
BAD_FILES = {
    "wrong-columns.csv": (b"id,onzin\nx,y\n", "CSV-kolommen kloppen niet"),
    "no-situation.csv": (b"id,title\nx,y\n", "'situation' ontbreekt"),
    "latin1.csv": ((CSV_HEADER + CSV_ROW.replace("Titel", "Financiën")).encode("latin-1"), "geen geldige UTF-8"),
    "cp1252.csv": ((CSV_HEADER + CSV_ROW.replace("Titel", "“Schuld” van €50")).encode("cp1252"), "Windows-1252"),
    "utf16.csv": ((CSV_HEADER + CSV_ROW).encode("utf-16"), "UTF-16"),
    "utf16-no-bom.jsonl": (json.dumps(GOOD_CASE).encode("utf-16-le"), "NUL-bytes"),
    "extra-values.csv": ((CSV_HEADER + CSV_ROW.strip() + ",Jeugdwet,te veel\n").encode(), "meer waarden"),
    "huge-line.csv": ((CSV_HEADER + "x," * (MAX_LINE_CHARS // 2 + 10)).encode(), "langer dan"),
    "huge-field.csv": ((CSV_HEADER + f'lim-1,Titel,"{"a" * 100_000}",WIA\n').encode(), "langer dan 80000"),
    "huge-line.jsonl": (b'{"situation": "' + b"a" * (MAX_LINE_CHARS + 10) + b'"}', "langer dan"),
    "wrong-types.jsonl": (
        b'{"situation": 12}\n{"situation": "' + SITUATION.encode() + b'", "laws": {"WIA": 1}}\n',
        "Moet tekst zijn",
    ),
    "wrong-types.json": (
        b'[{"situation": ["x"]}, {"situation": "ok maar", "year": {"jaar": 2020}}]',
        "Moet tekst zijn",
    ),
    "numbers.json": (b'[42, "tekst"]', "JSON-object"),
    "infinite.jsonl": (b'{"situation": "' + SITUATION.encode() + b'", "year": 1e999}\n', "te groot"),
    "nul-escape.jsonl": (b'{"situation": "Een vrouw \\u0000 wacht op het UWV."}\n', "U+0000"),
    "nul-byte.csv": ((CSV_HEADER + CSV_ROW).encode().replace(b"Titel", b"Ti\x00tel"), "NUL-bytes"),
    "broken.json": (b'[{"situation": "x"', "Geen geldige JSON"),
    "deep.json": (b"[" * 50_000 + b"]" * 50_000, "te diep genest"),
    "empty-array.json": (b"[]", "geen casussen"),
    "empty.jsonl": (b"", "leeg"),
    "empty.json": (b"", "leeg"),
    "empty.csv": (b"", "leeg"),
    "blank.jsonl": (b"\xef\xbb\xbf\n  \n", "leeg"),
    "cases.txt": (b'{"situation": "x"}', "Onbekend bestandstype"),
}
# The CLI is slow to start (a few seconds per run), so the default suite runs it on a few of the files
# above; every file goes through the same reader in process (test_bad_file_in_process) in any case.
CLI_DEFAULT = {"latin1.csv", "wrong-columns.csv", "wrong-types.jsonl", "huge-line.jsonl", "empty.csv"}


@pytest.fixture(scope="module")
def core(small_dir, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("limits-core") / "data"
    shutil.copytree(small_dir, data_dir)
    core = Maatwerk(Settings().with_data_dir(data_dir))
    yield core
    core.close()


@pytest.fixture(scope="module")
def cli_dir(small_dir, tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("limits-cli") / "data"
    shutil.copytree(small_dir, data_dir)
    return data_dir


def store_counts(data_dir: Path) -> tuple[int, int]:
    kg = KnowledgeGraph(data_dir / "store")
    try:
        return kg.case_count(), kg.triple_count()
    finally:
        kg.close()


def maatwerk(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(MAATWERK), *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "250"},
    )  # wide: no wrapped messages


def write(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(BAD_FILES[name][0])
    return path


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_in_process(core, tmp_path, name):
    before = core.kg.case_count(), core.kg.triple_count()
    with pytest.raises(ImportRejected) as rejected:
        core.import_file(write(tmp_path, name))
    messages = " | ".join(str(p) for p in rejected.value.problems)
    assert BAD_FILES[name][1] in messages, messages
    assert (core.kg.case_count(), core.kg.triple_count()) == before


@pytest.mark.parametrize(
    "name", [pytest.param(name, marks=() if name in CLI_DEFAULT else pytest.mark.slow) for name in sorted(BAD_FILES)]
)
def test_bad_file_with_the_cli(cli_dir, tmp_path, name):
    before = store_counts(cli_dir)
    done = maatwerk("import-cases", str(write(tmp_path, name)), data_dir=cli_dir)
    assert done.returncode == 2, done.stdout + done.stderr
    assert BAD_FILES[name][1] in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert store_counts(cli_dir) == before


@pytest.mark.parametrize(
    "suffix, content",
    [
        (".csv", ("\ufeff" + CSV_HEADER + CSV_ROW).encode()),
        (".jsonl", ("\ufeff" + json.dumps(GOOD_CASE) + "\n").encode()),
        (".json", ("\ufeff" + json.dumps([GOOD_CASE])).encode()),
    ],
)
def test_utf8_bom_is_accepted(core, tmp_path, suffix, content):
    path = tmp_path / f"bom{suffix}"
    path.write_bytes(content)
    assert [c.id for c in core.import_file(path).cases] == ["lim-1" if suffix == ".csv" else "lim-goed"]


# --- hostile XML: `maatwerk import-law` ------------------------------------------------------------------------


class Tripwire(http.server.BaseHTTPRequestHandler):
    """A local HTTP server that records every request: an XML parser fetching anything trips it."""

    hits: ClassVar[list[str]] = []

    def do_GET(self):
        Tripwire.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"OPGEHAALD-VIA-HET-NETWERK")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def tripwire():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Tripwire)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


LAW = (
    '<toestand bwb-id="BWBR9999977"><wetgeving><citeertitel>{title}</citeertitel><wet-besluit><wettekst>'
    "<artikel><kop><label>Artikel</label><nr>1</nr></kop><al>{text}</al></artikel>"
    "</wettekst></wet-besluit></wetgeving></toestand>"
)
LAUGHS = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
HOSTILE_XML = {
    "billion-laughs": f'<?xml version="1.0"?><!DOCTYPE toestand [<!ENTITY l0 "lol">{LAUGHS}]>'
    + LAW.format(title="&l9;", text="&l9;"),
    "quadratic-blowup": f'<!DOCTYPE toestand [<!ENTITY a "{"a" * 50_000}">]>'
    + LAW.format(title="Wet", text="&a;" * 50_000),
    "file-entity": '<!DOCTYPE toestand [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    + LAW.format(title="Wet", text="&x;"),
    "http-entity": '<!DOCTYPE toestand [<!ENTITY x SYSTEM "{url}/entiteit">]>' + LAW.format(title="Wet", text="&x;"),
    "parameter-entity": '<!DOCTYPE toestand [<!ENTITY % p SYSTEM "{url}/dtd"> %p;]>' + LAW.format(title="W", text="t"),
    "external-dtd": '<!DOCTYPE toestand SYSTEM "{url}/extern.dtd">' + LAW.format(title="Wet", text="tekst"),
    "deep-nesting": LAW.format(title="Wet", text="<b>" * 100_000 + "x" + "</b>" * 100_000),
    "unknown-encoding": '<?xml version="1.0" encoding="x-onbekend"?>' + LAW.format(title="Wet", text="tekst"),
    "not-xml": "dit is geen XML",
    "empty": "",
}
CLI_XML_DEFAULT = {"billion-laughs", "http-entity"}


def hostile_xml(tmp_path: Path, name: str, url: str) -> Path:
    path = tmp_path / f"{name}.xml"
    path.write_text(HOSTILE_XML[name].replace("{url}", url), encoding="utf-8")
    return path


@pytest.mark.parametrize("name", sorted(HOSTILE_XML))
def test_hostile_xml_is_refused_in_process(core, tmp_path, tripwire, name):
    before = core.kg.triple_count()
    Tripwire.hits.clear()
    with pytest.raises(BwbError) as refused:
        core.import_law(str(hostile_xml(tmp_path, name, tripwire)))
    assert "Traceback" not in str(refused.value) and "root:" not in str(refused.value)
    assert core.kg.triple_count() == before and Tripwire.hits == []


@pytest.mark.parametrize(
    "name",
    [pytest.param(name, marks=() if name in CLI_XML_DEFAULT else pytest.mark.slow) for name in sorted(HOSTILE_XML)],
)
def test_hostile_xml_with_the_cli(cli_dir, tmp_path, tripwire, name):
    before = store_counts(cli_dir)
    Tripwire.hits.clear()
    done = maatwerk("import-law", str(hostile_xml(tmp_path, name, tripwire)), data_dir=cli_dir)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "geweigerd" in done.stderr or "geen geldige XML" in done.stderr, done.stderr
    assert store_counts(cli_dir) == before and Tripwire.hits == []


def test_xinclude_is_not_processed(core, tmp_path, tripwire):
    """Without a DTD the file is valid XML; an xi:include in it stays an unknown element, nothing is fetched."""
    Tripwire.hits.clear()
    include = (
        f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/>'
        f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{tripwire}/x" parse="text"/>'
    )
    path = tmp_path / "xinclude.xml"
    path.write_text(LAW.format(title="Insluitwet", text=f"Eerste zin. {include}Tweede zin."), encoding="utf-8")
    core.import_law(str(path))
    exported = core.kg.export(__import__("pyoxigraph").RdfFormat.N_QUADS).decode()
    assert "Eerste zin. Tweede zin." in exported
    assert "root:" not in exported and "OPGEHAALD" not in exported and Tripwire.hits == []


# --- authentication ------------------------------------------------------------------------------------------


def test_every_configured_key_is_compared_with_compare_digest(client, override, monkeypatch):
    calls = []

    def spy(a, b):
        calls.append((a, b))
        return a == b

    monkeypatch.setattr(api.routes.cases.hmac, "compare_digest", spy)
    override(api_keys=("sleutel-een", KEY, "sleutel-drie"))
    for header, status in ((f"Bearer {KEY}", 422), ("Bearer verkeerd", 401)):
        calls.clear()
        response = client.post("/api/cases", content=b"[]", headers={"Authorization": header})
        assert response.status_code == status
        assert len(calls) == 3  # no early exit: the time taken does not tell which key matched


def test_a_key_with_non_ascii_characters_works(client, override):
    override(api_keys=("sleutel-één-ü",))
    good = client.post("/api/cases", content=b"[]", headers={"Authorization": "Bearer sleutel-één-ü".encode()})
    assert_error(good, 422, "Verwacht")  # past the key check
    assert_error(client.post("/api/cases", content=b"[]", headers={"Authorization": "Bearer sleutel-een-u"}), 401)


def test_key_only_in_the_authorization_header(client):
    for params, headers in (({"api_key": KEY}, {}), ({}, {"X-API-Key": KEY}), ({}, {"Cookie": f"key={KEY}"})):
        assert_error(client.post("/api/cases", json=GOOD_CASE, params=params, headers=headers), 401)


# --- CORS ------------------------------------------------------------------------------------------------------


def test_preflight_is_refused_when_cors_is_off(client):
    response = client.options(
        "/api/similar-cases", headers={"Origin": "https://elders.example", "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in response.headers


def test_cors_when_configured_allows_only_the_configured_origins(settings, tmp_path):
    allowed, foreign = "https://gemeente.example", "https://elders.example"
    app = create_app(replace(settings, data_dir=tmp_path / "leeg", cors_origins=(allowed,)))
    client = TestClient(app)  # not started: preflights and refusals need no data
    ok = client.options(
        "/api/similar-cases",
        headers={
            "Origin": allowed,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert ok.headers["access-control-allow-origin"] == allowed
    assert "access-control-allow-credentials" not in ok.headers
    bad = client.options("/api/similar-cases", headers={"Origin": foreign, "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in bad.headers
    refused = client.post("/api/cases", json={}, headers={"Origin": foreign})
    assert refused.status_code == 401 and "access-control-allow-origin" not in refused.headers


# --- a real server: keys and CORS from the environment, no key material in its log ---------------------------


def test_server_keeps_keys_out_of_its_log(small_dir, tmp_path, monkeypatch):
    data_dir = tmp_path / "data"
    shutil.copytree(small_dir, data_dir)
    wrong = "verkeerde-sleutel-9f2c41"
    monkeypatch.setenv("MAATWERK_API_KEYS", f"andere-sleutel-1, {KEY}")
    monkeypatch.setenv("MAATWERK_CORS_ORIGINS", "https://gemeente.example")
    log = tmp_path / "serve.log"
    with running_server(data_dir, log) as base:
        imported = httpx.post(f"{base}/api/cases", json={**GOOD_CASE, "id": "lim-server"}, headers=AUTH, timeout=60)
        assert imported.status_code == 200, imported.text
        for header in (f"Bearer {wrong}", wrong, f"Basic {KEY}"):
            assert httpx.post(f"{base}/api/cases", json=GOOD_CASE, headers={"Authorization": header}).status_code == 401
        assert httpx.post(f"{base}/api/cases", content=b"{kapot", headers=AUTH).status_code == 422
        cors = httpx.get(f"{base}/health", headers={"Origin": "https://gemeente.example"})
        assert cors.headers["access-control-allow-origin"] == "https://gemeente.example"
        foreign = httpx.get(f"{base}/health", headers={"Origin": "https://x.example"})
        assert "access-control-allow-origin" not in foreign.headers
    output = log.read_text(errors="replace")
    assert "POST /api/cases" in output  # the log did record the requests
    for secret in (KEY, wrong, "andere-sleutel-1"):
        assert secret not in output


# --- deep JSON on the search route, and error answers that cannot fail to render ---------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"text": ' + b"[" * 5_000 + b"]" * 5_000 + b"}",
        b'{"text": "schulden", "filters": ' + b'{"a":' * 5_000 + b"1" + b"}" * 5_001,
    ],
)
def test_deep_json_on_similar_cases_is_a_dutch_422(client, body):
    """Nesting past Python's recursion limit made FastAPI answer in English ('There was an error parsing the body')."""
    response = client.post("/api/similar-cases", content=body, headers={"Content-Type": "application/json"})
    body = assert_error(response, 422, "Geen geldige JSON", "te diep genest")
    assert body["error"] == "Ongeldige invoer" and "parsing" not in response.text


def test_an_error_with_a_lone_surrogate_is_still_json(settings, tmp_path):
    from fastapi import HTTPException

    from api.http import ApiError, error_response

    rendered = error_response(422, "Onbekend label '\ud800'", {"waarde": ["\udfff", float("nan")]})
    assert json.loads(rendered.body) == {"error": "Onbekend label '\ud800'", "detail": {"waarde": ["\udfff", None]}}
    app = create_app(replace(settings, data_dir=tmp_path / "leeg"))

    def http_error():
        raise HTTPException(404, "Geen casus '\ud800'")

    def api_error():
        raise ApiError(422, "Ongeldig '\udc00'", detail=["\ud800"])

    def rejected():
        from ingest.problems import Problem

        raise ImportRejected([Problem("case-\udc80", "id", "invalid", "Het id '\udc80' is ongeldig")])

    app.add_api_route("/test-http-fout", http_error)
    app.add_api_route("/test-api-fout", api_error)
    app.add_api_route("/test-import-fout", rejected)
    client = TestClient(app, raise_server_exceptions=False)  # not started: these routes need no data
    assert_error(client.get("/test-http-fout"), 404)
    assert client.get("/test-http-fout").json()["detail"] == "Geen casus '\ud800'"
    assert assert_error(client.get("/test-api-fout"), 422)["error"] == "Ongeldig '\udc00'"
    assert assert_error(client.get("/test-import-fout"), 422)["findings"][0]["case"] == "case-\udc80"


# --- `maatwerk import-law` refusals: one Dutch line, exit 2 -----------------------------------------------------


def law_sources(tmp_path: Path) -> dict[str, tuple[str, str]]:
    (tmp_path / "map").mkdir(exist_ok=True)
    return {
        "directory": (str(tmp_path / "map"), "is een map"),
        "missing-file": (str(tmp_path / "wet.xml"), "bestaat niet"),
        "missing-relative": ("wet.xml", "Bestand wet.xml bestaat niet"),
        "neither": ("Wmo", "geen bestand en geen geldig BWB-id"),
        "nul-byte": ("wet\x00.xml", "geen geldige bestandsnaam"),
    }


@pytest.mark.parametrize("name", ["directory", "missing-file", "missing-relative", "neither", "nul-byte"])
def test_import_law_refusals_in_process(core, tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    source, phrase = law_sources(tmp_path)[name]
    before = core.kg.triple_count()
    with pytest.raises(BwbError) as refused:
        core.import_law(source)
    assert phrase in str(refused.value) and "Ongeldig BWB-id" not in str(refused.value), str(refused.value)
    assert core.kg.triple_count() == before


def test_import_law_unreadable_file_is_a_bwb_error(core, tmp_path):
    path = tmp_path / "geheim.xml"
    path.write_text(LAW.format(title="Wet", text="tekst"), encoding="utf-8")
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as root: the file stays readable")
        with pytest.raises(BwbError, match=r"Kan .* niet lezen"):
            core.import_law(str(path))
    finally:
        path.chmod(0o600)


@pytest.mark.parametrize("name", ["directory", "missing-file"])
def test_import_law_refusals_with_the_cli(cli_dir, tmp_path, name):
    source, phrase = law_sources(tmp_path)[name]
    done = maatwerk("import-law", source, data_dir=cli_dir)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and phrase in lines[0] and "Traceback" not in done.stderr, done.stderr
