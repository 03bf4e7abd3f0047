"""`/release list`'s rows: the columns a list line shows and the total, in one query.

Read with the driver's own cursor (SQLAlchemy's result set-up cost more than the query), each
time column through the column type's own result processor, so the values are those the ORM
gives (aware UTC datetimes on SQLite too).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Dialect

from bot.store import driver
from bot.store.db import Database
from bot.store.driver import in_style
from bot.store.models import ACTIVE_CONDITION, ReleasePlan

# (id, service, version, environment, state, window_start, window_end)
Row = tuple[int, str, str, str, str, Any, Any]


@lru_cache(maxsize=16)
def statement(by_environment: bool, include_all: bool, limit: int) -> str:
    """The list's one statement (`%(environment)s` when `by_environment`)."""
    where = []
    if by_environment:
        where.append("environment = %(environment)s")
    if not include_all:
        where.append(ACTIVE_CONDITION)
    return (
        "SELECT id, service, version, environment, state, window_start, window_end, "
        "count(*) OVER () FROM release_plan"
        + (" WHERE " + " AND ".join(where) if where else "")
        + f" ORDER BY id DESC LIMIT {int(limit)}"
    )


def parameters(environment: str | None) -> dict[str, Any]:
    """The statement's parameters."""
    return {"environment": environment} if environment else {}


@lru_cache(maxsize=4)
def _time_processor(dialect: Dialect) -> Callable[[Any], Any]:
    column = ReleasePlan.__table__.c.window_start  # type: ignore[attr-defined]
    process = column.type.dialect_impl(dialect).result_processor(dialect, None)
    return process if process is not None else (lambda value: value)


def newest(
    db: Database, *, environment: str | None, include_all: bool, limit: int
) -> tuple[list[Row], int]:
    """The newest `limit` plans in scope (active ones unless `include_all`), newest first,
    and how many there are in all."""
    with driver.cursor(db) as (cursor, dialect):
        sql = statement(environment is not None, include_all, limit)
        cursor.execute(in_style(sql, dialect.name), parameters(environment))
        fetched = cursor.fetchall()
    return rows_of(fetched, dialect)


def rows_of(fetched: Sequence[Sequence[Any]], dialect: Dialect) -> tuple[list[Row], int]:
    """`newest`'s answer from the statement's rows, however they were read (times as the ORM
    gives them: aware UTC)."""
    when = _time_processor(dialect)
    rows: list[Row] = [(r[0], r[1], r[2], r[3], r[4], when(r[5]), when(r[6])) for r in fetched]
    return rows, int(fetched[0][7]) if fetched else 0
