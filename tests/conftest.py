"""Shared fixtures: data dirs built once per session, because loading the encoder and indexing cost seconds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from api.core import Maatwerk  # noqa: E402
from graph import Settings  # noqa: E402

TESTS = Path(__file__).parent
SMALL_CASES = TESTS / "data" / "cases_small.jsonl"


def open_core(data_dir: Path) -> Maatwerk:
    return Maatwerk(Settings().with_data_dir(data_dir))


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
def demo_core(tmp_path_factory):
    """The illustrative corpus, opened for the whole session (read-only use)."""
    core = open_core(tmp_path_factory.mktemp("demo") / "data")
    core.init(demo=True)
    core.search()
    yield core
    core.close()
