"""bot/store/async_reads.py: the statements `/release show|list` await on the event loop give
the rows the driver's cursor gives, survive a dropped connection, and hold few connections."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from typing import Any

import asyncpg
import psycopg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bot.store import driver
from bot.store.async_reads import PostgresReads, async_reads, asyncpg_dsn
from bot.store.db import Database, make_engine
from bot.store.models import ReleasePlan
from tests.conftest import _empty_postgres
from tests.helpers import run_async

SQL = "SELECT id, service, version FROM release_plan WHERE environment = %(env)s ORDER BY id"


def _plans(db: Database, count: int) -> None:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    with db.session() as session:
        for n in range(count):
            session.add(
                ReleasePlan(
                    service="checkout",
                    version=f"1.0.{n}",
                    environment="staging" if n % 2 else "production",
                    state="released",
                    strategy="all-at-once",
                    requester_id="U0REQUESTER",
                    created_at=now,
                    updated_at=now,
                )
            )


def _by_cursor(db: Database, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    with driver.cursor(db) as (cursor, dialect):
        cursor.execute(driver.in_style(sql, dialect.name), params)
        return [tuple(row) for row in cursor.fetchall()]


def test_the_rows_are_the_cursors_rows_whatever_the_load(db: Database) -> None:
    _plans(db, 30)
    expected = _by_cursor(db, SQL, {"env": "staging"})
    assert len(expected) == 15

    async def scenario() -> list[list[tuple[Any, ...]]]:
        reads = async_reads(db)
        try:
            found = await asyncio.gather(*(reads.rows(SQL, {"env": "staging"}) for _ in range(40)))
        finally:
            await reads.close()
        return [[tuple(row) for row in rows] for rows in found]

    assert all(rows == expected for rows in run_async(scenario()))


def _server_pids(url: str) -> set[int]:
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        ).fetchall()
    return {row[0] for row in rows}


@pytest.fixture
def postgres_url(migrated_postgres: str) -> str:
    """The PostgreSQL database only: SQLite reads open no connections of their own."""
    _empty_postgres(migrated_postgres)
    return migrated_postgres


def test_postgresql_reads_hold_at_most_their_connections_and_survive_a_dropped_one(
    postgres_url: str,
) -> None:
    database_url = postgres_url
    db = Database(make_engine(database_url))
    _plans(db, 4)
    db.engine.dispose()
    before = _server_pids(database_url)

    async def scenario() -> None:
        reads = PostgresReads(database_url, size=2)
        try:
            answers = await asyncio.gather(
                *(reads.rows(SQL, {"env": "staging"}) for _ in range(30))
            )
            assert all(len(rows) == 2 for rows in answers)
            ours = _server_pids(database_url) - before
            assert 1 <= len(ours) <= 2
            # A statement that fails (here: divides by zero) leaves its connection to the next.
            with pytest.raises(asyncpg.DataError):
                await reads.rows("SELECT 1 / %(zero)s", {"zero": 0})
            assert _server_pids(database_url) - before == ours
            # An operator (or a server restart) ends the reads' sessions: the next reads
            # still answer, on new connections.
            with psycopg.connect(asyncpg_dsn(database_url), autocommit=True) as admin:
                for pid in ours:
                    admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            answers = await asyncio.gather(*(reads.rows(SQL, {"env": "staging"}) for _ in range(4)))
            assert all(len(rows) == 2 for rows in answers)
            assert not (_server_pids(database_url) - before) & ours
        finally:
            await reads.close()
        assert _server_pids(database_url) - before == set()

    run_async(scenario())


def test_an_unreachable_postgresql_fails_the_read_and_frees_its_slot() -> None:
    async def scenario() -> None:
        reads = PostgresReads("postgresql+psycopg://postgres@127.0.0.1:9/none", size=1)
        for _ in range(3):  # the slot comes back each time: no read waits forever
            with pytest.raises(OSError):
                await asyncio.wait_for(reads.rows("SELECT 1", {}), 10)
        await reads.close()

    run_async(scenario())


def _application_names(database_url: str) -> tuple[str, str]:
    """What pg_stat_activity would show for the bot's connection and for its reads'."""
    engine = make_engine(database_url)
    with engine.connect() as connection:
        bot = connection.exec_driver_sql("SELECT current_setting('application_name')").scalar()
    engine.dispose()

    async def read() -> str:
        reads = PostgresReads(database_url, size=1)
        try:
            [row] = await reads.rows("SELECT current_setting('application_name') AS name", {})
        finally:
            await reads.close()
        return str(row[0])

    return str(bot), run_async(read())


def test_connections_are_named_and_libpq_settings_in_the_url_are_honoured(
    postgres_url: str,
) -> None:
    assert _application_names(postgres_url) == ("releasebot", "releasebot-reads")
    # libpq's own settings, as operators write them: asyncpg would send connect_timeout and
    # keepalives to the server as run-time settings, and the server refuses those.
    tuned = postgres_url + "?connect_timeout=5&keepalives=1&application_name=shop-bot"
    assert _application_names(tuned) == ("shop-bot", "shop-bot")
    fallback = postgres_url + "?fallback_application_name=shop-bot"
    assert _application_names(fallback) == ("shop-bot", "shop-bot")


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A port that takes the TCP connection and never answers (a hung server or a proxy)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{listener.getsockname()[1]}/test"


def test_a_server_that_never_answers_is_an_error_after_the_connect_timeout(
    silent_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.store.db.CONNECT_TIMEOUT_SECONDS", 1)
    monkeypatch.setattr("bot.store.async_reads.CONNECT_TIMEOUT_SECONDS", 1)
    engine = make_engine(silent_server)
    started = time.monotonic()
    with pytest.raises(OperationalError, match="timeout"):
        engine.connect()
    assert time.monotonic() - started < 5
    engine.dispose()

    async def read() -> None:
        reads = PostgresReads(silent_server, size=1)
        try:
            await asyncio.wait_for(reads.rows("SELECT 1", {}), 10)
        finally:
            await reads.close()

    started = time.monotonic()
    with pytest.raises(TimeoutError):
        run_async(read())
    assert time.monotonic() - started < 5
