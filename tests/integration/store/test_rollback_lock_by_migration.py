"""Rollback locks written before 3c5e8a1f9b27 had who rolled back inside their reason, where it
showed as the literal `<@U0…>`: the migration moves it into created_by, and back on downgrade."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from bot.app.migrate import downgrade, upgrade
from bot.store.db import UTCDateTime, make_engine

BEFORE = "b7d41c9e2f06"
# Each reason as the code before the revision wrote it, and what the migration makes of it.
OLD_AND_NEW = [
    (
        "R-2 (1.4.2) was rolled back: conversion dropped (by <@U0QA>)",
        ("R-2 (1.4.2) was rolled back: conversion dropped", "U0QA"),
    ),
    (
        "R-3 (2.0.0) was rolled back: error rate 7% > 5% (automatically)",
        ("R-3 (2.0.0) was rolled back: error rate 7% > 5%", "releasebot"),
    ),
    (
        "R-4 (1.0.1) was rolled back: smoke failed (by <@W0GRID>); the rollback failed",
        ("R-4 (1.0.1) was rolled back: smoke failed; the rollback failed", "W0GRID"),
    ),
    (
        "R-5 (3.1.0) was rolled back: rolled back by <@U0REQUESTER>",
        ("R-5 (3.1.0) was rolled back", "U0REQUESTER"),
    ),
    (
        "R-6 (3.1.1) was rolled back: rolled back by <@U0REQUESTER>; the rollback failed",
        ("R-6 (3.1.1) was rolled back: the rollback failed", "U0REQUESTER"),
    ),
]
FREEZE = sa.table(
    "freeze",
    *(sa.column(name) for name in ("id", "environment", "service", "kind", "reason")),
    sa.column("created_by"),
    sa.column("starts_at", UTCDateTime),
)


def rows(engine: sa.Engine) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        found = connection.execute(
            sa.select(FREEZE.c.reason, FREEZE.c.created_by).order_by(FREEZE.c.id)
        ).all()
    return [(reason, by) for reason, by in found]


def test_who_rolled_back_moves_out_of_the_reason_and_back(empty_database_url: str) -> None:
    upgrade(empty_database_url, BEFORE)
    engine = make_engine(empty_database_url)
    with engine.begin() as connection:
        for index, (old, _) in enumerate(OLD_AND_NEW, start=1):
            connection.execute(
                FREEZE.insert().values(
                    id=index,
                    environment="production",
                    service=f"svc{index}",
                    kind="rollback_lock",
                    reason=old,
                    created_by="releasebot",
                    starts_at=datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
                )
            )
        # An ad-hoc freeze is a person's own words: left as typed.
        connection.execute(
            FREEZE.insert().values(
                id=99,
                environment="production",
                kind="manual",
                reason="load test (by <@U0ADMIN>)",
                created_by="U0ADMIN",
                starts_at=datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
            )
        )

    upgrade(empty_database_url)
    assert rows(engine) == [new for _, new in OLD_AND_NEW] + [
        ("load test (by <@U0ADMIN>)", "U0ADMIN")
    ]

    downgrade(empty_database_url, BEFORE)
    back = rows(engine)
    engine.dispose()
    # What had a reason comes back as written; a lock given none keeps the mention at its end.
    assert back == [
        (OLD_AND_NEW[0][0], "releasebot"),
        (OLD_AND_NEW[1][0], "releasebot"),
        (OLD_AND_NEW[2][0], "releasebot"),
        ("R-5 (3.1.0) was rolled back (by <@U0REQUESTER>)", "releasebot"),
        ("R-6 (3.1.1) was rolled back: the rollback failed (by <@U0REQUESTER>)", "releasebot"),
        ("load test (by <@U0ADMIN>)", "U0ADMIN"),
    ]
