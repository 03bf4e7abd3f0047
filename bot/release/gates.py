"""What must be true before a plan may deploy or roll back; each refusal says what is missing.

A deploy into a freeze (SPEC §5) is break-glass: `--override "<reason>"` records a request and
asks the people `permissions.override` names (admins by default); once one of them approves, the
plan deploys like any other, by the Deploy button or `/release deploy`. The approval is an
`Approval` row with `is_override`, so it belongs to the plan's approval round: editing what was
approved drops it, and it never counts toward the normal quorum.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.domain.context import DomainContext
from bot.domain.errors import IllegalTransition, InvalidInput, NotFound, PermissionDenied
from bot.domain.freeze_windows import FreezeWindow, local_time, lock_refusal
from bot.domain.lifecycle import IN_FLIGHT, Event, can
from bot.domain.mrkdwn import inline_code, join, md, person
from bot.domain.policy import Action, ensure_allowed
from bot.domain.states import state_label
from bot.notify import outbox
from bot.notify.thread import say
from bot.release import holds, lanes
from bot.release.checklists import open_items
from bot.release.freezes import WAITING_STATES, active_freezes
from bot.release.holds import Dependency
from bot.release.plans import get_plan
from bot.release.snapshots import PlanSnapshot
from bot.store import audit
from bot.store.models import (
    Approval,
    AuditEvent,
    ChecklistItem,
    ChecklistPhase,
    Decision,
    FreezeKind,
    ReleasePlan,
)

OVERRIDE_REQUESTED = "override.requested"
OVERRIDE_APPROVED = "override.approved"


@dataclass(frozen=True)
class OverrideStatus:
    """A break-glass request of the plan's current approval round, and who approved it."""

    reason: str
    requested_by: str
    requested_at: datetime
    approved_by: str | None = None
    approved_at: datetime | None = None
    # Set on the status `request_override` returns when it has just asked `asked`.
    fresh: bool = False
    asked: tuple[str, ...] = ()

    @property
    def approved(self) -> bool:
        """True once someone allowed to has approved the override."""
        return self.approved_by is not None


@dataclass(frozen=True)
class DeployHolds:
    """Everything that keeps a plan from deploying, as the card shows it: freezes and rollback
    locks (an approved override lets a deploy through freezes, never through a lock),
    dependencies not released yet, open pre-deploy items, missing approvals and the plan in
    flight in its lane; for a plan in flight, the plans of its lane that wait for it."""

    freezes: tuple[FreezeWindow, ...] = ()
    override: OverrideStatus | None = None
    dependencies: tuple[Dependency, ...] = ()  # only those not released yet
    open_items: tuple[ChecklistItem, ...] = ()
    approvals_missing: int = 0
    in_flight: ReleasePlan | None = None
    queued: tuple[ReleasePlan, ...] = ()
    # The plan's window has not opened yet: when it does (a deploy is refused until then), and
    # whether the plan then starts by itself (auto_deploy) or waits for someone to deploy it.
    window_opens: datetime | None = None
    starts_by_itself: bool = False

    @property
    def locked(self) -> bool:
        """True while a rollback lock holds (no override passes it)."""
        return any(f.kind == FreezeKind.ROLLBACK_LOCK for f in self.freezes)

    @property
    def frozen(self) -> bool:
        """True while a freeze or lock holds and no approved override lets the deploy through."""
        if self.locked:
            return True
        return bool(self.freezes) and not (self.override is not None and self.override.approved)

    @property
    def held(self) -> bool:
        """True when a deploy would be refused now (the card then offers no Deploy)."""
        return (
            self.frozen
            or bool(self.dependencies)
            or bool(self.open_items)
            or self.approvals_missing > 0
            or self.in_flight is not None
            or self.window_opens is not None
        )


def ensure_deployable(
    session: Session,
    *,
    ctx: DomainContext,
    plan: ReleasePlan,
    actor: str,
    override_reason: str | None = None,
) -> None:
    """Refuse a deploy the policy, dependencies, checklist or a freeze do not allow yet.

    During a freeze only an approved override lets the deploy through; `override_reason` alone
    does not (`request_override` records the request and asks for the approval).
    """
    _ensure_ready(session, ctx=ctx, plan=plan, actor=actor)
    lanes.ensure_free(session, plan=plan, doing="deploy")
    freezes = _unless_locked(
        session,
        ctx=ctx,
        plan=plan,
        freezes=active_freezes(
            session,
            ctx=ctx,
            environment=plan.environment,
            service=plan.service,
            at=ctx.clock.now(),
        ),
    )
    if not freezes:
        return
    status = override_status(session, plan=plan)
    if status is not None and status.approved:
        return
    held = join("; ", (f.describe(ctx.config.tz) for f in freezes))
    if status is not None:
        raise InvalidInput(
            md(
                "{}. {} is waiting for an admin to approve the override {} asked for",
                held,
                plan.ref,
                person(status.requested_by),
            )
        )
    ask = (
        "run that again"
        if override_reason is not None
        else f'deploy with `/release deploy {plan.ref} --override "<reason>"`'
    )
    raise PermissionDenied(
        md("{}. To deploy anyway, {}: an admin must approve the override", held, ask),
        plan_id=plan.id,
    )


def ensure_may_roll_back(ctx: DomainContext, *, plan: ReleasePlan, actor: str) -> None:
    """Refuse a rollback the environment's policy does not allow this person."""
    ensure_allowed(ctx, actor=actor, action="rollback", environment=plan.environment)


def ensure_allowed_to_drive(ctx: DomainContext, *, plan: ReleasePlan, actor: str) -> None:
    """Promote, pause and resume need the deploy permission of the plan's environment."""
    ensure_allowed(ctx, actor=actor, action="deploy", environment=plan.environment)


def request_override(
    session: Session, *, ctx: DomainContext, actor: str, plan_id: int, reason: str
) -> OverrideStatus | None:
    """Ask for a break-glass deploy through the plan's freezes.

    Returns None when the deploy may go ahead now (nothing frozen, or the override is already
    approved), else the pending request: recorded, audited, and its approvers asked once.
    """
    plan = get_plan(session, plan_id=plan_id, for_update=True)
    _ensure_ready(session, ctx=ctx, plan=plan, actor=actor)
    now = ctx.clock.now()
    freezes = _unless_locked(
        session,
        ctx=ctx,
        plan=plan,
        freezes=active_freezes(
            session, ctx=ctx, environment=plan.environment, service=plan.service, at=now
        ),
    )
    status = override_status(session, plan=plan)
    if not freezes or (status is not None and status.approved):
        return None
    if status is not None:
        return status
    if not reason.strip():
        raise InvalidInput('an override needs a reason: --override "<reason>"')
    assert plan.id is not None
    plan.override_reason = reason.strip()
    plan.revision += 1
    plan.updated_at = now
    session.add(plan)
    audit.record(
        session,
        at=now,
        actor_id=actor,
        action=OVERRIDE_REQUESTED,
        plan_id=plan.id,
        reason=plan.override_reason,
        detail={
            "round": plan.approval_round,
            "freezes": [f.describe(ctx.config.tz) for f in freezes],
        },
    )
    asked = _override_approvers(ctx, plan=plan, requester=actor)
    outbox.owe_dms(
        session,
        people=asked,
        template="override_request",
        plan_id=plan.id,
        now=now,
        key=f"override-dm:{plan.id}:{plan.approval_round}",
    )
    held = join("; ", (f.describe(ctx.config.tz) for f in freezes))
    channel = ctx.config.channels.releases
    say(
        session,
        ctx=ctx,
        plan=plan,
        text=md(
            ":rotating_light: {} asks to deploy {} through the freeze ({}): {}. Waiting for an "
            "admin to approve the override.",
            person(actor),
            plan.ref,
            held,
            plan.override_reason,
        ),
    )
    outbox.owe_card(session, plan_id=plan.id, channel=channel, now=now)
    return OverrideStatus(
        reason=plan.override_reason,
        requested_by=actor,
        requested_at=now,
        fresh=True,
        asked=tuple(asked),
    )


def approve_override(
    session: Session, *, ctx: DomainContext, actor: str, plan_id: int, round_seen: int | None
) -> OverrideStatus:
    """An admin's "Approve override": the extra approval a deploy through a freeze needs."""
    plan = get_plan(session, plan_id=plan_id, for_update=True)
    if round_seen is not None and round_seen != plan.approval_round:
        raise InvalidInput(
            f"{plan.ref} changed after this override was requested; ask for it again with "
            f'`/release deploy {plan.ref} --override "<reason>"`'
        )
    status = override_status(session, plan=plan)
    if status is None:
        raise InvalidInput(f"{plan.ref} has no override waiting for approval")
    if status.approved:
        raise InvalidInput(
            md(
                "the override of {} is already approved by {}",
                plan.ref,
                person(status.approved_by or ""),
            )
        )
    _allowed(ctx, actor=actor, action="override", plan=plan)
    if actor == status.requested_by:
        raise PermissionDenied(
            f"you asked for the override of {plan.ref}; another admin must approve it",
            plan_id=plan.id,
        )
    if not can(plan.state, Event.DEPLOY):
        raise InvalidInput(
            f"{plan.ref} is {state_label(plan.state)}; there is no deploy to let through"
        )
    now = ctx.clock.now()
    assert plan.id is not None
    try:
        with session.begin_nested():
            session.add(
                Approval(
                    plan_id=plan.id,
                    round=plan.approval_round,
                    approver_id=actor,
                    decision=Decision.APPROVE,
                    comment=status.reason,
                    is_override=True,
                    decided_at=now,
                )
            )
    except IntegrityError as exc:
        # One decision per person and round: an approver of the plan cannot also be its
        # break-glass approver, which keeps the override a second pair of eyes.
        raise InvalidInput(
            f"you already decided on {plan.ref} as an approver; another admin must approve "
            "the override"
        ) from exc
    plan.revision += 1
    plan.updated_at = now
    session.add(plan)
    audit.record(
        session,
        at=now,
        actor_id=actor,
        action=OVERRIDE_APPROVED,
        plan_id=plan.id,
        reason=status.reason,
        detail={"round": plan.approval_round, "requested_by": status.requested_by},
    )
    _announce_override(session, ctx=ctx, plan=plan, actor=actor, status=status, now=now)
    holds.recheck_auto_deploys(
        session, ctx=ctx, plans=[plan], reason="its override through the freeze is approved"
    )
    return OverrideStatus(
        reason=status.reason,
        requested_by=status.requested_by,
        requested_at=status.requested_at,
        approved_by=actor,
        approved_at=now,
    )


def override_status(session: Session, *, plan: ReleasePlan) -> OverrideStatus | None:
    """The override requested in the plan's current approval round, if any."""
    requests = session.exec(
        select(AuditEvent)
        .where(AuditEvent.plan_id == plan.id, AuditEvent.action == OVERRIDE_REQUESTED)
        .order_by(col(AuditEvent.id).desc())
    ).all()
    request = next((r for r in requests if r.detail.get("round") == plan.approval_round), None)
    if request is None:
        return None
    approval = session.exec(
        select(Approval).where(
            Approval.plan_id == plan.id,
            Approval.round == plan.approval_round,
            col(Approval.is_override).is_(True),
            Approval.decision == Decision.APPROVE,
        )
    ).first()
    return OverrideStatus(
        reason=request.reason or plan.override_reason or "",
        requested_by=request.actor_id,
        requested_at=request.at,
        approved_by=approval.approver_id if approval else None,
        approved_at=approval.decided_at if approval else None,
    )


def deploy_holds(session: Session, *, ctx: DomainContext, snap: PlanSnapshot) -> DeployHolds:
    """What holds a plan that has not started (the card shows each and offers no Deploy);
    for a plan in flight, the plans of its lane that wait for it."""
    plan = snap.plan
    service, environment = plan.service, plan.environment
    if plan.state in IN_FLIGHT:
        return DeployHolds(
            queued=tuple(lanes.waiting(session, service=service, environment=environment))
        )
    if plan.state not in WAITING_STATES:
        return DeployHolds()
    now = ctx.clock.now()
    opens = plan.window_start if plan.window_start is not None and now < plan.window_start else None
    return DeployHolds(
        freezes=active_freezes(session, ctx=ctx, environment=environment, service=service, at=now),
        override=override_status(session, plan=plan),
        dependencies=tuple(d for d in holds.dependencies(session, plan=plan) if not d.released),
        open_items=snap.open_pre_deploy_items,
        approvals_missing=snap.approvals.missing if snap.approvals_needed else 0,
        in_flight=lanes.in_flight(
            session, service=service, environment=environment, excluding=plan.id
        ),
        window_opens=opens,
        starts_by_itself=opens is not None and _auto_deploys(ctx, service, environment),
    )


def _auto_deploys(ctx: DomainContext, service: str, environment: str) -> bool:
    """Whether the lane's plans start by themselves; False for a service or environment taken
    out of releasebot.toml since the plan was made (its card still shows)."""
    try:
        return ctx.config.auto_deploys(service, environment)
    except NotFound:
        return False


def _unless_locked(
    session: Session, *, ctx: DomainContext, plan: ReleasePlan, freezes: tuple[FreezeWindow, ...]
) -> tuple[FreezeWindow, ...]:
    """Refuse a plan its lane's rollback lock holds; return the freezes an override may pass.

    An override is for freezes only: a lock is lifted by a new approved plan or an admin.
    """
    for freeze in freezes:
        if freeze.kind == FreezeKind.ROLLBACK_LOCK:
            raise PermissionDenied(
                lock_refusal(freeze, plan=plan, tz=ctx.config.tz), plan_id=plan.id
            )
    return freezes


def _ensure_ready(session: Session, *, ctx: DomainContext, plan: ReleasePlan, actor: str) -> None:
    """Every deploy gate except freezes."""
    if not can(plan.state, Event.DEPLOY):
        raise IllegalTransition(
            f"can't deploy {plan.ref}: it is {state_label(plan.state)} "
            "(a plan deploys once it is approved)"
        )
    _allowed(ctx, actor=actor, action="deploy", plan=plan)
    if plan.window_start is not None and ctx.clock.now() < plan.window_start:
        raise InvalidInput(
            f"{plan.ref}'s window opens {local_time(plan.window_start, ctx.config.tz)}; deploy "
            "it then, or edit its window"
        )
    waiting = [d for d in holds.dependencies(session, plan=plan) if not d.released]
    dead = [d for d in waiting if d.dead]
    if dead:
        raise InvalidInput(
            f"{plan.ref} comes after {dead[0].ref}, which {dead[0].fate()}, so it can never "
            f"deploy as planned; change that with `/release edit {plan.ref} after none` "
            "(or after another plan)"
        )
    if waiting:
        raise InvalidInput(
            f"{plan.ref} comes after {', '.join(d.ref for d in waiting)}, not released yet"
        )
    assert plan.id is not None
    items = open_items(session, plan_id=plan.id, phase=ChecklistPhase.PRE_DEPLOY)
    if items:
        # Name who can act and what they type, so the refusal can be forwarded as it is.
        listed = join(
            "; ",
            (
                md(
                    "{} — waiting on {}; a member of {} can `/release tick {} {}`",
                    i.name,
                    i.assignee,
                    i.assignee,
                    plan.ref,
                    i.name,
                )
                if i.assignee.startswith("@")
                else md(
                    "{} — waiting on {}, who can `/release tick {} {}`",
                    i.name,
                    person(i.assignee),
                    plan.ref,
                    i.name,
                )
                for i in items
            ),
        )
        raise InvalidInput(md("{} can't deploy until it is ticked: {}", plan.ref, listed))


def _allowed(ctx: DomainContext, *, actor: str, action: Action, plan: ReleasePlan) -> None:
    """The environment's permission rule, its refusal tied to the plan for the audit trail."""
    try:
        ensure_allowed(ctx, actor=actor, action=action, environment=plan.environment)
    except PermissionDenied as refusal:
        raise PermissionDenied(refusal.message, plan_id=plan.id) from None


def _override_approvers(ctx: DomainContext, *, plan: ReleasePlan, requester: str) -> list[str]:
    """The people to DM for an override: `permissions.override` expanded, minus the requester."""
    people: set[str] = set()
    for principal in ctx.config.environment(plan.environment).permissions.granted("override"):
        # "anyone" cannot be messaged one by one; the admins stand in for everyone.
        principals = ctx.config.admins if principal in ("admins", "anyone") else [principal]
        people |= ctx.people(principals)
    people.discard(requester)
    return sorted(people)


def _announce_override(
    session: Session,
    *,
    ctx: DomainContext,
    plan: ReleasePlan,
    actor: str,
    status: OverrideStatus,
    now: datetime,
) -> None:
    assert plan.id is not None
    # The reason is the requester's own words: it reaches the announcements channel too.
    text = md(
        ":rotating_light: Break-glass: {} approved deploying {} {} to {} ({}) through a freeze, "
        "as {} asked: {}",
        person(actor),
        plan.service,
        inline_code(plan.version),
        plan.environment,
        plan.ref,
        person(status.requested_by),
        status.reason,
    )
    channels = ctx.config.channels
    say(session, ctx=ctx, plan=plan, text=text)
    for channel in dict.fromkeys([channels.releases, channels.announcements]):
        if channel:
            outbox.owe_message(
                session,
                channel=channel,
                message=outbox.Rendered(text),
                plan_id=plan.id,
                now=now,
                dedupe_key=f"override-announce:{plan.id}:{plan.approval_round}:{channel}",
            )
    outbox.owe_message(
        session,
        channel=status.requested_by,
        message=outbox.Rendered(
            md(
                ":unlock: {} approved your override of {}. Deploy it now with the Deploy button "
                "on its card or `/release deploy {}`.",
                person(actor),
                plan.ref,
                plan.ref,
            )
        ),
        plan_id=plan.id,
        now=now,
        dedupe_key=f"override-approved-dm:{plan.id}:{plan.approval_round}",
    )
    outbox.owe_card(session, plan_id=plan.id, channel=channels.releases, now=now)
