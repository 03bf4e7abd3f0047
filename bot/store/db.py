"""Engine, sessions and the column types that keep SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool, StaticPool
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, create_engine


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out; SQLite stores them naive, so we put the zone back."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# libpq waits for an unreachable server for as long as the kernel keeps trying (minutes, or for
# ever behind a firewall that drops packets): a connection not made in this long is an error.
CONNECT_TIMEOUT_SECONDS = 10
# What pg_stat_activity shows for the bot's connections (the event loop's reads add "-reads").
APPLICATION_NAME = "releasebot"


def postgres_settings(url: str) -> dict[str, Any]:
    """libpq's connect timeout and application name for psycopg, each unless the URL sets its
    own (another driver, which the settings never choose, is given nothing)."""
    parsed = make_url(url)
    if parsed.get_driver_name() != "psycopg":
        return {}
    chosen: dict[str, Any] = {}
    if "connect_timeout" not in parsed.query:
        chosen["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
    if not {"application_name", "fallback_application_name"} & set(parsed.query):
        chosen["application_name"] = APPLICATION_NAME
    return chosen


def is_in_memory(url: str) -> bool:
    """An SQLite database that lives only in this process's connection."""
    return url in ("sqlite://", "sqlite:///:memory:")


def make_engine(url: str, *, echo: bool = False, pooled: bool = True) -> Engine:
    """An engine for `url`; SQLite transactions are IMMEDIATE so writers serialise up front.

    `pooled=False` opens a fresh connection each time: it sees the database as a newly
    started process would (a file made read-only, a server turned read-only).
    """
    if url.startswith("sqlite"):
        in_memory = is_in_memory(url)
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=StaticPool if in_memory else (None if pooled else NullPool),
        )
        _make_sqlite_transactions_immediate(engine)
        return engine
    connect_args = postgres_settings(url)
    if not pooled:
        return create_engine(url, echo=echo, poolclass=NullPool, connect_args=connect_args)
    return create_engine(
        url,
        echo=echo,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        connect_args=connect_args,
    )


def _make_sqlite_transactions_immediate(engine: Engine) -> None:
    # pysqlite's own BEGIN is deferred, so two read-then-write transactions can both read the
    # same plan state; BEGIN IMMEDIATE takes the write lock first, like a row lock on PostgreSQL.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """The one way the domain opens a unit of work."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on any error."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def ping(self) -> bool:
        """True when the database answers a trivial query."""
        with self.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        return True
