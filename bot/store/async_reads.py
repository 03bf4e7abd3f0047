"""One-statement reads awaited on the event loop, for `/release show` and `list` (issue 13).

On PostgreSQL the statement runs on a small pool of asyncpg connections owned by the serving event
loop: no thread hop, no `pool_pre_ping` round trip (a connection found dropped is replaced and
the statement tried once more), each statement prepared once per connection. asyncpg because it
costs ~40 µs of CPU per prepared one-row read here, against ~90 µs for psycopg's async
connection and ~130 µs for a pooled SQLAlchemy connection with its pre-ping (measured in
BENCHMARKS.md, "Read path"). On SQLite (a file on this machine, no round trip to save) the
statement runs on the driver's cursor in a worker thread, at most `THREADS` at a time.

Statements are written once, in the `%(name)s` style, and turned into each driver's own style
here. Every statement runs on its own (autocommit): one consistent snapshot of what it reads.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Protocol

from anyio import CapacityLimiter, to_thread
from sqlalchemy.engine import make_url

from bot.store import driver
from bot.store.db import Database
from bot.store.driver import in_style

log = logging.getLogger(__name__)

CONNECTIONS = 4
THREADS = 4
_NAMED = re.compile(r"%\((\w+)\)s")

Row = Sequence[Any]


class AsyncReads(Protocol):
    """Runs one read statement and returns its rows as sequences, in column order."""

    async def one(self, sql: str, params: dict[str, Any]) -> Row | None:
        """The first row, or None."""
        ...

    async def many(self, sql: str, params: dict[str, Any]) -> list[Row]:
        """Every row."""
        ...

    async def close(self) -> None:
        """Release the connections (on the loop that used them)."""
        ...


def async_reads(db: Database) -> AsyncReads:
    """The reader for `db`'s database: asyncpg on PostgreSQL, threads on SQLite."""
    if db.engine.dialect.name == "postgresql":
        return PostgresReads(db.engine.url.render_as_string(hide_password=False))
    return ThreadedReads(db)


@lru_cache(maxsize=64)
def numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    """`%(name)s` placeholders as asyncpg's `$1…$n`, and the names in that order."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _NAMED.sub(number, sql), tuple(names)


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    """A libpq-style URL asyncpg reads, from the SQLAlchemy URL the bot was given
    (`postgresql+psycopg://…`, `postgres://…`)."""
    url = make_url(sqlalchemy_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class ThreadedReads:
    """SQLite: the statement on the driver's cursor, in at most THREADS worker threads."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._limiter = CapacityLimiter(THREADS)

    def _run(self, sql: str, params: dict[str, Any], *, first: bool) -> Any:
        with driver.cursor(self._db) as (cursor, dialect):
            cursor.execute(in_style(sql, dialect.name), params)
            return cursor.fetchone() if first else cursor.fetchall()

    async def one(self, sql: str, params: dict[str, Any]) -> Row | None:
        row: Row | None = await to_thread.run_sync(
            lambda: self._run(sql, params, first=True), limiter=self._limiter
        )
        return row

    async def many(self, sql: str, params: dict[str, Any]) -> list[Row]:
        rows: list[Row] = await to_thread.run_sync(
            lambda: self._run(sql, params, first=False), limiter=self._limiter
        )
        return rows

    async def close(self) -> None:
        return None


class PostgresReads:
    """PostgreSQL: up to CONNECTIONS asyncpg connections, opened on first use by the loop
    that awaits them; a statement waits for a free one."""

    def __init__(self, sqlalchemy_url: str, *, size: int = CONNECTIONS) -> None:
        self._dsn = asyncpg_dsn(sqlalchemy_url)
        # One slot per connection: an open connection, or None for one not opened (yet).
        # Last in, first out, so the connections in use stay warm.
        self._slots: asyncio.LifoQueue[Any] = asyncio.LifoQueue()
        for _ in range(size):
            self._slots.put_nowait(None)

    async def one(self, sql: str, params: dict[str, Any]) -> Row | None:
        row: Row | None = await self._run(sql, params, first=True)
        return row

    async def many(self, sql: str, params: dict[str, Any]) -> list[Row]:
        rows: list[Row] = await self._run(sql, params, first=False)
        return rows

    async def _run(self, sql: str, params: dict[str, Any], *, first: bool) -> Any:
        import asyncpg

        text, names = numbered(sql)
        args = [params[name] for name in names]
        for attempt in (1, 2):
            connection = await self._slots.get()
            try:
                if connection is None:
                    # Statements are then prepared once per connection (asyncpg's cache).
                    connection = await asyncpg.connect(self._dsn, timeout=5)
                if first:
                    result = await connection.fetchrow(text, *args)
                else:
                    result = await connection.fetch(text, *args)
            except (asyncpg.InterfaceError, asyncpg.PostgresConnectionError, OSError):
                # Dropped under us (a server restart, a proxy's idle timeout): a new
                # connection, once; what fails again is the caller's to handle.
                self._discard(connection)
                if attempt == 2:
                    raise
                continue
            except BaseException:
                self._discard(connection)
                raise
            self._slots.put_nowait(connection)
            return result
        raise AssertionError("unreachable")

    def _discard(self, connection: Any) -> None:
        if connection is not None:
            connection.terminate()
        self._slots.put_nowait(None)

    async def close(self) -> None:
        """Close the idle connections (the bot is stopping: nothing reads after this)."""
        import asyncpg

        while not self._slots.empty():
            connection = self._slots.get_nowait()
            if connection is not None:
                try:
                    await asyncio.wait_for(connection.close(), 2)
                except (asyncpg.InterfaceError, OSError, TimeoutError):  # gone, or no answer
                    connection.terminate()
