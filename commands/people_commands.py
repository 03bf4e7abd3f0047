"""`/release whoami [@someone]`: what a person may do in each environment, only for the caller."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.domain.context import DomainContext
from bot.domain.mrkdwn import Mrkdwn, join, md, mention
from bot.notify.outbox import Rendered
from bot.release.desk import Desk
from commands.grammar import ArgumentError, Arguments, Command
from commands.grammar.errors import shown
from commands.render import replies
from commands.subcommand import Kind, SubCommand

# The grammar keeps a mention as `<@U123>` (Slack sends `<@U123|name>`).
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)>")


@dataclass(frozen=True, kw_only=True, slots=True)
class Whoami(Command):
    """`whoami [@someone]`; user_id None means the caller."""

    user_id: str | None = None


def parse_whoami(args: Arguments) -> Whoami:
    token = args.peek()
    if token is None:
        return Whoami()
    found = _MENTION.fullmatch(token.value)
    if token.quoted or found is None:
        raise ArgumentError(f"expected a person like @alice, got {shown(token.value)}")
    args.skip()
    args.end("; name one person")
    return Whoami(user_id=found.group(1))


def roles(ctx: DomainContext, user_id: str, *, asked_by: str) -> Mrkdwn:
    """Admin or not, then per environment: may they plan, approve (through what), deploy."""
    whose = md("Your roles") if user_id == asked_by else md("Roles of {}", mention(user_id))
    admin = "yes" if ctx.is_admin(user_id) else "no"
    lines = [md(":bust_in_silhouette: {} — admin: {}", whose, admin)]
    for name, environment in ctx.config.ordered_environments():
        permissions = environment.permissions
        lines.append(
            md(
                "• *{}*: plan: {} · approve: {} · deploy: {}",
                name,
                _yes_no(ctx.is_member(user_id, permissions.granted("plan"))),
                _approves(
                    ctx, user_id, environment.approvals.required, environment.approvals.approvers
                ),
                _yes_no(ctx.is_member(user_id, permissions.granted("deploy"))),
            )
        )
    return Mrkdwn("\n".join(lines))


def _yes_no(allowed: bool) -> str:
    return "yes" if allowed else "no"


def _approves(ctx: DomainContext, user_id: str, required: int, approvers: list[str]) -> Mrkdwn:
    if required == 0:
        return md("no approval needed")
    ways = [
        _way(principal, user_id) for principal in approvers if ctx.is_member(user_id, [principal])
    ]
    return md("yes, {}", join(" and ", ways)) if ways else md("no")


def _way(principal: str, user_id: str) -> Mrkdwn:
    if principal == user_id:
        return md("listed by name")
    if principal == "admins":
        return md("as an admin")
    if principal == "anyone":
        return md("as anyone may")
    return md("as a member of {}", principal)


def whoami(cmd: Whoami, *, desk: Desk, user_id: str) -> Rendered:
    """`/release whoami [@someone]`."""
    return replies.notice(roles(desk.ctx, cmd.user_id or user_id, asked_by=user_id))


SUBCOMMANDS = (
    SubCommand(
        name="whoami",
        command=Whoami,
        parse=parse_whoami,
        usage=(
            "`/release whoami [@someone]`\n"
            "Shows what you (or someone else) may do in each environment: plan, approve "
            "(and through which approver group), deploy, and whether you are an admin.\n"
            "Example: `/release whoami` or `/release whoami @alice`"
        ),
        synopsis="`/release whoami [@someone]`",
        listed=(140, 1),
        kind=Kind.READ,
        handler=whoami,
    ),
)
