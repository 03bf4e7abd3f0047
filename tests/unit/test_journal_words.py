"""What a person reads when the database fails: the drivers' own errors, in plain words."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from sqlalchemy import exc

from bot.store.journal import fault_words, is_outage


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (sqlite3.OperationalError("database or disk is full"), "the disk is full"),
        (
            sqlite3.OperationalError("attempt to write a readonly database"),
            "the database is read-only",
        ),
        (sqlite3.OperationalError("database is locked"), "the database is busy"),
        (
            sqlite3.OperationalError("unable to open database file"),
            "the database file cannot be opened",
        ),
        (
            psycopg.errors.DiskFull(
                'could not extend file "base/16384/2619": No space left on device'
            ),
            "the disk is full",
        ),
        (
            psycopg.errors.ReadOnlySqlTransaction(
                "cannot execute INSERT in a read-only transaction"
            ),
            "the database is read-only",
        ),
        (
            psycopg.OperationalError(
                'connection failed: connection to server at "10.0.0.5", port 5432 failed: '
                "Connection refused"
            ),
            "the database is unreachable",
        ),
    ],
)
def test_a_database_failure_is_named_without_the_drivers_text(error: Exception, words: str) -> None:
    wrapped = exc.DBAPIError.instance("INSERT …", {}, error, type(error).__mro__[1])
    assert is_outage(wrapped)
    assert fault_words(wrapped) == words
    assert "10.0.0.5" not in fault_words(wrapped)


def test_a_mistake_in_our_own_sql_is_not_an_outage() -> None:
    wrapped = exc.DBAPIError.instance(
        "SELECT nope",
        {},
        psycopg.errors.UndefinedColumn("column nope does not exist"),
        psycopg.Error,
    )
    assert not is_outage(wrapped)
