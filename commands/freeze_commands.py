"""Handlers of freeze, unfreeze, unlock, freezes and tick; the break-glass step before deploy."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from bot.domain.mrkdwn import Mrkdwn, channel_link, join, md, person
from bot.notify.outbox import Rendered
from bot.release import checklists, freezes, gates
from bot.release.desk import Desk
from bot.release.freezes import local_time
from bot.store.models import FreezeKind
from commands.grammar import Deploy, Freeze, Freezes, Tick, Unfreeze, Unlock
from commands.render import replies

DeployWriter = Callable[..., Rendered | None]


def freezes_list(cmd: Freezes, *, desk: Desk, user_id: str) -> Rendered:
    """`/release freezes`: active freezes and those starting in the next 7 days."""
    with desk.db.session() as session:
        overview = freezes.freeze_overview(session, ctx=desk.ctx, at=desk.ctx.clock.now())
    return replies.freeze_list(
        overview, tz=desk.ctx.config.tz, horizon_days=freezes.UPCOMING_HORIZON.days
    )


def freeze(cmd: Freeze, *, desk: Desk, user_id: str, request_key: str | None) -> Rendered | None:
    """`/release freeze <env> [until <time>] reason "<text>"`."""

    def work(session: Session) -> Rendered:
        row = freezes.freeze(
            session,
            ctx=desk.ctx,
            actor=user_id,
            environment=cmd.environment,
            until=cmd.until,
            reason=cmd.reason,
        )
        until = (
            f"until {local_time(row.ends_at, desk.ctx.config.tz)}"
            if row.ends_at
            else f"until `/release unfreeze {row.environment}`"
        )
        return replies.notice(
            md(
                ":snowflake: Froze {} {}. It is announced in {}.",
                row.environment,
                Mrkdwn(until),
                channel_link(desk.ctx.config.channels.releases),
            )
        )

    return desk.act(actor=user_id, request_key=request_key, work=work)


def unfreeze(
    cmd: Unfreeze, *, desk: Desk, user_id: str, request_key: str | None
) -> Rendered | None:
    """`/release unfreeze <env>`: lifts ad-hoc freezes (rollback locks stay)."""

    def work(session: Session) -> Rendered:
        lifted = freezes.unfreeze(session, ctx=desk.ctx, actor=user_id, environment=cmd.environment)
        still = freezes.active_freezes(
            session, ctx=desk.ctx, environment=cmd.environment, at=desk.ctx.clock.now()
        )
        tz = desk.ctx.config.tz
        text = md(":sunny: Lifted {} freeze(s) of {}.", len(lifted), cmd.environment)
        if still:
            text = md("{} Still in force: {}.", text, join("; ", (f.describe(tz) for f in still)))
        if any(f.kind == FreezeKind.ROLLBACK_LOCK for f in still):
            text = md("{} `/release unfreeze` does not lift rollback locks.", text)
        return replies.notice(text)

    return desk.act(actor=user_id, request_key=request_key, work=work)


def unlock(cmd: Unlock, *, desk: Desk, user_id: str, request_key: str | None) -> Rendered | None:
    """`/release unlock <service> <env> "<reason>"`: an admin lifts a rollback lock."""

    def work(session: Session) -> Rendered:
        freezes.unlock(
            session,
            ctx=desk.ctx,
            actor=user_id,
            service=cmd.service,
            environment=cmd.environment,
            reason=cmd.reason,
        )
        return replies.notice(
            md(
                ":unlock: Lifted the rollback lock of {} in {}. It is announced in {}.",
                cmd.service,
                cmd.environment,
                channel_link(desk.ctx.config.channels.releases),
            )
        )

    return desk.act(actor=user_id, request_key=request_key, work=work)


def tick(cmd: Tick, *, desk: Desk, user_id: str, request_key: str | None) -> Rendered | None:
    """`/release tick R-<n> <item>`."""

    def work(session: Session) -> Rendered:
        item = checklists.tick(
            session, ctx=desk.ctx, actor=user_id, plan_id=cmd.plan_id, item=cmd.item
        )
        return replies.notice(f":ballot_box_with_check: Ticked '{item.name}' on R-{cmd.plan_id}.")

    return desk.act(actor=user_id, request_key=request_key, work=work)


def tick_option(desk: Desk, user: str, plan_id: int, item_id: int, key: str) -> Rendered | None:
    """The card's checklist menu: its option carries the item id where buttons carry a round."""

    def work(session: Session) -> Rendered:
        item = checklists.tick_by_id(
            session, ctx=desk.ctx, actor=user, plan_id=plan_id, item_id=item_id
        )
        return replies.notice(f":ballot_box_with_check: Ticked '{item.name}' on R-{plan_id}.")

    return desk.act(actor=user, request_key=key, work=work)


def approve_override(
    desk: Desk, user: str, plan_id: int, round_seen: int, key: str
) -> Rendered | None:
    """The "Approve override" button of the DM an admin gets."""

    def work(session: Session) -> Rendered:
        status = gates.approve_override(
            session, ctx=desk.ctx, actor=user, plan_id=plan_id, round_seen=round_seen
        )
        return replies.notice(
            md(
                ":unlock: You approved the override of R-{}; {} is told to deploy it.",
                plan_id,
                person(status.requested_by),
            )
        )

    return desk.act(actor=user, request_key=key, work=work)


def with_override(deploy: DeployWriter) -> DeployWriter:
    """Put the break-glass step in front of the deploy writer.

    `/release deploy R-n --override "<reason>"` into a freeze records the request and asks an
    admin, in its own transaction, and answers that it waits; when nothing is frozen or the
    override is already approved, the deploy itself runs.
    """

    def deploy_or_ask(
        cmd: Deploy, *, desk: Desk, user_id: str, request_key: str | None
    ) -> Rendered | None:
        if cmd.override_reason is None:
            return deploy(cmd, desk=desk, user_id=user_id, request_key=request_key)
        reason = cmd.override_reason

        def work(session: Session) -> tuple[gates.OverrideStatus | None]:
            found = gates.request_override(
                session, ctx=desk.ctx, actor=user_id, plan_id=cmd.plan_id, reason=reason
            )
            return (found,)

        key = f"{request_key}:override" if request_key is not None else None
        outcome = desk.act(actor=user_id, request_key=key, work=work)
        if outcome is None:
            return None  # a repeated delivery: the first one answered
        (status,) = outcome
        if status is None:
            return deploy(cmd, desk=desk, user_id=user_id, request_key=request_key)
        return replies.notice(_waiting(status, plan_ref=f"R-{cmd.plan_id}", desk=desk))

    return deploy_or_ask


def _waiting(status: gates.OverrideStatus, *, plan_ref: str, desk: Desk) -> Mrkdwn:
    if status.fresh:
        asked = join(", ", (person(p) for p in status.asked)) or "nobody (no other admin is listed)"
        return md(
            ":rotating_light: {} is waiting for an admin to approve the override (asked: {}). "
            "You get a DM when it is approved; then deploy it with the Deploy button or "
            "`/release deploy {}`.",
            plan_ref,
            asked,
            plan_ref,
        )
    since = local_time(status.requested_at, desk.ctx.config.tz)
    return md(
        ":hourglass_flowing_sand: {} is still waiting for an admin to approve the override {} "
        "asked for ({}).",
        plan_ref,
        person(status.requested_by),
        since,
    )
