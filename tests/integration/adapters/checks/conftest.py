"""Fixtures for the checks tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# importlib import mode puts no test folder on sys.path; the fakes module lives next to us.
sys.path.insert(0, str(Path(__file__).parent))

from checks_fakes import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
