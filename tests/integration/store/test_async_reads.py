"""bot/store/async_reads.py: the statements `/release show|list` await on the event loop give
the rows the driver's cursor gives, survive a dropped connection, and hold few connections."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import psycopg
import pytest
from sqlalchemy.engine import make_url

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
