"""HTML to PDF with Chromium's own print engine (headless `--print-to-pdf`).

Chromium is the browser the UI is tested with, so the PDF looks like the page's print preview:
the report's print stylesheet (A4, page breaks, no navigation) is honoured as written. The HTML
is rendered by us with its styles inline and loaded from a temporary file, so printing needs no
server, no network and no JavaScript (the report's charts are SVG drawn on the server).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from graph.errors import MaatwerkError

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_S = 60
# One print at a time: a headless Chromium takes a few hundred MB.
_printing = threading.Semaphore(1)


class PdfError(MaatwerkError):
    def __init__(self, message: str, detail: str | None = None):
        super().__init__(message, detail, status=503, exit_code=1)


def chromium() -> str:
    """The Chromium to print with: $MAATWERK_CHROMIUM, else the first on PATH."""
    configured = os.environ.get("MAATWERK_CHROMIUM")
    found = configured or next((p for p in map(shutil.which, CHROMIUM_NAMES) if p), None)
    if not found or not Path(found).exists():
        raise PdfError(
            "Geen Chromium gevonden om de PDF te maken.",
            "Installeer Chromium (Debian: apt-get install chromium) of zet MAATWERK_CHROMIUM op het pad ernaartoe.",
        )
    return found


def html_to_pdf(html: str) -> bytes:
    """Print `html` (a whole document, styles inline) to PDF bytes with headless Chromium."""
    binary = chromium()
    with _printing, tempfile.TemporaryDirectory(prefix="maatwerk-pdf-") as tmp:
        page, out, profile = Path(tmp) / "rapport.html", Path(tmp) / "rapport.pdf", Path(tmp) / "profiel"
        page.write_text(html, encoding="utf-8")
        command = [
            binary,
            "--headless",
            "--no-sandbox",  # often run as a service user in a container, where the sandbox cannot start
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={out}",
            page.as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, timeout=TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired as exc:
            raise PdfError(f"Chromium maakte de PDF niet binnen {TIMEOUT_S} seconden.") from exc
        if not out.exists() or out.stat().st_size == 0:
            tail = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
            raise PdfError("Chromium kon de PDF niet maken.", " ".join(tail) or f"exitcode {done.returncode}")
        return out.read_bytes()
