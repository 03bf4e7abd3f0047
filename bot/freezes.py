"""Freezes (SPEC §5): ad-hoc freezes, recurring ones from config, and rollback locks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter
from sqlmodel import Session, col, select

from bot import audit, holds, outbox, reminders
from bot.config import Freeze as RecurringFreeze
from bot.context import DomainContext
from bot.errors import InvalidInput
from bot.models import Freeze, FreezeKind, PlanState, ReleasePlan
from bot.plans import say
from bot.policy import ensure_allowed

RECURRING = "recurring"
UPCOMING_HORIZON = timedelta(days=7)
# A bound on cron matches walked per question, so an every-minute cron cannot stall a reply.
MAX_OCCURRENCES = 5000
# Plans whose card shows the freeze: those that have not started yet.
WAITING_STATES = (PlanState.AWAITING_APPROVAL.value, PlanState.APPROVED.value)


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
    rule: str  # what set it, as a person would look it up
    service: str | None = None
    created_by: str | None = None

    def active_at(self, at: datetime) -> bool:
        """True when the freeze holds at `at`."""
        return self.starts_at <= at and (self.ends_at is None or at < self.ends_at)

    def until(self, tz: ZoneInfo) -> str:
        """`until Mon 30 Nov 08:00 UTC`, or what ends an open-ended freeze."""
        if self.ends_at is not None:
            return f"until {local_time(self.ends_at, tz)}"
        if self.kind == FreezeKind.ROLLBACK_LOCK:
            return f"until `/release unfreeze {self.environment}` or a new plan of {self.service}"
        return f"until `/release unfreeze {self.environment}`"

    def describe(self, tz: ZoneInfo) -> str:
        """One line a refused person can act on."""
        if self.kind == FreezeKind.ROLLBACK_LOCK:
            return (
                f"{self.service} is locked in {self.environment}: {self.reason} ({self.until(tz)})"
            )
        return f"{self.environment} is frozen: {self.reason} ({self.rule}, {self.until(tz)})"


@dataclass(frozen=True)
class EnvironmentFreezes:
    """What `/release freezes` shows for one environment."""

    environment: str
    active: tuple[FreezeWindow, ...]
    upcoming: tuple[FreezeWindow, ...]


def freeze(
    session: Session,
    *,
    ctx: DomainContext,
    actor: str,
    environment: str,
    until: datetime | None,
    reason: str,
) -> Freeze:
    """Freeze `environment` now (until `until`, or until unfrozen); it replaces an ad-hoc one."""
    ctx.config.environment(environment)
    ensure_allowed(ctx, actor=actor, action="freeze", environment=environment)
    now = ctx.clock.now()
    if until is not None and until <= now:
        raise InvalidInput("that freeze would already be over; give an `until` in the future")
    if not reason.strip():
        raise InvalidInput('a freeze needs a reason: reason "<text>"')
    replaced = _lift(session, rows=_manual(session, environment, now), actor=actor, now=now)
    row = Freeze(
        environment=environment,
        kind=FreezeKind.MANUAL,
        reason=reason.strip(),
        created_by=actor,
        starts_at=now,
        ends_at=until,
    )
    session.add(row)
    session.flush()
    # Replaced freezes stop owing their notices; the new one owes its end (and a later start).
    for changed in (*replaced, row):
        reminders.on_freeze_changed(session, ctx=ctx, freeze=changed)
    window = _window(row, ctx)
    audit.record(
        session,
        at=now,
        actor_id=actor,
        action="freeze.started",
        reason=row.reason,
        detail={
            "freeze_id": row.id,
            "environment": environment,
            "until": until.isoformat() if until else None,
            "replaced": [r.id for r in replaced],
        },
    )
    _announce(
        session,
        ctx=ctx,
        now=now,
        text=(
            f":snowflake: <@{actor}> froze *{environment}* {window.until(ctx.config.tz)}: "
            f'{row.reason}. Deploys there need `--override "<reason>"` and an admin\'s approval.'
        ),
    )
    holds.holds_changed(session, ctx=ctx, environment=environment)
    return row


def unfreeze(
    session: Session, *, ctx: DomainContext, actor: str, environment: str
) -> tuple[FreezeWindow, ...]:
    """Lift the ad-hoc freezes and rollback locks of `environment`; return what was lifted."""
    ctx.config.environment(environment)
    ensure_allowed(ctx, actor=actor, action="freeze", environment=environment)
    now = ctx.clock.now()
    rows = [*_manual(session, environment, now), *_locks(session, environment, None)]
    if not rows:
        recurring = _recurring(ctx, environment, start=now, end=now + timedelta(microseconds=1))
        still = (
            f"; {recurring[0].describe(ctx.config.tz)}: change it in releasebot.toml, or deploy "
            'with `--override "<reason>"`'
            if recurring
            else ""
        )
        raise InvalidInput(f"{environment} has no ad-hoc freeze or rollback lock to lift{still}")
    lifted = tuple(_window(r, ctx) for r in rows)
    _lift(session, rows=rows, actor=actor, now=now)
    for row in rows:
        reminders.on_freeze_changed(session, ctx=ctx, freeze=row)
    listed = "; ".join(w.describe(ctx.config.tz) for w in lifted)
    _announce(
        session,
        ctx=ctx,
        now=now,
        text=f":sunny: <@{actor}> lifted the freeze on *{environment}* ({listed}).",
    )
    holds.holds_changed(
        session, ctx=ctx, environment=environment, cleared=f"the freeze of {environment} was lifted"
    )
    return lifted


def lock_after_rollback(
    session: Session, *, ctx: DomainContext, plan: ReleasePlan, actor: str, reason: str
) -> Freeze:
    """Lock the plan's service in its environment after a rollback (one lock at a time)."""
    now = ctx.clock.now()
    existing = _locks(session, plan.environment, plan.service)
    if existing:
        return existing[0]
    row = Freeze(
        environment=plan.environment,
        service=plan.service,
        kind=FreezeKind.ROLLBACK_LOCK,
        reason=f"{plan.ref} ({plan.version}) was rolled back: {reason}",
        created_by=actor,
        starts_at=now,
    )
    session.add(row)
    session.flush()
    assert plan.id is not None
    audit.record(
        session,
        at=now,
        actor_id=actor,
        action="lock.created",
        plan_id=plan.id,
        reason=reason,
        detail={"lock_id": row.id, "service": plan.service, "environment": plan.environment},
    )
    say(
        session,
        ctx=ctx,
        plan=plan,
        text=f":lock: {plan.service} is locked in {plan.environment} until someone runs "
        f"`/release unfreeze {plan.environment}` or plans a new version.",
    )
    # Plans of the service still waiting show the lock on their cards.
    holds.holds_changed(session, ctx=ctx, environment=plan.environment, service=plan.service)
    return row


def active_freezes(
    session: Session,
    *,
    ctx: DomainContext,
    environment: str,
    service: str | None = None,
    at: datetime,
) -> tuple[FreezeWindow, ...]:
    """Every freeze holding `environment` (and, given `service`, only that service's locks)."""
    ctx.config.environment(environment)
    manual = [_window(r, ctx) for r in _manual(session, environment, at)]
    locks = [_window(r, ctx) for r in _locks(session, environment, service) if r.starts_at <= at]
    recurring = _recurring(ctx, environment, start=at, end=at + timedelta(microseconds=1))
    return (*manual, *locks, *(w for w in recurring if w.active_at(at)))


def freeze_overview(
    session: Session, *, ctx: DomainContext, at: datetime, horizon: timedelta = UPCOMING_HORIZON
) -> tuple[EnvironmentFreezes, ...]:
    """Active freezes and those starting within `horizon`, per environment in config order."""
    overview = []
    for name, _ in ctx.config.ordered_environments():
        active = active_freezes(session, ctx=ctx, environment=name, at=at)
        upcoming = tuple(
            w for w in _recurring(ctx, name, start=at, end=at + horizon) if w.starts_at > at
        )
        overview.append(EnvironmentFreezes(environment=name, active=active, upcoming=upcoming))
    return tuple(overview)


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


def _recurring(
    ctx: DomainContext, environment: str, *, start: datetime, end: datetime
) -> list[FreezeWindow]:
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
                    rule=f"environments.{environment}.freezes[{index}]",
                )
            )
    return sorted(windows, key=lambda w: w.starts_at)


def _manual(session: Session, environment: str, at: datetime) -> list[Freeze]:
    rows = session.exec(
        select(Freeze)
        .where(
            Freeze.environment == environment,
            Freeze.kind == FreezeKind.MANUAL,
            col(Freeze.lifted_at).is_(None),
            Freeze.starts_at <= at,
        )
        .order_by(col(Freeze.id))
    ).all()
    return [r for r in rows if r.ends_at is None or at < r.ends_at]


def _locks(session: Session, environment: str, service: str | None) -> list[Freeze]:
    statement = select(Freeze).where(
        Freeze.environment == environment,
        Freeze.kind == FreezeKind.ROLLBACK_LOCK,
        col(Freeze.lifted_at).is_(None),
    )
    if service is not None:
        statement = statement.where(Freeze.service == service)
    return list(session.exec(statement.order_by(col(Freeze.id))).all())


def _window(row: Freeze, ctx: DomainContext) -> FreezeWindow:
    rule = (
        f"ad-hoc freeze by <@{row.created_by}>"
        if row.kind == FreezeKind.MANUAL
        else "rollback lock"
    )
    return FreezeWindow(
        environment=row.environment,
        kind=row.kind,
        reason=row.reason,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        rule=rule,
        service=row.service,
        created_by=row.created_by,
    )


def _lift(
    session: Session, *, rows: Sequence[Freeze], actor: str, now: datetime
) -> Sequence[Freeze]:
    for row in rows:
        row.lifted_at, row.lifted_by = now, actor
        session.add(row)
        audit.record(
            session,
            at=now,
            actor_id=actor,
            action="lock.lifted" if row.kind == FreezeKind.ROLLBACK_LOCK else "freeze.lifted",
            reason=row.reason,
            detail={
                "freeze_id": row.id,
                "kind": row.kind,
                "environment": row.environment,
                "service": row.service,
            },
        )
    return rows


def _announce(session: Session, *, ctx: DomainContext, now: datetime, text: str) -> None:
    outbox.owe_message(
        session, channel=ctx.config.channels.releases, message=outbox.Rendered(text), now=now
    )
