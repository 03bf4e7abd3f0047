"""Handlers of the plan sub-commands: each calls one domain function and renders its result."""

from __future__ import annotations

from sqlmodel import Session

from bot.domain.mrkdwn import channel_link, inline_code, md
from bot.notify.outbox import Rendered
from bot.release import plans
from bot.release.approvals import decide
from bot.release.desk import Desk
from bot.release.snapshots import snapshot_of
from bot.store.audit import trail
from bot.store.models import Decision
from commands import read_path
from commands.grammar import (
    Approve,
    Audit,
    Cancel,
    Edit,
    Help,
    History,
    ListPlans,
    Plan,
    Reject,
    Show,
    usage_for,
)
from commands.render import replies


def help_text(cmd: Help, *, desk: Desk, user_id: str) -> Rendered:
    """`/release help [sub-command]`."""
    return replies.usage(usage_for(cmd.topic))


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
        state = created.state.replace("_", " ")
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
            f"{snap.approvals.required} approvals; it is now {decided.state.replace('_', ' ')}."
        )

    return desk.act(actor=user_id, request_key=request_key, work=work)
