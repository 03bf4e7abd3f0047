"""auto_deploy (SPEC §2): a plan starts by itself as its window opens, or once its holds clear.

A plan a gate holds back when its window opens (a dependency not released yet, an item not
ticked, a freeze) is tried again while the window is open: at once after each event that clears
a hold (bot/release/holds.py owes a `window.recheck` job), and every RECHECK_EVERY as a safety
net for a hold that clears without an event. Only the first refusal is posted; the plan starts once
(its state moves on), and its thread says what let it start.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from sqlmodel import Session

from bot.domain.context import BOT_ACTOR, DomainContext
from bot.domain.errors import ReleasebotError
from bot.domain.mrkdwn import md
from bot.notify.thread import say
from bot.release import gates, holds
from bot.store import audit
from bot.store.models import ReleasePlan, ScheduledJob
from bot.timing import scheduler
from bot.timing.scheduler import JobResult, done, not_needed

RECHECK = holds.RECHECK
RECHECK_EVERY = timedelta(minutes=10)
# A safety re-check that finds nothing holding the plan waits this long before starting it:
# the event that cleared the hold (owed a re-check of its own) starts it first and says why.
SAFETY_GRACE = timedelta(minutes=1)
SAFETY_REASON = "nothing holds it any more"
ACTOR = BOT_ACTOR


class Deploy(Protocol):
    """Starts an approved plan's rollout as `actor`, or raises the gate's ReleasebotError."""

    def __call__(
        self,
        session: Session,
        *,
        ctx: DomainContext,
        actor: str,
        plan_id: int,
        because: str | None = None,
    ) -> object: ...


# The rollout starter (bot.rollout.rollouts.deploy), handed in by the composition root: the
# rollouts sit above the rules that schedule us, so we must not import them.
_deploy: Deploy | None = None


def starts_rollouts_with(deploy: Deploy) -> None:
    """Have held or window-opened auto-deploy plans started by `deploy`."""
    global _deploy
    _deploy = deploy


def start(
    session: Session, *, ctx: DomainContext, plan: ReleasePlan, because: str | None
) -> str | None:
    """Deploy `plan` as the bot; None when it started, else the gate's refusal.

    `because` is what cleared ("R-3 is released"), None at the window's start.
    """
    assert plan.id is not None
    if _deploy is None:
        raise RuntimeError(
            "auto_deploy has no rollout starter: the composition root "
            "(bot.app.wiring.wire_defaults) was not called in this process"
        )
    try:
        with session.begin_nested():
            _deploy(session, ctx=ctx, actor=ACTOR, plan_id=plan.id, because=because)
    except ReleasebotError as refusal:
        return refusal.message
    return None


def keep_checking(
    session: Session, *, plan: ReleasePlan, after: datetime, wait: timedelta = RECHECK_EVERY
) -> None:
    """Owe the next safety re-check of a held plan, if its window is still open by then."""
    due = after + wait
    if plan.window_end is not None and due >= plan.window_end:
        return
    # A subject of its own, so a re-check an event owes at the same moment is not swallowed.
    scheduler.schedule(
        session,
        kind=RECHECK,
        subject=f"plan:{plan.id}:safety",
        due_at=due,
        payload={"periodic": True, "confirm": wait == SAFETY_GRACE},
    )


def recheck(session: Session, *, ctx: DomainContext, job: ScheduledJob, now: datetime) -> JobResult:
    """Start a held auto-deploy plan if nothing holds it now; quietly wait otherwise."""
    plan = session.get(ReleasePlan, int(job.subject.split(":")[1]))
    if plan is None or not holds.starts_by_itself_now(ctx, plan=plan, at=now):
        ref = plan.ref if plan is not None else job.subject
        return not_needed(f"{ref} does not wait to start by itself in an open window")
    if job.payload.get("periodic") and not job.payload.get("confirm"):
        refusal = _refusal(session, ctx=ctx, plan=plan)
        if refusal is None:
            keep_checking(session, plan=plan, after=max(now, job.due_at), wait=SAFETY_GRACE)
            return done(f"nothing seems to hold {plan.ref}; it starts in {SAFETY_GRACE}")
        keep_checking(session, plan=plan, after=max(now, job.due_at))
        return done(f"{plan.ref} is still held: {refusal}")
    reason = str(job.payload.get("reason") or SAFETY_REASON)
    refusal = start(session, ctx=ctx, plan=plan, because=reason)
    if refusal is None:
        audit.record(
            session,
            at=now,
            actor_id=ACTOR,
            action="auto_deploy.retried",
            plan_id=plan.id,
            reason=reason,
        )
        return done(f"started {plan.ref} (auto_deploy): {reason}")
    if job.payload.get("periodic"):
        keep_checking(session, plan=plan, after=max(now, job.due_at))
    return done(f"{plan.ref} is still held: {refusal}")


def _refusal(session: Session, *, ctx: DomainContext, plan: ReleasePlan) -> str | None:
    """Why a deploy of `plan` by the bot would be refused now, or None (nothing is written)."""
    try:
        gates.ensure_deployable(session, ctx=ctx, plan=plan, actor=ACTOR)
    except ReleasebotError as refusal:
        return refusal.message
    return None


def refused_at_window_open(
    session: Session, *, ctx: DomainContext, plan: ReleasePlan, refusal: str, now: datetime
) -> None:
    """Say once why the plan did not start, that it will when that clears, and keep checking."""
    assert plan.id is not None
    audit.record(
        session,
        at=now,
        actor_id=ACTOR,
        action="auto_deploy.refused",
        plan_id=plan.id,
        reason=refusal,
    )
    until = (
        f"until its window closes ({_local(plan.window_end, ctx)})"
        if plan.window_end is not None
        else "while its window is open"
    )
    say(
        session,
        ctx=ctx,
        plan=plan,
        text=md(
            ":no_entry: {}'s window opened but it did not start by itself: {}. It starts by "
            "itself as soon as that clears, {}.",
            plan.ref,
            refusal,
            until,
        ),
        dedupe_key=f"auto-deploy-refused:{plan.id}:{plan.window_start}",
    )
    keep_checking(session, plan=plan, after=now)


def _local(moment: datetime | None, ctx: DomainContext) -> str:
    assert moment is not None
    local = moment.astimezone(ctx.config.tz)
    return local.strftime("%a %d %b %H:%M ") + (local.tzname() or str(ctx.config.tz))
