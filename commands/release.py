"""The `/release` slash command: reads answered in the ack; writes journalled, then done."""

from __future__ import annotations

import html
import logging
from datetime import datetime
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.domain.errors import InvalidInput, ReleasebotError
from bot.domain.mrkdwn import Mrkdwn, inline_code
from bot.notify.outbox import Rendered
from bot.release.desk import Desk
from bot.store.journal import Asked, JournalUnavailable
from commands import registry
from commands.grammar import Command, UsageError
from commands.journal_runner import JournalRunner
from commands.render import replies
from commands.render.text import clip
from commands.replying import answer, ephemeral
from commands.subcommand import Kind

log = logging.getLogger(__name__)

# How each kind is answered: READ inside the ack, so the caller sees it at once; SLOW_READ and
# FORM after an empty ack (the slow read through response_url, the form within Slack's 3 s);
# WRITE journalled before an empty ack and carried out right after it (or by the recovery pass
# after a crash), answered by response_url. Which sub-command is which: commands/registry.py.
JOURNAL_KIND = "command"


def _parse(desk: Desk, text: str, received_at: str | None) -> Command:
    now = datetime.fromisoformat(received_at) if received_at else desk.ctx.clock.now()
    return registry.parse_command(text, now=now, tz=desk.ctx.config.tz)


def carry_out(desk: Desk, asked: Asked) -> Rendered | None:
    """Carry out a journalled `/release` write (parsed again, as of when it was received)."""
    parsed = _parse(desk, str(asked.request.get("text", "")), asked.received_at.isoformat())
    declared = registry.declaration_of(parsed)
    if declared.kind is not Kind.WRITE:
        raise InvalidInput(f"`/release {_name(parsed)}` changes nothing to carry out")
    done: Rendered | None = declared.handler(
        parsed, desk=desk, user_id=asked.user_id, request_key=asked.delivery_key
    )
    return done


def describe(asked: Asked) -> Mrkdwn:
    """The command as the person typed it, safe to show back (no mention, no broadcast)."""
    typed = html.unescape(str(asked.request.get("text", "")))
    return inline_code(f"/release {clip(' '.join(typed.split()), 80)}")


def register(app: App, desk: Desk, journal: JournalRunner) -> None:
    """Attach `/release` to the Bolt app."""
    journal.register(JOURNAL_KIND, execute=carry_out, describe=describe)

    def ack_release(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
        received_at = desk.ctx.clock.now()
        context["received_at"] = received_at.isoformat()
        try:
            parsed = _parse(desk, command.get("text", ""), context["received_at"])
            declared = registry.declaration_of(parsed)
            if declared.kind is Kind.READ:
                ack(**ephemeral(declared.handler(parsed, desk=desk, user_id=command["user_id"])))
                return
            if declared.kind is not Kind.WRITE:
                ack()  # answered after the ack: a modal opens, or the slow read arrives
                return
        except UsageError as problem:
            ack(**ephemeral(replies.error(problem.message, problem.usage)))
            return
        except ReleasebotError as problem:
            ack(**ephemeral(replies.error(problem.message)))
            return
        try:
            context["journal_entry"] = journal.record(
                kind=JOURNAL_KIND,
                delivery_key=f"command:{command.get('trigger_id') or command.get('response_url')}",
                user_id=command["user_id"],
                request={"text": command.get("text", ""), "channel_id": command.get("channel_id")},
                response_url=command.get("response_url"),
                received_at=received_at,
            )
        except JournalUnavailable as fault:
            ack(**ephemeral(replies.error(fault.not_done)))
            return
        # Empty: the answer follows through response_url within moments, and a second
        # "working on it" line would double every answer (Slack cannot replace it in place).
        ack()

    def do_release(
        command: dict[str, Any], context: BoltContext, respond: Respond, client: WebClient
    ) -> None:
        entry_id = context.get("journal_entry")
        if entry_id is not None:
            journal.carry_out(int(entry_id), response_url=command.get("response_url"))
            return
        try:
            parsed = _parse(desk, command.get("text", ""), context.get("received_at"))
        except ReleasebotError:
            return  # already answered in the ack
        declared = registry.declaration_of(parsed)
        if declared.kind is Kind.FORM:
            declared.handler(
                client,
                desk=desk,
                trigger_id=command["trigger_id"],
                channel_id=command.get("channel_id", ""),
            )
        elif declared.kind is Kind.SLOW_READ:
            slow = declared.handler
            answer(respond, lambda: slow(parsed, desk=desk, user_id=command["user_id"]))

    # Reads are answered in the ack, so only other sub-commands need the after-ack listener;
    # routing by the first word is only a shortcut (the lazy listener ignores reads anyway).
    app.command("/release", matchers=[_is_read])(ack=ack_release, lazy=[])
    app.command("/release")(ack=ack_release, lazy=[do_release])


# The empty text is help.
READ_WORDS = frozenset({"", *(sub.name for sub in registry.REGISTRY if sub.kind is Kind.READ)})


def _is_read(command: dict[str, Any]) -> bool:
    """True when the text starts with a sub-command answered inside the ack."""
    words = str(command.get("text", "")).split(maxsplit=1)
    return (words[0].lower() if words else "") in READ_WORDS


def _name(parsed: Command) -> str:
    return type(parsed).__name__.lower()
