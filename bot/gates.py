"""What must be true before a plan may deploy or roll back; each refusal says what is missing."""

from __future__ import annotations

from sqlmodel import Session, col, select

from bot.context import DomainContext
from bot.errors import IllegalTransition, InvalidInput
from bot.lifecycle import Event, can
from bot.models import ChecklistItem, PlanState, ReleasePlan
from bot.policy import ensure_allowed


def ensure_deployable(
    session: Session,
    *,
    ctx: DomainContext,
    plan: ReleasePlan,
    actor: str,
    override_reason: str | None = None,
) -> None:
    """Refuse a deploy the policy, the dependencies or the checklist do not allow yet."""
    if not can(plan.state, Event.DEPLOY):
        raise IllegalTransition(
            f"can't deploy {plan.ref}: it is {plan.state.replace('_', ' ')} "
            "(a plan deploys once it is approved)"
        )
    ensure_allowed(ctx, actor=actor, action="deploy", environment=plan.environment)
    if plan.window_start is not None and ctx.clock.now() < plan.window_start:
        raise InvalidInput(
            f"{plan.ref}'s window has not opened yet; edit the window or wait until it opens"
        )
    if plan.depends_on:
        released = set(
            session.exec(
                select(ReleasePlan.id).where(
                    col(ReleasePlan.id).in_(plan.depends_on),
                    ReleasePlan.state == PlanState.RELEASED,
                )
            ).all()
        )
        waiting = [f"R-{d}" for d in plan.depends_on if d not in released]
        if waiting:
            raise InvalidInput(f"{plan.ref} comes after {', '.join(waiting)}, not released yet")
    open_items = session.exec(
        select(ChecklistItem).where(
            ChecklistItem.plan_id == plan.id,
            ChecklistItem.phase == "pre_deploy",
            col(ChecklistItem.required).is_(True),
            col(ChecklistItem.ticked_at).is_(None),
        )
    ).all()
    if open_items:
        listed = ", ".join(f"{i.name} (<@{i.assignee}>)" for i in open_items)
        raise InvalidInput(f"{plan.ref} can't deploy until these are ticked: {listed}")


def ensure_may_roll_back(ctx: DomainContext, *, plan: ReleasePlan, actor: str) -> None:
    """Refuse a rollback the environment's policy does not allow this person."""
    ensure_allowed(ctx, actor=actor, action="rollback", environment=plan.environment)


def ensure_allowed_to_drive(ctx: DomainContext, *, plan: ReleasePlan, actor: str) -> None:
    """Promote, pause and resume need the deploy permission of the plan's environment."""
    ensure_allowed(ctx, actor=actor, action="deploy", environment=plan.environment)
