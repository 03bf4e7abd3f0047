"""What the bot keeps only for a while: answered journal entries and delivery keys.

An answered journal entry holds what a person typed and a `response_url`; a delivery key only
says a Slack request was acted on. Slack redelivers within seconds and a `response_url` lasts
30 minutes, so after `KEEP` neither is needed again: what happened is in the audit trail, which
is kept for good. Entries not answered yet are never deleted (the recovery pass needs them).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import col, select

from bot.store.db import Database
from bot.store.models import InboundRequest, JournalEntry

KEEP = timedelta(days=7)
# Rows deleted per statement, so one pass never holds a long lock.
BATCH = 1000
# How often the running bot prunes.
EVERY = timedelta(hours=1)


def prune(db: Database, *, now: datetime, keep: timedelta = KEEP, batch: int = BATCH) -> int:
    """Delete answered entries and delivery keys older than `keep`; return how many went."""
    cutoff = now - keep
    removed = 0
    while True:
        with db.session() as session:
            entries = session.exec(
                select(JournalEntry.id)
                .where(col(JournalEntry.answered_at) < cutoff)
                .order_by(col(JournalEntry.id))
                .limit(batch)
            ).all()
            keys = session.exec(
                select(InboundRequest.key)
                .where(col(InboundRequest.received_at) < cutoff)
                .limit(batch)
            ).all()
            if entries:
                session.execute(delete(JournalEntry).where(col(JournalEntry.id).in_(entries)))
            if keys:
                session.execute(delete(InboundRequest).where(col(InboundRequest.key).in_(keys)))
        removed += len(entries) + len(keys)
        if len(entries) < batch and len(keys) < batch:
            return removed


def pruner(db: Database, *, clock: Callable[[], datetime]) -> Callable[[], int]:
    """A pruning pass for the background scheduler."""
    return lambda: prune(db, now=clock())
