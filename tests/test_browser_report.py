"""Issue 17 in Chromium: the 2023 report and its PDF, a chart bar's cases and their export, the
maatwerkfunctionaris on an organisation page, and feedback on a result. Runs against a real
`maatwerk serve` on the demo corpus (with the demo maatwerkregister)."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import running_server
from tests.test_browser import MAATWERK, NARROW, ROOT, WIDE

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser
PDFTOTEXT = shutil.which("pdftotext")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("report-ui")
    result = subprocess.run(
        [str(MAATWERK), "init", "--demo", "--data-dir", str(data / "dir")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    with running_server(data / "dir", data / "serve.log") as base:
        yield base


def pdf_text(path: Path) -> tuple[int, str]:
    pages = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    count = int(next(line.split()[-1] for line in pages.splitlines() if line.startswith("Pages:")))
    return count, subprocess.run([PDFTOTEXT, str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.mark.skipif(PDFTOTEXT is None, reason="poppler-utils (pdftotext, pdfinfo) is not installed")
def test_open_the_2023_report_choose_examples_and_download_the_pdf(visit, tmp_path):
    v = visit()
    page = v.goto("/systeemleren")
    page.get_by_label("Vanaf jaar").fill("2023")
    page.get_by_label("Tot en met jaar").fill("2023")
    page.get_by_role("button", name="Toon periode").click()
    page.get_by_role("link", name="Open de jaarrapportage 2023").click()
    assert page.locator("h1").inner_text() == "Jaarrapportage systeemleren 2023"
    assert page.locator("figure.figuur").count() == 8
    assert page.locator("figure.figuur svg rect").count() > 20, "the bars are server-side SVG"
    first = page.locator("ul.kandidaten input[type=checkbox]").first
    title = page.locator("ul.kandidaten label").first.inner_text().rsplit(" (", 1)[0].strip()
    first.check()
    page.get_by_role("button", name="Toon rapport").click()
    page.wait_for_url("**voorbeeld=**")
    assert page.locator("article.voorbeeld h3").first.inner_text().startswith(title)
    v.shot("rapport-1366", full=False)
    v.shot("rapport-1366-volledig")

    with page.expect_download(timeout=90_000) as download:
        page.get_by_role("link", name="Download als PDF").click()
    assert download.value.suggested_filename == "jaarrapportage-systeemleren-2023.pdf"
    pdf = tmp_path / "rapport.pdf"
    download.value.save_as(pdf)
    pages, text = pdf_text(pdf)
    assert pages > 1
    for heading in (
        "Jaarrapportage systeemleren 2023",
        "1. Aantal casussen",
        "2. Knelpunten",
        "Voorbeeldcasussen",
        "Bijlage: de SPARQL-queries",
        "11-knelpunttypen-tellen",
        title[:30],
    ):
        assert heading in " ".join(text.split()), heading
    assert "Zoeken" not in text.split("Jaarrapportage systeemleren 2023", 1)[0], "no navigation in print"
    assert "/systeemleren/casussen?" not in text, "figures name their query; link addresses are not printed"
    v.check_clean()


def test_the_report_on_a_phone(visit):
    v = visit(NARROW)
    page = v.goto("/systeemleren/rapport?jaar=2023")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    v.shot("rapport-390", full=False)
    v.check_clean()


def test_click_a_chart_bar_to_see_its_cases_and_export_them(visit, tmp_path):
    v = visit()
    page = v.goto("/systeemleren?year_from=2023&year_to=2023")
    page.wait_for_selector("#grafiek-knelpunttypen[data-getekend='ja']")
    canvas = page.locator("#grafiek-knelpunttypen")
    canvas.scroll_into_view_if_needed()
    bar = page.evaluate(
        """() => { const chart = Chart.getChart('grafiek-knelpunttypen');
                   const el = chart.getDatasetMeta(0).data[0];
                   return {x: el.x, y: (el.y + el.base) / 2,
                           label: chart.data.labels[0], value: chart.data.datasets[0].data[0]}; }"""
    )
    box = canvas.bounding_box()
    page.mouse.click(box["x"] + bar["x"], box["y"] + bar["y"])
    page.wait_for_url("**/systeemleren/casussen?**")
    assert "knelpunttype=" in page.url and "year_from=2023" in page.url
    assert page.locator("dl.filter-list").inner_text().count(bar["label"]) == 1
    rows = page.locator("table.case-list tbody tr")
    assert rows.count() == bar["value"]
    v.shot("casussen-1366", full=False)

    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    csv_file = tmp_path / download.value.suggested_filename
    download.value.save_as(csv_file)
    assert csv_file.name.startswith("casussen-") and csv_file.suffix == ".csv"
    table = list(csv.reader(io.StringIO(csv_file.read_text(encoding="utf-8-sig"))))
    assert table[0] == ["Casus", "Titel", "Jaar", "Status", "Adres"] and len(table) == bar["value"] + 1

    with page.expect_download() as download:
        page.get_by_role("link", name="Excel (.xlsx)").click()
    xlsx = tmp_path / download.value.suggested_filename
    download.value.save_as(xlsx)
    sheet = openpyxl.load_workbook(xlsx).active
    assert [list(r) for r in sheet.iter_rows(values_only=True)][1:] == [
        [r[0], r[1], int(r[2]), r[3], r[4]] for r in table[1:]
    ]
    v.check_clean()


def test_find_the_maatwerkfunctionaris_of_an_organisation(visit):
    for viewport, name in ((WIDE, "organisatie-1366"), (NARROW, "organisatie-390")):
        v = visit(viewport)
        page = v.goto("/id/organisatie/uwv")
        section = page.locator("section[aria-labelledby='contactpunten-kop']")
        assert section.get_by_role("heading", name="Contactpunten voor maatwerk").is_visible()
        point = section.locator("li.contactpunt", has_text="Maatwerkfunctionaris")
        assert point.get_by_role("link", name="maatwerk@uwv.voorbeeld.nl").get_attribute("href") == (
            "mailto:maatwerk@uwv.voorbeeld.nl"
        )
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        section.scroll_into_view_if_needed()
        v.shot(name, full=False)
        v.check_clean()


def test_give_feedback_on_a_result(visit, server):
    """The buttons of the feedback_buttons macro with feedback.js, served with the app's own CSP."""
    from api.ui.pages import templates

    v = visit()
    page = v.goto("/")
    csp = page.request.get(server + "/").headers["content-security-policy"]
    macro = templates.env.get_template("_feedback.html").module.feedback_buttons
    buttons = macro({"id": "demo-001"}, "dementie en Wlz thuis")
    html = (
        '<!doctype html><html lang="nl"><head><meta charset="utf-8">'
        '<link rel="stylesheet" href="/static/css/maatwerk.css"></head><body><main class="wrap">'
        f'<article class="card result">{buttons}</article></main>'
        '<script src="/static/js/feedback.js"></script></body></html>'
    )
    page.route(
        server + "/proef-feedback",
        lambda route: route.fulfill(body=html, content_type="text/html", headers={"content-security-policy": csp}),
    )
    page.goto(server + "/proef-feedback")
    with page.expect_response("**/api/feedback") as answer:
        page.get_by_role("button", name="Dit is de casus die ik zocht").click()
    assert answer.value.status == 201
    assert page.get_by_role("status").inner_text() == "Dank u, uw feedback is opgeslagen."
    assert page.get_by_role("button", name="Dit is de casus die ik zocht").get_attribute("aria-pressed") == "true"
    v.shot("feedback-1366", full=False)

    page.goto(server + "/systeemleren")
    weeks = page.locator("section[aria-labelledby='kop-feedback'] tbody tr")
    assert weeks.count() >= 1 and int(weeks.first.locator("td").nth(2).inner_text()) >= 1
    v.check_clean()
