"""Which owed message each channel sends next: the most urgent, oldest first among equals.

Within a channel's 1 message/s, rollback alerts and requests for a decision go first, then
cards and their threads, then reminders. About one plan in one conversation messages keep the
order they were owed in: only an urgent one overtakes, and never the plan's first card.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any

from sqlalchemy import Select, func
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from bot.store.models import OutboxMessage, SlackMessage

CARD = "card"  # the outbox row kind that posts, or edits, a plan's card


class Priority(IntEnum):
    """Which owed message of a channel goes first at Slack's pace: the smaller, the sooner."""

    URGENT = 0  # something failed, or someone must decide
    NORMAL = 1  # cards and their threads, announcements, news of decisions
    LOW = 2  # reminders and digests


@dataclass(frozen=True)
class MessageTemplate:
    """A message the core owes by name and the Slack layer draws at delivery time.

    Declared once, with its priority; `commands/render` must draw every declared template, and
    the composition root refuses to start when one has no renderer (bot/timing/kinds.py).
    """

    name: str
    priority: Priority = Priority.NORMAL


# The templates the release and notification use cases owe (SPEC §4): rollback alerts and
# approval/override requests go before everything else a channel owes. Each reminder kind
# declares its own templates with it (bot/timing/reminders.py `KINDS`).
RELEASE_ANNOUNCEMENT = MessageTemplate("release_announcement")
ROLLBACK_ALERT = MessageTemplate("rollback_alert", Priority.URGENT)
APPROVAL_REQUEST = MessageTemplate("approval_request", Priority.URGENT)
OVERRIDE_REQUEST = MessageTemplate("override_request", Priority.URGENT)
DECISION_TO_REQUESTER = MessageTemplate("decision_to_requester")
CORE_TEMPLATES: tuple[MessageTemplate, ...] = (
    RELEASE_ANNOUNCEMENT,
    ROLLBACK_ALERT,
    APPROVAL_REQUEST,
    OVERRIDE_REQUEST,
    DECISION_TO_REQUESTER,
)
# The core templates owed by name (a string): one not listed here is refused when owed.
TEMPLATE_PRIORITY: dict[str, Priority] = {t.name: t.priority for t in CORE_TEMPLATES}


def _heads_statement() -> Select[Any]:
    """Row 1 of each channel's queue (priority, then id) among the messages still owed."""
    place = func.row_number().over(
        partition_by=col(OutboxMessage.channel),
        order_by=(col(OutboxMessage.priority), col(OutboxMessage.id)),
    )
    queue = (
        sql_select(
            col(OutboxMessage.id),
            col(OutboxMessage.channel),
            col(OutboxMessage.due_at),
            col(OutboxMessage.priority),
            col(OutboxMessage.plan_id),
            col(OutboxMessage.kind),
            place.label("place"),
        )
        .where(col(OutboxMessage.delivered_at).is_(None))
        .subquery()
    )
    return sql_select(queue).where(queue.c.place == 1).order_by(queue.c.priority, queue.c.id)


# Built once: each delivery pass runs it twice, and building the subquery costs ~2 ms.
_HEADS = _heads_statement()


@dataclass(frozen=True)
class _Head:
    """The message a channel must send next."""

    id: int
    channel: str
    due_at: datetime


def queue_heads(session: Session) -> list[_Head]:
    """Each channel's next message, most urgent channels first.

    A channel's queue runs by priority, then age; its head waits while it is not due (a
    retry's backoff), so messages of one priority never overtake each other. About one plan in
    one conversation, messages go in the order they were owed: only an urgent one overtakes
    (an alert need not wait for the card's edit and thread replies), and never the plan's
    first card, which replies need and an alert links to.
    """
    rows = session.execute(_HEADS).all()
    plan_ids = {row.plan_id for row in rows if row.plan_id is not None}
    before = _owed_before(session, plan_ids) if plan_ids else {}
    heads = []
    for row in rows:
        key = (row.plan_id, row.channel)
        first_card, oldest = before.get(key, (None, None))
        if first_card is not None:
            heads.append(first_card)
        elif oldest is not None and oldest.id < row.id and row.priority != Priority.URGENT:
            heads.append(oldest)
        else:
            heads.append(_Head(row.id, row.channel, row.due_at))
    return heads


def _owed_before(
    session: Session, plan_ids: set[int]
) -> dict[tuple[int, str], tuple[_Head | None, _Head]]:
    """Per (plan, channel): the plan's owed first card there (if any), and its oldest message."""
    posted = set(
        session.exec(
            select(SlackMessage.plan_id).where(
                SlackMessage.kind == CARD, col(SlackMessage.plan_id).in_(plan_ids)
            )
        ).all()
    )
    owed = session.execute(
        sql_select(
            col(OutboxMessage.id),
            col(OutboxMessage.channel),
            col(OutboxMessage.due_at),
            col(OutboxMessage.plan_id),
            col(OutboxMessage.kind),
        )
        .where(col(OutboxMessage.delivered_at).is_(None), col(OutboxMessage.plan_id).in_(plan_ids))
        .order_by(col(OutboxMessage.id))
    ).all()
    found: dict[tuple[int, str], tuple[_Head | None, _Head]] = {}
    for row in owed:
        head = _Head(row.id, row.channel, row.due_at)
        card, oldest = found.get((row.plan_id, row.channel), (None, head))
        if card is None and row.kind == CARD and row.plan_id not in posted:
            card = head
        found[(row.plan_id, row.channel)] = (card, oldest)
    return found
