"""Read models: everything a card or a reply shows about a plan, gathered in one place."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot.domain.context import DomainContext
from bot.release import lanes
from bot.release.approvals import ApprovalStatus, approval_status
from bot.release.plans import get_plan
from bot.store.models import (
    AuditEvent,
    ChecklistItem,
    CheckRun,
    DeploymentStage,
    PlanState,
    ReleasePlan,
)

NEVER_DEPLOYED = frozenset(
    {
        PlanState.AWAITING_APPROVAL,
        PlanState.APPROVED,
        PlanState.REJECTED,
        PlanState.CANCELLED,
        PlanState.EXPIRED,
    }
)

# States a plan reaches through a rollback (a failed plan only when its rollback failed).
AFTER_ROLLBACK = frozenset({PlanState.ROLLING_BACK, PlanState.ROLLED_BACK, PlanState.FAILED})


@dataclass(frozen=True)
class PlanSnapshot:
    """A plan with its approvals and checklist, as of one read."""

    plan: ReleasePlan
    approvals: ApprovalStatus
    checklist: tuple[ChecklistItem, ...]
    timezone: ZoneInfo
    approvals_needed: bool
    stages: tuple[DeploymentStage, ...] = ()
    check_runs: tuple[CheckRun, ...] = ()
    # What a rollback would go back to: for a plan not started yet, the release live now.
    rolls_back_to: str | None = None
    # A released plan a later release replaced: it can no longer be rolled back.
    superseded_by: ReleasePlan | None = None
    # The audit event that started its rollback: who, and why.
    rollback: AuditEvent | None = None
    # The team's date when read: times in another year are shown with their year.
    today: date | None = None

    @property
    def open_pre_deploy_items(self) -> tuple[ChecklistItem, ...]:
        """Required items that block a deploy."""
        return tuple(
            i for i in self.checklist if i.required and i.phase == "pre_deploy" and not i.ticked_at
        )


def snapshot(session: Session, *, ctx: DomainContext, plan_id: int) -> PlanSnapshot:
    """Read a plan and what hangs off it."""
    plan = get_plan(session, plan_id=plan_id)
    return snapshot_of(session, ctx=ctx, plan=plan)


def snapshot_of(session: Session, *, ctx: DomainContext, plan: ReleasePlan) -> PlanSnapshot:
    """Gather the read model of an already loaded plan.

    Cards are read on every `/release show` and every delivery, so tables that cannot hold
    rows for the plan's state are not queried: a plan that never deployed has no stages or
    check runs, and an environment without approvals has no decisions.
    """
    items: Sequence[ChecklistItem] = session.exec(
        select(ChecklistItem)
        .where(ChecklistItem.plan_id == plan.id)
        .order_by(col(ChecklistItem.id))
    ).all()
    approvals_needed = ctx.config.environment(plan.environment).approvals.required > 0
    stages: Sequence[DeploymentStage] = ()
    runs: Sequence[CheckRun] = ()
    if plan.state not in NEVER_DEPLOYED:
        stages = session.exec(
            select(DeploymentStage)
            .where(DeploymentStage.plan_id == plan.id)
            .order_by(col(DeploymentStage.seq))
        ).all()
        runs = session.exec(
            select(CheckRun).where(CheckRun.plan_id == plan.id).order_by(col(CheckRun.id))
        ).all()
    approvals = (
        approval_status(session, ctx=ctx, plan=plan)
        if approvals_needed
        else ApprovalStatus(required=0, approvals=(), rejections=(), eligible=())
    )
    rolls_back_to = plan.rollback_version
    superseded_by = rollback = None
    if plan.state in lanes.WAITING:
        live = lanes.live_release(
            session, service=plan.service, environment=plan.environment, excluding=plan.id
        )
        rolls_back_to = live.version if live is not None else None
    elif plan.state == PlanState.RELEASED:
        live = lanes.live_release(session, service=plan.service, environment=plan.environment)
        superseded_by = live if live is not None and live.id != plan.id else None
    elif plan.state in AFTER_ROLLBACK:
        rollback = session.exec(
            select(AuditEvent)
            .where(AuditEvent.plan_id == plan.id, AuditEvent.to_state == PlanState.ROLLING_BACK)
            .order_by(col(AuditEvent.id).desc())
        ).first()
    return PlanSnapshot(
        plan=plan,
        approvals=approvals,
        checklist=tuple(items),
        timezone=ctx.config.tz,
        today=ctx.clock.now().astimezone(ctx.config.tz).date(),
        approvals_needed=approvals_needed,
        stages=tuple(stages),
        check_runs=tuple(runs),
        rolls_back_to=rolls_back_to,
        superseded_by=superseded_by,
        rollback=rollback,
    )
