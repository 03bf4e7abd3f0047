"""The `/release` slash command: ack fast (answering reads in the ack), do changes after."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.desk import Desk
from bot.errors import ReleasebotError
from bot.outbox import Rendered
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
from commands.render import replies
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


def after_ack(reader: Reader) -> Writer:
    """A read that may be slow (git, GitHub): answered after the ack through response_url."""

    def read(cmd: Any, *, desk: Desk, user_id: str, request_key: str | None) -> Rendered:
        return reader(cmd, desk=desk, user_id=user_id)

    return read


# Sub-commands that change something (or read slowly): acked empty, done after the ack,
# answered by response_url.
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
    Notes: after_ack(notes_commands.notes),
}


def _parse(desk: Desk, text: str, received_at: str | None) -> Command:
    now = datetime.fromisoformat(received_at) if received_at else desk.ctx.clock.now()
    return parse_command(text, now=now, tz=desk.ctx.config.tz)


def register(app: App, desk: Desk) -> None:
    """Attach `/release` to the Bolt app."""

    def ack_release(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
        context["received_at"] = desk.ctx.clock.now().isoformat()
        try:
            parsed = _parse(desk, command.get("text", ""), context["received_at"])
            reader = READERS.get(type(parsed))
            if reader is not None:
                ack(**ephemeral(reader(parsed, desk=desk, user_id=command["user_id"])))
                return
            if type(parsed) not in WRITERS and not isinstance(parsed, New):
                ack(**ephemeral(replies.error(f"`/release {_name(parsed)}` is not available yet.")))
                return
        except UsageError as problem:
            ack(**ephemeral(replies.error(problem.message, problem.usage)))
            return
        except ReleasebotError as problem:
            ack(**ephemeral(replies.error(problem.message)))
            return
        ack()

    def do_release(
        command: dict[str, Any], context: BoltContext, respond: Respond, client: WebClient
    ) -> None:
        try:
            parsed = _parse(desk, command.get("text", ""), context.get("received_at"))
        except UsageError:
            return  # already answered in the ack
        if isinstance(parsed, New):
            modals.open_new_plan(
                client,
                desk=desk,
                trigger_id=command["trigger_id"],
                channel_id=command.get("channel_id", ""),
            )
            return
        writer = WRITERS.get(type(parsed))
        if writer is None:
            return
        key = f"command:{command.get('trigger_id') or command.get('response_url')}"
        answer(
            respond, lambda: writer(parsed, desk=desk, user_id=command["user_id"], request_key=key)
        )

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
