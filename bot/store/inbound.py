"""Exactly one effect per Slack delivery: a retried or doubled request finds its key taken."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.store.models import InboundRequest


def claim(session: Session, *, key: str, now: datetime) -> bool:
    """Record `key` in the caller's transaction; False when it was acted on already."""
    if session.get(InboundRequest, key) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(InboundRequest(key=key, received_at=now))
    except IntegrityError:
        return False
    return True
