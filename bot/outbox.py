"""The transactional outbox: Slack messages owed are rows written with the change that caused them.

A dispatcher delivers them later, in order per channel, at most one message per second per
channel, retrying Slack's 429/5xx/timeouts with backoff. A card is rendered at delivery time
from the plan as it then is, so ten quick changes cost one `chat.update`, not ten.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlmodel import Session, col, select

from bot.clock import Clock
from bot.db import Database
from bot.models import OutboxMessage, SlackMessage

log = logging.getLogger(__name__)

CARD = "card"
THREAD = "thread"
POST = "post"
PER_CHANNEL_INTERVAL = timedelta(seconds=1)
MAX_BACKOFF = timedelta(minutes=5)


@dataclass(frozen=True)
class Rendered:
    """A message body as Slack takes it: fallback text plus Block Kit blocks."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)


class SlackUnavailable(Exception):
    """Slack said 'later' (429, 5xx, timeout): keep the message and try again."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class SlackRefused(Exception):
    """Slack refused the message for good (invalid_blocks, channel_not_found): do not retry."""


class SlackPort(Protocol):
    """What delivery needs from Slack; the slack_sdk adapter lives in commands/."""

    def post(
        self, *, channel: str, text: str, blocks: list[dict[str, Any]], thread_ts: str | None
    ) -> tuple[str, str]:
        """Post a message; return (channel id, ts)."""
        ...

    def update(self, *, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        """Edit a message in place."""
        ...


# Renders a card, or a templated message, from the database as it is at delivery time.
Renderer = Callable[[Session, OutboxMessage], Rendered]


def owe_card(session: Session, *, plan_id: int, channel: str, now: datetime) -> None:
    """Owe a post-or-update of the plan's card, unless one is already owed."""
    pending = session.exec(
        select(OutboxMessage.id).where(
            OutboxMessage.plan_id == plan_id,
            OutboxMessage.kind == CARD,
            col(OutboxMessage.delivered_at).is_(None),
        )
    ).first()
    if pending is None:
        session.add(
            OutboxMessage(kind=CARD, plan_id=plan_id, channel=channel, created_at=now, due_at=now)
        )


def owe_thread_reply(
    session: Session,
    *,
    plan_id: int,
    channel: str,
    message: Rendered,
    now: datetime,
    dedupe_key: str | None = None,
) -> None:
    """Owe a reply in the thread of the plan's card."""
    session.add(
        OutboxMessage(
            kind=THREAD,
            plan_id=plan_id,
            channel=channel,
            payload={"text": message.text, "blocks": message.blocks},
            dedupe_key=dedupe_key,
            created_at=now,
            due_at=now,
        )
    )


def owe_message(
    session: Session,
    *,
    channel: str,
    message: Rendered | None = None,
    template: str | None = None,
    now: datetime,
    plan_id: int | None = None,
    dedupe_key: str | None = None,
) -> None:
    """Owe a message to a channel, or to a user's DM when `channel` is a user id.

    Either a ready `message`, or a `template` the Slack layer renders at delivery time.
    """
    payload: dict[str, Any] = (
        {"template": template}
        if template is not None
        else {"text": message.text if message else "", "blocks": message.blocks if message else []}
    )
    session.add(
        OutboxMessage(
            kind=POST,
            plan_id=plan_id,
            channel=channel,
            payload=payload,
            dedupe_key=dedupe_key,
            created_at=now,
            due_at=now,
        )
    )


class OutboxDispatcher:
    """Delivers owed messages; safe to run in several processes on PostgreSQL."""

    def __init__(self, *, db: Database, slack: SlackPort, render: Renderer, clock: Clock) -> None:
        self._db = db
        self._slack = slack
        self._render = render
        self._clock = clock
        self._next_slot: dict[str, datetime] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def kick(self) -> None:
        """Something was just owed: deliver without waiting for the next poll."""
        self._wake.set()

    def deliver_due(self, *, limit: int = 100) -> int:
        """Deliver what is due now, in order; return how many messages went out."""
        delivered = 0
        blocked_channels: set[str] = set()
        for message_id in self._due_ids(limit):
            with self._db.session() as session:
                row = self._claim(session, message_id)
                if row is None or row.channel in blocked_channels:
                    continue
                now = self._clock.now()
                slot = self._next_slot.get(row.channel)
                if slot is not None and slot > now:
                    # Later rows of the same channel wait too, so per-channel order holds.
                    blocked_channels.add(row.channel)
                    continue
                if not self._deliver(session, row, now):
                    blocked_channels.add(row.channel)
                    continue
                delivered += 1
                self._next_slot[row.channel] = now + PER_CHANNEL_INTERVAL
        return delivered

    def next_due_in(self) -> float:
        """Seconds until something could go out (capped), for the delivery loop's wait."""
        now = self._clock.now()
        with self._db.session() as session:
            due = session.exec(
                select(OutboxMessage.due_at)
                .where(col(OutboxMessage.delivered_at).is_(None))
                .order_by(col(OutboxMessage.due_at))
                .limit(1)
            ).first()
        if due is None:
            return 5.0
        candidates = [due, *[slot for slot in self._next_slot.values() if slot > now]]
        return max(0.05, min(5.0, (min(candidates) - now).total_seconds()))

    def start(self) -> None:
        """Run the delivery loop in a daemon thread."""
        self._thread = threading.Thread(target=self._loop, name="outbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the loop and wait for the message in hand."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.deliver_due()
                wait = self.next_due_in()
            except Exception:
                log.exception("outbox delivery pass failed")
                wait = 1.0
            self._wake.wait(timeout=wait)
            self._wake.clear()

    def _due_ids(self, limit: int) -> Sequence[int]:
        now = self._clock.now()
        with self._db.session() as session:
            ids = session.exec(
                select(OutboxMessage.id)
                .where(col(OutboxMessage.delivered_at).is_(None), OutboxMessage.due_at <= now)
                .order_by(col(OutboxMessage.id))
                .limit(limit)
            ).all()
        return [i for i in ids if i is not None]

    def _claim(self, session: Session, message_id: int) -> OutboxMessage | None:
        statement = select(OutboxMessage).where(
            OutboxMessage.id == message_id, col(OutboxMessage.delivered_at).is_(None)
        )
        if session.get_bind().dialect.name == "postgresql":
            statement = statement.with_for_update(skip_locked=True)
        return session.exec(statement).first()

    def _deliver(self, session: Session, row: OutboxMessage, now: datetime) -> bool:
        try:
            ts = self._send(session, row)
        except SlackUnavailable as exc:
            row.attempts += 1
            backoff = timedelta(seconds=min(2 ** min(row.attempts, 12), MAX_BACKOFF.seconds))
            if exc.retry_after is not None:
                backoff = timedelta(seconds=exc.retry_after)
                self._next_slot[row.channel] = now + backoff
            row.due_at = now + backoff
            row.last_error = str(exc)
            log.warning("slack unavailable, message %s retried in %s: %s", row.id, backoff, exc)
            return False
        except SlackRefused as exc:
            row.attempts += 1
            row.last_error = str(exc)
            row.delivered_at = now  # never retried; kept with its error for the operator
            log.error("slack refused message %s for good: %s", row.id, exc)
            return True
        row.attempts += 1
        row.delivered_at = now
        row.delivered_ts = ts
        row.last_error = None
        return True

    def _send(self, session: Session, row: OutboxMessage) -> str | None:
        if row.kind == CARD:
            return self._send_card(session, row)
        if "template" in row.payload:
            rendered = self._render(session, row)
        else:
            rendered = Rendered(
                str(row.payload.get("text", "")), list(row.payload.get("blocks", []))
            )
        thread_ts = None
        if row.kind == THREAD and row.plan_id is not None:
            card = _card_of(session, row.plan_id)
            if card is None:
                raise SlackUnavailable("the card is not posted yet")
            thread_ts = card.ts
        _, ts = self._slack.post(
            channel=row.channel, text=rendered.text, blocks=rendered.blocks, thread_ts=thread_ts
        )
        return ts

    def _send_card(self, session: Session, row: OutboxMessage) -> str:
        assert row.plan_id is not None
        rendered = self._render(session, row)
        card = _card_of(session, row.plan_id)
        if card is not None:
            self._slack.update(
                channel=card.channel, ts=card.ts, text=rendered.text, blocks=rendered.blocks
            )
            return card.ts
        channel, ts = self._slack.post(
            channel=row.channel, text=rendered.text, blocks=rendered.blocks, thread_ts=None
        )
        session.add(SlackMessage(plan_id=row.plan_id, kind=CARD, channel=channel, ts=ts))
        return ts


def _card_of(session: Session, plan_id: int) -> SlackMessage | None:
    return session.exec(
        select(SlackMessage).where(SlackMessage.plan_id == plan_id, SlackMessage.kind == CARD)
    ).first()
