"""Freezes (SPEC §5): ad-hoc freezes, recurring ones from config, and rollback locks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.domain.context import DomainContext
from bot.domain.errors import InvalidInput, NotFound, PermissionDenied
from bot.domain.events import FreezeChanged
from bot.domain.freeze_windows import (
    EnvironmentFreezes,
    FreezeWindow,
    recurring_freezes,
)
from bot.domain.lifecycle import Event
from bot.domain.mrkdwn import Mrkdwn, join, md, person
from bot.domain.policy import ensure_allowed, requires_approval
from bot.notify import outbox
from bot.notify.thread import say
from bot.release import holds
from bot.release.lanes import WAITING
from bot.release.plans import ask_approvers, transition
from bot.store import audit, unit_of_work
from bot.store.models import Approval, Decision, Freeze, FreezeKind, PlanState, ReleasePlan

UPCOMING_HORIZON = timedelta(days=7)
# Plans whose card shows the freeze: those that have not started yet.
WAITING_STATES = (PlanState.AWAITING_APPROVAL.value, PlanState.APPROVED.value)


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
        assert changed.id is not None
        unit_of_work.record(session, FreezeChanged(changed.id), ctx=ctx)
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
            md(
                ":snowflake: {} froze *{}* {}: {}. Deploys there need "
                '`--override "&lt;reason&gt;"` and an admin\'s approval.',
                person(actor),
                environment,
                window.until(ctx.config.tz),
                row.reason,
            )
        ),
    )
    holds.holds_changed(session, ctx=ctx, environment=environment)
    return row


def unfreeze(
    session: Session, *, ctx: DomainContext, actor: str, environment: str
) -> tuple[FreezeWindow, ...]:
    """Lift the ad-hoc freezes of `environment`; return what was lifted.

    Rollback locks stay: they are lifted by a new plan or `/release unlock` (see `unlock`).
    """
    ctx.config.environment(environment)
    ensure_allowed(ctx, actor=actor, action="freeze", environment=environment)
    now = ctx.clock.now()
    rows = _manual(session, environment, now)
    if not rows:
        still = [w.describe(ctx.config.tz) for w in _lock_windows(session, ctx, environment)]
        if still:
            still[-1] = md("{}. `/release unfreeze` does not lift rollback locks", still[-1])
        recurring = recurring_freezes(
            ctx, environment, start=now, end=now + timedelta(microseconds=1)
        )
        if recurring:
            still.append(
                md(
                    "{}: change it in releasebot.toml, or deploy with "
                    '`--override "&lt;reason&gt;"`',
                    recurring[0].describe(ctx.config.tz),
                )
            )
        listed = join("", (md("; {}", line) for line in still))
        raise InvalidInput(md("{} has no ad-hoc freeze to lift{}", environment, listed))
    lifted = tuple(_window(r, ctx) for r in rows)
    _lift(session, rows=rows, actor=actor, now=now)
    for row in rows:
        assert row.id is not None
        unit_of_work.record(session, FreezeChanged(row.id), ctx=ctx)
    listed = join("; ", (w.describe(ctx.config.tz) for w in lifted))
    _announce(
        session,
        ctx=ctx,
        now=now,
        text=md(":sunny: {} lifted the freeze on *{}* ({}).", person(actor), environment, listed),
    )
    holds.holds_changed(
        session, ctx=ctx, environment=environment, cleared=f"the freeze of {environment} was lifted"
    )
    return lifted


def unlock(
    session: Session, *, ctx: DomainContext, actor: str, service: str, environment: str, reason: str
) -> FreezeWindow:
    """An admin lifts the rollback lock of `service` in `environment`: audited and announced."""
    ctx.config.service(service)
    ctx.config.environment(environment)
    if not ctx.is_admin(actor):
        admins = join(", ", (person(a) for a in ctx.config.admins))
        raise PermissionDenied(
            md(
                "only admins may lift a rollback lock (admins: {}); a new plan of {} lifts it "
                "too, once it is approved",
                admins or "nobody listed",
                service,
            )
        )
    if not reason.strip():
        raise InvalidInput(f'say why: /release unlock {service} {environment} "<reason>"')
    rows = _locks(session, environment, service)
    if not rows:
        raise NotFound(f"{service} has no rollback lock in {environment}; nothing to lift")
    now = ctx.clock.now()
    window = _window(rows[0], ctx)
    _lift_lock(session, ctx=ctx, lock=rows[0], actor=actor, reason=reason.strip())
    _announce(
        session,
        ctx=ctx,
        now=now,
        text=md(
            ":unlock: {} lifted the rollback lock of *{}* in *{}*: {}. (It held since {}.)",
            person(actor),
            service,
            environment,
            reason.strip(),
            window.reason,
        ),
    )
    return window


def _lift_lock(
    session: Session, *, ctx: DomainContext, lock: Freeze, actor: str, reason: str
) -> None:
    """Lift one rollback lock (audited) and redraw the cards of plans it held."""
    now = ctx.clock.now()
    lock.lifted_at, lock.lifted_by = now, actor
    session.add(lock)
    audit.record(
        session,
        at=now,
        actor_id=actor,
        action="lock.lifted",
        reason=reason,
        detail={
            "lock_id": lock.id,
            "lock_reason": lock.reason,
            "service": lock.service,
            "environment": lock.environment,
            "version": lock.version,
        },
    )
    assert lock.service is not None
    holds.holds_changed(
        session,
        ctx=ctx,
        environment=lock.environment,
        service=lock.service,
        cleared=f"the rollback lock of {lock.service} in {lock.environment} was lifted",
    )


def lock_after_rollback(
    session: Session,
    *,
    ctx: DomainContext,
    plan: ReleasePlan,
    actor: str,
    reason: str,
    rolled_back_by: str,
) -> Freeze:
    """Lock the plan's service in its environment after a rollback (one lock at a time).

    `reason` is why the rollback started, as given; the lock keeps who started it
    (`rolled_back_by`, BOT_ACTOR when the bot did) as its `created_by`, so every place that
    shows the lock names them as a mention rather than as text inside the reason.
    Plans of that lane approved before the rollback need approving again: their approvers
    decided before they knew about it.
    """
    now = ctx.clock.now()
    existing = _locks(session, plan.environment, plan.service)
    if existing:
        return existing[0]
    row = Freeze(
        environment=plan.environment,
        service=plan.service,
        kind=FreezeKind.ROLLBACK_LOCK,
        reason=f"{plan.ref} ({plan.version}) was rolled back" + (f": {reason}" if reason else ""),
        version=plan.version,
        created_by=rolled_back_by,
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
        detail={
            "lock_id": row.id,
            "service": plan.service,
            "environment": plan.environment,
            "version": plan.version,
        },
    )
    window = _window(row, ctx)
    say(
        session,
        ctx=ctx,
        plan=plan,
        text=md(
            ":lock: {} is locked in {} {}.",
            plan.service,
            plan.environment,
            window.until(ctx.config.tz),
        ),
    )
    _ask_again(session, ctx=ctx, rolled_back=plan, actor=actor)
    # Plans of the service still waiting show the lock on their cards.
    holds.holds_changed(session, ctx=ctx, environment=plan.environment, service=plan.service)
    return row


def _ask_again(
    session: Session, *, ctx: DomainContext, rolled_back: ReleasePlan, actor: str
) -> None:
    """Drop the approvals the lane's waiting plans were given before `rolled_back` rolled back."""
    if not requires_approval(ctx, environment=rolled_back.environment):
        return
    waiting = session.exec(
        select(ReleasePlan).where(
            ReleasePlan.service == rolled_back.service,
            ReleasePlan.environment == rolled_back.environment,
            col(ReleasePlan.state).in_([s.value for s in WAITING]),
            ReleasePlan.id != rolled_back.id,
        )
    ).all()
    why = f"{rolled_back.ref} ({rolled_back.version}) was rolled back"
    for plan in waiting:
        assert plan.id is not None
        approved = session.exec(
            select(Approval.id).where(
                Approval.plan_id == plan.id,
                Approval.round == plan.approval_round,
                Approval.decision == Decision.APPROVE,
            )
        ).first()
        if approved is None and plan.state != PlanState.APPROVED:
            continue
        plan.approval_round += 1
        if plan.state == PlanState.APPROVED:
            transition(session, ctx=ctx, plan=plan, event=Event.EDIT, actor=actor, reason=why)
        else:
            plan.revision += 1
            outbox.owe_card(
                session, plan_id=plan.id, channel=ctx.config.channels.releases, now=ctx.clock.now()
            )
        audit.record(
            session,
            at=ctx.clock.now(),
            actor_id=actor,
            action="approvals.dropped",
            plan_id=plan.id,
            reason=why,
            detail={"round": plan.approval_round},
        )
        ask_approvers(session, ctx=ctx, plan=plan)
        say(
            session,
            ctx=ctx,
            plan=plan,
            text=md(
                ":lock: {}; approvals of {} given before that no longer count, and its "
                "approvers are asked again.",
                why,
                plan.ref,
            ),
        )


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
    recurring = recurring_freezes(ctx, environment, start=at, end=at + timedelta(microseconds=1))
    return (*manual, *locks, *(w for w in recurring if w.active_at(at)))


def freeze_overview(
    session: Session, *, ctx: DomainContext, at: datetime, horizon: timedelta = UPCOMING_HORIZON
) -> tuple[EnvironmentFreezes, ...]:
    """Active freezes and those starting within `horizon`, per environment in config order."""
    overview = []
    for name, _ in ctx.config.ordered_environments():
        active = active_freezes(session, ctx=ctx, environment=name, at=at)
        upcoming = tuple(
            w for w in recurring_freezes(ctx, name, start=at, end=at + horizon) if w.starts_at > at
        )
        overview.append(EnvironmentFreezes(environment=name, active=active, upcoming=upcoming))
    return tuple(overview)


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


def _lock_windows(session: Session, ctx: DomainContext, environment: str) -> list[FreezeWindow]:
    return [_window(r, ctx) for r in _locks(session, environment, None)]


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
        md("ad-hoc freeze by {}", person(row.created_by or ""))
        if row.kind == FreezeKind.MANUAL
        else md("rollback lock")
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
        version=row.version,
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


def _announce(session: Session, *, ctx: DomainContext, now: datetime, text: Mrkdwn) -> None:
    outbox.owe_message(
        session, channel=ctx.config.channels.releases, message=outbox.Rendered(text), now=now
    )
