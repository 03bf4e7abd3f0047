"""The append-only audit trail: every transition, decision and refusal is one row."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from bot.store.models import AuditEvent


def record(
    session: Session,
    *,
    at: datetime,
    actor_id: str,
    action: str,
    plan_id: int | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event in the caller's transaction."""
    event = AuditEvent(
        plan_id=plan_id,
        at=at,
        actor_id=actor_id,
        action=action,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        detail=detail or {},
    )
    session.add(event)
    return event


def trail(session: Session, *, plan_id: int) -> Sequence[AuditEvent]:
    """Every audit event of a plan, oldest first."""
    statement = select(AuditEvent).where(AuditEvent.plan_id == plan_id).order_by(col(AuditEvent.id))
    return session.exec(statement).all()
