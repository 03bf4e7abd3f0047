"""tests/unit holds only tests that run without a database, so the whole tier takes seconds.

A test here that asks for a database fixture (directly or through another fixture) fails
before the database is made, saying where such a test belongs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

DATABASE_FIXTURES = frozenset(
    {
        "db",
        "database_url",
        "desk",
        "postgres_url",
        "empty_database_url",
        "migrated_postgres",
        "migrated_sqlite_template",
    }
)
UNIT = Path(__file__).parent


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    wanted = DATABASE_FIXTURES.intersection(getattr(item, "fixturenames", ()))
    if wanted and item.path.is_relative_to(UNIT):
        pytest.fail(
            f"{item.nodeid} asks for {', '.join(sorted(wanted))}, but tests/unit runs without "
            "a database: move it under tests/integration",
            pytrace=False,
        )
