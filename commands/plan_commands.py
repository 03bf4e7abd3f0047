"""The plan sub-commands, declared with their handlers: each calls one domain function."""

from __future__ import annotations

from slack_sdk import WebClient
from sqlmodel import Session

from bot.domain.mrkdwn import channel_link, inline_code, md
from bot.domain.states import state_label
from bot.notify.outbox import Rendered
from bot.release import plans
from bot.release.approvals import decide
from bot.release.desk import Desk
from bot.release.snapshots import snapshot_of
from bot.store.audit import trail
from bot.store.models import Decision
from commands import read_path
from commands.grammar import (
    TIMES,
    Approve,
    Audit,
    Cancel,
    Edit,
    History,
    ListPlans,
    New,
    Plan,
    Reject,
    Show,
)
from commands.grammar import parser as grammar
from commands.render import modals, replies
from commands.replying import guard_view
from commands.subcommand import Kind, SubCommand


def open_new_plan(client: WebClient, *, desk: Desk, trigger_id: str, channel_id: str) -> None:
    """`/release new`: open the plan form (Slack allows it for 3 s after the command)."""
    config = desk.ctx.config
    client.views_open(
        trigger_id=trigger_id,
        view=guard_view(
            modals.new_plan(
                services=sorted(config.services),
                environments=sorted(config.environments),
                strategies=sorted({*config.strategies, "all_at_once"}),
                channel_id=channel_id,
            )
        ),
    )


def show(cmd: Show, *, desk: Desk, user_id: str) -> Rendered:
    """`/release show R-<n>`: the card, only for the caller."""
    return read_path.show_card(cmd.plan_id, desk=desk)


def list_plans(cmd: ListPlans, *, desk: Desk, user_id: str) -> Rendered:
    """`/release list [<env>] [--all]`."""
    if cmd.environment is not None:
        desk.ctx.config.environment(cmd.environment)
    return read_path.list_active(
        desk=desk, environment=cmd.environment, include_all=cmd.include_all
    )


def history(cmd: History, *, desk: Desk, user_id: str) -> Rendered:
    """`/release history <service> [<env>]`."""
    desk.ctx.config.service(cmd.service)
    if cmd.environment is not None:
        desk.ctx.config.environment(cmd.environment)
    with desk.db.session() as session:
        found = plans.history(session, service=cmd.service, environment=cmd.environment)
    scope = f" in {cmd.environment}" if cmd.environment else ""
    return replies.plan_list(
        list(reversed(found)),
        total=len(found),
        heading=f"History of {cmd.service}{scope}",
        tz=desk.ctx.config.tz,
        more_hint="Newest last; `/release list --all` shows every plan.",
    )


def audit_trail(cmd: Audit, *, desk: Desk, user_id: str) -> Rendered:
    """`/release audit R-<n>`."""
    with desk.db.session() as session:
        plan = plans.get_plan(session, plan_id=cmd.plan_id)
        assert plan.id is not None
        events = trail(session, plan_id=plan.id)
        return replies.audit_trail(plan, events, desk.ctx.config.tz)


def plan(cmd: Plan, *, desk: Desk, user_id: str, request_key: str | None) -> Rendered | None:
    """`/release plan …`: create the plan; its card goes to the releases channel."""
    new = plans.NewPlan(
        service=cmd.service,
        version=cmd.version,
        environment=cmd.environment,
        window_start=cmd.start,
        window_end=cmd.end,
        strategy=cmd.strategy,
        after=cmd.after,
        notes=cmd.notes,
    )

    def work(session: Session) -> Rendered:
        created = plans.create_plan(session, ctx=desk.ctx, actor=user_id, new=new)
        state = state_label(created.state)
        return replies.notice(
            md(
                ":memo: Planned *{}*: {} {} → {} ({}). The card is in {}.",
                created.ref,
                created.service,
                inline_code(created.version),
                created.environment,
                state,
                channel_link(desk.ctx.config.channels.releases),
            )
        )

    return desk.act(actor=user_id, request_key=request_key, work=work)


def edit(cmd: Edit, *, desk: Desk, user_id: str, request_key: str | None) -> Rendered | None:
    """`/release edit R-<n> …`."""
    change = plans.PlanEdit(
        window_start=cmd.window_start,
        window_end=cmd.window_end,
        version=cmd.version,
        notes=cmd.notes,
        risk=cmd.risk,
        after=cmd.after,
    )

    def work(session: Session) -> Rendered:
        edited = plans.edit_plan(
            session, ctx=desk.ctx, actor=user_id, plan_id=cmd.plan_id, edit=change
        )
        again = (
            " Approvers are asked again."
            if change.is_material and edited.state == "awaiting_approval"
            else ""
        )
        if change.after is not None:
            after = ", ".join(f"R-{d}" for d in edited.depends_on) or "nothing"
            again += f" It goes after {after} now."
        return replies.notice(f":pencil2: Updated {edited.ref}.{again}")

    return desk.act(actor=user_id, request_key=request_key, work=work)


def cancel(cmd: Cancel, *, desk: Desk, user_id: str, request_key: str | None) -> Rendered | None:
    """`/release cancel R-<n> [reason]`."""

    def work(session: Session) -> Rendered:
        cancelled = plans.cancel_plan(
            session, ctx=desk.ctx, actor=user_id, plan_id=cmd.plan_id, reason=cmd.reason
        )
        return replies.notice(f":no_entry_sign: Cancelled {cancelled.ref}.")

    return desk.act(actor=user_id, request_key=request_key, work=work)


def approve(
    cmd: Approve | Reject,
    *,
    desk: Desk,
    user_id: str,
    request_key: str | None,
    round_seen: int | None = None,
) -> Rendered | None:
    """`/release approve|reject R-<n> …` and the Approve button / Reject modal."""
    decision = Decision.APPROVE if isinstance(cmd, Approve) else Decision.REJECT
    comment = cmd.comment if isinstance(cmd, Approve) else cmd.reason

    def work(session: Session) -> Rendered:
        decided = decide(
            session,
            ctx=desk.ctx,
            actor=user_id,
            plan_id=cmd.plan_id,
            decision=decision,
            comment=comment,
            round_seen=round_seen,
        )
        snap = snapshot_of(session, ctx=desk.ctx, plan=decided)
        verb = "approved" if decision == Decision.APPROVE else "rejected"
        return replies.notice(
            f"You {verb} {decided.ref}. {snap.approvals.required - snap.approvals.missing} of "
            f"{snap.approvals.required} approvals; it is now {state_label(decided.state)}."
        )

    return desk.act(actor=user_id, request_key=request_key, work=work)


SUBCOMMANDS = (
    SubCommand(
        name="new",
        command=New,
        parse=grammar.parse_new,
        usage="`/release new`\nOpens a form with every plan field.",
        synopsis="`/release new` — open a form to plan a release",
        listed=(10, 1),
        kind=Kind.FORM,
        handler=open_new_plan,
    ),
    SubCommand(
        name="plan",
        command=Plan,
        parse=grammar.parse_plan,
        usage=(
            "`/release plan <service> <version> to <env> [at <time>] [until <time>] "
            '[strategy <name>] [after R-<n> …] [notes "<text>"]`\n'
            "Plans a release of a version (tag, sha, artifact version) of a service to an "
            "environment. Options may come in any order, each once.\n"
            "Example: `/release plan checkout v1.4.2 to production at 2026-11-24T15:00 until +2h "
            'strategy canary after R-11 notes "needs the new schema"`\n' + TIMES
        ),
        synopsis=(
            "`/release plan <service> <version> to <env> [at <time>] [until <time>] "
            '[strategy <name>] [after R-<n>] [notes "<text>"]`'
        ),
        listed=(20, 1),
        kind=Kind.WRITE,
        handler=plan,
    ),
    SubCommand(
        name="list",
        command=ListPlans,
        parse=grammar.parse_list,
        usage=(
            "`/release list [<env>] [--all]`\n"
            "Upcoming and active plans, optionally for one environment; `--all` adds history.\n"
            "Example: `/release list production --all`"
        ),
        synopsis="`/release list [<env>] [--all]`",
        listed=(30, 1),
        kind=Kind.READ,
        handler=list_plans,
    ),
    SubCommand(
        name="show",
        command=Show,
        parse=grammar.parse_show,
        usage=(
            "`/release show R-<n>`\n"
            "Shows the plan's card, only to you.\n"
            "Example: `/release show R-12`"
        ),
        synopsis="`/release show R-<n>`",
        listed=(30, 2),
        kind=Kind.READ,
        handler=show,
    ),
    SubCommand(
        name="edit",
        command=Edit,
        parse=grammar.parse_edit,
        usage=(
            "`/release edit R-<n> window <time> [until <time>]`\n"
            "`/release edit R-<n> version <version>`\n"
            '`/release edit R-<n> notes "<text>"`\n'
            '`/release edit R-<n> risk "<text>"`\n'
            "`/release edit R-<n> after (R-<k> … | none)`\n"
            "Changes one thing per command. Changing the window or version of an approved plan "
            "asks for approval again; a new version also re-opens the sign-offs of the old one. "
            "`after` changes which plans must be released first (`none`: no dependency); "
            "approvals still count.\n"
            "Example: `/release edit R-12 window 2026-11-25T09:00 until +2h` or "
            "`/release edit R-12 after none`\n" + TIMES
        ),
        synopsis=(
            "`/release edit R-<n> (window <time> [until <time>] | version <v> | "
            'notes "<text>" | risk "<text>" | after R-<k>|none)`'
        ),
        listed=(40, 1),
        kind=Kind.WRITE,
        handler=edit,
    ),
    SubCommand(
        name="approve",
        command=Approve,
        parse=grammar.parse_approve,
        usage=(
            "`/release approve R-<n> [comment]`\n"
            "Approves the plan.\n"
            "Example: `/release approve R-12 looks good, schema reviewed`"
        ),
        synopsis="`/release approve R-<n> [comment]`",
        listed=(50, 1),
        kind=Kind.WRITE,
        handler=approve,
    ),
    SubCommand(
        name="reject",
        command=Reject,
        parse=grammar.parse_reject,
        usage=(
            "`/release reject R-<n> <reason>`\n"
            "Rejects the plan; the reason is required and shown to the requester.\n"
            "Example: `/release reject R-12 migration not reviewed yet`"
        ),
        synopsis="`/release reject R-<n> <reason>`",
        listed=(50, 2),
        kind=Kind.WRITE,
        handler=approve,
    ),
    SubCommand(
        name="cancel",
        command=Cancel,
        parse=grammar.parse_cancel,
        usage=(
            "`/release cancel R-<n> [reason]`\n"
            "Cancels a plan that has not started.\n"
            "Example: `/release cancel R-12 superseded by R-14`"
        ),
        synopsis="`/release cancel R-<n> [reason]`",
        listed=(80, 2),
        kind=Kind.WRITE,
        handler=cancel,
    ),
    SubCommand(
        name="audit",
        command=Audit,
        parse=grammar.parse_audit,
        usage=(
            "`/release audit R-<n>`\n"
            "Shows every recorded event of the plan.\n"
            "Example: `/release audit R-12`"
        ),
        synopsis="`/release audit R-<n>`",
        listed=(120, 3),
        kind=Kind.READ,
        handler=audit_trail,
    ),
    SubCommand(
        name="history",
        command=History,
        parse=grammar.parse_history,
        usage=(
            "`/release history <service> [<env>]`\n"
            "Past releases of a service, optionally in one environment.\n"
            "Example: `/release history checkout production`"
        ),
        synopsis="`/release history <service> [<env>]`",
        listed=(130, 1),
        kind=Kind.READ,
        handler=history,
    ),
)
