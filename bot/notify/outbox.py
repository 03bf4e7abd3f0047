"""The transactional outbox: Slack messages owed are rows written with the change that caused them.

A dispatcher delivers them later, at most one message per second per channel, most urgent
first (`bot/notify/outbox_queue.py` decides which message a channel sends next), retrying Slack's
429/5xx/timeouts with backoff. A card is rendered at delivery time from the plan as it then
is, so ten quick changes cost one `chat.update`, not ten.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.domain.clock import Clock
from bot.domain.mrkdwn import Mrkdwn
from bot.notify.outbox_queue import CARD as CARD
from bot.notify.outbox_queue import TEMPLATE_PRIORITY, MessageTemplate, queue_heads
from bot.notify.outbox_queue import Priority as Priority
from bot.ports.slack import SlackLookupImpossible, SlackPort, SlackRefused, SlackUnavailable
from bot.store.db import Database
from bot.store.leases import process_owner
from bot.store.models import OutboxMessage, ReleasePlan, SlackMessage

log = logging.getLogger(__name__)

THREAD = "thread"
POST = "post"
# Where an approval request DM was delivered (SlackMessage.kind): it is redrawn with the card,
# so the approver sees the count move and, once decided, the outcome instead of the buttons.
APPROVAL_DM = "approval_dm"
APPROVAL_TEMPLATE = "approval_request"
PER_CHANNEL_INTERVAL = timedelta(seconds=1)
MAX_BACKOFF = timedelta(minutes=5)
# How long a claimed row is left alone while one process sends it (then it is retried).
SEND_LEASE = timedelta(minutes=2)
# Our clock and Slack's may differ; look this far before a row's creation for its message.
CLOCK_SKEW = timedelta(minutes=5)
MAX_RENDER_ATTEMPTS = 5
IDLE_POLL_SECONDS = 2.0
METADATA_EVENT = "releasebot_outbox"


@dataclass(frozen=True)
class Rendered:
    """A message body as Slack takes it: fallback text plus Block Kit blocks.

    The text is mrkdwn (Slack shows it in notifications and where blocks cannot be shown), so it
    is `Mrkdwn`: built with `md()`, user text in it escaped like in the blocks.
    """

    text: Mrkdwn
    blocks: list[dict[str, Any]] = field(default_factory=list)


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
    """Owe a reply in the thread of the plan's card (once per `dedupe_key`)."""
    if _already_owed(session, dedupe_key):
        return
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
    template: str | MessageTemplate | None = None,
    context: dict[str, Any] | None = None,
    now: datetime,
    plan_id: int | None = None,
    dedupe_key: str | None = None,
    priority: Priority | None = None,
) -> None:
    """Owe a message to a channel, or to a user's DM when `channel` is a user id.

    Either a ready `message`, or a `template` the Slack layer renders at delivery time
    (with `context`: the JSON values the template needs besides the plan). Its `priority`
    is the template's unless given. A template named by a string must be a core template
    (`outbox_queue.CORE_TEMPLATES`): a misspelt one fails here, not at its fifth delivery.
    """
    if _already_owed(session, dedupe_key):
        return
    declared = _declared(template) if template is not None else None
    payload: dict[str, Any] = (
        {**(context or {}), "template": declared.name}
        if declared is not None
        else {"text": message.text if message else "", "blocks": message.blocks if message else []}
    )
    if priority is None:
        priority = declared.priority if declared is not None else Priority.NORMAL
    session.add(
        OutboxMessage(
            kind=POST,
            plan_id=plan_id,
            channel=channel,
            priority=int(priority),
            payload=payload,
            dedupe_key=dedupe_key,
            created_at=now,
            due_at=now,
        )
    )


def _declared(template: str | MessageTemplate) -> MessageTemplate:
    if isinstance(template, MessageTemplate):
        return template
    if template not in TEMPLATE_PRIORITY:
        raise ValueError(f"unknown message template {template!r}: declare it (outbox_queue)")
    return MessageTemplate(template, TEMPLATE_PRIORITY[template])


def owe_thread_template(
    session: Session,
    *,
    plan_id: int,
    channel: str,
    template: MessageTemplate,
    context: dict[str, Any] | None = None,
    now: datetime,
    dedupe_key: str,
) -> None:
    """Owe a reply in the plan's card thread, drawn from `template` at delivery time (once)."""
    if _already_owed(session, dedupe_key):
        return
    session.add(
        OutboxMessage(
            kind=THREAD,
            plan_id=plan_id,
            channel=channel,
            priority=int(template.priority),
            payload={**(context or {}), "template": template.name},
            dedupe_key=dedupe_key,
            created_at=now,
            due_at=now,
        )
    )


@dataclass(frozen=True)
class _Claimed:
    """A row taken for one send: what to send, where, and what a previous try may have left."""

    id: int
    kind: str
    channel: str
    plan_id: int | None
    created_at: datetime
    message: Rendered
    thread_ts: str | None
    card_ts: str | None  # the card's location when it is already posted (then: chat.update)
    card_channel: str | None
    revision: int | None  # the plan revision a card was rendered from
    maybe_sent: bool  # an earlier try may have reached Slack: look before posting again
    # With a card: the approval DMs to redraw (channel, ts, message, decided).
    approval_dms: tuple[tuple[str, str, Rendered, bool], ...] = ()


def owe_dms(
    session: Session,
    *,
    people: Iterable[str],
    template: str | MessageTemplate,
    plan_id: int | None,
    now: datetime,
    key: str,
    context: dict[str, Any] | None = None,
) -> int:
    """Owe the same templated DM to each person once (`key` + the person's id dedupes it)."""
    unique = list(dict.fromkeys(people))
    for person in unique:
        owe_message(
            session,
            channel=person,
            template=template,
            context=context,
            plan_id=plan_id,
            now=now,
            dedupe_key=f"{key}:{person}",
        )
    return len(unique)


class OutboxDispatcher:
    """Delivers owed messages; safe to run in several processes on PostgreSQL.

    Each row is claimed (locked, leased by pushing its due time, attempt counted) and committed
    before the Slack call, and marked delivered after it. A process killed in between leaves a
    row with attempts > 0 and no delivered marker; whoever retries it first looks for the
    message in Slack by its metadata, so nothing is posted twice and nothing is lost.
    """

    def __init__(
        self,
        *,
        db: Database,
        slack: SlackPort,
        render: Renderer,
        clock: Clock,
        owner: str | None = None,
    ) -> None:
        self._db = db
        self.owner = owner or process_owner()
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
        """Send the next due message of each channel whose pacing allows; return how many."""
        delivered = 0
        for message_id in self._heads(limit):
            claimed = self._claim(message_id)
            if claimed is None:
                continue
            if self._deliver(claimed):
                delivered += 1
        return delivered

    def next_due_in(self) -> float:
        """Seconds until something could go out (capped), for the delivery loop's wait."""
        now = self._clock.now()
        with self._db.session() as session:
            heads = queue_heads(session)
        if not heads:
            return IDLE_POLL_SECONDS
        # A channel may send once its head is due and its own second has passed: one that is
        # free already must not wait for the slot of another (that added ~0.1 s a message).
        soonest = min(max(h.due_at, self._next_slot.get(h.channel, h.due_at)) for h in heads)
        return max(0.02, min(IDLE_POLL_SECONDS, (soonest - now).total_seconds()))

    def take_back(self) -> int:
        """Make messages this slot's previous process was sending due now (they are looked up
        in Slack before any re-post); how many there were."""
        now = self._clock.now()
        with self._db.session() as session:
            taken = session.connection().execute(
                update(OutboxMessage)
                .where(
                    col(OutboxMessage.lease_owner) == self.owner,
                    col(OutboxMessage.delivered_at).is_(None),
                    col(OutboxMessage.due_at) > now,
                )
                .values(due_at=now, lease_owner=None)
            )
        if taken.rowcount:
            log.info("took back %d message(s) leased before a restart", taken.rowcount)
        return int(taken.rowcount)

    def start(self) -> None:
        """Take back this slot's messages, then run the delivery loop in a daemon thread."""
        self.take_back()
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="outbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the loop and wait for the message in hand."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=15)

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

    # -- choosing and claiming ------------------------------------------------------------

    def _heads(self, limit: int) -> Sequence[int]:
        """Each channel's next message, when it is due and its channel may send."""
        now = self._clock.now()
        with self._db.session() as session:
            heads = queue_heads(session)
            # Pacing holds across processes: a channel that just got a message waits its second.
            recent = set(
                session.exec(
                    select(OutboxMessage.channel)
                    .where(col(OutboxMessage.delivered_at) > now - PER_CHANNEL_INTERVAL)
                    .distinct()
                ).all()
            )
        return [
            head.id
            for head in heads
            if head.due_at <= now
            and head.channel not in recent
            and self._next_slot.get(head.channel, now) <= now
        ][:limit]

    def _claim(self, message_id: int) -> _Claimed | None:
        now = self._clock.now()
        with self._db.session() as session:
            statement = select(OutboxMessage).where(
                OutboxMessage.id == message_id,
                col(OutboxMessage.delivered_at).is_(None),
                OutboxMessage.due_at <= now,
            )
            if session.get_bind().dialect.name == "postgresql":
                statement = statement.with_for_update(skip_locked=True)
            row = session.exec(statement).first()
            if row is None:
                return None
            card = _card_of(session, row.plan_id) if row.plan_id is not None else None
            if row.kind == THREAD and card is None:
                row.due_at = now + PER_CHANNEL_INTERVAL  # the card goes first; not an attempt
                return None
            try:
                message = self._message_of(session, row)
            except Exception as failure:  # noqa: BLE001 - recorded on the row, retried, then dropped
                self._render_failed(row, failure, now)
                return None
            revision = None
            approval_dms: list[tuple[str, str, Rendered, bool]] = []
            if row.kind == CARD and row.plan_id is not None:
                plan = session.get(ReleasePlan, row.plan_id)
                revision = plan.revision if plan is not None else None
                approval_dms = self._approval_dms(session, row.plan_id)
            claimed = _Claimed(
                id=message_id,
                kind=row.kind,
                channel=row.channel,
                plan_id=row.plan_id,
                created_at=row.created_at,
                message=message,
                thread_ts=card.ts if row.kind == THREAD and card is not None else None,
                card_ts=card.ts if row.kind == CARD and card is not None else None,
                card_channel=card.channel if row.kind == CARD and card is not None else None,
                revision=revision,
                maybe_sent=row.attempts > 0,
                approval_dms=tuple(approval_dms),
            )
            row.attempts += 1
            row.due_at = now + SEND_LEASE  # nobody else takes it while we send
            row.lease_owner = self.owner
            return claimed

    def _approval_dms(
        self, session: Session, plan_id: int
    ) -> list[tuple[str, str, Rendered, bool]]:
        """The plan's delivered approval DMs, drawn as they should look now."""
        sent = session.exec(
            select(SlackMessage).where(
                SlackMessage.plan_id == plan_id, SlackMessage.kind == APPROVAL_DM
            )
        ).all()
        if not sent:
            return []
        request = OutboxMessage(
            kind=POST, plan_id=plan_id, channel="", payload={"template": APPROVAL_TEMPLATE}
        )
        try:
            drawn = self._render(session, request)
        except Exception:
            log.exception("could not redraw the approval DMs of plan %s", plan_id)
            return []
        decided = not any(block.get("type") == "actions" for block in drawn.blocks)
        return [(dm.channel, dm.ts, drawn, decided) for dm in sent]

    def _redraw_approval_dms(self, claimed: _Claimed) -> None:
        """chat.update each approval DM; a decided one is not redrawn again."""
        done: list[tuple[str, str]] = []
        for channel, ts, drawn, decided in claimed.approval_dms:
            try:
                self._slack.update(channel=channel, ts=ts, text=drawn.text, blocks=drawn.blocks)
            except SlackRefused as exc:  # deleted by hand, say: nothing left to redraw
                log.warning("approval DM %s in %s cannot be redrawn: %s", ts, channel, exc)
                decided = True
            if decided:
                done.append((channel, ts))
        if not done or claimed.plan_id is None:
            return
        with self._db.session() as session:
            for dm in session.exec(
                select(SlackMessage).where(
                    SlackMessage.plan_id == claimed.plan_id, SlackMessage.kind == APPROVAL_DM
                )
            ).all():
                if (dm.channel, dm.ts) in done:
                    session.delete(dm)

    def _message_of(self, session: Session, row: OutboxMessage) -> Rendered:
        if row.kind == CARD or "template" in row.payload:
            return self._render(session, row)
        # Stored as rendered when it was owed (safe then); the Slack sink still defuses broadcasts.
        return Rendered(Mrkdwn(row.payload.get("text", "")), list(row.payload.get("blocks", [])))

    def _render_failed(self, row: OutboxMessage, failure: Exception, now: datetime) -> None:
        log.error("could not render outbox message %s: %s", row.id, failure, exc_info=failure)
        row.attempts += 1
        row.last_error = f"render failed: {type(failure).__name__}: {failure}"[:2000]
        if row.attempts >= MAX_RENDER_ATTEMPTS:
            row.delivered_at = now  # kept with its error for the operator; it would never render
        else:
            row.due_at = now + _backoff(row.attempts)

    # -- sending --------------------------------------------------------------------------

    def _deliver(self, claimed: _Claimed) -> bool:
        try:
            channel, ts = self._send(claimed)
        except SlackUnavailable as exc:
            self._retry_later(claimed, exc)
            return False
        except SlackRefused as exc:
            self._finish(claimed, channel=None, ts=None, error=str(exc))
            log.error("slack refused message %s for good: %s", claimed.id, exc)
            return True
        self._finish(claimed, channel=channel, ts=ts, error=None)
        # One line per message acted on, with its plan (issue 9.12).
        log.info(
            "delivered %s message %s to %s",
            claimed.kind,
            claimed.id,
            channel,
            extra={"event": "outbox.delivered", "plan_id": claimed.plan_id},
        )
        return True

    def _send(self, claimed: _Claimed) -> tuple[str, str]:
        message = claimed.message
        if claimed.card_ts is not None and claimed.card_channel is not None:
            self._slack.update(
                channel=claimed.card_channel,
                ts=claimed.card_ts,
                text=message.text,
                blocks=message.blocks,
            )
            self._redraw_approval_dms(claimed)
            return claimed.card_channel, claimed.card_ts
        key = outbox_key(claimed.id, claimed.created_at)
        if claimed.maybe_sent:
            found = self._find(claimed, key)
            if found is not None:
                log.info("outbox message %s was already in Slack; not posting it again", claimed.id)
                if claimed.kind == CARD:
                    # Record where it is and bring it up to date rather than post a second card.
                    self._slack.update(
                        channel=found[0], ts=found[1], text=message.text, blocks=message.blocks
                    )
                return found
        return self._slack.post(
            channel=claimed.channel,
            text=message.text,
            blocks=message.blocks,
            thread_ts=claimed.thread_ts,
            metadata=key,
        )

    def _find(self, claimed: _Claimed, key: dict[str, Any]) -> tuple[str, str] | None:
        try:
            return self._slack.find(
                channel=claimed.channel,
                thread_ts=claimed.thread_ts,
                key=key,
                oldest=claimed.created_at - CLOCK_SKEW,
            )
        except SlackLookupImpossible as exc:
            # Not knowing whether it arrived, post it: a rare duplicate beats a lost message.
            log.warning(
                "outbox message %s to %s may already be in Slack but cannot be looked up (%s); "
                "posting it anyway, a duplicate is possible",
                claimed.id,
                claimed.channel,
                exc,
            )
            return None

    def _retry_later(self, claimed: _Claimed, exc: SlackUnavailable) -> None:
        now = self._clock.now()
        with self._db.session() as session:
            row = session.get(OutboxMessage, claimed.id)
            if row is None or row.delivered_at is not None:
                return
            backoff = _backoff(row.attempts)
            if exc.retry_after is not None:
                backoff = timedelta(seconds=exc.retry_after)
                self._next_slot[claimed.channel] = now + backoff
            row.due_at = now + backoff
            row.lease_owner = None  # a backoff, not a lease: a restart must honour it
            row.last_error = str(exc)[:2000]
        log.warning("slack unavailable, message %s retried in %s: %s", claimed.id, backoff, exc)

    def _finish(
        self, claimed: _Claimed, *, channel: str | None, ts: str | None, error: str | None
    ) -> None:
        now = self._clock.now()
        self._next_slot[claimed.channel] = now + PER_CHANNEL_INTERVAL
        with self._db.session() as session:
            row = session.get(OutboxMessage, claimed.id)
            if row is None or row.delivered_at is not None:
                return
            row.last_error = error
            if claimed.kind == CARD and claimed.plan_id is not None and ts is not None:
                if claimed.card_ts is None and _card_of(session, claimed.plan_id) is None:
                    session.add(
                        SlackMessage(
                            plan_id=claimed.plan_id, kind=CARD, channel=channel or "", ts=ts
                        )
                    )
                plan = session.get(ReleasePlan, claimed.plan_id)
                if plan is not None and plan.revision != claimed.revision:
                    # The plan changed while we drew it: draw it again (chat.update) shortly.
                    row.due_at = now
                    return
            row.delivered_at = now
            row.delivered_ts = ts
            if row.payload.get("template") == APPROVAL_TEMPLATE and row.plan_id and channel and ts:
                _remember_approval_dm(session, plan_id=row.plan_id, channel=channel, ts=ts)


def outbox_key(message_id: int, created_at: datetime) -> dict[str, Any]:
    """The message metadata that lets a retry recognise a message already posted."""
    return {
        "event_type": METADATA_EVENT,
        "event_payload": {"id": message_id, "created": created_at.isoformat()},
    }


def _already_owed(session: Session, dedupe_key: str | None) -> bool:
    if dedupe_key is None:
        return False
    statement = select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
    return session.exec(statement).first() is not None


def _backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=2 ** min(attempts, 12)), MAX_BACKOFF)


def _remember_approval_dm(session: Session, *, plan_id: int, channel: str, ts: str) -> None:
    """Record where an approval DM went (a new round's DM to the same person replaces it)."""
    known = session.exec(
        select(SlackMessage).where(
            SlackMessage.plan_id == plan_id,
            SlackMessage.kind == APPROVAL_DM,
            SlackMessage.channel == channel,
        )
    ).first()
    if known is None:
        session.add(SlackMessage(plan_id=plan_id, kind=APPROVAL_DM, channel=channel, ts=ts))
    else:
        known.ts = ts


def _card_of(session: Session, plan_id: int) -> SlackMessage | None:
    return session.exec(
        select(SlackMessage).where(SlackMessage.plan_id == plan_id, SlackMessage.kind == CARD)
    ).first()
