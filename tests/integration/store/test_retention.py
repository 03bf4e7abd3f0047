"""Answered journal entries and delivery keys go after a week; what is still owed stays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from bot.store import retention
from bot.store.db import Database
from bot.store.models import InboundRequest, JournalEntry

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def _entry(key: str, *, received: datetime, answered: datetime | None) -> JournalEntry:
    return JournalEntry(
        delivery_key=key,
        kind="command",
        user_id="U0REQUESTER",
        request={"text": "deploy R-1", "response_url": "https://hooks.slack.com/commands/T/1/x"},
        received_at=received,
        done_at=answered,
        outcome=None if answered is None else "done",
        answered_at=answered,
        answered_via=None if answered is None else "response_url",
    )


def test_old_answered_entries_and_keys_are_deleted_in_batches(db: Database) -> None:
    old, recent = NOW - timedelta(days=8), NOW - timedelta(days=6)
    with db.session() as session:
        for n in range(5):
            session.add(_entry(f"old-{n}", received=old, answered=old))
        session.add(_entry("recent", received=recent, answered=recent))
        # Never answered (the database went away for good?): the recovery pass still owes it.
        session.add(_entry("owed", received=NOW - timedelta(days=30), answered=None))
        for n in range(3):
            session.add(InboundRequest(key=f"view:V{n}:h", received_at=old))
        session.add(InboundRequest(key="view:VNEW:h", received_at=recent))

    assert retention.prune(db, now=NOW, batch=2) == 8

    with db.session() as session:
        kept = session.exec(select(JournalEntry.delivery_key).order_by(col(JournalEntry.id)))
        assert list(kept) == ["recent", "owed"]
        assert list(session.exec(select(InboundRequest.key))) == ["view:VNEW:h"]
    assert retention.prune(db, now=NOW) == 0
