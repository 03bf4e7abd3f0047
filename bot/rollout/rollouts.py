"""What people do to a rollout: deploy, promote, pause, resume, abort, roll back.

Each runs in the caller's transaction and only records intent and state; the engine
(bot/rollout/engine.py) makes the backend calls after the commit.
"""

from __future__ import annotations

from sqlmodel import Session

from bot.domain.context import BOT_ACTOR, DomainContext
from bot.domain.errors import InvalidInput
from bot.domain.lifecycle import Event
from bot.domain.mrkdwn import md, person
from bot.domain.states import state_label
from bot.notify.thread import say
from bot.release import gates, lanes
from bot.release.plans import get_plan, transition
from bot.rollout.stages import (
    ROLLOUT,
    begin_rollback,
    current_stage,
    retry_stage,
    stage_count,
    stages_of,
    start_rollout,
)
from bot.store import audit
from bot.store.models import PlanState, ReleasePlan, StageStatus


def deploy(
    session: Session,
    *,
    ctx: DomainContext,
    actor: str,
    plan_id: int,
    override_reason: str | None = None,
    because: str | None = None,
) -> ReleasePlan:
    """Start an approved plan's rollout (the gates decide whether it may start now).

    `because` is what let a held auto-deploy plan start ("R-3 is released"), for the thread.
    """
    plan = get_plan(session, plan_id=plan_id, for_update=True)
    lanes.lock(session, service=plan.service, environment=plan.environment)
    gates.ensure_deployable(
        session, ctx=ctx, plan=plan, actor=actor, override_reason=override_reason
    )
    transition(session, ctx=ctx, plan=plan, event=Event.DEPLOY, actor=actor, reason=override_reason)
    start_rollout(session, ctx=ctx, plan=plan)
    assert plan.id is not None
    count = stage_count(stages_of(session, plan_id=plan.id, phase=ROLLOUT))
    who = (
        md("automatically as its window opened")
        if actor == BOT_ACTOR
        else md("by {}", person(actor))
    )
    if because is not None:
        who = md("automatically now that {}", because)
    say(
        session,
        ctx=ctx,
        plan=plan,
        text=md(
            ":rocket: {} deploying {}: {}, {} stage{}.",
            plan.ref,
            who,
            plan.strategy,
            count,
            "s" if count != 1 else "",
        ),
    )
    return plan


def promote(session: Session, *, ctx: DomainContext, actor: str, plan_id: int) -> ReleasePlan:
    """Let a rollout past a manual gate or a pause, to its next stage."""
    plan = get_plan(session, plan_id=plan_id, for_update=True)
    gates.ensure_allowed_to_drive(ctx, plan=plan, actor=actor)
    if plan.state != PlanState.DEPLOYING:
        raise InvalidInput(
            f"can't promote {plan.ref}: it is {state_label(plan.state)} "
            "(promote moves a deploying rollout past a gate or a pause)"
        )
    assert plan.id is not None
    stage = current_stage(stages_of(session, plan_id=plan.id, phase=ROLLOUT))
    if stage is None or stage.status not in (StageStatus.AT_GATE, StageStatus.PAUSED_FOR):
        where = "is still running" if stage is not None else "has no stage left"
        raise InvalidInput(f"{plan.ref} is not waiting at a gate or a pause: its rollout {where}")
    stage.status = StageStatus.SUCCEEDED
    stage.finished_at = ctx.clock.now()
    plan.next_step_at = ctx.clock.now()
    plan.revision += 1
    transition_note(
        session, ctx=ctx, plan=plan, actor=actor, action="rollout.promoted", stage=stage.name
    )
    say(
        session,
        ctx=ctx,
        plan=plan,
        text=md(":fast_forward: {} promoted {} past {}.", person(actor), plan.ref, stage.name),
    )
    return plan


def pause(session: Session, *, ctx: DomainContext, actor: str, plan_id: int) -> ReleasePlan:
    """Hold the rollout before its next step (a running backend step finishes)."""
    plan = get_plan(session, plan_id=plan_id, for_update=True)
    gates.ensure_allowed_to_drive(ctx, plan=plan, actor=actor)
    transition(session, ctx=ctx, plan=plan, event=Event.PAUSE, actor=actor)
    say(
        session,
        ctx=ctx,
        plan=plan,
        text=md(":double_vertical_bar: {} paused {}.", person(actor), plan.ref),
    )
    plan.next_step_at = ctx.clock.now()
    return plan


def resume(session: Session, *, ctx: DomainContext, actor: str, plan_id: int) -> ReleasePlan:
    """Carry on a paused rollout; a failed or cancelled step is tried again."""
    plan = get_plan(session, plan_id=plan_id, for_update=True)
    gates.ensure_allowed_to_drive(ctx, plan=plan, actor=actor)
    transition(session, ctx=ctx, plan=plan, event=Event.RESUME, actor=actor)
    assert plan.id is not None
    stage = current_stage(stages_of(session, plan_id=plan.id, phase=ROLLOUT))
    if stage is not None and stage.status in (StageStatus.FAILED, StageStatus.CANCELLED):
        retry_stage(session, ctx=ctx, stage=stage)
    plan.next_step_at = ctx.clock.now()
    say(
        session,
        ctx=ctx,
        plan=plan,
        text=md(":arrow_forward: {} resumed {}.", person(actor), plan.ref),
    )
    return plan


def abort(
    session: Session, *, ctx: DomainContext, actor: str, plan_id: int, reason: str | None = None
) -> ReleasePlan:
    """Stop a rollout and roll it back."""
    plan = get_plan(session, plan_id=plan_id, for_update=True)
    gates.ensure_may_roll_back(ctx, plan=plan, actor=actor)
    begin_rollback(session, ctx=ctx, plan=plan, event=Event.ABORT, actor=actor, reason=reason)
    return plan


def rollback(
    session: Session, *, ctx: DomainContext, actor: str, plan_id: int, reason: str | None = None
) -> ReleasePlan:
    """Roll a plan back to its rollback target: one in flight, or the live release."""
    plan = get_plan(session, plan_id=plan_id, for_update=True)
    gates.ensure_may_roll_back(ctx, plan=plan, actor=actor)
    if plan.state in (PlanState.DEPLOYING, PlanState.PAUSED, PlanState.VERIFYING):
        event = Event.ABORT
    else:
        event = Event.ROLLBACK
        lanes.lock(session, service=plan.service, environment=plan.environment)
        if plan.state == PlanState.RELEASED:
            _ensure_live(session, plan=plan)
            lanes.ensure_free(session, plan=plan, doing="roll back")
    begin_rollback(session, ctx=ctx, plan=plan, event=event, actor=actor, reason=reason)
    return plan


def _ensure_live(session: Session, *, plan: ReleasePlan) -> None:
    """Only the release live in its environment can be rolled back; older ones are history."""
    live = lanes.live_release(session, service=plan.service, environment=plan.environment)
    if live is None or live.id == plan.id:
        return
    raise InvalidInput(
        f"can't roll back {plan.ref}: it is no longer live in {plan.environment}, "
        f"{live.ref} ({plan.service} {live.version}) replaced it. Only the live release can be "
        f"rolled back (that is {live.ref}); to go back further, plan that version: "
        f"`/release plan {plan.service} {plan.version} to {plan.environment}`."
    )


def transition_note(
    session: Session, *, ctx: DomainContext, plan: ReleasePlan, actor: str, action: str, stage: str
) -> None:
    """Audit a rollout step that is not a lifecycle transition."""
    audit.record(
        session,
        at=ctx.clock.now(),
        actor_id=actor,
        action=action,
        plan_id=plan.id,
        detail={"stage": stage},
    )
