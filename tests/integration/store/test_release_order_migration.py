"""The migration that orders releases by deploy time backfills what existing rows already say."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bot.app.migrate import upgrade
from bot.store.db import UTCDateTime, make_engine

BEFORE = "f956d0207627"
DEPLOYED = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def test_deploy_times_and_locked_versions_are_backfilled(empty_database_url: str) -> None:
    upgrade(empty_database_url, BEFORE)
    engine = make_engine(empty_database_url)
    plan = sa.table(
        "release_plan",
        *(
            sa.column(name)
            for name in ("id", "service", "version", "environment", "state", "strategy")
        ),
        sa.column("requester_id"),
        sa.column("risks", sa.JSON),
        sa.column("stakeholders", sa.JSON),
        sa.column("depends_on", sa.JSON),
        sa.column("artifact", sa.JSON),
        sa.column("approval_round", sa.Integer),
        sa.column("revision", sa.Integer),
        sa.column("created_at", UTCDateTime),
        sa.column("updated_at", UTCDateTime),
    )
    stage = sa.table(
        "deployment_stage",
        *(sa.column(name) for name in ("plan_id", "seq", "phase", "kind", "action", "name")),
        *(sa.column(name) for name in ("stage_index", "version", "status", "idempotency_key")),
        sa.column("backend"),
        sa.column("handle", sa.JSON),
        sa.column("attempts", sa.Integer),
        sa.column("created_at", UTCDateTime),
    )
    freeze = sa.table(
        "freeze",
        *(sa.column(name) for name in ("environment", "service", "kind", "reason", "created_by")),
        sa.column("starts_at", UTCDateTime),
    )
    with engine.begin() as connection:
        for plan_id in (1, 2):
            connection.execute(
                plan.insert().values(
                    id=plan_id,
                    service="checkout",
                    version=f"1.4.{plan_id}",
                    environment="staging",
                    state="released" if plan_id == 1 else "approved",
                    strategy="canary",
                    requester_id="U1",
                    risks=[],
                    stakeholders=[],
                    depends_on=[],
                    artifact={},
                    approval_round=1,
                    revision=1,
                    created_at=DEPLOYED - timedelta(days=1),
                    updated_at=DEPLOYED,
                )
            )
        for seq, phase, at in (
            (1, "rollout", DEPLOYED),
            (2, "rollback", DEPLOYED.replace(hour=11)),
        ):
            connection.execute(
                stage.insert().values(
                    plan_id=1,
                    seq=seq,
                    phase=phase,
                    kind="deploy",
                    action="deploy",
                    name="all at once",
                    stage_index=0,
                    version="1.4.1",
                    status="succeeded",
                    idempotency_key=f"R-1:{phase}:0:{seq}",
                    backend="command",
                    handle={},
                    attempts=1,
                    created_at=at,
                )
            )
        connection.execute(
            freeze.insert().values(
                environment="staging",
                service="checkout",
                kind="rollback_lock",
                reason="R-3 (1.4.3-rc.1) was rolled back: error rate 7%",
                created_by="releasebot",
                starts_at=DEPLOYED,
            )
        )

    upgrade(empty_database_url)

    with engine.connect() as connection:
        deployed = connection.execute(
            sa.text("SELECT id, deployed_at FROM release_plan ORDER BY id")
        ).all()
        versions = connection.execute(sa.text('SELECT version FROM "freeze"')).scalars().all()
    engine.dispose()
    first = deployed[0][1]
    first = first if isinstance(first, datetime) else datetime.fromisoformat(str(first))
    # SQLite keeps UTC wall-clock time; PostgreSQL answers an aware time.
    assert (first.astimezone(UTC) if first.tzinfo else first.replace(tzinfo=UTC)) == DEPLOYED
    assert deployed[1][1] is None  # never deployed
    assert versions == ["1.4.3-rc.1"]
