"""Carrying out journalled writes and answering them: right after the ack, and again by the
recovery pass for whatever a crash or a database outage left unfinished."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.error import URLError

from slack_sdk.webhook import WebhookClient
from sqlmodel import Session

from bot.domain.errors import InvalidInput, ReleasebotError
from bot.domain.mrkdwn import Mrkdwn, md
from bot.notify.outbox import Rendered
from bot.release.desk import Desk
from bot.store import journal
from bot.store.journal import Asked
from bot.store.models import JournalOutcome
from bot.timing.scheduler import default_owner
from commands.render import kit, replies
from commands.render.text import CONTEXT_LIMIT, MAX_BLOCKS, clip, when
from commands.replying import ephemeral

log = logging.getLogger(__name__)

# Slack accepts up to 5 posts to a response_url within 30 minutes of the interaction; an answer
# that would arrive later (or a URL Slack refuses) goes by DM through the outbox instead.
RESPONSE_URL_LIFETIME = timedelta(minutes=30)
RESPONSE_URL_MARGIN = timedelta(minutes=1)
RECOVERY_BATCH = 50
RECOVERY_SECONDS = 10.0

# Carries out one request inside the journal's transaction (the desk is joined to it).
Execute = Callable[[Desk, Asked], Rendered | None]
# How the person would name what they asked for: "`/release deploy R-3`".
Describe = Callable[[Asked], Mrkdwn]
ResponsePoster = Callable[[str, dict[str, Any]], bool]


@dataclass(frozen=True)
class JournalKind:
    """How one kind of journalled request (slash command, button) is carried out and named."""

    execute: Execute
    describe: Describe


def post_to_response_url(url: str, body: dict[str, Any]) -> bool:
    """POST an answer to a response_url; False when Slack refused it or could not be reached."""
    try:
        response = WebhookClient(url, timeout=10).send_dict(body)
    except (URLError, OSError) as failure:
        log.warning("response_url unreachable: %s", failure)
        return False
    if response.status_code != 200:
        log.warning("response_url refused: %s %s", response.status_code, response.body)
        return False
    return True


class JournalRunner:
    """Records writes before the ack, carries each out once, and makes sure its answer arrives."""

    def __init__(
        self,
        *,
        desk: Desk,
        owner: str | None = None,
        post_response: ResponsePoster = post_to_response_url,
    ) -> None:
        self._desk = desk
        self.owner = owner or default_owner()
        self._post = post_response
        self._kinds: dict[str, JournalKind] = {}

    def register(self, kind: str, *, execute: Execute, describe: Describe) -> None:
        """Carry out entries of `kind` with `execute`."""
        self._kinds[kind] = JournalKind(execute, describe)

    def record(
        self,
        *,
        kind: str,
        delivery_key: str,
        user_id: str,
        request: dict[str, Any],
        response_url: str | None,
        received_at: datetime | None = None,
    ) -> int:
        """Journal a request before the ack; raises journal.JournalUnavailable when it can't."""
        return journal.record(
            self._desk.db,
            delivery_key=delivery_key,
            kind=kind,
            user_id=user_id,
            request=request,
            response_url=response_url,
            now=received_at or self._desk.ctx.clock.now(),
            owner=self.owner,
        )

    def carry_out(self, entry_id: int, *, response_url: str | None) -> None:
        """Right after the ack: carry the entry out and answer it (unless someone else has)."""
        try:
            asked = journal.claim(
                self._desk.db, entry_id=entry_id, owner=self.owner, now=self._desk.ctx.clock.now()
            )
        except journal.OUTAGES as failure:
            # The entry is safe in the journal; the recovery pass takes it once the lease ends.
            log.warning("journal entry %s left for recovery: %s", entry_id, failure)
            self._tell_retrying(response_url, failure)
            return
        if asked is not None:
            self._handle(asked, late=False)

    def recover(self, *, limit: int = RECOVERY_BATCH) -> int:
        """Carry out and answer what a crash or an outage left; return how many were taken."""
        try:
            taken = journal.claim_open(
                self._desk.db, owner=self.owner, now=self._desk.ctx.clock.now(), limit=limit
            )
        except journal.OUTAGES as failure:
            log.warning("journal recovery waits for the database: %s", journal.fault_words(failure))
            return 0
        for asked in taken:
            log.info("recovering journalled %s %s", asked.kind, asked.delivery_key)
            self._handle(asked, late=True)
        return len(taken)

    # -- carrying out -----------------------------------------------------------------------

    def _handle(self, asked: Asked, *, late: bool) -> None:
        try:
            done = asked if asked.done else self._carry(asked, late=late)
            if done is not None:
                self._answer(done)
        except journal.OUTAGES as failure:
            log.warning("journal entry %s not answered yet: %s", asked.entry_id, failure)

    def _carry(self, asked: Asked, *, late: bool) -> Asked | None:
        now = self._desk.ctx.clock.now()
        try:
            with self._desk.db.session() as session:
                entry = journal.lock_undone(session, entry_id=asked.entry_id)
                if entry is None:
                    return None  # done by another process, which answers it
                try:
                    message = self._execute(session, asked)
                    outcome = JournalOutcome.DONE
                except ReleasebotError as refusal:
                    # The work rolled back to its savepoint; a refusal is a final answer.
                    message = replies.error(refusal.message, getattr(refusal, "usage", None))
                    outcome = JournalOutcome.REFUSED
                journal.finish(session, entry, outcome=outcome, answer=message, now=now, late=late)
                result = journal.asked_of(entry)
        except Exception as failure:  # noqa: BLE001 - kept on the entry, retried, then answered
            self._failed(asked, failure, late=late)
            return None
        self._desk.on_change()
        return result

    def _execute(self, session: Session, asked: Asked) -> Rendered | None:
        kind = self._kinds.get(asked.kind)
        if kind is None:
            raise InvalidInput(f"releasebot cannot carry out a {asked.kind!r} request any more")
        return kind.execute(self._desk.joining(session), asked)

    def _failed(self, asked: Asked, failure: Exception, *, late: bool) -> None:
        now = self._desk.ctx.clock.now()
        outage = journal.is_outage(failure)
        if outage:
            reason = journal.fault_words(failure)
            log.warning("could not carry out %s yet (%s): %s", asked.delivery_key, reason, failure)
        else:
            log.error("carrying out %s failed", asked.delivery_key, exc_info=failure)
        try:
            journal.failed(self._desk.db, entry_id=asked.entry_id, error=failure, now=now)
            if not outage and asked.attempts >= journal.MAX_FAILURES:
                self._give_up(asked, failure, late=late)
                return
        except journal.OUTAGES as again:
            log.warning("journal entry %s: its lease ends by itself (%s)", asked.entry_id, again)
        if asked.attempts == 1:
            self._tell_retrying(asked.response_url, failure)

    def _tell_retrying(self, response_url: str | None, failure: Exception) -> None:
        """Say once that the request is recorded and coming, so nobody types it again."""
        if not response_url:
            return
        reason = (
            journal.fault_words(failure)
            if journal.is_outage(failure)
            else "an internal error, logged for the operator"
        )
        notice = replies.notice(
            f":hourglass: Recorded, not done yet: releasebot hit a problem carrying it out "
            f"({reason}). It retries by itself and answers here when it is done."
        )
        self._post(response_url, {**ephemeral(notice), "replace_original": False})

    def _give_up(self, asked: Asked, failure: Exception, *, late: bool) -> None:
        answer = replies.error(
            md(
                "Not done: {} failed {} times inside releasebot ({}); nothing changed. It is "
                "logged for the operator.",
                self._describe(asked),
                asked.attempts,
                type(failure).__name__,
            )
        )
        now = self._desk.ctx.clock.now()
        if journal.give_up(
            self._desk.db, entry_id=asked.entry_id, answer=answer, now=now, late=late
        ):
            claimed = journal.claim(
                self._desk.db, entry_id=asked.entry_id, owner=self.owner, now=now
            )
            if claimed is not None:
                self._answer(claimed)

    # -- answering --------------------------------------------------------------------------

    def _answer(self, asked: Asked) -> None:
        db, now = self._desk.db, self._desk.ctx.clock.now()
        if asked.answer is None:
            journal.answered(db, entry_id=asked.entry_id, via="none", now=now)
            return
        message = self._late(asked.answer, asked) if asked.late else asked.answer
        url = asked.response_url
        fresh = now - asked.received_at < RESPONSE_URL_LIFETIME - RESPONSE_URL_MARGIN
        if url and fresh and self._post(url, {**ephemeral(message), "replace_original": False}):
            journal.answered(db, entry_id=asked.entry_id, via="response_url", now=now)
            return
        if not asked.late:
            message = self._about(message, asked)
        journal.answer_by_dm(db, entry_id=asked.entry_id, message=message, now=now)
        self._desk.on_change()

    def _late(self, message: Rendered, asked: Asked) -> Rendered:
        asked_at = when(asked.received_at, self._desk.ctx.config.tz)
        word, did = {
            JournalOutcome.DONE: ("Done late", "carry it out"),
            JournalOutcome.REFUSED: ("Checked late", "look at it"),
        }.get(JournalOutcome(asked.outcome or JournalOutcome.FAILED), ("Late answer", "get to it"))
        line = md(
            ":hourglass: {}: you asked for {} at {}; releasebot could only {} now.",
            word,
            self._describe(asked),
            asked_at,
            did,
        )
        return _headed(message, prefix=f"{word}: ", line=line)

    def _about(self, message: Rendered, asked: Asked) -> Rendered:
        asked_at = when(asked.received_at, self._desk.ctx.config.tz)
        line = md("About {}, which you asked for at {}:", self._describe(asked), asked_at)
        return _headed(message, prefix="", line=line)

    def _describe(self, asked: Asked) -> Mrkdwn:
        kind = self._kinds.get(asked.kind)
        return kind.describe(asked) if kind is not None else md("your request")


def _headed(message: Rendered, *, prefix: str, line: str) -> Rendered:
    """The message with a first line saying what it answers (and a prefix on its text)."""
    blocks = [kit.context(clip(line, CONTEXT_LIMIT)), *message.blocks][:MAX_BLOCKS]
    return Rendered(text=md("{}{}", prefix, message.text), blocks=blocks)
