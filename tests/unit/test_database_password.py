"""The database password is found in its URL the way the database driver is given it.

The redactor hides it in whatever a deploy service says; a password read differently from how
the driver reads it would leave the real one visible in the thread.
"""

from __future__ import annotations

import pytest

from bot.domain.redaction import REDACTED, Redactor, database_password


@pytest.mark.parametrize(
    ("url", "password"),
    [
        ("postgresql+psycopg://bot:db-password-42@db/releasebot", "db-password-42"),
        ("postgresql://bot:p%40ss%2Fw@db:5432/x?sslmode=require", "p@ss/w"),
        ("postgresql://bot:sec:ret@db/x", "sec:ret"),
        ("postgresql://bot:se/cret@db/x", "se/cret"),
        ("postgresql://bot:s?cret@db/x", "s?cret"),
        ("postgresql://bot:secret@[::1]:5432/x", "secret"),
        ("postgresql://:secret@db/x", "secret"),
        ("postgresql://bot:@db/x", ""),
        ("postgresql://bot@db/x", None),
        ("sqlite:///releasebot.db", None),
        ("sqlite:///data/with@sign:in/path.db", None),
        ("not a url", None),
        ("", None),
    ],
)
def test_the_password_is_read_as_the_driver_reads_it(url: str, password: str | None) -> None:
    assert database_password(url) == password


def test_a_password_with_an_encoded_at_sign_is_redacted_decoded() -> None:
    redact = Redactor([database_password("postgresql://bot:hunter%40two-42@db/x")])
    assert redact("auth failed for hunter@two-42") == f"auth failed for {REDACTED}"
