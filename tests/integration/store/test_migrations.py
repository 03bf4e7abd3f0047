"""Migrations go from empty to head and back on both databases, and match the models exactly."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

import bot.store.models  # noqa: F401 - registers the tables
from bot.app.migrate import downgrade, upgrade
from bot.store import audit
from bot.store.db import Database, make_engine


def test_upgrade_to_head_and_back_to_base(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    tables = set(inspect(engine).get_table_names())
    assert set(SQLModel.metadata.tables) <= tables
    downgrade(empty_database_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def test_models_and_migrations_do_not_drift(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    engine.dispose()
    assert differences == []


def test_the_audit_trail_refuses_updates_and_deletes(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    db = Database(make_engine(empty_database_url))
    with db.session() as session:
        audit.record(session, at=datetime.now(UTC), actor_id="U1", action="plan.created")
    for statement in ("UPDATE audit_event SET actor_id = 'U2'", "DELETE FROM audit_event"):
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
            connection.execute(text(statement))
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT actor_id FROM audit_event")).scalars().all() == [
            "U1"
        ]
    db.engine.dispose()


def test_checklist_items_of_existing_plans_become_per_version_when_pre_deploy(
    empty_database_url: str,
) -> None:
    upgrade(empty_database_url, "f956d0207627")
    engine = make_engine(empty_database_url)
    now = datetime(2026, 11, 24, 15, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO release_plan (id, service, version, environment, state, strategy, "
                "requester_id, risks, stakeholders, depends_on, artifact, approval_round, "
                "revision, created_at, updated_at) VALUES (1, 'checkout', '1.4.2', "
                "'production', 'approved', 'canary', 'U0REQUESTER', '[]', '[]', '[]', '{}', 1, "
                "1, :now, :now)"
            ),
            {"now": now},
        )
        for name, phase in (("QA sign-off", "pre_deploy"), ("Smoke tests", "post_release")):
            connection.execute(
                text(
                    "INSERT INTO checklist_item (plan_id, name, assignee, required, phase) "
                    "VALUES (1, :name, 'U0QA', :yes, :phase)"
                ),
                {"name": name, "phase": phase, "yes": True},
            )
    engine.dispose()

    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT name, per_version FROM checklist_item ORDER BY id")
        ).all()
        replanned = connection.execute(text("SELECT replanned_from FROM release_plan")).all()
    engine.dispose()
    assert [(name, bool(flag)) for name, flag in rows] == [
        ("QA sign-off", True),
        ("Smoke tests", False),
    ]
    assert [r[0] for r in replanned] == [None]
