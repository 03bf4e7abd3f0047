"""Announcements to stakeholders and rollback alerts to the releases and on-call channels."""

from __future__ import annotations

from sqlmodel import Session

from bot import outbox
from bot.context import DomainContext
from bot.models import ReleasePlan


def owe_release_announcement(session: Session, *, ctx: DomainContext, plan: ReleasePlan) -> None:
    """Owe the stakeholder announcement of a released plan (rendered with its changelog)."""
    channel = ctx.config.channels.announcements
    if channel is None:
        return
    outbox.owe_message(
        session,
        channel=channel,
        template="release_announcement",
        plan_id=plan.id,
        now=ctx.clock.now(),
        dedupe_key=f"announce:{plan.id}:released",
    )


def owe_rollback_alert(
    session: Session, *, ctx: DomainContext, plan: ReleasePlan, reason: str, actor: str
) -> None:
    """Owe the rollback alert: what failed, what it rolls back to, who or what decided."""
    now = ctx.clock.now()
    channels = [ctx.config.channels.releases]
    if ctx.config.channels.oncall:
        channels.append(ctx.config.channels.oncall)
    by = "automatically" if actor == "releasebot" else f"by <@{actor}>"
    target = plan.rollback_version or "the previous version"
    text = (
        f":rotating_light: *{plan.ref}* {plan.service} `{plan.version}` in {plan.environment} "
        f"is rolling back to `{target}` {by}: {reason}"
    )
    for channel in channels:
        outbox.owe_message(
            session,
            channel=channel,
            message=outbox.Rendered(text),
            plan_id=plan.id,
            now=now,
            dedupe_key=f"rollback-alert:{plan.id}:{channel}:{plan.revision}",
        )
