"""Writers (issue 17, point 1) and leerpunt follow-up (point 2): accounts, sign-in, CSRF, the case form's
save path with its history, and the follow-up round trip through import, graph, JSON and page."""

from __future__ import annotations

import re
import stat
from dataclasses import replace

import pyoxigraph
import pytest
import rdflib
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import ACCOUNTS_FILE, SESSION_COOKIE, AccountError, Accounts, Backoff
from api.core import Maatwerk
from api.settings import BadSetting, Settings
from graph.case import LearningPointInput, case_iri, gated_texts, history_iri, read_history
from ingest.problems import ImportRejected
from ontology import ID

PASSWORD = "een lang wachtwoord"
WRITER = "Wilhelmina Pietersma"  # an account name: personal data, never in the graph
BSN = "111222333"  # passes the elfproef
FOLLOWED_UP = {
    "id": "opvolging-1",
    "title": "Werkplek niet bereikbaar met rolstoel",
    "situation": "Een man met een rolstoel kan zijn werkplek niet bereiken; gemeente en UWV verwijzen naar elkaar.",
    "laws": ["Wmo 2015"],
    "organisations": ["UWV"],
    "learning_points": [
        {
            "text": "Spreek vooraf af wie een werkplekaanpassing betaalt.",
            "order": 3,
            "addressees": ["UWV", "gemeente"],
            "follow_up": "Opgepakt",
            "presented_on": "2024-02-01",
            "response_on": "2024-06-15",
            "response": "UWV en gemeenten maakten een werkafspraak over voorzieningen op de werkplek.",
        },
        {"text": "Bel eerst samen voordat er een brief gaat.", "order": 1},
    ],
}


# --- accounts ----------------------------------------------------------------------------------


def test_passwords_are_argon2_hashes_in_a_private_file(tmp_path):
    accounts = Accounts(tmp_path)
    account = accounts.add(WRITER, PASSWORD)
    stored = (tmp_path / ACCOUNTS_FILE).read_text()
    assert PASSWORD not in stored and "$argon2id$" in stored
    assert stat.S_IMODE((tmp_path / ACCOUNTS_FILE).stat().st_mode) == 0o600
    assert account.writer.iri.startswith(ID + "schrijver/") and WRITER not in account.writer.iri + account.writer.label
    assert accounts.verify(WRITER, PASSWORD) == account
    assert accounts.verify(WRITER, PASSWORD + "x") is None
    assert accounts.verify("bob", PASSWORD) is None


def test_account_refusals(tmp_path):
    accounts = Accounts(tmp_path)
    accounts.add(WRITER, PASSWORD)
    for name, password in [(WRITER, PASSWORD), ("bob", "kort"), ("", PASSWORD), ("a\x00b", PASSWORD)]:
        with pytest.raises(AccountError):
            accounts.add(name, password)
    with pytest.raises(AccountError):
        accounts.remove("bob")
    accounts.remove(WRITER)
    assert accounts.list() == []


def test_backoff_doubles_after_three_failures():
    now = [0.0]
    backoff = Backoff(clock=lambda: now[0])
    for _ in range(3):
        assert backoff.wait(WRITER) == 0
        backoff.failed(WRITER)
    assert backoff.wait(WRITER) == 1.0 and backoff.wait("bob") == 0
    now[0] = 1.0
    backoff.failed(WRITER)
    assert backoff.wait(WRITER) == 2.0
    backoff.succeeded(WRITER)
    assert backoff.wait(WRITER) == 0


def test_read_requires_login_setting_is_checked(monkeypatch):
    monkeypatch.setenv("MAATWERK_READ_REQUIRES_LOGIN", "ja")
    assert Settings().read_requires_login is True
    monkeypatch.setenv("MAATWERK_READ_REQUIRES_LOGIN", "misschien")
    with pytest.raises(BadSetting):
        Settings()


# --- the contract ------------------------------------------------------------------------------


def test_follow_up_texts_are_gated_and_statuses_checked():
    paths = dict(gated_texts(FOLLOWED_UP))
    assert paths["learning_points[0].response"].startswith("UWV en gemeenten")
    with pytest.raises(ValueError):
        LearningPointInput(text="x", follow_up="misschien")
    assert LearningPointInput(text="x", follow_up="Niet opgepakt").follow_up == "niet opgepakt"


# --- the app -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def settings(tmp_path_factory, small_dir) -> Settings:
    import shutil

    data_dir = tmp_path_factory.mktemp("writers") / "data"
    shutil.copytree(small_dir, data_dir)
    settings = replace(Settings(), data_dir=data_dir, api_keys=("sleutel",))
    Accounts(data_dir).add(WRITER, PASSWORD)
    Accounts(data_dir).add("bram", PASSWORD)
    return settings


@pytest.fixture(scope="module")
def app(settings):
    with TestClient(create_app(settings)) as client:
        yield client.app


@pytest.fixture
def anon(app):
    return TestClient(app)  # no `with`: the module's app is already running (one process holds the store)


@pytest.fixture
def writer(app):
    client = TestClient(app)
    sign_in(client, WRITER)
    return client


def csrf(client, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def sign_in(client, name: str, password: str = PASSWORD):
    token = csrf(client, "/aanmelden")
    return client.post(
        "/aanmelden",
        data={"naam": name, "wachtwoord": password, "csrf": token, "volgende": "/casus/nieuw"},
        follow_redirects=False,
    )


def test_sign_in_sets_a_safe_cookie_and_redirects(anon):
    answer = sign_in(anon, WRITER)
    assert answer.status_code == 303 and answer.headers["location"] == "/casus/nieuw"
    cookie = next(h for h in answer.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE))
    flags = cookie.lower()
    assert "httponly" in flags and "samesite=lax" in flags and "max-age=" in flags
    assert "secure" not in flags  # served over http here
    assert anon.get("/casus/nieuw").status_code == 200


def test_cookie_is_secure_over_https(app):
    client = TestClient(app, base_url="https://testserver")
    cookie = next(h for h in sign_in(client, WRITER).headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE))
    assert "secure" in cookie.lower()


def test_wrong_password_and_rate_limit(app, anon):
    assert sign_in(anon, "bram", "fout wachtwoord").status_code == 401
    for _ in range(2):
        sign_in(anon, "bram", "fout wachtwoord")
    refused = sign_in(anon, "bram", PASSWORD)  # right now, but the name must wait
    assert refused.status_code == 429 and "Te veel mislukte pogingen" in refused.text
    app.state.backoff.succeeded("bram")
    assert sign_in(anon, "bram", PASSWORD).status_code == 303


def test_open_redirect_is_refused(anon):
    token = csrf(anon, "/aanmelden")
    data = {"naam": WRITER, "wachtwoord": PASSWORD, "csrf": token, "volgende": "//evil.example/"}
    assert anon.post("/aanmelden", data=data, follow_redirects=False).headers["location"] == "/"


def test_forms_refuse_a_post_without_the_csrf_token(writer):
    no_token = writer.post("/casus/nieuw", data={"situation": "x" * 30}, follow_redirects=False)
    assert no_token.status_code == 400 and "verlopen" in no_token.text
    other = TestClient(writer.app)
    assert other.post("/aanmelden", data={"naam": WRITER, "wachtwoord": PASSWORD}).status_code == 400


def test_writing_needs_a_writer(anon):
    answer = anon.get("/casus/nieuw", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/aanmelden?volgende=/casus/nieuw"
    assert anon.post("/casus/nieuw", data={}, follow_redirects=False).status_code == 303
    assert anon.post("/casus/hulp", json={"text": "x"}).status_code == 401


def test_form_help_suggests_concepts_and_similar_cases(writer):
    text = "Een man met een rolstoel kan zijn werkplek niet bereiken; gemeente en UWV verwijzen naar elkaar."
    answer = writer.post("/casus/hulp", json={"text": text}).json()
    assert {"field": "organisations", "kind": "Organisatie", "label": "UWV"} in answer["concepts"]
    assert 1 <= len(answer["similar"]) <= 3 and all(s["url"].startswith("/casus/") for s in answer["similar"])
    assert writer.post("/casus/hulp", content=b"{niet", headers={"content-type": "application/json"}).status_code == 422


def test_check_text_finds_a_bsn_without_echoing_it(anon):
    answer = anon.post("/api/check-text", json={"text": f"Zijn BSN is {BSN}."}).json()
    (finding,) = answer["findings"]
    assert finding["kind"] == "BSN" and BSN not in finding["masked"]
    assert (finding["start"], finding["end"]) == (12, 21)
    assert anon.post("/api/check-text", json={"text": "Een gewone zin over de Wmo."}).json() == {
        "findings": [],
        "warnings": [],
    }


def form_data(client, path: str, **fields) -> dict:
    data = {"csrf": csrf(client, path), "versie": re.search(r'name="versie" value="(\d+)"', client.get(path).text)[1]}
    return {**data, **fields}


def test_form_save_refuses_personal_data_next_to_the_field(writer, app):
    data = form_data(
        writer,
        "/casus/nieuw",
        id="formulier-bsn",
        situation=f"Een vrouw met BSN {BSN} krijgt geen huurtoeslag meer na een verhuizing.",
        **{"lp-0-text": "Leg uit wat er misging.", "lp-0-response": "Gebeld met 06-12345678 over de reactie."},
    )
    answer = writer.post("/casus/nieuw", data=data)
    assert answer.status_code == 422
    assert re.search(r'id="situation-fout-1">Dit lijkt een burgerservicenummer', answer.text)
    assert re.search(r'id="lp-0-response-fout-1">Dit lijkt een telefoonnummer', answer.text)
    assert BSN in answer.text  # only in the writer's own text, given back to fix
    assert writer.get("/casus/formulier-bsn").status_code == 404


def test_unknown_label_is_shown_next_to_its_field(writer):
    data = form_data(
        writer,
        "/casus/nieuw",
        situation="Een man kan zijn werkplek niet bereiken met de rolstoel die hij heeft.",
        laws="Wet op de maan",
        **{"lp-0-text": "Eerder bellen.", "lp-0-addressees": "Ministerie van Toverkunst"},
    )
    answer = writer.post("/casus/nieuw", data=data)
    assert answer.status_code == 422
    assert 'id="laws-fout-1">Onbekend wet' in answer.text
    assert 'id="lp-0-addressees-fout-1">Onbekend organisatie' in answer.text


def test_register_edit_and_history(writer, app):
    core: Maatwerk = app.state.maatwerk
    data = form_data(
        writer,
        "/casus/nieuw",
        id="formulier-1",
        title="Rolstoel past niet in de lift van het werk",
        situation="Een man met een rolstoel kan zijn werkplek niet bereiken; gemeente en UWV verwijzen naar elkaar.",
        status="lopend",
        year="2024",
        laws="Wmo 2015",
        organisations="UWV; gemeente",
        interventions="Keukentafelgesprek met werkgever\nOverleg met UWV",
        **{"kp-0-type": "samenwerking", "kp-0-text": "Niemand voelt zich eigenaar.", "lp-0-text": "Wie betaalt?"},
    )
    saved = writer.post("/casus/nieuw", data=data, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == "/casus/formulier-1"
    case = writer.get("/api/cases/formulier-1").json()
    assert [o["label"] for o in case["organisations"]] == ["gemeente", "UWV"]
    assert case["knelpunten"] == [{"type": "samenwerking", "text": "Niemand voelt zich eigenaar."}]
    assert case["interventions"] == ["Keukentafelgesprek met werkgever", "Overleg met UWV"]
    # A second save of the same id as new is refused: it would overwrite the case.
    again = writer.post("/casus/nieuw", data={**data, "csrf": csrf(writer, "/casus/nieuw")})
    assert again.status_code == 409

    edit = "/casus/formulier-1/bewerken"
    page = writer.get(edit).text
    assert "Wie betaalt?" in page and 'value="UWV; gemeente"' not in page  # labels as stored, sorted
    data = form_data(
        writer,
        edit,
        title="Rolstoel past niet in de lift van het werk",
        situation="Een man met een rolstoel kan zijn werkplek niet bereiken; gemeente en UWV verwijzen naar elkaar.",
        status="opgelost",
        year="2024",
        laws="Wmo 2015",
        organisations="UWV; gemeente",
        **{
            "lp-0-text": "Wie betaalt?",
            "lp-0-order": "3",
            "lp-0-addressees": "UWV",
            "lp-0-follow_up": "opgepakt",
            "lp-0-response": "UWV neemt de kosten voortaan op zich.",
        },
    )
    assert writer.post(edit, data=data, follow_redirects=False).status_code == 303
    stale = writer.post(edit, data=data)  # the form's version is now behind
    assert stale.status_code == 409

    versions = read_history(core.kg, case_iri("formulier-1"))
    assert [v["version"] for v in versions] == [2, 1]
    anna = Accounts(core.settings.data_dir).get(WRITER).writer
    assert {v["writer"] for v in versions} == {anna.iri}
    assert versions[0]["changed"] == ["interventions", "knelpunten", "learning_points", "status"]
    assert versions[1]["content"]["status"] == "lopend"  # the previous version is kept
    assert versions[0]["content"]["learning_points"][0]["follow_up"] == "opgepakt"

    # The writer's name is nowhere in the graph; the history is PROV-O.
    dump = core.kg.store.dump(format=pyoxigraph.RdfFormat.N_QUADS).decode()
    assert WRITER not in dump
    g = rdflib.Dataset(default_union=False)
    g.parse(data=dump, format="nquads")
    prov = "http://www.w3.org/ns/prov#"
    version_2 = rdflib.URIRef(case_iri("formulier-1") + "/versie/2")
    history = g.graph(rdflib.URIRef(history_iri(case_iri("formulier-1"))))
    assert (version_2, rdflib.URIRef(prov + "wasAttributedTo"), rdflib.URIRef(anna.iri)) in history
    assert (version_2, rdflib.URIRef(prov + "wasRevisionOf"), rdflib.URIRef(str(version_2)[:-1] + "1")) in history

    page = writer.get("/casus/formulier-1").text
    assert "Geschiedenis" in page and "<td>u</td>" in page and "Bewerken" in page
    assert "UWV neemt de kosten voortaan op zich." in page and "opgepakt" in page
    reader = TestClient(writer.app)
    public = reader.get("/casus/formulier-1").text
    assert anna.label in public and "<td>u</td>" not in public and "Bewerken" not in public
    assert reader.get("/api/cases/formulier-1/history").json()[0]["writer"] == anna.iri


def test_first_edit_of_an_imported_case_keeps_the_import(writer, app):
    core: Maatwerk = app.state.maatwerk
    listed = writer.get("/api/cases?page_size=50").json()["items"]
    first = next(c for c in listed if not read_history(core.kg, c["uri"]))  # one that only came in by file
    case_id = first["id"]
    edit = f"/casus/{case_id}/bewerken"
    page = writer.get(edit).text
    situation = re.search(r'<textarea id="situation"[^>]*>([^<]*)</textarea>', page)[1]
    data = form_data(writer, edit, title=first["title"], situation=situation.replace("&#39;", "'") + " Aangevuld.")
    answer = writer.post(edit, data=data, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    versions = read_history(core.kg, case_iri(case_id))
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[1]["writer"] is None and "situation" in versions[0]["changed"]


def test_read_lock(tmp_path, small_dir):
    import shutil

    shutil.copytree(small_dir, tmp_path / "data")
    Accounts(tmp_path / "data").add(WRITER, PASSWORD)
    locked = replace(Settings(), data_dir=tmp_path / "data", api_keys=("sleutel",), read_requires_login=True)
    with TestClient(create_app(locked)) as client:
        page = client.get("/", headers={"accept": "text/html"}, follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/aanmelden")
        assert client.get("/api/cases/opvolging-1").status_code == 401
        assert client.get("/api/cases?page_size=1", headers={"authorization": "Bearer sleutel"}).status_code == 200
        assert client.get("/aanmelden").status_code == 200
        sign_in(client, WRITER)
        assert client.get("/api/cases?page_size=1").status_code == 200


# --- leerpunt follow-up round trip -----------------------------------------------------------------


def test_follow_up_round_trip(writer, app):
    answer = writer.post("/api/cases", json=FOLLOWED_UP, headers={"authorization": "Bearer sleutel"})
    assert answer.status_code == 200, answer.text
    case = writer.get("/api/cases/opvolging-1").json()
    point, plain = case["learning_points"]
    assert point["follow_up"] == "opgepakt" and [a["label"] for a in point["addressees"]] == ["gemeente", "UWV"]
    assert (point["presented_on"], point["response_on"]) == ("2024-02-01", "2024-06-15")
    assert point["response"].startswith("UWV en gemeenten")
    assert plain == {
        "text": "Bel eerst samen voordat er een brief gaat.",
        "order": 1,
        "type": "1e orde",
        "addressees": [],
        "follow_up": None,
        "presented_on": None,
        "response_on": None,
        "response": None,
    }
    page = writer.get("/casus/opvolging-1").text
    assert "Voorgelegd aan" in page and "Wat is ermee gedaan" in page and "follow-up-opgepakt" in page
    core: Maatwerk = app.state.maatwerk
    point_iri = case_iri("opvolging-1") + "/leerpunt/1"
    rows = core.kg.select(f"SELECT ?s WHERE {{ <{point_iri}> mw:opvolgstatus/skos:prefLabel ?s }}")
    assert [r["s"] for r in rows] == ["opgepakt"]
    assert core.validate().conforms, [str(v) for v in core.validate().violations][:3]


@pytest.mark.parametrize(
    "point, field",
    [
        ({"text": "x eerder", "follow_up": "misschien"}, "learning_points[0].follow_up"),
        ({"text": "x eerder", "presented_on": "1 februari"}, "learning_points[0].presented_on"),
        ({"text": "x eerder", "addressees": ["Ministerie van Toverkunst"]}, "learning_points[0].addressees"),
        ({"text": "x eerder", "response": f"Gebeld met {BSN}."}, "learning_points[0].response"),
        ({"text": "x eerder", "reactie": "onbekend veld"}, "learning_points[0]"),
    ],
)
def test_follow_up_refusals(app, point, field):
    core: Maatwerk = app.state.maatwerk
    record = {"situation": "Een situatie die lang genoeg is om te importeren.", "learning_points": [point]}
    with pytest.raises(ImportRejected) as refused:
        core.import_records([("test", record)])
    assert [p.field for p in refused.value.problems] == [field]


def test_old_imports_still_work(app, anon):
    core: Maatwerk = app.state.maatwerk
    situation = "Een situatie zonder opvolging van leerpunten."
    record = {"id": "oud-1", "situation": situation, "learning_points": ["Tekst.", "2:Nog een."]}
    core.import_records([("test", record)])
    points = anon.get("/api/cases/oud-1").json()["learning_points"]
    assert [(p["text"], p["order"], p["follow_up"], p["addressees"]) for p in points] == [
        ("Tekst.", 1, None, []),
        ("2:Nog een.", 1, None, []),
    ]
    assert not core.kg.ask(f"ASK {{ <{case_iri('oud-1')}/leerpunt/1> mw:opvolgstatus|mw:geadresseerde ?o }}")
