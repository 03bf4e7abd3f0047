"""One statement on the driver's own cursor, for the reads `/release show` and `list` answer.

SQLAlchemy's result machinery cost more than these one-row or 25-row reads themselves, and a
transaction around one statement costs two more round trips (BEGIN, ROLLBACK): the statement
runs on its own (autocommit), which is also one consistent snapshot of what it reads.
SQLite connections are in autocommit mode already (bot/store/db.py begins explicitly).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import Dialect

from bot.store.db import Database


@contextmanager
def cursor(db: Database) -> Iterator[tuple[Any, Dialect]]:
    """A DBAPI cursor of a pooled connection in autocommit, and the connection's dialect."""
    with db.engine.connect() as connection:
        raw: Any = connection.connection.dbapi_connection
        switch = connection.dialect.name == "postgresql" and not raw.autocommit
        if switch:
            raw.autocommit = True
        driver_cursor = raw.cursor()
        try:
            yield driver_cursor, connection.dialect
        finally:
            driver_cursor.close()
            if switch:
                raw.autocommit = False


# A `%(name)s` placeholder, the one style statements are written in.
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@lru_cache(maxsize=64)
def in_style(sql: str, dialect: str) -> str:
    """A statement written with `%(name)s` placeholders as the driver under `dialect` takes it
    on its own cursor: psycopg as written, sqlite3 as `:name`."""
    if dialect == "postgresql":
        return sql
    if dialect == "sqlite":
        return PLACEHOLDER.sub(r":\1", sql)
    raise ValueError(f"no driver cursor for {dialect!r}")
