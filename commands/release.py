"""The `/release` slash command: reads answered in the ack; writes journalled, then done."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.domain.errors import InvalidInput, ReleasebotError
from bot.domain.mrkdwn import Mrkdwn, inline_code
from bot.notify.outbox import Rendered
from bot.release.desk import Desk
from bot.store.journal import Asked, JournalUnavailable
from commands import freeze_commands, modals, notes_commands, plan_commands, rollout_commands
from commands.grammar import (
    Approve,
    Audit,
    Cancel,
    Checks,
    Command,
    Deploy,
    Edit,
    Freeze,
    Freezes,
    Help,
    History,
    ListPlans,
    New,
    Notes,
    Plan,
    Reject,
    Rollback,
    RolloutAction,
    Show,
    Tick,
    Unfreeze,
    Unlock,
    UsageError,
    parse_command,
)
from commands.journal_runner import JournalRunner
from commands.render import replies
from commands.render.text import clip
from commands.replying import answer, ephemeral

log = logging.getLogger(__name__)

Reader = Callable[..., Rendered]
Writer = Callable[..., Rendered | None]

# Sub-commands that only read: answered inside the ack, so the caller sees them at once.
READERS: dict[type[Any], Reader] = {
    Freezes: freeze_commands.freezes_list,
    Help: plan_commands.help_text,
    Show: plan_commands.show,
    ListPlans: plan_commands.list_plans,
    History: plan_commands.history,
    Audit: plan_commands.audit_trail,
    Checks: rollout_commands.checks,
}


# A read that may be slow (git, GitHub): acked empty and answered through response_url.
SLOW_READERS: dict[type[Any], Reader] = {Notes: notes_commands.notes}

# Sub-commands that change something: journalled before an empty ack, carried out right after
# it (or by the recovery pass after a crash), answered by response_url.
WRITERS: dict[type[Any], Writer] = {
    Freeze: freeze_commands.freeze,
    Unfreeze: freeze_commands.unfreeze,
    Unlock: freeze_commands.unlock,
    Tick: freeze_commands.tick,
    Plan: plan_commands.plan,
    Edit: plan_commands.edit,
    Cancel: plan_commands.cancel,
    Approve: plan_commands.approve,
    Reject: plan_commands.approve,
    Deploy: freeze_commands.with_override(rollout_commands.deploy),
    RolloutAction: rollout_commands.rollout_action,
    Rollback: rollout_commands.rollback,
}
JOURNAL_KIND = "command"


def _parse(desk: Desk, text: str, received_at: str | None) -> Command:
    now = datetime.fromisoformat(received_at) if received_at else desk.ctx.clock.now()
    return parse_command(text, now=now, tz=desk.ctx.config.tz)


def carry_out(desk: Desk, asked: Asked) -> Rendered | None:
    """Carry out a journalled `/release` write (parsed again, as of when it was received)."""
    parsed = _parse(desk, str(asked.request.get("text", "")), asked.received_at.isoformat())
    writer = WRITERS.get(type(parsed))
    if writer is None:
        raise InvalidInput(f"`/release {_name(parsed)}` changes nothing to carry out")
    return writer(parsed, desk=desk, user_id=asked.user_id, request_key=asked.delivery_key)


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
            reader = READERS.get(type(parsed))
            if reader is not None:
                ack(**ephemeral(reader(parsed, desk=desk, user_id=command["user_id"])))
                return
            if isinstance(parsed, New) or type(parsed) in SLOW_READERS:
                ack()  # answered after the ack: a modal opens, or the slow read arrives
                return
            if type(parsed) not in WRITERS:
                ack(**ephemeral(replies.error(f"`/release {_name(parsed)}` is not available yet.")))
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
        if isinstance(parsed, New):
            modals.open_new_plan(
                client,
                desk=desk,
                trigger_id=command["trigger_id"],
                channel_id=command.get("channel_id", ""),
            )
            return
        reader = SLOW_READERS.get(type(parsed))
        if reader is not None:
            answer(respond, lambda: reader(parsed, desk=desk, user_id=command["user_id"]))

    # Reads are answered in the ack, so only other sub-commands need the after-ack listener;
    # routing by the first word is only a shortcut (the lazy listener ignores reads anyway).
    app.command("/release", matchers=[_is_read])(ack=ack_release, lazy=[])
    app.command("/release")(ack=ack_release, lazy=[do_release])


READ_WORDS = frozenset({"", "help", "show", "list", "history", "audit", "checks", "freezes"})


def _is_read(command: dict[str, Any]) -> bool:
    """True when the text starts with a sub-command answered inside the ack."""
    words = str(command.get("text", "")).split(maxsplit=1)
    return (words[0].lower() if words else "") in READ_WORDS


def _name(parsed: Command) -> str:
    return type(parsed).__name__.lower()
