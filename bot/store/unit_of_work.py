"""Domain events recorded in the unit of work and handed to their subscribers just before commit.

A use case says what happened — `record(session, PlanChanged(plan.id), ctx=ctx)` — instead of
calling whoever cares. Subscribers run INSIDE the same transaction, right before it commits, so
what they write (reminder jobs, owed messages) commits together with the change or not at all: a
crash between the two cannot lose a reminder. Work that talks to the outside (Slack, deploy
backends) is never a subscriber; it is woken after commit as before (the outbox and engine kicks).

An event recorded inside a savepoint joins the enclosing transaction when the savepoint is
released, and is dropped with the rows written next to it when the savepoint rolls back.

Subscribers are registered per process by the composition root (`bot.app.wiring.wire_defaults`,
which the test fixtures call too). An event nobody subscribed to fails the commit: a forgotten
registration must never silently drop reminders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import event as sa_event
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session

from bot.domain.context import DomainContext
from bot.domain.events import DomainEvent

E = TypeVar("E", bound=DomainEvent)
Handler = Callable[[Session, DomainContext, Any], None]

_PENDING = "releasebot.domain_events"
_subscribers: dict[type[Any], list[Handler]] = {}


class NoSubscriber(LookupError):
    """An event was recorded that nothing in this process subscribed to."""


@dataclass
class _Recorded:
    event: DomainEvent
    ctx: DomainContext
    # The innermost transaction open when it was recorded: a rollback of it drops the event.
    transaction: SessionTransaction | None


def subscribe(kind: type[E], handler: Callable[[Session, DomainContext, E], None]) -> None:
    """Have `handler` run for every `kind` event, just before its transaction commits.

    Subscribing the same handler again is a no-op, so wiring may run once per bot built.
    """
    handlers = _subscribers.setdefault(kind, [])
    if handler not in handlers:
        handlers.append(handler)


def subscribers(kind: type[DomainEvent]) -> tuple[Handler, ...]:
    """The handlers `kind` events are handed to, in the order they were subscribed."""
    return tuple(_subscribers.get(kind, ()))


def unsubscribe_all() -> None:
    """Forget every subscription (a test that checks the wiring starts from nothing)."""
    _subscribers.clear()


def record(session: Session, event: DomainEvent, *, ctx: DomainContext) -> None:
    """Note that `event` happened in `session`'s transaction; it is handled before commit."""
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_PENDING, []).append(_Recorded(event, ctx, transaction))


def pending(session: Session) -> list[DomainEvent]:
    """The events recorded in `session` and not handled yet."""
    return [recorded.event for recorded in session.info.get(_PENDING, [])]


def dispatch(session: Session) -> None:
    """Hand every recorded event to its subscribers now (the commit does this by itself).

    The same event recorded twice (a plan created and approved in one transaction) is handled
    once; events recorded by a subscriber are handled in the same pass.
    """
    queue: list[_Recorded] = session.info.get(_PENDING, [])
    handled: set[tuple[DomainEvent, int]] = set()
    while queue:
        recorded = queue.pop(0)
        key = (recorded.event, id(recorded.ctx))
        if key in handled:
            continue
        handled.add(key)
        handlers = _subscribers.get(type(recorded.event))
        if not handlers:
            raise NoSubscriber(
                f"nothing subscribed to {type(recorded.event).__name__}: the composition root "
                "(bot.app.wiring.wire_defaults) was not called in this process"
            )
        for handler in handlers:
            handler(session, recorded.ctx, recorded.event)


@sa_event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    queue: list[_Recorded] = session.info.get(_PENDING, [])
    if not queue:
        return
    savepoint = session.get_nested_transaction()
    if savepoint is not None:
        # A savepoint is released: its events now belong to the transaction around it.
        for recorded in queue:
            if recorded.transaction is savepoint:
                recorded.transaction = savepoint.parent
        return
    dispatch(session)


@sa_event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    queue: list[_Recorded] | None = session.info.get(_PENDING)
    if not queue:
        return
    if transaction.parent is None:
        # The whole transaction ended: a commit handled its events already, a rollback drops them.
        queue.clear()
        return
    # A savepoint that was released handed its events on; one that rolled back drops them.
    queue[:] = [recorded for recorded in queue if recorded.transaction is not transaction]
