"""Release plans: create, edit, cancel, look up; every change audited and its card owed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.domain.context import DomainContext
from bot.domain.errors import InvalidInput, NotFound, PermissionDenied
from bot.domain.events import PlanChanged
from bot.domain.lifecycle import ACTIVE, Event, next_state
from bot.domain.mrkdwn import md, person
from bot.domain.policy import ensure_allowed, requires_approval
from bot.domain.states import state_label
from bot.notify import outbox
from bot.notify.thread import say
from bot.release import holds, lanes, signoffs
from bot.store import audit, unit_of_work
from bot.store.models import ChecklistItem, Freeze, FreezeKind, PlanState, ReleasePlan

LIST_LIMIT = 25


@dataclass(frozen=True)
class NewPlan:
    """What a requester asks for; everything else is derived from config and history."""

    service: str
    version: str
    environment: str
    window_start: datetime | None = None
    window_end: datetime | None = None
    strategy: str | None = None
    after: tuple[int, ...] = ()
    notes: str | None = None
    risks: tuple[str, ...] = ()
    stakeholders: tuple[str, ...] = ()
    artifact: dict[str, str] = field(default_factory=dict)
    replanned_from: int | None = None


@dataclass(frozen=True)
class PlanEdit:
    """One edit of `/release edit`: a window, a version, notes, a risk, or what it goes after.

    `after` is None for "not this edit" and () for "after nothing".
    """

    window_start: datetime | None = None
    window_end: datetime | None = None
    version: str | None = None
    notes: str | None = None
    risk: str | None = None
    after: tuple[int, ...] | None = None

    @property
    def is_material(self) -> bool:
        """True when approvers approved something else than what the plan now says.

        Dependencies are not: approvers approve what is released where and when (version,
        environment, window, strategy); `after` only orders the release behind others, it can
        hold a deploy back but never widen what was approved.
        """
        return self.window_start is not None or self.version is not None


def parse_ref(text: str) -> int:
    """`R-12` → 12, or a NotFound that says what a plan id looks like."""
    cleaned = text.strip().upper()
    if cleaned.startswith("R-") and cleaned[2:].isdigit():
        return int(cleaned[2:])
    raise NotFound(f"'{text}' is not a plan id; plan ids look like R-12")


def get_plan(session: Session, *, plan_id: int, for_update: bool = False) -> ReleasePlan:
    """The plan R-<plan_id>, locked for the transaction when it is about to change."""
    statement = select(ReleasePlan).where(ReleasePlan.id == plan_id)
    if for_update:
        statement = statement.with_for_update()
    plan = session.exec(statement).first()
    if plan is None:
        raise NotFound(f"there is no plan R-{plan_id}")
    return plan


def last_released(
    session: Session, *, service: str, environment: str, before_id: int | None = None
) -> ReleasePlan | None:
    """The most recent plan of `service` released to `environment` (and still standing)."""
    statement = select(ReleasePlan).where(
        ReleasePlan.service == service,
        ReleasePlan.environment == environment,
        ReleasePlan.state == PlanState.RELEASED,
    )
    if before_id is not None:
        statement = statement.where(col(ReleasePlan.id) < before_id)
    return session.exec(statement.order_by(col(ReleasePlan.id).desc()).limit(1)).first()


def create_plan(session: Session, *, ctx: DomainContext, actor: str, new: NewPlan) -> ReleasePlan:
    """Validate a plan against config, policy and history, then persist it in its first state."""
    config = ctx.config
    now = ctx.clock.now()
    service = config.service(new.service)
    environment = config.environment(new.environment)
    if service.environments and new.environment not in service.environments:
        raise InvalidInput(
            f"{new.service} is not deployed to {new.environment}; "
            f"it goes to {', '.join(service.environments)}"
        )
    config.strategy_for(new.service, new.strategy)
    strategy = new.strategy or service.strategy
    _check_window(new.window_start, new.window_end, now=now)
    ensure_allowed(ctx, actor=actor, action="plan", environment=new.environment)
    holds.check_after(session, plan=None, after=new.after)
    _check_promotion_order(session, ctx=ctx, new=new)

    previous = lanes.live_release(session, service=new.service, environment=new.environment)
    risks = list(new.risks)
    lock = _rollback_lock(session, service=new.service, environment=new.environment)
    if lock is not None:
        risks.insert(0, f"The last release was rolled back: {lock.reason}")
    state = (
        PlanState.AWAITING_APPROVAL
        if requires_approval(ctx, environment=new.environment)
        else PlanState.APPROVED
    )
    plan = ReleasePlan(
        service=new.service,
        version=new.version,
        environment=new.environment,
        state=state,
        strategy=strategy,
        requester_id=actor,
        window_start=new.window_start,
        window_end=new.window_end,
        notes=new.notes,
        risks=risks,
        stakeholders=list(new.stakeholders),
        depends_on=list(new.after),
        artifact=dict(new.artifact),
        rollback_version=previous.version if previous else None,
        replanned_from=new.replanned_from,
        created_at=now,
        updated_at=now,
    )
    session.add(plan)
    session.flush()
    assert plan.id is not None
    for item in environment.checklist:
        session.add(
            ChecklistItem(
                plan_id=plan.id,
                name=item.item,
                assignee=item.assignee,
                required=item.required,
                phase=item.phase,
                per_version=item.reopens_on_new_version,
            )
        )
    audit.record(
        session,
        at=now,
        actor_id=actor,
        action="plan.created",
        plan_id=plan.id,
        to_state=state,
        detail=_plan_detail(plan),
    )
    outbox.owe_card(session, plan_id=plan.id, channel=config.channels.releases, now=now)
    if state == PlanState.AWAITING_APPROVAL:
        ask_approvers(session, ctx=ctx, plan=plan)
    else:
        # Where no approval is needed, planning is approving.
        lift_rollback_lock(session, ctx=ctx, plan=plan, actor=actor)
    lanes.refresh(session, ctx=ctx, plan=plan, before=None)
    unit_of_work.record(session, PlanChanged(plan.id), ctx=ctx)
    return plan


def edit_plan(
    session: Session, *, ctx: DomainContext, actor: str, plan_id: int, edit: PlanEdit
) -> ReleasePlan:
    """Change a plan before it starts; a material change asks approvers again."""
    plan = get_plan(session, plan_id=plan_id, for_update=True)
    _ensure_owner_or_admin(ctx, actor=actor, plan=plan, verb="edit")
    if plan.state not in (PlanState.AWAITING_APPROVAL, PlanState.APPROVED):
        raise InvalidInput(
            f"can't edit {plan.ref}: it is {state_label(plan.state)} "
            "(plans can be edited until they start deploying)"
        )
    now = ctx.clock.now()
    before = _plan_detail(plan)
    previous_version, previous_after = plan.version, list(plan.depends_on)
    if edit.after is not None:
        holds.check_after(session, plan=plan, after=edit.after)
        plan.depends_on = list(edit.after)
    if edit.window_start is not None:
        _check_window(edit.window_start, edit.window_end, now=now)
        plan.window_start, plan.window_end = edit.window_start, edit.window_end
    if edit.version is not None:
        _check_promotion_order(
            session,
            ctx=ctx,
            new=NewPlan(service=plan.service, version=edit.version, environment=plan.environment),
        )
        plan.version = edit.version
    if edit.notes is not None:
        plan.notes = edit.notes
    if edit.risk is not None:
        plan.risks = [*plan.risks, edit.risk]
    from_state = plan.state
    if edit.is_material and requires_approval(ctx, environment=plan.environment):
        plan.approval_round += 1
        if plan.state == PlanState.APPROVED:
            plan.state = next_state(plan.state, Event.EDIT, plan_ref=plan.ref)
    plan.revision += 1
    plan.updated_at = now
    audit.record(
        session,
        at=now,
        actor_id=actor,
        action="plan.edited",
        plan_id=plan.id,
        from_state=from_state,
        to_state=plan.state,
        detail={"before": before, "after": _plan_detail(plan)},
    )
    assert plan.id is not None
    outbox.owe_card(session, plan_id=plan.id, channel=ctx.config.channels.releases, now=now)
    if edit.is_material and plan.state == PlanState.AWAITING_APPROVAL:
        ask_approvers(session, ctx=ctx, plan=plan)
    if edit.version is not None and plan.state == PlanState.APPROVED:
        lift_rollback_lock(session, ctx=ctx, plan=plan, actor=actor)
    if edit.is_material and requires_approval(ctx, environment=plan.environment):
        say(
            session,
            ctx=ctx,
            plan=plan,
            text=md(
                "{} changed {}; earlier approvals no longer count and approvers are asked again.",
                person(actor),
                plan.ref,
            ),
        )
    if plan.version != previous_version:
        signoffs.reopen_for_version(session, ctx=ctx, plan=plan, previous=previous_version)
    if edit.after is not None:
        _say_after_changed(session, ctx=ctx, plan=plan, actor=actor, before=previous_after)
    unit_of_work.record(session, PlanChanged(plan.id), ctx=ctx)
    return plan


def _say_after_changed(
    session: Session, *, ctx: DomainContext, plan: ReleasePlan, actor: str, before: list[int]
) -> None:
    """Tell the thread what the plan now goes after; re-check it if that was its last hold."""
    was = ", ".join(f"R-{d}" for d in before) or "nothing"
    now = ", ".join(f"R-{d}" for d in plan.depends_on) or "nothing"
    still = (
        " Approvals still count: the order of releases is not what approvers approved."
        if requires_approval(ctx, environment=plan.environment)
        else ""
    )
    text = md(
        ":pencil2: {} changed what {} goes after: {} → {}.{}",
        person(actor),
        plan.ref,
        was,
        now,
        still,
    )
    say(session, ctx=ctx, plan=plan, text=text)
    holds.recheck_auto_deploys(session, ctx=ctx, plans=[plan], reason="what it goes after changed")


def transition(
    session: Session,
    *,
    ctx: DomainContext,
    plan: ReleasePlan,
    event: Event,
    actor: str,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
) -> ReleasePlan:
    """Move a plan through the lifecycle: one audited event, and its card owed."""
    now = ctx.clock.now()
    from_state = plan.state
    plan.state = next_state(plan.state, event, plan_ref=plan.ref)
    plan.revision += 1
    plan.updated_at = now
    assert plan.id is not None
    audit.record(
        session,
        at=now,
        actor_id=actor,
        action=f"plan.{event.value}",
        plan_id=plan.id,
        from_state=from_state,
        to_state=plan.state,
        reason=reason,
        detail=detail,
    )
    outbox.owe_card(session, plan_id=plan.id, channel=ctx.config.channels.releases, now=now)
    lanes.refresh(session, ctx=ctx, plan=plan, before=from_state)
    if event == Event.APPROVE:
        lift_rollback_lock(session, ctx=ctx, plan=plan, actor=actor)
    holds.after_transition(session, ctx=ctx, plan=plan)
    return plan


def cancel_plan(
    session: Session, *, ctx: DomainContext, actor: str, plan_id: int, reason: str | None
) -> ReleasePlan:
    """Cancel a plan that has not started; only its requester or an admin may."""
    plan = get_plan(session, plan_id=plan_id, for_update=True)
    _ensure_owner_or_admin(ctx, actor=actor, plan=plan, verb="cancel")
    transition(session, ctx=ctx, plan=plan, event=Event.CANCEL, actor=actor, reason=reason)
    assert plan.id is not None
    say(
        session,
        ctx=ctx,
        plan=plan,
        text=md(":no_entry_sign: {} cancelled {}: {}", person(actor), plan.ref, reason)
        if reason
        else md(":no_entry_sign: {} cancelled {}.", person(actor), plan.ref),
    )
    return plan


def list_plans(
    session: Session, *, environment: str | None, include_all: bool, limit: int = LIST_LIMIT
) -> tuple[Sequence[ReleasePlan], int]:
    """Upcoming and active plans (all of them with `include_all`), newest last; and the total."""
    statement = select(ReleasePlan)
    counter = select(func.count()).select_from(ReleasePlan)
    if environment is not None:
        statement = statement.where(ReleasePlan.environment == environment)
        counter = counter.where(ReleasePlan.environment == environment)
    if not include_all:
        active = [s.value for s in ACTIVE]
        statement = statement.where(col(ReleasePlan.state).in_(active))
        counter = counter.where(col(ReleasePlan.state).in_(active))
    plans = session.exec(statement.order_by(col(ReleasePlan.id).desc()).limit(limit)).all()
    total = session.exec(counter).one()
    return list(reversed(plans)), int(total)


def history(
    session: Session, *, service: str, environment: str | None, limit: int = LIST_LIMIT
) -> Sequence[ReleasePlan]:
    """A service's plans, newest first."""
    statement = select(ReleasePlan).where(ReleasePlan.service == service)
    if environment is not None:
        statement = statement.where(ReleasePlan.environment == environment)
    return session.exec(statement.order_by(col(ReleasePlan.id).desc()).limit(limit)).all()


def ask_approvers(session: Session, *, ctx: DomainContext, plan: ReleasePlan) -> int:
    """DM every individual approver (groups expanded) who may decide; return how many."""
    policy = ctx.config.environment(plan.environment).approvals
    people = ctx.people(policy.approvers)
    if not policy.allow_self:
        people.discard(plan.requester_id)
    now = ctx.clock.now()
    return outbox.owe_dms(
        session,
        people=sorted(people),
        template="approval_request",
        plan_id=plan.id,
        now=now,
        key=f"approval-dm:{plan.id}:{plan.approval_round}",
    )


# `at 15:00` typed at 15:02 means this window; a start further back is a mistake (a wrong day
# or year) that would make the plan deployable at once, so it is refused with the way out.
PAST_START_GRACE = timedelta(minutes=5)


def _check_window(start: datetime | None, end: datetime | None, *, now: datetime) -> None:
    if end is not None and end <= now:
        raise InvalidInput("the window has already ended; give an `until` in the future")
    if start is not None and start < now - PAST_START_GRACE:
        raise InvalidInput(
            f"the window would start in the past ({start.astimezone(UTC):%Y-%m-%d %H:%M} UTC); "
            "give `at now` to open it now, or a later time"
        )
    if end is None:
        return
    if start is not None and end <= start:
        raise InvalidInput("the window ends before it starts; give an `until` after the `at`")


def _check_promotion_order(session: Session, *, ctx: DomainContext, new: NewPlan) -> None:
    required = ctx.config.environment(new.environment).requires
    if required is None:
        return
    released_there = session.exec(
        select(ReleasePlan.id).where(
            ReleasePlan.service == new.service,
            ReleasePlan.environment == required,
            ReleasePlan.version == new.version,
            col(ReleasePlan.state).in_([PlanState.RELEASED.value]),
        )
    ).first()
    if released_there is None:
        raise PermissionDenied(
            f"{new.service} {new.version} can't go to {new.environment} yet: "
            f"{new.environment} requires it to be released to {required} first "
            f"(plan it with `/release plan {new.service} {new.version} to {required}`)"
        )


def _rollback_lock(session: Session, *, service: str, environment: str) -> Freeze | None:
    return session.exec(
        select(Freeze).where(
            Freeze.kind == FreezeKind.ROLLBACK_LOCK,
            Freeze.environment == environment,
            Freeze.service == service,
            col(Freeze.lifted_at).is_(None),
        )
    ).first()


def lift_rollback_lock(
    session: Session, *, ctx: DomainContext, plan: ReleasePlan, actor: str
) -> Freeze | None:
    """An approved plan of another version than the one rolled back lifts its lane's lock.

    Called when a plan becomes approved (or is planned where no approval is needed): that
    decision was taken knowing about the rollback. Planning the rolled-back version again
    lifts nothing.
    """
    lock = _rollback_lock(session, service=plan.service, environment=plan.environment)
    if lock is None or (lock.version is not None and lock.version == plan.version):
        return None
    now = ctx.clock.now()
    lock.lifted_at, lock.lifted_by = now, actor
    session.add(lock)
    assert plan.id is not None
    audit.record(
        session,
        at=now,
        actor_id=actor,
        action="lock.lifted",
        plan_id=plan.id,
        reason=f"{plan.ref} ({plan.version}) was approved after the rollback",
        detail={"lock_id": lock.id, "lock_reason": lock.reason, "version": lock.version},
    )
    say(
        session,
        ctx=ctx,
        plan=plan,
        text=md(
            ":unlock: {} ({}) lifts the rollback lock of {} in {} ({}).",
            plan.ref,
            plan.version,
            plan.service,
            plan.environment,
            lock.reason,
        ),
    )
    holds.holds_changed(
        session,
        ctx=ctx,
        environment=plan.environment,
        service=plan.service,
        cleared=f"the rollback lock of {plan.service} in {plan.environment} was lifted",
    )
    return lock


def _ensure_owner_or_admin(ctx: DomainContext, *, actor: str, plan: ReleasePlan, verb: str) -> None:
    if actor != plan.requester_id and not ctx.is_admin(actor):
        raise PermissionDenied(
            md(
                "only the requester ({}) or an admin may {} {}",
                person(plan.requester_id),
                verb,
                plan.ref,
            ),
            plan_id=plan.id,
        )


def _plan_detail(plan: ReleasePlan) -> dict[str, Any]:
    return {
        "service": plan.service,
        "version": plan.version,
        "environment": plan.environment,
        "strategy": plan.strategy,
        "window_start": plan.window_start.isoformat() if plan.window_start else None,
        "window_end": plan.window_end.isoformat() if plan.window_end else None,
        "notes": plan.notes,
        "risks": list(plan.risks),
        "after": list(plan.depends_on),
    }
