"""Writers edit the maatwerkregister in the browser (issue 17, point 5): `/organisatie/{slug}/contactpunten`
checks rows as `maatwerk import-contacts` does and replaces exactly that organisation's contact points."""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import Accounts
from api.settings import Settings
from graph.contacts import contact_points
from ontology import iri
from tests.test_writers import PASSWORD, WRITER, csrf, sign_in

UWV, SVB = iri("organisatie", "uwv"), iri("organisatie", "svb")
EDIT = "/organisatie/uwv/contactpunten"


@pytest.fixture(scope="module")
def app(tmp_path_factory, small_dir):
    data_dir = tmp_path_factory.mktemp("contacts") / "data"
    shutil.copytree(small_dir, data_dir)
    Accounts(data_dir).add(WRITER, PASSWORD)
    with TestClient(create_app(replace(Settings(), data_dir=data_dir))) as client:
        yield client.app


@pytest.fixture
def writer(app):
    client = TestClient(app)
    assert sign_in(client, WRITER).status_code == 303
    return client


def points(app, org: str = UWV):
    return contact_points(app.state.maatwerk.kg, [org]).get(org, [])


def row(n: int, **values: str) -> dict[str, str]:
    return {f"cp-{n}-{key}": value for key, value in values.items()}


MAILBOX = row(0, rol="maatwerkfunctionaris", kanaal="functionele mailbox", adres="maatwerk@uwv.voorbeeld.nl")


def test_anonymous_users_are_sent_to_sign_in(app):
    anon = TestClient(app)
    answer = anon.get(EDIT, follow_redirects=False)
    assert (
        answer.status_code == 303 and answer.headers["location"] == "/aanmelden?volgende=/organisatie/uwv/contactpunten"
    )
    assert anon.post(EDIT, data=MAILBOX, follow_redirects=False).status_code == 303
    assert points(app) == []
    assert "Contactpunten bewerken" not in anon.get("/id/organisatie/uwv", headers={"accept": "text/html"}).text


def test_a_post_without_the_csrf_token_is_refused(app, writer):
    answer = writer.post(EDIT, data=MAILBOX, follow_redirects=False)
    assert answer.status_code == 400 and "verlopen" in answer.text
    assert points(app) == []


def test_a_writer_replaces_the_contact_points_and_the_page_shows_them(app, writer):
    organisation_page = writer.get("/id/organisatie/uwv", headers={"accept": "text/html"}).text
    assert f'href="{EDIT}">Contactpunten bewerken' in organisation_page
    token = csrf(writer, EDIT)
    phone = row(1, rol="escalatiepunt", kanaal="telefoon", adres="088 000 0101", omschrijving="werkdagen 9-17 uur")
    answer = writer.post(EDIT, data={"csrf": token, **MAILBOX, **phone}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/id/organisatie/uwv"
    assert [(p.role, p.address) for p in points(app)] == [
        ("maatwerkfunctionaris", "mailto:maatwerk@uwv.voorbeeld.nl"),
        ("escalatiepunt", "tel:+31880000101"),
    ]
    shown = writer.get("/id/organisatie/uwv", headers={"accept": "text/html"}).text
    assert 'href="mailto:maatwerk@uwv.voorbeeld.nl"' in shown and "werkdagen 9-17 uur" in shown

    # The form shows the stored points again; saving one with the other marked for removal keeps one.
    form = writer.get(EDIT).text
    assert 'value="maatwerk@uwv.voorbeeld.nl"' in form and 'value="088 000 0101"' in form
    kept = row(0, rol="regievoerder", kanaal="webformulier", adres="https://uwv.voorbeeld.nl/maatwerk")
    removed = {**phone, "cp-1-verwijderen": "ja"}
    assert writer.post(EDIT, data={"csrf": token, **kept, **removed}, follow_redirects=False).status_code == 303
    assert [(p.role, p.address) for p in points(app)] == [("regievoerder", "https://uwv.voorbeeld.nl/maatwerk")]
    twin = writer.get(EDIT + "?format=json").json()
    assert twin["organisatie"] == UWV and [r["adres"] for r in twin["contactpunten"]] == [
        "https://uwv.voorbeeld.nl/maatwerk"
    ]


def test_other_organisations_keep_their_points(app, writer):
    token = csrf(writer, "/organisatie/svb/contactpunten")
    svb = row(0, rol="regievoerder", kanaal="telefoon", adres="088 000 0202")
    saved = writer.post("/organisatie/svb/contactpunten", data={"csrf": token, **svb}, follow_redirects=False)
    assert saved.status_code == 303
    before = points(app, UWV)
    assert writer.post(EDIT, data={"csrf": token, **MAILBOX}, follow_redirects=False).status_code == 303
    assert [p.address for p in points(app, SVB)] == ["tel:+31880000202"]
    assert points(app, UWV) != before


def test_a_person_without_consent_is_refused_and_not_stored(app, writer):
    token = csrf(writer, EDIT)
    before = points(app)
    person = {**MAILBOX, "cp-0-naam": "Jan Voorbeeld", "cp-0-naam_email": "jan@uwv.voorbeeld.nl"}
    answer = writer.post(EDIT, data={"csrf": token, **person}, follow_redirects=False)
    assert answer.status_code == 422
    assert 'class="field-error" id="cp-0-toestemming_naam-fout-1"' in answer.text
    assert "alleen met toestemming_naam = ja" in answer.text
    assert points(app) == before and all(not p.person for p in before)

    agreed = {**person, "cp-0-toestemming_naam": "ja"}
    assert writer.post(EDIT, data={"csrf": token, **agreed}, follow_redirects=False).status_code == 303
    assert [(p.person, p.person_email) for p in points(app)] == [("Jan Voorbeeld", "jan@uwv.voorbeeld.nl")]


def test_refusals_are_shown_next_to_their_field_and_change_nothing(app, writer):
    token = csrf(writer, EDIT)
    before = points(app)
    bad = {**MAILBOX, **row(1, rol="regievoerder", kanaal="telefoon", adres="12")}
    answer = writer.post(EDIT, data={"csrf": token, **bad})
    assert answer.status_code == 422
    assert 'id="cp-1-adres-fout-1">&#39;12&#39; is geen geldig telefoonnummer' in answer.text
    assert 'value="maatwerk@uwv.voorbeeld.nl"' in answer.text, "what the writer typed stays in the form"
    assert points(app) == before


def test_another_row_without_javascript(writer):
    token = csrf(writer, EDIT)
    empty = writer.get(EDIT).text.count("Nieuw contactpunt")
    more = writer.post(EDIT, data={"csrf": token, **MAILBOX, "actie": "rij"})
    assert more.status_code == 200 and more.text.count("Nieuw contactpunt") == empty + 1


def test_unknown_organisation(writer):
    assert writer.get("/organisatie/bestaat-niet/contactpunten").status_code == 404
