"""Fixtures for the checks tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# importlib import mode puts no test folder on sys.path; the fakes module lives next to us.
sys.path.insert(0, str(Path(__file__).parent))

from console.testing import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()
