"""The rule of this folder holds: a unit test that asks for a database fails, saying so."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

UNIT = Path(__file__).parent

SUITE = """
import pytest

@pytest.fixture
def database_url():
    raise AssertionError("the database was made")

@pytest.fixture
def db(database_url):
    return database_url

@pytest.fixture
def plan(db):
    return db
"""

TESTS = """
def test_pure():
    assert 1 + 1 == 2

def test_asks_for_db(db):
    pass

def test_asks_through_another_fixture(plan):
    pass
"""


def test_a_unit_test_asking_for_a_database_fails_before_one_is_made(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "conftest.py").write_text(SUITE)
    unit = tmp_path / "unit"
    unit.mkdir()
    shutil.copy(UNIT / "conftest.py", unit / "conftest.py")
    (unit / "test_sample.py").write_text(TESTS)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", str(unit)],
        cwd=tmp_path,
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "PASSED unit/test_sample.py::test_pure" in run.stdout
    for name in ("test_asks_for_db", "test_asks_through_another_fixture"):
        assert (
            f"unit/test_sample.py::{name} asks for database_url, db, but tests/unit runs "
            "without a database: move it under tests/integration"
        ) in run.stdout
    assert "the database was made" not in run.stdout
