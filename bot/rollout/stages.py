"""Stage rows: creating them from a strategy, finding the current one, failing a rollout."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from bot.domain.context import BOT_ACTOR, DomainContext
from bot.domain.lifecycle import Event
from bot.domain.mrkdwn import md, person
from bot.domain.strategies import StagePlan, rollback_stages, rollback_words, rollout_stages
from bot.notify import announcements
from bot.notify.thread import say
from bot.release import freezes, lanes
from bot.release.plans import get_plan, transition
from bot.store import audit
from bot.store.models import DeploymentStage, PlanState, ReleasePlan, StageStatus

ENGINE = BOT_ACTOR
ROLLOUT = "rollout"
ROLLBACK = "rollback"
DONE = (StageStatus.SUCCEEDED,)


def stages_of(session: Session, *, plan_id: int, phase: str | None = None) -> list[DeploymentStage]:
    """A plan's stage rows in execution order (retries included)."""
    statement = select(DeploymentStage).where(DeploymentStage.plan_id == plan_id)
    if phase is not None:
        statement = statement.where(DeploymentStage.phase == phase)
    return list(session.exec(statement.order_by(col(DeploymentStage.seq))).all())


def current_stage(rows: Sequence[DeploymentStage]) -> DeploymentStage | None:
    """The latest attempt of the first stage not yet succeeded (None: all done)."""
    latest: dict[int, DeploymentStage] = {}
    for row in rows:
        latest[row.stage_index] = row
    for index in sorted(latest):
        if latest[index].status != StageStatus.SUCCEEDED:
            return latest[index]
    return None


def stage_count(rows: Sequence[DeploymentStage]) -> int:
    """How many distinct stages the phase has."""
    return len({r.stage_index for r in rows})


def colour_before(session: Session, *, plan: ReleasePlan) -> str | None:
    """The colour a blue/green service served from before this plan (None: nothing yet)."""
    previous = lanes.live_release(
        session, service=plan.service, environment=plan.environment, excluding=plan.id
    )
    if previous is None or previous.id is None:
        return None
    switched = [
        r
        for r in stages_of(session, plan_id=previous.id, phase=ROLLOUT)
        if r.colour and r.weight == 100 and r.status == StageStatus.SUCCEEDED
    ]
    return switched[-1].colour if switched else None


def colour_of(session: Session, *, plan: ReleasePlan) -> str | None:
    """The colour a blue/green rollout of `plan` deployed to (None: not blue/green)."""
    assert plan.id is not None
    colours = [r.colour for r in stages_of(session, plan_id=plan.id, phase=ROLLOUT) if r.colour]
    return colours[0] if colours else None


def add_stages(
    session: Session,
    *,
    ctx: DomainContext,
    plan: ReleasePlan,
    phase: str,
    stages: Sequence[StagePlan],
) -> list[DeploymentStage]:
    """Persist the stages of a phase as pending rows, before any backend is called."""
    assert plan.id is not None
    existing = stages_of(session, plan_id=plan.id)
    seq = max((r.seq for r in existing), default=0)
    now = ctx.clock.now()
    backend = ctx.config.service(plan.service).backend
    rows = []
    for stage in stages:
        seq += 1
        action = "rollback" if phase == ROLLBACK else "deploy"
        version = (plan.rollback_version or plan.version) if phase == ROLLBACK else plan.version
        rows.append(
            DeploymentStage(
                plan_id=plan.id,
                seq=seq,
                phase=phase,
                kind=stage.kind,
                action=action,
                stage_index=stage.index,
                name=stage.name,
                version=version,
                weight=stage.weight,
                colour=stage.colour,
                status=StageStatus.PENDING,
                idempotency_key=f"{plan.ref}:{phase}:{stage.index}:{seq}",
                backend=backend if stage.kind == "deploy" else "flag",
                created_at=now,
            )
        )
    session.add_all(rows)
    session.flush()
    return rows


def start_rollout(session: Session, *, ctx: DomainContext, plan: ReleasePlan) -> None:
    """Record what is live now as the rollback target, persist the stages, wake the engine."""
    live = lanes.live_release(session, service=plan.service, environment=plan.environment)
    plan.rollback_version = live.version if live is not None else None
    plan.deployed_at = ctx.clock.now()
    add_stages(
        session,
        ctx=ctx,
        plan=plan,
        phase=ROLLOUT,
        stages=rollout_stages(ctx, plan=plan, live_colour=colour_before(session, plan=plan)),
    )
    plan.next_step_at = ctx.clock.now()


def retry_stage(session: Session, *, ctx: DomainContext, stage: DeploymentStage) -> None:
    """A new attempt of a failed or cancelled stage (a fresh idempotency key)."""
    plan = get_plan(session, plan_id=stage.plan_id)
    seq = max(r.seq for r in stages_of(session, plan_id=stage.plan_id)) + 1
    session.add(
        DeploymentStage(
            plan_id=stage.plan_id,
            seq=seq,
            phase=stage.phase,
            kind=stage.kind,
            action=stage.action,
            stage_index=stage.stage_index,
            name=stage.name,
            version=stage.version,
            weight=stage.weight,
            colour=stage.colour,
            status=StageStatus.PENDING,
            idempotency_key=f"{plan.ref}:{stage.phase}:{stage.stage_index}:{seq}",
            backend=stage.backend,
            created_at=ctx.clock.now(),
        )
    )


def begin_rollback(
    session: Session,
    *,
    ctx: DomainContext,
    plan: ReleasePlan,
    event: Event,
    actor: str,
    reason: str | None,
) -> None:
    """Stop the rollout and persist the rollback's stages; say why in the thread, alert."""
    colour = colour_before(session, plan=plan)
    deployed_colour = colour_of(session, plan=plan)
    assert plan.id is not None
    for row in stages_of(session, plan_id=plan.id, phase=ROLLOUT):
        if row.status not in (StageStatus.SUCCEEDED, StageStatus.FAILED, StageStatus.CANCELLED):
            row.status = StageStatus.CANCELLED
            row.message = f"stopped: {reason}" if reason else "stopped"
            row.finished_at = ctx.clock.now()
            if row.handle:
                # The backend call that stops it happens outside this transaction.
                row.handle = {**row.handle, "cancel_pending": True}
    transition(session, ctx=ctx, plan=plan, event=event, actor=actor, reason=reason)
    add_stages(
        session,
        ctx=ctx,
        plan=plan,
        phase=ROLLBACK,
        stages=rollback_stages(
            ctx, plan=plan, previous_colour=colour, deployed_colour=deployed_colour
        ),
    )
    plan.next_step_at = ctx.clock.now()
    by = md("automatically") if actor == ENGINE else md("by {}", person(actor))
    why = md("\n*Why:* {}", reason) if reason else ""
    say(
        session,
        ctx=ctx,
        plan=plan,
        text=md(
            ":rewind: {}: {} ({}).{}",
            plan.ref,
            rollback_words(plan.version, plan.rollback_version),
            by,
            why,
        ),
    )
    announcements.owe_rollback_alert(session, ctx=ctx, plan=plan, reason=reason or "", actor=actor)


def rollback_cause(session: Session, *, plan: ReleasePlan) -> tuple[str, str]:
    """Why the plan's latest rollback started ("" when nobody said) and who started it
    (ENGINE when the bot did), as its audit trail says."""
    assert plan.id is not None
    started = [e for e in audit.trail(session, plan_id=plan.id) if e.to_state == "rolling_back"]
    if not started:
        return "", ENGINE
    last = started[-1]
    return last.reason or "", last.actor_id


def fail_rollout(session: Session, *, ctx: DomainContext, plan: ReleasePlan, reason: str) -> None:
    """A stage or a check failed: the service's on_failure decides (rollback or pause)."""
    if plan.state == PlanState.ROLLING_BACK:
        why, rolled_back_by = rollback_cause(session, plan=plan)
        transition(
            session, ctx=ctx, plan=plan, event=Event.ROLLBACK_FAILED, actor=ENGINE, reason=reason
        )
        plan.next_step_at = None
        # What runs now is unknown: nothing more goes out until a person has looked.
        freezes.lock_after_rollback(
            session,
            ctx=ctx,
            plan=plan,
            actor=ENGINE,
            reason="; ".join(part for part in (why, "the rollback failed") if part),
            rolled_back_by=rolled_back_by,
        )
        announcements.owe_rollback_alert(
            session,
            ctx=ctx,
            plan=plan,
            reason=f"the rollback itself failed: {reason}",
            actor=ENGINE,
        )
        return
    if ctx.config.service(plan.service).on_failure == "pause":
        if plan.state != PlanState.PAUSED:
            transition(session, ctx=ctx, plan=plan, event=Event.PAUSE, actor=ENGINE, reason=reason)
        plan.next_step_at = None
        say(
            session,
            ctx=ctx,
            plan=plan,
            text=md(
                ":double_vertical_bar: {} paused: {}. Resume retries the failed step; "
                "Abort rolls back.",
                plan.ref,
                reason,
            ),
        )
        return
    begin_rollback(
        session, ctx=ctx, plan=plan, event=Event.CHECK_FAILED, actor=ENGINE, reason=reason
    )
