"""Read statements awaited on the event loop, for `/release show` and `list` (issue 13).

On PostgreSQL a statement runs on a small pool of asyncpg connections owned by the serving event
loop: no thread hop, no `pool_pre_ping` round trip (a connection found dropped is replaced and
the statement tried once more), each statement prepared once per connection. asyncpg because it
costs ~40 µs of CPU per prepared one-row read here, against ~90 µs for psycopg's async
connection and ~130 µs for a pooled SQLAlchemy connection with its pre-ping (BENCHMARKS.md,
"Read path"). On SQLite (a file on this machine, no round trip to save) the statement runs on
the driver's cursor in a worker thread, at most `THREADS` at a time.

Statements are written once, in the `%(name)s` style, and turned into each driver's own style
here. Every statement runs on its own (autocommit): one consistent snapshot of what it reads.

`Batcher` answers reads asked together with one statement: under load most of a read's cost is
the statement's round trip, not its rows.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import deque
from collections.abc import Awaitable, Callable, Hashable, Sequence
from functools import lru_cache
from typing import Any, Generic, Protocol, TypeVar

from anyio import CapacityLimiter, to_thread
from sqlalchemy.engine import make_url

from bot.store import driver
from bot.store.db import APPLICATION_NAME, CONNECT_TIMEOUT_SECONDS, Database
from bot.store.driver import PLACEHOLDER, in_style

log = logging.getLogger(__name__)

CONNECTIONS = 4
THREADS = 4

Row = Sequence[Any]
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class AsyncReads(Protocol):
    """Runs one read statement and returns its rows as sequences, in column order."""

    async def rows(self, sql: str, params: dict[str, Any]) -> list[Row]:
        """Every row of `sql`."""
        ...

    async def close(self) -> None:
        """Release the connections (on the loop that used them)."""
        ...


def async_reads(db: Database) -> AsyncReads:
    """The reader for `db`'s database: asyncpg on PostgreSQL, threads on SQLite."""
    if db.engine.dialect.name == "postgresql":
        return PostgresReads(db.engine.url.render_as_string(hide_password=False))
    return ThreadedReads(db)


@lru_cache(maxsize=128)
def numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    """`%(name)s` placeholders as asyncpg's `$1…$n`, and the names in that order."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return PLACEHOLDER.sub(number, sql), tuple(names)


# libpq's own connection settings that asyncpg does not read: it would send each to the server
# as a run-time setting, which the server refuses ("unrecognized configuration parameter"), and
# every read would fail. They stay with the bot's other (psycopg) connections; the read
# connections take connect_timeout as their timeout and are made without the others.
LIBPQ_ONLY = frozenset(
    {
        "connect_timeout",
        "fallback_application_name",
        "keepalives",
        "keepalives_idle",
        "keepalives_interval",
        "keepalives_count",
        "tcp_user_timeout",
        "hostaddr",
        "gssencmode",
        "gssdelegation",
        "channel_binding",
        "require_auth",
        "requirepeer",
        "sslcompression",
        "sslsni",
        "sslcertmode",
        "load_balance_hosts",
    }
)


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    """A libpq-style URL asyncpg reads, from the SQLAlchemy URL the bot was given
    (`postgresql+psycopg://…`, `postgres://…`), without the settings only libpq knows."""
    url = make_url(sqlalchemy_url)
    url = url.set(drivername="postgresql").difference_update_query(LIBPQ_ONLY & set(url.query))
    return url.render_as_string(hide_password=False)


READS_NAME = APPLICATION_NAME + "-reads"


def _seconds(value: str | tuple[str, ...] | None, default: float) -> float:
    """libpq's connect_timeout: whole seconds; zero, negative or unreadable means the default
    (libpq reads 0 as "wait for ever", which the bot never does)."""
    try:
        seconds = float(_text(value, ""))
    except ValueError:
        return default
    return seconds if seconds > 0 else default


def _text(value: str | tuple[str, ...] | None, default: str) -> str:
    """One query value (the last, as libpq reads a repeated one), or `default`."""
    if isinstance(value, tuple):
        value = value[-1] if value else None
    return default if value is None else value


class ThreadedReads:
    """SQLite: the statement on the driver's cursor, in at most THREADS worker threads."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._limiter = CapacityLimiter(THREADS)

    def _run(self, sql: str, params: dict[str, Any]) -> list[Row]:
        with driver.cursor(self._db) as (cursor, dialect):
            cursor.execute(in_style(sql, dialect.name), params)
            return list(cursor.fetchall())

    async def rows(self, sql: str, params: dict[str, Any]) -> list[Row]:
        return await to_thread.run_sync(self._run, sql, params, limiter=self._limiter)

    async def close(self) -> None:
        return None


class PostgresReads:
    """PostgreSQL: up to CONNECTIONS asyncpg connections, opened on first use by the loop
    that awaits them; a statement waits its turn for a free one (first come, first served)."""

    def __init__(self, sqlalchemy_url: str, *, size: int = CONNECTIONS) -> None:
        self._dsn = asyncpg_dsn(sqlalchemy_url)
        query = make_url(sqlalchemy_url).query
        self._timeout = _seconds(query.get("connect_timeout"), CONNECT_TIMEOUT_SECONDS)
        # Named as the URL names the bot's connections, else "releasebot-reads".
        self._server_settings = (
            None
            if "application_name" in query
            else {"application_name": _text(query.get("fallback_application_name"), READS_NAME)}
        )
        self._size = size
        self._opened = 0
        self._idle: list[Any] = []  # last in, first out: the connections in use stay warm
        self._waiting: deque[asyncio.Future[Any]] = deque()

    async def rows(self, sql: str, params: dict[str, Any]) -> list[Row]:
        import asyncpg

        text, names = numbered(sql)
        args = [params[name] for name in names]
        for attempt in (1, 2):
            connection = await self._take()
            try:
                if connection is None:
                    # Statements are then prepared once per connection (asyncpg's cache).
                    connection = await asyncpg.connect(
                        self._dsn, timeout=self._timeout, server_settings=self._server_settings
                    )
                result: list[Row] = await connection.fetch(text, *args)
            except (asyncpg.InterfaceError, asyncpg.PostgresConnectionError, OSError):
                # Dropped under us (a server restart, a proxy's idle timeout): a new
                # connection, once; what fails again is the caller's to handle.
                self._discard(connection)
                if attempt == 2:
                    raise
                continue
            except Exception:
                # The statement failed, not the connection: it stays for the next one.
                self._give_back(connection)
                raise
            except BaseException:  # cancelled mid-statement: its connection is in doubt
                self._discard(connection)
                raise
            self._give_back(connection)
            return result
        raise AssertionError("unreachable")

    async def _take(self) -> Any:
        """An idle connection, or None for a slot to open one in."""
        if self._idle and not self._waiting:
            return self._idle.pop()
        if self._opened < self._size and not self._waiting:
            self._opened += 1
            return None
        turn: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append(turn)
        try:
            return await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._give_back(turn.result())  # handed over just as it was cancelled
            elif turn in self._waiting:
                self._waiting.remove(turn)
            raise

    def _give_back(self, connection: Any) -> None:
        """Hand the connection (None: its slot) to the first waiting statement, or keep it."""
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(connection)
                return
        if connection is None:
            self._opened -= 1
        else:
            self._idle.append(connection)

    def _discard(self, connection: Any) -> None:
        if connection is not None:
            connection.terminate()
        self._give_back(None)

    async def close(self) -> None:
        """Close the idle connections (the bot is stopping: nothing reads after this)."""
        import asyncpg

        idle, self._idle = self._idle, []
        for connection in idle:
            self._opened -= 1
            try:
                await asyncio.wait_for(connection.close(), 2)
            except (asyncpg.InterfaceError, OSError, TimeoutError):  # gone, or no answer
                connection.terminate()


class Batcher(Generic[K, V]):
    """Answers reads asked at about the same time with one statement.

    `run(keys)` reads every key at once (a missing key: absent from its answer). An ask waits
    for the next statement to start, never for one already running, so every answer was read
    after it was asked (a read never misses a write committed before it). At most `at_once`
    statements run together; asks that arrive meanwhile go out together in the next one, at
    most `most` keys to a statement.
    """

    def __init__(
        self, run: Callable[[list[K]], Awaitable[dict[K, V]]], *, at_once: int, most: int
    ) -> None:
        self._run = run
        self._at_once = at_once
        self._most = most
        self._running = 0
        self._asked: dict[K, list[asyncio.Future[V | None]]] = {}
        self._starting = False
        self._tasks: set[asyncio.Task[None]] = set()

    async def ask(self, key: K) -> V | None:
        """The value read for `key`, None when there is none."""
        answer: asyncio.Future[V | None] = asyncio.get_running_loop().create_future()
        self._asked.setdefault(key, []).append(answer)
        self._launch()
        return await answer

    def _launch(self) -> None:
        """Start a statement, on the loop's next turn, for every ask made until then; unless
        one is about to start or `at_once` are running already."""
        if self._asked and not self._starting and self._running < self._at_once:
            self._starting = True
            self._running += 1
            task = asyncio.ensure_future(self._answer())
            self._tasks.add(task)  # a running task must be referenced to be kept
            task.add_done_callback(self._tasks.discard)

    async def _answer(self) -> None:
        keys = list(self._asked)[: self._most]  # never empty: launched for an ask
        batch = {key: self._asked.pop(key) for key in keys}
        self._starting = False
        self._launch()  # more than `most` asked: the rest in another statement
        try:
            try:
                values = await self._run(keys)
            except Exception as error:  # noqa: BLE001 - every ask of this statement gets it
                for answers in batch.values():
                    for answer in answers:
                        if not answer.done():
                            answer.set_exception(error)
                return
            for key, answers in batch.items():
                for answer in answers:
                    if not answer.done():
                        answer.set_result(values.get(key))
        finally:
            self._running -= 1
            self._launch()
