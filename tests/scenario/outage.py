"""Real database outages for a bot under test, on the server's side, undone afterwards.

`down`: PostgreSQL stops accepting connections to the database and drops the open ones;
SQLite's file disappears from its path (a directory takes its place, so nothing can open it).
`read-only`: PostgreSQL's `default_transaction_read_only` for every new session; SQLite's
`PRAGMA query_only` on every new connection. `busy`: another session holds the write locks
(every table on PostgreSQL, as a migration would; SQLite's one write lock). Either way the bot
meets the driver's own error.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import psycopg
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url

from tests.conftest import POSTGRES_URL

Mode = Literal["down", "read-only", "busy"]
SQLITE_SIDE_FILES = ("-wal", "-shm")


class DatabaseOutage:
    """Starts and ends an outage of the database behind `url` for the given engines."""

    def __init__(self, url: str, *engines: Engine) -> None:
        self.url = make_url(url)
        self.engines = engines
        self.dialect = self.url.get_backend_name()
        self._mode: Mode | None = None
        self._holder: Any = None

    def start(self, mode: Mode = "down") -> None:
        """From now on the database refuses the bot (`down`) or its writes (`read-only`)."""
        assert self._mode is None, "an outage is already on"
        self._mode = mode
        if mode == "busy":
            self._hold_locks()
        elif self.dialect == "sqlite":
            self._sqlite(start=True)
        else:
            self._postgres(start=True)

    def end(self) -> None:
        """The database is back as it was; the engines reconnect on their next use."""
        if self._mode is None:
            return
        if self._mode == "busy":
            self._holder.rollback()
            self._holder.close()
        elif self.dialect == "sqlite":
            self._sqlite(start=False)
        else:
            self._postgres(start=False)
        self._mode = None

    @contextmanager
    def during(self, mode: Mode = "down") -> Iterator[None]:
        """An outage for the duration of a `with` block."""
        self.start(mode)
        try:
            yield
        finally:
            self.end()

    def _hold_locks(self) -> None:
        if self.dialect == "sqlite":
            holder = sqlite3.connect(str(self.url.database), isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")
        else:
            holder = psycopg.connect(self.url.set(drivername="postgresql").render_as_string(False))
            tables = [
                row[0]
                for row in holder.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                ).fetchall()
            ]
            holder.execute(
                "LOCK TABLE " + ", ".join(f'"{t}"' for t in tables) + " IN ACCESS EXCLUSIVE MODE"
            )
        self._holder = holder

    # -- SQLite ----------------------------------------------------------------------------

    def _sqlite(self, *, start: bool) -> None:
        # Open connections keep their file; the outage is what every new connection meets.
        for engine in self.engines:
            engine.dispose()
        path = Path(str(self.url.database))
        aside = path.with_name(path.name + ".away")
        if self._mode == "read-only":
            for engine in self.engines:
                if start:
                    event.listen(engine, "connect", _query_only)
                else:
                    event.remove(engine, "connect", _query_only)
            return
        if start:
            for suffix in ("", *SQLITE_SIDE_FILES):
                source = Path(f"{path}{suffix}")
                if source.exists():
                    source.rename(f"{aside}{suffix}")
            path.mkdir()
        else:
            shutil.rmtree(path)
            for suffix in ("", *SQLITE_SIDE_FILES):
                moved = Path(f"{aside}{suffix}")
                if moved.exists():
                    moved.rename(f"{path}{suffix}")

    # -- PostgreSQL ------------------------------------------------------------------------

    def _postgres(self, *, start: bool) -> None:
        name = self.url.database
        if self._mode == "down":
            setting = f"WITH ALLOW_CONNECTIONS {'false' if start else 'true'}"
        elif start:
            setting = "SET default_transaction_read_only = on"
        else:
            setting = "RESET default_transaction_read_only"
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(text(f'ALTER DATABASE "{name}" {setting}'))
                # Sessions already open keep their settings: drop them, so every new one
                # meets the outage (or, at its end, the database as it was).
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
                # Termination is a signal: wait until those sessions are really gone, or a
                # half-dead one could answer the bot's next query.
                deadline = time.monotonic() + 10
                while connection.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE datname = :name"),
                    {"name": name},
                ).scalar_one():
                    assert time.monotonic() < deadline, f"sessions of {name} did not end"
                    time.sleep(0.01)
        finally:
            admin.dispose()


def _query_only(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only = ON")
    cursor.close()
