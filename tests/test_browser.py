"""The Dutch web UI in Debian's headless Chromium, against a real `maatwerk serve`.

A data directory is built for this module (reference data plus a handful of cases
written below), the server runs in a subprocess on a free port, and every test
records each request the browser makes: none may leave 127.0.0.1, because the UI
must work on a closed network. Screenshots land in tests/screenshots/ (gitignored)
so a person can look at what users see.

axe-core (vendored in tests/vendor/axe-core/) checks every page a test opens, at the
viewport of that test, and `test_every_page_passes_axe` opens every page at both
viewports: serious and critical violations fail the test.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, quote, urlparse

import pytest

from tests.conftest import running_server

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium chromium-driver)", allow_module_level=True
    )
sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "tests" / "screenshots"
MAATWERK = Path(sys.executable).with_name("maatwerk")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
WIDE = {"width": 1366, "height": 768}
NARROW = {"width": 390, "height": 844}
PHONE = {"viewport": NARROW, "has_touch": True, "is_mobile": True}
AXE = (ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
FAILING_IMPACT = ("serious", "critical")
# The API documentation pages embed third-party viewers (Swagger UI, ReDoc) whose own markup has
# violations we cannot change without patching them; axe checks our part of those pages.
AXE_EXCLUDE = {"/docs": [".swagger-ui"], "/redoc": ["redoc"]}

CASES = [
    {
        "id": "ui-rolstoel",
        "title": "Rolstoel past niet in de lift van het nieuwe kantoor",
        "situation": "Een vrouw met een spierziekte gebruikt een elektrische rolstoel. Haar werkgever verhuist naar een "
        "kantoor waar de rolstoel niet in de lift past. De gemeente verwijst naar het UWV voor een "
        "werkvoorziening, het UWV zegt dat de rolstoel een Wmo-voorziening is.",
        "solution": "Het UWV heeft een aangepaste werkplek op de begane grond vergoed; de gemeente heeft de rolstoel "
        "laten aanpassen zodat die kleiner draait. Afgesproken dat de Wmo-consulent en de arbeidsdeskundige "
        "voortaan samen één plan maken.",
        "status": "opgelost",
        "year": 2023,
        "laws": ["Wmo 2015", "Participatiewet"],
        "organisations": ["gemeente", "UWV"],
        "levensgebieden": ["maatschappelijke participatie"],
        "knelpunten": ["samenwerking"],
        "fictional": True,
        "learning_points": [
            {
                "text": "Laat gemeente en UWV bij hulpmiddelen op het werk één gezamenlijk plan maken.",
                "order": 2,
                "addressees": ["gemeente", "UWV"],
                "follow_up": "voorgelegd",
                "presented_on": "2024-01-15",
            }
        ],
    },
    {
        "id": "ui-anorexia",
        "title": "Eetstoornisbehandeling stopt bij de 18e verjaardag",
        "situation": "Een meisje van 17 is in behandeling voor anorexia bij een jeugd-ggz-aanbieder. Bij 18 jaar gaat de "
        "behandeling over naar de Zvw, maar de zorgverzekeraar heeft geen contract met de aanbieder en "
        "verwijst naar een wachtlijst van 14 weken.",
        "solution": "De zorgverzekeraar is aangesproken op de zorgplicht en heeft de behandeling bij dezelfde aanbieder "
        "vergoed tot het einde van het traject.",
        "status": "opgelost",
        "year": 2022,
        "laws": ["Jeugdwet", "Zvw"],
        "organisations": ["zorgverzekeraar", "gemeente"],
        "levensgebieden": ["geestelijke gezondheid"],
        "knelpunten": ["wet- en regelgeving", "samenwerking"],
        "fictional": True,
        "learning_points": [
            {
                "text": "Een lopende jeugd-ggz-behandeling moet na 18 jaar bij dezelfde aanbieder kunnen "
                "worden afgemaakt.",
                "order": 3,
            }
        ],
    },
    {
        "id": "ui-schulden",
        "title": "Beslag op uitkering laat gezin zonder leefgeld",
        "situation": "Een moeder met twee kinderen heeft schulden bij de Belastingdienst en de zorgverzekeraar. Er ligt "
        "beslag op haar bijstandsuitkering en er blijft te weinig over om boodschappen te doen.",
        "solution": "De gemeente heeft de beslagvrije voet laten herberekenen en een schuldhulptraject gestart.",
        "status": "lopend",
        "year": 2024,
        "laws": ["Participatiewet", "Wgs"],
        "organisations": ["gemeente"],
        "levensgebieden": ["financiën"],
        "knelpunten": ["communicatie"],
        "fictional": True,
    },
    {
        "id": "ui-dementie",
        "title": "Thuiszorg niet genoeg voor man met dementie",
        "situation": "Een man van 84 met dementie woont alleen. De thuiszorg komt drie keer per dag maar hij dwaalt 's "
        "nachts. Het CIZ wijst een Wlz-indicatie af omdat er geen permanent toezicht nodig zou zijn.",
        "solution": "Na een nieuwe aanvraag met een verslag van de casemanager dementie is de Wlz-indicatie toegekend.",
        "status": "opgelost",
        "year": 2021,
        "laws": ["Wlz", "Wmo 2015", "Zvw"],
        "organisations": ["CIZ", "gemeente"],
        "levensgebieden": ["geestelijke gezondheid", "basale ADL"],
        "knelpunten": ["wet- en regelgeving"],
        "fictional": True,
        "learning_points": [{"text": "Leg nachtelijk dwalen vast in een dagboek voor de Wlz-aanvraag.", "order": 1}],
    },
    {
        "id": "ui-dakloos",
        "title": "18-jarige op straat: te oud voor jeugdhulp",
        "situation": "Een jongen van net 18 is door zijn vader op straat gezet. De opvang vindt hem te jong, het "
        "jeugdteam zegt dat hij te oud is voor jeugdhulp. Hij slaapt bij vrienden.",
        "solution": "De gemeente heeft hem in een jongerenopvang geplaatst en een briefadres geregeld.",
        "status": "niet opgelost",
        "year": 2023,
        "laws": ["Jeugdwet", "Wmo 2015"],
        "organisations": ["gemeente", "wijkteam"],
        "levensgebieden": ["huisvesting"],
        "knelpunten": ["samenwerking"],
        "fictional": True,
    },
    # One unbroken 5,004-character word: the page must wrap it, not grow sideways.
    {
        "id": "ui-lang-woord",
        "title": "Aanvraag met een heel lang woord",
        "situation": "Een inwoner plakte dit in het formulier: " + "schuld" * 834 + " en wacht op antwoord.",
        "status": "lopend",
        "year": 2024,
        "laws": ["Wmo 2015"],
        "fictional": True,
    },
]


# --- the server ------------------------------------------------------------------------


def _run(*args: str) -> None:
    result = subprocess.run([str(MAATWERK), *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"maatwerk {' '.join(args)} faalde:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("ui-data")
    cases = data / "cases.jsonl"
    cases.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in CASES), encoding="utf-8")
    _run("init", "--no-demo", "--data-dir", str(data / "dir"))
    _run("import-cases", str(cases), "--data-dir", str(data / "dir"))
    with running_server(data / "dir", data / "serve.log") as base:
        yield base


# --- the browser ----------------------------------------------------------------------------


class Visit:
    """A page plus everything it asked for and every script error it raised."""

    def __init__(self, browser, base: str, viewport: dict, **options):
        self.base = base
        self.context = browser.new_context(viewport=viewport, locale="nl-NL", **options)
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        # Every Content-Security-Policy violation, also those a library catches and hides from the console.
        self.context.add_init_script(
            "window.__csp = []; document.addEventListener('securitypolicyviolation', "
            "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
        )

    def goto(self, path: str):
        self.page.goto(self.base + path)
        self.axe()
        return self.page

    def axe(self) -> list[dict]:
        """Run axe-core on the page as it is now; fail on serious or critical violations, return the rest."""
        # Evaluated through the DevTools protocol, which the page's Content-Security-Policy does not govern.
        if not self.page.evaluate("typeof window.axe === 'object'"):
            self.page.evaluate(AXE)
        exclude = AXE_EXCLUDE.get(urlparse(self.page.url).path, [])
        result = self.page.evaluate(
            "(exclude) => axe.run({include: [document], exclude: exclude.map(s => [s])}, "
            "{resultTypes: ['violations']})",
            exclude,
        )
        failing = [
            f"{v['impact']} {v['id']}: {[n['target'] for n in v['nodes']][:5]}"
            for v in result["violations"]
            if v["impact"] in FAILING_IMPACT
        ]
        assert not failing, f"axe-core op {self.page.url}: {failing}"
        return result["violations"]

    def shot(self, name: str, full: bool = True) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full)

    def check_clean(self) -> None:
        self.axe()
        outside = [u for u in self.requests if not _local(u)]
        assert not outside, f"verzoeken buiten 127.0.0.1: {outside}"
        assert not self.errors, f"fouten in de browser: {self.errors}"
        violations = self.page.evaluate("window.__csp || []")
        assert not violations, f"Content-Security-Policy-overtredingen: {violations}"


def _local(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in ("data", "blob", "about") or parsed.hostname == "127.0.0.1"


def _canvas_has_pixels(page, selector: str) -> bool:
    """True when some canvas under `selector` has drawn at least one non-transparent pixel."""
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)].some(c => {
        if (!c.width || !c.height) return false;
        const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < data.length; i += 4) if (data[i] > 0) return true;
        return false; })""",
        selector,
    )


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


# --- tests --------------------------------------------------------------------------------------


def test_search_shows_cards_and_opens_the_case_with_its_graph(visit):
    v = visit()
    page = v.goto("/")
    page.get_by_label("Beschrijf de situatie").fill(
        "Meisje van 17 met anorexia; bij 18 jaar stopt de behandeling want de zorgverzekeraar heeft geen contract"
    )
    page.get_by_role("button", name="Zoek vergelijkbare casussen").click()
    page.wait_for_selector("article.result")
    assert "Meisje" not in page.url and "q=" not in page.url, "de beschrijving blijft uit het adres (issue 13)"

    first = page.locator("article.result").first
    assert "Eetstoornisbehandeling" in first.locator("h3").inner_text()
    assert first.get_by_text("Waarom deze casus").is_visible()
    assert first.locator("blockquote.passage mark").count() > 0, "gematchte woorden worden gemarkeerd"
    assert first.locator("a[href^='https://wetten.overheid.nl/BWBR']").count() > 0
    side = page.locator("aside.side")
    assert side.get_by_role("heading", name="Mogelijk relevant").is_visible()
    assert side.get_by_role("heading", name="Wie kunt u benaderen").is_visible()
    v.shot("zoeken-1366", full=False)
    v.shot("zoeken-1366-volledig")

    first.locator("h3 a").click()
    page.wait_for_selector("#graaf[data-getekend='ja'] canvas")
    assert page.locator("h1").inner_text() == "Eetstoornisbehandeling stopt bij de 18e verjaardag"
    assert page.get_by_text("fictief voorbeeld").is_visible()
    assert page.get_by_role("heading", name="Leerpunten").is_visible()
    assert page.get_by_text("3e orde", exact=True).is_visible()
    assert _canvas_has_pixels(page, "#graaf canvas"), "de graaf is getekend"
    page.locator("#graaf").scroll_into_view_if_needed()
    v.shot("casus-1366", full=False)
    v.shot("casus-1366-volledig")
    v.check_clean()


def test_a_shared_search_url_restores_the_query_and_filters(visit):
    v = visit()
    page = v.goto("/?q=jongere+wordt+18+en+valt+tussen+wal+en+schip&law=jeugdwet&status=")
    assert "wordt 18" in page.get_by_label("Beschrijf de situatie").input_value()
    assert page.locator("#f-law").input_value() == "jeugdwet"
    titles = page.locator("article.result h3").all_inner_texts()
    assert titles, "er zijn resultaten"
    assert all(
        t in ("Eetstoornisbehandeling stopt bij de 18e verjaardag", "18-jarige op straat: te oud voor jeugdhulp")
        for t in titles
    ), f"alleen casussen met de Jeugdwet: {titles}"
    v.check_clean()


def test_an_old_search_link_opens_with_the_new_parameter_names(visit):
    v = visit()
    page = v.goto("/?q=jongere+wordt+18&wet=jeugdwet&jaar_van=2022")
    assert parse_qs(urlparse(page.url).query) == {"q": ["jongere wordt 18"], "law": ["jeugdwet"], "year_from": ["2022"]}
    assert page.locator("#f-law").input_value() == "jeugdwet"
    assert page.locator("#f-jaar-van").input_value() == "2022"
    v.check_clean()


def test_sparql_example_query_runs_in_yasgui_and_shows_a_table(visit):
    v = visit()
    page = v.goto("/sparql")
    page.wait_for_selector(".tabPanel.active .yasqe .CodeMirror")
    examples = page.locator("button.example")
    assert examples.count() >= 12
    page.get_by_role("button", name="Welke wetten spelen het vaakst een rol in casussen?").click()
    page.wait_for_selector(".yasr table tbody tr td")
    table = page.locator(".yasr table").first.inner_text()
    assert "Jeugdwet" in table and "Wmo 2015" in table
    assert "resultaten" in page.locator("#sparql-status").inner_text()
    v.shot("sparql-1366", full=False)
    v.check_clean()


def test_systeemleren_draws_every_chart_and_shows_its_query(visit):
    v = visit()
    page = v.goto("/systeemleren")
    page.wait_for_selector("canvas[data-getekend='ja']")
    canvases = page.locator("canvas[id^='grafiek-']")
    assert canvases.count() >= 6  # a chart without data in this small corpus says so instead of drawing
    assert page.locator("canvas[data-getekend='ja']").count() == canvases.count()
    assert _canvas_has_pixels(page, "canvas[id^='grafiek-']")
    page.get_by_text("Toon de SPARQL-query").first.click()
    assert "SELECT" in page.locator("pre.query").first.inner_text()
    v.shot("systeemleren-1366", full=False)
    v.shot("systeemleren-1366-volledig")

    page.get_by_label("Vanaf jaar").fill("2023")
    page.get_by_role("button", name="Toon periode").click()
    page.wait_for_url("**year_from=2023**")
    assert "?jaar >= 2023" in page.locator("pre.query").first.text_content()

    page.get_by_text("Toon de SPARQL-query").first.click()
    page.get_by_role("link", name="Open deze query in de SPARQL-editor").first.click()
    page.wait_for_selector(".tabPanel.active .yasqe .CodeMirror")
    assert "?jaar >= 2023" in page.locator(".tabPanel.active .yasqe .CodeMirror").first.inner_text()
    v.check_clean()


def test_law_page_links_the_official_source_and_its_cases(visit):
    v = visit()
    page = v.goto("/id/wet/jeugdwet")
    assert page.locator("h1").inner_text() == "Jeugdwet"
    assert page.locator("a[href='https://wetten.overheid.nl/BWBR0034925']").count() == 1
    assert page.get_by_role("link", name="18-jarige op straat: te oud voor jeugdhulp").is_visible()
    v.shot("wet-1366", full=False)
    page = v.goto("/id/casus/ui-rolstoel")
    assert page.url.endswith("/casus/ui-rolstoel")
    page = v.goto("/id/organisatie/gemeente")
    assert page.get_by_role("heading", name="Casussen (5)").is_visible()
    v.check_clean()


def test_narrow_screen_has_no_sideways_scrolling(visit):
    v = visit(NARROW)
    for path, name in (
        ("/?q=rolstoel+past+niet+in+de+lift+op+het+werk", "zoeken-390"),
        ("/casus/ui-anorexia", "casus-390"),
        ("/sparql", "sparql-390"),
        ("/systeemleren", "systeemleren-390"),
        ("/id/organisatie/gemeente", "organisatie-390"),
        ("/id/organisatie/uwv", "organisatie-uwv-390"),
    ):
        page = v.goto(path)
        page.wait_for_load_state("networkidle")  # scripts and data of the charts are in
        page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")  # laid out
        v.shot(name, full=False)
        assert _no_horizontal_scroll(page), f"{path} schuift zijwaarts op een smal scherm"
        outside = page.evaluate(
            "[...document.querySelectorAll('main dd, main p, main li')]"
            ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).length"
        )
        assert outside == 0, f"{path}: {outside} tekstblokken lopen buiten het scherm"
    v.check_clean()


def test_keyboard_only_search(visit):
    v = visit()
    page = v.goto("/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Direct naar de inhoud"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none", "focus is zichtbaar"
    page.locator("#q").focus()
    page.keyboard.type("Man met dementie dwaalt 's nachts, CIZ wijst Wlz af")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("article.result")
    assert "Thuiszorg niet genoeg" in page.locator("article.result h3").first.inner_text()
    v.check_clean()


def test_api_docs_work_offline_under_the_csp(visit):
    v = visit()
    page = v.goto("/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=15_000)
    assert page.evaluate("document.documentElement.lang") == "nl"
    assert "API-documentatie" in page.locator("h1").first.inner_text()
    assert page.locator("a[href='/']").count() >= 1  # the way back to the application
    assert "/api/similar-cases" in page.content()
    v.shot("docs")
    v.check_clean()
    page = v.goto("/redoc")
    page.wait_for_selector("redoc .api-content, redoc [role=main], redoc h1", timeout=15_000)
    assert "similar-cases" in page.content()
    v.check_clean()


def test_a_five_thousand_character_word_does_not_widen_the_page(visit):
    v = visit(NARROW)
    word = "schuld" * 834  # 5,004 characters without a break opportunity
    for path in (f"/?q={word}", "/casus/ui-lang-woord"):
        page = v.goto(path)
        page.wait_for_load_state("load")
        assert word[:200] in page.content(), path
        assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"] + 1, path
    v.check_clean()


def test_the_csp_blocks_an_injected_inline_script_and_the_check_sees_it(visit):
    """The policy is enforced, and check_clean would notice a violation (so its silence above means something)."""
    v = visit()
    page = v.goto("/")
    page.evaluate("""() => { const s = document.createElement('script');
                             s.textContent = 'window.__ran = true'; document.body.appendChild(s); }""")
    page.wait_for_timeout(200)
    assert page.evaluate("window.__ran === undefined")
    assert any("script-src" in violation for violation in page.evaluate("window.__csp"))


# --- issue 18: phone, SPARQL page, case page, systeemleren, axe ---------------------------------

EVERY_PAGE = (
    "/",
    "/?q=jongere+wordt+18+en+valt+tussen+wal+en+schip",
    "/casus/ui-anorexia",
    "/casus/bestaat-niet",
    "/id/wet/jeugdwet",
    "/id/organisatie/gemeente",
    "/id/voorziening/rolstoel",
    "/sparql",
    "/systeemleren",
    "/systeemleren?year_from=2025&year_to=2020",
    "/systeemleren/leerpunten?geadresseerde=uwv&opvolging=voorgelegd",
    "/systeemleren/casussen?status=opgelost",
    "/systeemleren/rapport",
    "/aanmelden",
    "/docs",
    "/redoc",
)


@pytest.mark.parametrize("viewport", [WIDE, NARROW], ids=["1366", "390"])
@pytest.mark.parametrize("path", EVERY_PAGE)
def test_every_page_passes_axe(visit, path, viewport):
    v = visit(viewport)
    page = v.goto(path)
    page.wait_for_load_state("networkidle")
    if path in AXE_EXCLUDE:  # the viewers draw after load
        page.wait_for_selector(".swagger-ui .opblock, redoc h1, redoc h2", timeout=15_000)
    # Open every <details>, so what is folded away (query blocks, tables) is checked too.
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    v.axe()
    if path == "/casus/bestaat-niet":  # the browser logs the 404 of the page under test itself
        v.errors = [e for e in v.errors if "status of 404" not in e]
    v.check_clean()


def _swipe_up(page, x: float, y: float, distance: int = 200) -> None:
    """A finger moving up from (x, y), as on a phone (raw touch events: the page should scroll down)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for step in range(1, 11):
        point = {"x": x, "y": y - distance * step / 10}
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()
    page.wait_for_timeout(300)


def _swipe_scrolls(page, locator) -> bool:
    box = locator.bounding_box()
    assert box and box["height"] > 200
    before = page.evaluate("window.scrollY")
    _swipe_up(page, box["x"] + box["width"] / 2, min(box["y"] + box["height"] / 2, NARROW["height"] - 50))
    return page.evaluate("window.scrollY") > before + 100


def test_on_a_phone_search_open_a_case_and_scroll_past_its_graph(visit):
    v = visit(**PHONE)
    page = v.goto("/")
    page.get_by_label("Beschrijf de situatie").fill("Man van 84 met dementie dwaalt 's nachts, CIZ wijst de Wlz af")
    page.get_by_role("button", name="Zoek vergelijkbare casussen").tap()
    page.wait_for_selector("article.result")
    page.locator("article.result h3 a").first.tap()
    page.wait_for_selector("#graaf[data-getekend='ja'] canvas")
    graph = page.locator("#graaf")
    graph.scroll_into_view_if_needed()
    assert _swipe_scrolls(page, graph), "een veeg over de graaf scrolt de pagina"
    v.shot("casus-390-graaf", full=False)

    # "Verken de graaf" hands the touches to the picture (the page stays put), and back.
    explore = page.get_by_role("button", name="Verken de graaf")
    explore.tap()
    assert explore.get_attribute("aria-pressed") == "true"
    graph.scroll_into_view_if_needed()
    assert not _swipe_scrolls(page, graph), "in verkenmodus verschuift de veeg de graaf, niet de pagina"
    explore.tap()
    assert explore.get_attribute("aria-pressed") == "false"
    graph.scroll_into_view_if_needed()
    assert _swipe_scrolls(page, graph)
    v.check_clean()


def test_the_graph_takes_no_touch_switch_on_a_desktop(visit):
    v = visit()
    page = v.goto("/casus/ui-anorexia")
    page.wait_for_selector("#graaf[data-getekend='ja'] canvas")
    assert not page.get_by_role("button", name="Verken de graaf").is_visible()
    assert page.locator("#graaf").evaluate("e => getComputedStyle(e).pointerEvents") != "none"
    v.check_clean()


def _editor(page) -> str:
    return page.evaluate("document.querySelector('.tabPanel.active .CodeMirror').CodeMirror.getValue()")


def _set_editor(page, text: str) -> None:
    page.evaluate("(t) => document.querySelector('.tabPanel.active .CodeMirror').CodeMirror.setValue(t)", text)


def test_a_shared_sparql_link_opens_the_shared_query_in_a_fresh_browser(visit):
    mine = "SELECT ?wet ?naam WHERE { ?wet a eli:LegalResource ; skos:prefLabel ?naam } ORDER BY ?naam LIMIT 5"
    v = visit()
    page = v.goto("/sparql")
    page.wait_for_selector(".tabPanel.active .yasqe .CodeMirror")
    _set_editor(
        page,
        "PREFIX eli: <http://data.europa.eu/eli/ontology#>\n"
        "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n" + mine,
    )
    page.get_by_role("button", name="Query delen").click()
    link = page.get_by_label("Link om deze query te delen").input_value()
    assert urlparse(link).path == "/sparql" and "query=" in urlparse(link).fragment
    v.check_clean()

    fresh = visit()  # another browser context: no stored tabs, nothing in common but the link
    page = fresh.page
    page.goto(link)
    page.wait_for_selector(".tabPanel.active .yasqe .CodeMirror")
    assert mine in _editor(page), "de gedeelde query staat in de editor, niet voorbeeld 1"
    assert page.locator(".tabsList [role=tab]").all_inner_texts()[-1].startswith("Query uit link")
    page.get_by_role("button", name="Query uitvoeren").click()
    page.wait_for_selector(".yasr table tbody tr td")
    assert page.locator("#sparql-status").inner_text().startswith("Query uit link · 5 resultaten")
    fresh.shot("sparql-gedeeld-1366", full=False)
    fresh.check_clean()


def test_an_invalid_query_gets_a_dutch_error_and_own_work_its_own_label(visit):
    v = visit()
    page = v.goto("/sparql")
    page.get_by_role("button", name="Welke wetten spelen het vaakst een rol in casussen?").click()
    page.wait_for_selector(".yasr table tbody tr td")
    _set_editor(page, "SELEC ?x WHERE { ?x ?p ?o }")
    page.get_by_role("button", name="Query uitvoeren").click()
    page.wait_for_selector(".sparql-fout")
    status = page.locator("#sparql-status").inner_text()
    assert status.startswith("Eigen query · fout: Syntaxfout in de query"), status
    assert "Welke wetten" not in status, "het label is niet de titel van het laatste voorbeeld"
    shown = page.locator(".tabPanel.active .yasr").inner_text()
    assert "De query kon niet worden uitgevoerd." in shown and "Syntaxfout in de query" in shown
    assert '{"error"' not in shown, "geen ruwe JSON"
    v.shot("sparql-fout-1366", full=False)
    # The browser logs the endpoint's 400 itself; that is the answer under test, not a fault of the page.
    v.errors = [e for e in v.errors if "status of 400" not in e]
    v.check_clean()


def test_a_result_cut_at_the_row_cap_says_so(visit):
    v = visit()
    page = v.goto("/sparql")
    page.wait_for_selector(".tabPanel.active .yasqe .CodeMirror")
    _set_editor(page, "SELECT * WHERE { ?s ?p ?o . ?a ?b ?c } LIMIT 20000")
    page.get_by_role("button", name="Query uitvoeren").click()
    notice = page.locator("#sparql-afgekapt")
    notice.wait_for(state="visible", timeout=60_000)
    assert notice.inner_text().startswith("Afgekapt: alleen de eerste 10.000 rijen")
    assert "10.000 resultaten" in page.locator("#sparql-status").inner_text()
    v.shot("sparql-afgekapt-1366", full=False)
    v.check_clean()


def test_queries_from_links_reuse_one_tab(visit):
    v = visit()
    for n in (1, 2, 3):
        page = v.goto("/sparql?" + "vraag=" + quote(f"SELECT * WHERE {{ ?s ?p ?o }} LIMIT {n}"))
        page.wait_for_selector(".tabPanel.active .yasqe .CodeMirror")
        assert _editor(page).endswith(f"LIMIT {n}")
    tabs = page.locator(".tabsList [role=tab]").all_inner_texts()
    assert sum(t.startswith("Query uit link") for t in tabs) == 1, tabs
    v.check_clean()


def test_yasgui_speaks_dutch_where_it_can(visit):
    v = visit()
    page = v.goto("/sparql")
    page.get_by_role("button", name="Welke wetten spelen het vaakst een rol in casussen?").click()
    page.wait_for_selector(".yasr table tbody tr td")
    for name in ("Query uitvoeren", "Query delen", "Nieuw tabblad", "Tabel", "Antwoord", "Resultaat downloaden"):
        assert page.get_by_role("button", name=name).count() >= 1, name
    text = page.locator("#yasgui").inner_text()
    for english in ("Table", "Response", "Download result", "Show all", "results in"):
        assert english not in text, english
    v.check_clean()


def test_on_a_phone_the_result_of_an_example_comes_into_view(visit):
    v = visit(**PHONE)
    page = v.goto("/sparql")
    page.get_by_role("button", name="Welke wetten spelen het vaakst een rol in casussen?").tap()
    page.wait_for_selector(".yasr table tbody tr td")
    page.wait_for_timeout(300)
    top = page.locator(".tabPanel.active .yasr").evaluate("e => e.getBoundingClientRect().top")
    assert 0 <= top < NARROW["height"] / 2, f"het resultaat staat op {top}px"
    v.shot("sparql-390-voorbeeld", full=False)
    v.check_clean()


def test_back_from_a_case_to_the_results(visit):
    v = visit()
    page = v.goto("/?q=jongere+wordt+18+en+valt+tussen+wal+en+schip")
    results = page.url
    page.locator("article.result h3 a").first.click()
    page.wait_for_selector("h1")
    page.get_by_role("link", name="Terug naar resultaten").click()
    page.wait_for_selector("article.result")
    assert page.url == results
    page = v.goto("/casus/ui-anorexia")  # opened directly: the link goes to the search page
    assert page.get_by_role("link", name="Naar zoeken").get_attribute("href") == "/"
    v.check_clean()


def test_printing_a_case_leaves_out_navigation_and_graph_controls(visit, tmp_path):
    pdftotext = shutil.which("pdftotext")
    if not pdftotext:
        pytest.skip("pdftotext ontbreekt (apt-get install poppler-utils)")
    v = visit()
    page = v.goto("/?q=rolstoel+past+niet+in+de+lift")
    page.locator("article.result h3 a").first.click()
    page.wait_for_selector("#graaf[data-getekend='ja'] canvas")
    pdf = tmp_path / "casus.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True)
    text = subprocess.run([pdftotext, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Rolstoel past niet in de lift" in text and "Situatie" in text and "Leerpunten" in text
    for chrome in (
        "Hoofdmenu",
        "Direct naar de inhoud",
        "Systeemleren",
        "Inzoomen",
        "Passend maken",
        "Terug naar resultaten",
        "Verken de graaf",
        "Samenhang in de kennisgraaf",
    ):
        assert chrome not in text, f"{chrome!r} hoort niet op papier"
    assert "wetten.overheid.nl/BWBR" in text, "het adres van een wetslink staat op papier"
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm:  # the first page as an image, for a person to look at
        SHOTS.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [pdftoppm, "-png", "-r", "60", "-f", "1", "-l", "2", str(pdf), str(SHOTS / "casus-print")], check=True
        )
    v.check_clean()


def test_a_reversed_year_range_is_explained_on_systeemleren(visit):
    v = visit(NARROW)
    page = v.goto("/systeemleren")
    page.get_by_label("Vanaf jaar").fill("2025")
    page.get_by_label("Tot en met jaar").fill("2020")
    page.get_by_role("button", name="Toon periode").click()
    page.wait_for_url("**year_to=2020**")
    assert page.get_by_text("De jaren zijn omgedraaid").is_visible()
    page.wait_for_selector("canvas[data-getekend='ja']")
    assert page.locator("canvas[data-getekend='ja']").count() >= 1, "de omgedraaide periode heeft grafieken"
    v.shot("systeemleren-390-omgedraaid", full=False)
    v.check_clean()
