"""Freeze windows (SPEC §5): when a freeze holds, what it says, and recurring windows from cron.

Pure rules: the use cases in bot/release/freezes.py read rows and config and ask these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from croniter import croniter

from bot.domain.config import Freeze as RecurringFreeze
from bot.domain.context import BOT_ACTOR, DomainContext
from bot.domain.mrkdwn import Mrkdwn, is_user_id, md, mention
from bot.domain.states import FreezeKind

RECURRING = "recurring"
# A bound on cron matches walked per question, so an every-minute cron cannot stall a reply.
MAX_OCCURRENCES = 5000


class PlanRef(Protocol):
    """What a lock refusal reads of a plan."""

    @property
    def ref(self) -> str: ...

    @property
    def version(self) -> str: ...


def local_time(value: datetime, tz: ZoneInfo) -> str:
    """A time as the team reads it: `Fri 27 Nov 17:00 CET`."""
    local = value.astimezone(tz)
    return local.strftime("%a %d %b %H:%M ") + (local.tzname() or str(tz))


@dataclass(frozen=True)
class FreezeWindow:
    """One freeze in force (or coming): where it comes from, why, and from when to when."""

    environment: str
    kind: str  # manual | rollback_lock | recurring
    reason: str
    starts_at: datetime
    ends_at: datetime | None
    rule: Mrkdwn  # what set it, as a person would look it up
    service: str | None = None
    created_by: str | None = None
    version: str | None = None  # a rollback lock: the version rolled back

    def active_at(self, at: datetime) -> bool:
        """True when the freeze holds at `at`."""
        return self.starts_at <= at and (self.ends_at is None or at < self.ends_at)

    def until(self, tz: ZoneInfo) -> Mrkdwn:
        """`until Mon 30 Nov 08:00 UTC`, or what ends an open-ended freeze."""
        if self.ends_at is not None:
            return md("until {}", local_time(self.ends_at, tz))
        if self.kind == FreezeKind.ROLLBACK_LOCK:
            which = md(" of a version other than {}", self.version) if self.version else ""
            return md(
                'until a new plan{} is approved, or an admin runs `/release unlock {} {} "{}"`',
                which,
                self.service,
                self.environment,
                "<reason>",
            )
        return md("until `/release unfreeze {}`", self.environment)

    def why(self) -> Mrkdwn:
        """The reason as typed (escaped); a rollback lock adds who rolled back, as a mention
        (the bot's own rollbacks say "automatically")."""
        if self.kind != FreezeKind.ROLLBACK_LOCK:
            return md("{}", self.reason)
        if self.created_by == BOT_ACTOR:
            return md("{} (automatically)", self.reason)
        if self.created_by and is_user_id(self.created_by):
            return md("{} (by {})", self.reason, mention(self.created_by))
        return md("{}", self.reason)

    def describe(self, tz: ZoneInfo) -> Mrkdwn:
        """One line a refused person can act on (the reason as typed, escaped)."""
        if self.kind == FreezeKind.ROLLBACK_LOCK:
            return md(
                "{} is locked in {}: {} ({})",
                self.service,
                self.environment,
                self.why(),
                self.until(tz),
            )
        return md(
            "{} is frozen: {} ({}, {})", self.environment, self.reason, self.rule, self.until(tz)
        )


@dataclass(frozen=True)
class EnvironmentFreezes:
    """What `/release freezes` shows for one environment."""

    environment: str
    active: tuple[FreezeWindow, ...]
    upcoming: tuple[FreezeWindow, ...]


def lock_refusal(lock: FreezeWindow, *, plan: PlanRef, tz: ZoneInfo) -> Mrkdwn:
    """Why `plan` may not deploy under `lock`, and how to lift the lock."""
    why = (
        f"it is the version that was rolled back ({plan.version})"
        if lock.version is not None and plan.version == lock.version
        else "it was planned before the rollback"
    )
    other = f"a version other than {lock.version}" if lock.version else "a new version"
    return md(
        "{}. {} cannot lift the lock: {}. To lift it, plan {} (`/release plan {} &lt;version&gt; "
        "to {}`): the lock lifts once that plan is approved. Or an admin runs "
        '`/release unlock {} {} "&lt;reason&gt;"`.',
        lock.describe(tz),
        plan.ref,
        why,
        other,
        lock.service,
        lock.environment,
        lock.service,
        lock.environment,
    )


def recurring_windows(
    rule: RecurringFreeze, zone: ZoneInfo, *, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The (start, end) instants of `rule`'s freezes that overlap [start, end), merged.

    The cron is walked in naive local wall-clock time and each match is then placed in `zone`
    (croniter's own DST handling has a history of bugs): 17:00 stays 17:00 local on both sides
    of a DST change, a match inside a spring-forward gap lands just after it, and the duration
    is real elapsed time.
    """
    # Three hours of slack cover the local hour a DST fall-back repeats.
    first = (start - rule.duration).astimezone(zone).replace(tzinfo=None) - timedelta(hours=3)
    matches = croniter(rule.cron, first)
    spans: list[tuple[datetime, datetime]] = []
    for _ in range(MAX_OCCURRENCES):
        local: datetime = matches.get_next(datetime)
        began = local.replace(tzinfo=zone).astimezone(UTC)
        ended = began + rule.duration
        if spans and began <= spans[-1][1]:
            # Overlapping matches are one freeze: deploys open again only after the last ends.
            spans[-1] = (spans[-1][0], max(spans[-1][1], ended))
            continue
        if began >= end:
            break
        if ended > start:
            spans.append((began, ended))
    return spans


def recurring_freezes(
    ctx: DomainContext, environment: str, *, start: datetime, end: datetime
) -> list[FreezeWindow]:
    """The recurring freezes of `environment` from config that overlap [start, end)."""
    windows = []
    for index, rule in enumerate(ctx.config.environment(environment).freezes):
        zone = rule.zone(ctx.config.tz)
        for began, ended in recurring_windows(rule, zone, start=start, end=end):
            windows.append(
                FreezeWindow(
                    environment=environment,
                    kind=RECURRING,
                    reason=rule.reason,
                    starts_at=began,
                    ends_at=ended,
                    rule=md("environments.{}.freezes[{}]", environment, index),
                )
            )
    return sorted(windows, key=lambda w: w.starts_at)
