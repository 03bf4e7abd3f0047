"""Announcements to stakeholders and rollback alerts to the releases and on-call channels."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from bot.domain.context import DomainContext
from bot.domain.errors import BackendError
from bot.notify import outbox
from bot.ports.changelog import Changelog, ChangelogSources
from bot.release import plans
from bot.store.models import ReleasePlan


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
    """Owe the rollback alert to releases and on-call: what failed, the rollback target, who
    or what decided, and a link to the card (resolved when it is delivered)."""
    now = ctx.clock.now()
    channels = [ctx.config.channels.releases]
    if ctx.config.channels.oncall:
        channels.append(ctx.config.channels.oncall)
    for channel in channels:
        outbox.owe_message(
            session,
            channel=channel,
            template="rollback_alert",
            context={"reason": reason, "actor": actor},
            plan_id=plan.id,
            now=now,
            dedupe_key=f"rollback-alert:{plan.id}:{channel}:{plan.revision}",
        )


@dataclass(frozen=True)
class ReleaseNotes:
    """A plan's changelog since the previous release, or why there is none."""

    plan_ref: str
    base: str | None  # the version released before (None: first release there)
    head: str
    changelog: Changelog | None
    problem: str | None = None


def release_notes(
    session: Session,
    *,
    ctx: DomainContext,
    plan: ReleasePlan,
    changelogs: ChangelogSources | None,
) -> ReleaseNotes:
    """The commits between the previous release of the service there and this plan's version.

    `changelogs` is the composition root's (integrations.changelog.ConfiguredChangelogs); a bot
    wired without one (a test rig) reads no changelog and says so.
    """
    previous = plans.last_released(
        session, service=plan.service, environment=plan.environment, before_id=plan.id
    )
    base = previous.version if previous is not None else plan.rollback_version
    if changelogs is None:
        return ReleaseNotes(plan.ref, base, plan.version, None, "this bot reads no changelogs")
    source = changelogs.source_for(plan.service)
    if source is None:
        return ReleaseNotes(
            plan.ref,
            base,
            plan.version,
            None,
            f"{plan.service} has no repo_path or repo in releasebot.toml, so no changelog",
        )
    try:
        return ReleaseNotes(plan.ref, base, plan.version, source.changelog(base, plan.version))
    except BackendError as problem:
        # An announcement still goes out without its changelog; the reason is shown instead.
        return ReleaseNotes(plan.ref, base, plan.version, None, problem.message)
