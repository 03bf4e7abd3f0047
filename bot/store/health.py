"""Is the database usable: reachable and taking writes? Asked by `/healthz` and at start-up.

A database that answers SELECT 1 but cannot commit (a full disk, a read-only file or
server) cannot record a single plan, so health is a committed write of one row. On
PostgreSQL it is made on a fresh connection: a server turned read-only binds new sessions,
not pooled ones. An SQLite file must also still be writable: SQLite reuses the file
descriptors it opened read-write, so the write alone would not notice a file made read-only.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.store.db import Database, is_in_memory, make_engine
from bot.store.models import WriteProbe

READ_ONLY_SIGNS = ("readonly", "read-only", "read only")


class DatabaseUnusable(Exception):
    """The database cannot take writes, for a reason found before asking it."""


class WriteCheck:
    """Commits one row per check (and, for SQLite, checks the file may still be written)."""

    def __init__(self, db: Database) -> None:
        url = db.engine.url
        self._file: Path | None = None
        self._own = url.get_backend_name() != "sqlite"
        if self._own:
            rendered = url.render_as_string(hide_password=False)
            self._db = Database(make_engine(rendered, pooled=False))
            return
        self._db = db
        name = url.database or ""
        if not is_in_memory(str(url)) and name and not name.startswith("file:"):
            self._file = Path(name)

    def check(self, now: datetime) -> None:
        """Raise (SQLAlchemyError or DatabaseUnusable) unless a write commits."""
        if self._file is not None:
            for path in (self._file, self._file.with_name(self._file.name + "-wal")):
                if path.exists() and not os.access(path, os.W_OK):
                    raise DatabaseUnusable(f"the file {path} is read-only")
        with self._db.session() as session:
            dialect = session.get_bind().dialect.name
            insert = pg_insert if dialect == "postgresql" else sqlite_insert
            session.execute(
                insert(WriteProbe)
                .values(id=1, probed_at=now)
                .on_conflict_do_update(index_elements=["id"], set_={"probed_at": now})
            )

    def close(self) -> None:
        """Release the fresh-connection engine (never the bot's own)."""
        if self._own:
            self._db.engine.dispose()


def describe_failure(url: str, failure: Exception) -> str:
    """One line for a person: which database, what is wrong, and what to check."""
    shown = _safe(url)
    detail = " ".join(str(getattr(failure, "orig", None) or failure).split())[:300]
    if isinstance(failure, ArgumentError):
        return f"DATABASE_URL {shown!r} is not a database URL ({detail}); see the README"
    if any(sign in detail.lower() for sign in READ_ONLY_SIGNS):
        return (
            f"the database {shown} is read-only ({detail}); check the file's permissions and "
            "free disk space (SQLite) or that the server accepts writes (PostgreSQL)"
        )
    return (
        f"cannot use the database {shown} ({detail}); check DATABASE_URL, that the database "
        "server is running and reachable from here, and its free disk space"
    )


def _safe(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url
