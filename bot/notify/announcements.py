"""Announcements to stakeholders and rollback alerts to the releases and on-call channels."""

from __future__ import annotations

import os
from dataclasses import dataclass

import httpx
from sqlmodel import Session

from bot.domain.context import DomainContext
from bot.domain.errors import BackendError
from bot.notify import outbox
from bot.release import plans
from bot.store.models import ReleasePlan
from integrations.changelog import (
    Changelog,
    ChangelogSource,
    GitHubChangelog,
    LocalGitChangelog,
)

CHANGELOG_LIMIT = 200
GITHUB_TIMEOUT_SECONDS = 5.0


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


def changelog_source(
    ctx: DomainContext, *, service: str, http: httpx.Client
) -> ChangelogSource | None:
    """Where a service's changelog comes from: `repo_path` (local git) or `repo` (GitHub)."""
    settings = ctx.config.service(service)
    web_url = f"https://github.com/{settings.repo}" if settings.repo else None
    path = ctx.config.repo_path(service)
    if path is not None:
        return LocalGitChangelog(path, web_url=web_url, limit=CHANGELOG_LIMIT)
    if settings.repo:
        token = os.environ.get(settings.written("token_env") or "GITHUB_TOKEN")
        return GitHubChangelog(
            http,
            settings.repo,
            token,
            api_url=settings.written("api_url") or "https://api.github.com",
            limit=CHANGELOG_LIMIT,
        )
    return None


def release_notes(
    session: Session, *, ctx: DomainContext, plan: ReleasePlan, http: httpx.Client | None = None
) -> ReleaseNotes:
    """The commits between the previous release of the service there and this plan's version."""
    previous = plans.last_released(
        session, service=plan.service, environment=plan.environment, before_id=plan.id
    )
    base = previous.version if previous is not None else plan.rollback_version
    if http is None:
        with httpx.Client(timeout=GITHUB_TIMEOUT_SECONDS) as client:
            return release_notes(session, ctx=ctx, plan=plan, http=client)
    source = changelog_source(ctx, service=plan.service, http=http)
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
