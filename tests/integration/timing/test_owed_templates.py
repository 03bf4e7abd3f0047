"""Owing a templated message: a misspelt core template fails where it is owed, at once."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.notify import outbox
from bot.notify.outbox_queue import Priority
from bot.store.db import Database
from bot.store.models import OutboxMessage
from bot.timing import reminders
from console.testing import ManualClock


def test_a_misspelt_template_is_refused_when_owed_and_nothing_is_owed(
    db: Database, clock: ManualClock
) -> None:
    refused = pytest.raises(ValueError, match="unknown message template 'aproval_request'")
    with refused, db.session() as session:
        outbox.owe_message(
            session, channel="U0APPROVER1", template="aproval_request", now=clock.now()
        )
    with db.session() as session:
        assert session.exec(select(OutboxMessage)).all() == []


def test_a_template_owed_by_name_or_by_declaration_keeps_its_priority(
    db: Database, clock: ManualClock
) -> None:
    with db.session() as session:
        now = clock.now()
        outbox.owe_message(session, channel="C0RELEASES", template="rollback_alert", now=now)
        outbox.owe_dms(
            session,
            people=["U0QA"],
            template=reminders.WINDOW_SOON_MESSAGE,
            plan_id=None,
            now=clock.now(),
            key="soon",
        )
    with db.session() as session:
        owed = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [(m.payload["template"], m.priority) for m in owed] == [
            ("rollback_alert", Priority.URGENT),
            ("window_soon", Priority.LOW),
        ]
