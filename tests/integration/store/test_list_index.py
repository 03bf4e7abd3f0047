"""`/release list` reads the plans still moving through an index, never by walking every plan:
on PostgreSQL through their own partial index, whose condition its filter repeats word for word."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert

from bot.store import driver, plan_list
from bot.store.db import Database
from bot.store.driver import in_style
from bot.store.models import ReleasePlan

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def _seed(db: Database, *, settled: int, moving: int) -> None:
    rows = [
        {
            "service": f"svc{n % 40}",
            "version": f"1.0.{n}",
            "environment": "production" if n % 3 else "staging",
            "state": "released" if n < settled else ("deploying" if n % 2 else "approved"),
            "strategy": "all-at-once",
            "requester_id": "U0REQUESTER",
            "risks": [],
            "stakeholders": [],
            "depends_on": [],
            "artifact": {},
            "approval_round": 1,
            "revision": 1,
            "created_at": NOW,
            "updated_at": NOW,
        }
        for n in range(settled + moving)
    ]
    with db.engine.begin() as connection:
        connection.execute(insert(ReleasePlan), rows)
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("ANALYZE release_plan")
        else:
            connection.exec_driver_sql("ANALYZE")


@pytest.mark.parametrize("environment", [None, "staging"])
def test_the_list_of_plans_still_moving_uses_their_index(
    db: Database, environment: str | None
) -> None:
    _seed(db, settled=5000, moving=12)
    sql = plan_list.statement(environment is not None, False, 20)
    with driver.cursor(db) as (cursor, dialect):
        explain = "EXPLAIN " if dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
        cursor.execute(explain + in_style(sql, dialect.name), plan_list.parameters(environment))
        shown = "\n".join(" ".join(map(str, row)) for row in cursor.fetchall())
    if dialect.name == "postgresql":
        assert "ix_release_plan_active" in shown, shown
    else:
        # SQLite looks each active state up in an index (its own choice between the two):
        # what matters is that it never walks the whole table.
        assert "SEARCH release_plan USING INDEX" in shown, shown
        assert "SCAN release_plan" not in shown, shown

    rows, total = plan_list.newest(db, environment=environment, include_all=False, limit=20)
    assert total == (12 if environment is None else 4)
    assert [r[4] for r in rows] == ["deploying" if r[0] % 2 == 0 else "approved" for r in rows]
