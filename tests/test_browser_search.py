"""The search page in Chromium against a server with the demo corpus and the real encoder (issue 16,
issue 13 point 6, issue 18 point 3): the "geen vergelijkbare casus" state, the "misschien
vergelijkbaar" state of a weak answer, seed situations finding their precedent first, the text kept
out of the address, the keyboard path to the first result, and the personal-data warning before and
after searching."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import MAATWERK, REAL_ENCODER, running_server
from tests.test_browser import NARROW, ROOT, WIDE, Visit, sync_api

pytestmark = pytest.mark.browser

# The examples the page offers, and the rolstoel situation of issue 16, with the case they are about.
SEEDS = {
    "Man in rolstoel begint een nieuwe baan en kan zijn werkplek niet bereiken; gemeente en UWV wijzen naar elkaar": (
        "demo-008"
    ),
    "Jongere wordt 18 en de behandeling bij de jeugd-ggz stopt; de zorgverzekeraar heeft geen contract met de "
    "aanbieder": "demo-201",
    "Oudere vrouw met dementie woont alleen, thuiszorg is niet genoeg maar het CIZ wijst de Wlz-indicatie af": (
        "demo-001"
    ),
    "Gezin met schulden krijgt een terugvordering van de kinderopvangtoeslag en de bijstand wordt gekort": "demo-236",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("zoeken-real") / "dir"
    with pytest.MonkeyPatch.context() as env:  # the server and its init inherit the real encoder
        env.setenv("MAATWERK_ENCODER", REAL_ENCODER)
        subprocess.run([str(MAATWERK), "init", "--demo", "--data-dir", str(data)], cwd=ROOT, check=True, timeout=600)
        with running_server(data, data.parent / "serve.log") as base:
            yield base


def search(v: Visit, text: str):
    page = v.goto("/")
    page.get_by_label("Beschrijf de situatie").fill(text)
    page.get_by_role("button", name="Zoek vergelijkbare casussen").click()
    page.wait_for_selector("#resultaten-kop")
    return page


@pytest.mark.parametrize("text", ["asdfgh qwerty zxcv", "welke verf gebruik ik het best voor houten kozijnen buiten"])
def test_gibberish_and_an_unrelated_situation_say_no_comparable_case(visit, text):
    v = visit()
    page = search(v, text)
    assert page.locator("#resultaten-kop").inner_text() == "Geen vergelijkbare casus gevonden"
    assert page.locator(".maybe article.result").count() <= 3, "at most a few 'misschien' results"
    assert page.locator("section.results > ol.cards").count() == 0, "no confident list"
    contacts = page.locator("aside.side .contacts").inner_text()
    assert "Maatwerkloket" in contacts and "gemeente" in contacts, "generic help is offered"
    v.check_clean()


def test_mixed_evidence_shows_possibly_comparable_cases_set_apart_from_a_strong_match(visit):
    v = visit()
    page = search(v, "leraren willen mijn suikerzieke dochter niet prikken")
    assert page.locator("#resultaten-kop").inner_text().endswith("die misschien vergelijkbaar zijn")
    assert "geen enkele sterk" in page.locator("section.results > p.notice").inner_text()
    first = page.locator("article.result").first
    assert first.locator("h3 a").get_attribute("href").endswith("/casus/demo-254")
    assert first.locator(".score").inner_text() == "mogelijk relevant"
    assert page.locator(".relevance-sterke-overeenkomst").count() == 0
    v.shot("zoeken-mogelijk-relevant-1366", full=False)
    v.check_clean()


def test_seed_situations_find_their_precedent_first_and_keep_the_text_out_of_the_address(visit):
    v = visit()
    for text, case_id in SEEDS.items():
        page = search(v, text)
        first = page.locator("article.result h3 a").first
        assert first.get_attribute("href").endswith(f"/casus/{case_id}")
        assert page.locator("#resultaten-kop").inner_text() != "Geen vergelijkbare casus gevonden"
        assert text.split()[1] not in page.url and "q=" not in page.url
        assert page.evaluate("document.title").startswith("Zoekresultaten")
    v.check_clean()


@pytest.mark.parametrize("viewport", [WIDE, NARROW], ids=["1366", "390"])
def test_after_a_search_tab_reaches_the_first_result_within_three_steps(visit, viewport):
    v = visit(viewport)
    page = v.goto("/")
    page.locator("#q").fill(next(iter(SEEDS)))
    page.get_by_role("button", name="Zoek vergelijkbare casussen").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#resultaten-kop")
    sync_api.expect(page.locator("#resultaten-kop")).to_be_focused()
    first = page.locator("article.result h3 a").first
    for _ in range(3):
        page.keyboard.press("Tab")
        if first.evaluate("link => link === document.activeElement"):
            break
    assert first.evaluate("link => link === document.activeElement"), "first result within 3 Tabs"
    status = page.locator("#zoek-status")
    sync_api.expect(status).not_to_be_empty()
    assert status.get_attribute("aria-live") == "polite"
    assert "vergelijkbare casus" in status.inner_text() and "overeenkomst" in status.inner_text()
    v.check_clean()


def test_personal_data_is_warned_about_while_typing_and_after_searching(visit):
    v = visit()
    page = v.goto("/")
    page.locator("#q").type("Vrouw met rolstoel kan het kantoor niet in, haar BSN is 123456782")
    warning = page.locator("#q-privacy .notice")
    warning.wait_for()
    assert "Dit lijkt een BSN" in warning.inner_text() and "123456782" not in warning.inner_text()
    page.get_by_role("button", name="Zoek vergelijkbare casussen").click()
    page.wait_for_selector("#resultaten-kop")
    after = page.locator("p.notice.warning[role='alert']")
    assert "Dit lijkt een BSN" in after.inner_text()
    assert "123456782" not in page.url
    v.shot("zoeken-waarschuwing-1366", full=False)
    v.check_clean()
