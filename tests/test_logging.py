"""Logs an operator can follow: an import and the index sync at INFO, one line each, no case text."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from conftest import SMALL_CASES


def test_an_import_is_followed_at_info_without_case_text(small_dir, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(small_dir, data)
    env = {**os.environ, "MAATWERK_LOG_LEVEL": "INFO"}
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "import-cases", str(SMALL_CASES), "--data-dir", str(data)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if " INFO " in line]
    assert any("api.core: import: started" in line for line in lines), done.stderr
    assert any("cases committed as revision" in line for line in lines), done.stderr
    assert any("search.service: index sync" in line for line in lines), done.stderr
    assert "rolstoel" not in done.stderr.lower()  # counts and ids of revisions, never what a case says


def test_a_bad_log_level_stops_with_one_line(tmp_path):
    env = {**os.environ, "MAATWERK_LOG_LEVEL": "luid"}
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "settings"], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 2 and "MAATWERK_LOG_LEVEL" in done.stderr and "Traceback" not in done.stderr
