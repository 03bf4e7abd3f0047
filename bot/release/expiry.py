"""Plan again (SPEC §2): an expired plan comes back with one click, in the next free slot."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from bot.domain.context import DomainContext
from bot.domain.errors import InvalidInput, PermissionDenied
from bot.domain.mrkdwn import md, person
from bot.domain.states import state_label
from bot.release import plans
from bot.store.models import PlanState, ReleasePlan

# A re-planned window must leave people time to approve and prepare.
MIN_LEAD = timedelta(minutes=30)


def next_window(
    start: datetime | None, end: datetime | None, *, now: datetime
) -> tuple[datetime | None, datetime | None]:
    """The same time slot moved by whole days until it starts at least MIN_LEAD from now.

    Teams release in habitual slots ("Tuesdays 15:00-17:00" is planned as a slot, not an
    instant), so the next day's same slot is the best guess; the requester can edit it.
    A window with only an end keeps its end time of day on the next day it is still ahead.
    """
    anchor = start if start is not None else end
    if anchor is None:
        return None, None
    days = max(0, (now + MIN_LEAD - anchor).days)
    while anchor + timedelta(days=days) < now + MIN_LEAD:
        days += 1
    shift = timedelta(days=days)
    return (start + shift if start else None), (end + shift if end else None)


def replan(
    session: Session, *, ctx: DomainContext, actor: str, plan_id: int
) -> tuple[ReleasePlan, bool]:
    """Create a new plan from an expired one: same fields, the window in its next slot.

    An expired plan is planned again once, however often its "Plan again" is clicked: returns
    the plan and True when this call made it, False when an earlier click did.
    """
    # Locked so two clicks at once take turns; the unique replanned_from backs this up.
    old = plans.get_plan(session, plan_id=plan_id, for_update=True)
    if old.state != PlanState.EXPIRED:
        raise InvalidInput(
            f"{old.ref} is {state_label(old.state)}; only an expired plan is planned again"
        )
    if actor != old.requester_id and not ctx.is_admin(actor):
        raise PermissionDenied(
            md(
                "only the requester ({}) or an admin may plan {} again",
                person(old.requester_id),
                old.ref,
            ),
            plan_id=old.id,
        )
    earlier = session.exec(select(ReleasePlan).where(ReleasePlan.replanned_from == old.id)).first()
    if earlier is not None:
        return earlier, False
    start, end = next_window(old.window_start, old.window_end, now=ctx.clock.now())
    # Risks the bot added itself (a rollback lock) are recomputed by create_plan.
    risks = tuple(r for r in old.risks if not r.startswith("The last release was rolled back"))
    created = plans.create_plan(
        session,
        ctx=ctx,
        actor=actor,
        new=plans.NewPlan(
            service=old.service,
            version=old.version,
            environment=old.environment,
            window_start=start,
            window_end=end,
            strategy=old.strategy,
            after=tuple(old.depends_on),
            notes=old.notes,
            risks=risks,
            stakeholders=tuple(old.stakeholders),
            artifact=dict(old.artifact),
            replanned_from=old.id,
        ),
    )
    return created, True
