"""Shared fixtures: data dirs built once per session, because indexing costs seconds.

Tests run with the `hash:256` encoder (no model to load, deterministic; set before the package
reads its settings, and inherited by the servers and CLIs the tests start). Tests about what
the real model finds ask for `REAL_ENCODER` themselves (`real_small_dir`, `real_demo_core`).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MAATWERK_ENCODER", "hash:256")
# Servers started by tests do not build the overviews in the background (each test module starts
# several, and the suite runs on two cores); tests/test_cache.py turns it on where it is the subject.
os.environ.setdefault("MAATWERK_WARM_OVERVIEWS", "0")

from api.core import Maatwerk
from api.settings import Settings
from search.encoders import DEFAULT_ENCODER

TESTS = Path(__file__).parent
SMALL_CASES = TESTS / "data" / "cases_small.jsonl"
MAATWERK = Path(sys.executable).with_name("maatwerk")
REAL_ENCODER = DEFAULT_ENCODER


def open_core(data_dir: Path, encoder: str | None = None) -> Maatwerk:
    """A core on `data_dir`, with the session's test encoder unless `encoder` names another."""
    settings = Settings().with_data_dir(data_dir)
    return Maatwerk(replace(settings, encoder=encoder) if encoder else settings)


@pytest.fixture
def empty_core(tmp_path):
    """Ontology and reference data, no cases."""
    core = open_core(tmp_path / "data")
    core.init(demo=False)
    yield core
    core.close()


@pytest.fixture(scope="session")
def small_dir(tmp_path_factory) -> Path:
    """A closed data dir with the small test corpus (copy it before writing to it)."""
    data_dir = tmp_path_factory.mktemp("small") / "data"
    core = open_core(data_dir)
    core.init(demo=False)
    core.import_file(SMALL_CASES)
    core.close()
    return data_dir


@pytest.fixture(scope="session")
def real_small_dir(tmp_path_factory) -> Path:
    """The small test corpus indexed with the real default encoder: for tests about what search finds."""
    data_dir = tmp_path_factory.mktemp("small-real") / "data"
    core = open_core(data_dir, REAL_ENCODER)
    core.init(demo=False)
    core.import_file(SMALL_CASES)
    core.close()
    return data_dir


@pytest.fixture(scope="session")
def demo_core(tmp_path_factory):
    """The illustrative corpus, opened for the whole session (read-only use)."""
    core = open_core(tmp_path_factory.mktemp("demo") / "data")
    core.init(demo=True)
    core.search()
    yield core
    core.close()


@pytest.fixture(scope="session")
def real_demo_core(tmp_path_factory):
    """The illustrative corpus with the real default encoder (read-only use): for ranking quality checks."""
    core = open_core(tmp_path_factory.mktemp("demo-real") / "data", REAL_ENCODER)
    core.init(demo=True)
    core.search()
    yield core
    core.close()


@contextmanager
def running_server(data_dir: Path, log: Path) -> Iterator[str]:
    """`maatwerk serve` on a free loopback port, output to `log`; yields its base URL, stops it after."""
    port = _free_port()
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(MAATWERK), "serve", "--data-dir", str(data_dir), "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(base, process, log)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(base: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"maatwerk serve stopte:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"maatwerk serve kwam niet op tijd op ({base})")


# --- browser tests ---------------------------------------------------------------------------------
# Shared by every tests/test_browser*.py module; `visit` serves that module's own `server` fixture.


@pytest.fixture(scope="module")
def browser():
    from tests.test_browser import CHROMIUM, LAUNCH_ARGS, sync_api

    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def visit(browser, server):
    """`visit(viewport, **options)` opens a new browser context on the module's server; closed afterwards."""
    from tests.test_browser import WIDE, Visit

    visits: list[Visit] = []

    def open_visit(viewport: dict = WIDE, **options) -> Visit:
        visits.append(Visit(browser, server, viewport, **options))
        return visits[-1]

    yield open_visit
    for v in visits:
        v.context.close()
