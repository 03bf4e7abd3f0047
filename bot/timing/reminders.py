"""Reminders and timed plan work (SPEC §2, §4): what is owed when, scheduled as durable jobs.

Every reminder is a `ScheduledJob`; `on_plan_changed` recomputes a plan's jobs whenever the plan
is created, edited or decided (a `PlanChanged` event, handled just before its transaction commits),
superseding those a change made wrong. Handlers re-read the plan
and do nothing when it moved on, so a transition that forgot to call us is still safe.

A new kind is one `ReminderKind` in `KINDS` (its job kind, handler, the `MessageTemplate`s it
owes) plus its template in commands/render/announcements.py `TEMPLATES`; the bot refuses to
start when a declared template has no renderer (bot/timing/kinds.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, or_, select

from bot.domain.context import BOT_ACTOR, DomainContext
from bot.domain.durations import format_duration
from bot.domain.events import FreezeChanged, PlanChanged
from bot.domain.lifecycle import Event
from bot.domain.mrkdwn import md
from bot.domain.states import StageStatus, state_label
from bot.domain.working_hours import next_cron, next_working_moment, previous_cron
from bot.notify import outbox
from bot.notify.outbox_queue import MessageTemplate, Priority
from bot.notify.thread import say
from bot.release import holds, plans
from bot.store.db import Database
from bot.store.models import (
    Approval,
    DeploymentStage,
    Freeze,
    FreezeKind,
    PlanState,
    ReleasePlan,
    ScheduledJob,
)
from bot.timing import auto_deploy, scheduler
from bot.timing.kinds import ReminderKind, register_kinds
from bot.timing.scheduler import JobResult, JobRunner, done, not_needed, skipped

WINDOW_SOON = "window.soon"
WINDOW_OPEN = "window.open"
# The window of a plan deployed by hand opened: its card stops showing the window as a hold and
# offers Deploy (an auto-deploy plan's WINDOW_OPEN does this as it starts or refuses).
WINDOW_OPENED = "window.opened"
DEPLOY_NUDGE = "window.nudge"
APPROVAL_NUDGE = "approval.nudge"
EXPIRE = "plan.expire"
FREEZE_START = "freeze.start"
FREEZE_END = "freeze.end"
# A freeze starting or ending changes what holds the plans of its environment: their cards
# are redrawn (and, at the end, auto-deploy plans re-checked) however late this runs.
FREEZE_HOLDS = "freeze.holds"
DIGEST = "digest.weekly"
# A rollout waiting at a manual gate: its thread is told once who can Promote it.
GATE_NUDGE = "gate.nudge"

# The messages reminders owe, drawn by commands/render/announcements.py `TEMPLATES`; each kind
# lists the ones it may owe in `KINDS` (bottom of this module).
WINDOW_SOON_MESSAGE = MessageTemplate("window_soon", Priority.LOW)
APPROVAL_REMINDER = MessageTemplate("approval_reminder", Priority.LOW)
DEPLOY_NUDGE_MESSAGE = MessageTemplate("deploy_nudge", Priority.LOW)
PLAN_EXPIRED = MessageTemplate("plan_expired")
FREEZE_NOTICE = MessageTemplate("freeze_notice", Priority.LOW)
WEEKLY_DIGEST = MessageTemplate("weekly_digest", Priority.LOW)
GATE_NUDGE_MESSAGE = MessageTemplate("gate_nudge", Priority.LOW)

ACTOR = BOT_ACTOR
WAITING = (PlanState.AWAITING_APPROVAL, PlanState.APPROVED)
# The requester is nudged this long after the window opened with nothing deployed (or halfway
# through a shorter window): long enough to have started, early enough to still make it.
NUDGE_AFTER = timedelta(minutes=15)
# How far ahead recurring freezes and the digest are put in the database on each planning pass.
PLANNING_HORIZON = timedelta(days=8)
FREEZE_NOTICE_USEFUL_FOR = timedelta(hours=1)
DIGEST_USEFUL_FOR = timedelta(hours=12)
DIGEST_SPAN = timedelta(days=7)
PLANNING_INTERVAL = timedelta(minutes=5)


def plan_subject(plan_id: int) -> str:
    """The subject of a plan's jobs."""
    return f"plan:{plan_id}"


def _approval_subject(plan: ReleasePlan) -> str:
    # The round is part of the subject: a new round's first nudge may fall on the same 09:00.
    return f"plan:{plan.id}:r{plan.approval_round}"


# -- working hours and crons ------------------------------------------------------------------


def on_plan_changed(session: Session, *, ctx: DomainContext, plan: ReleasePlan) -> None:
    """Make the plan's pending jobs match the plan as it now is (after create/edit/decide)."""
    assert plan.id is not None
    now = ctx.clock.now()
    wanted = _wanted_jobs(session, ctx=ctx, plan=plan, now=now)
    keys = {(kind, subject, due) for kind, subject, due, _ in wanted}
    for job in _pending_of_plan(session, plan.id):
        # Re-checks of a held auto-deploy plan check for themselves whether they still apply.
        if job.kind != auto_deploy.RECHECK and (job.kind, job.subject, job.due_at) not in keys:
            scheduler.supersede(session, job, reason=_why_superseded(plan), now=now)
    session.flush()
    for kind, subject, due, payload in wanted:
        scheduler.schedule(session, kind=kind, subject=subject, due_at=due, payload=payload)


def plan_changed(session: Session, ctx: DomainContext, event: PlanChanged) -> None:
    """The `PlanChanged` subscriber: recompute the plan's jobs before the change commits."""
    plan = session.get(ReleasePlan, event.plan_id)
    if plan is not None:
        on_plan_changed(session, ctx=ctx, plan=plan)


def _why_superseded(plan: ReleasePlan) -> str:
    if plan.state not in WAITING:
        return f"{plan.ref} is {state_label(plan.state)}"
    return f"{plan.ref} changed (revision {plan.revision})"


Wanted = tuple[str, str, datetime, dict[str, Any]]


def _wanted_jobs(
    session: Session, *, ctx: DomainContext, plan: ReleasePlan, now: datetime
) -> list[Wanted]:
    if plan.state not in WAITING or plan.id is None:
        return []
    config = ctx.config
    subject = plan_subject(plan.id)
    wanted: list[Wanted] = []
    start, end = plan.window_start, plan.window_end
    if start is not None:
        stamp = {"window_start": start.isoformat()}
        for lead in config.reminders.before_window:
            if start - lead > now:
                payload = {**stamp, "lead_seconds": int(lead.total_seconds())}
                wanted.append((WINDOW_SOON, subject, start - lead, payload))
        if config.auto_deploys(plan.service, plan.environment):
            wanted.append((WINDOW_OPEN, subject, start, stamp))
        else:
            if start > now:
                wanted.append((WINDOW_OPENED, subject, start, stamp))
            nudge = start + NUDGE_AFTER
            if end is not None and nudge >= end:
                nudge = start + (end - start) / 2
            wanted.append((DEPLOY_NUDGE, subject, nudge, stamp))
    if end is not None:
        wanted.append((EXPIRE, subject, end, {"window_end": end.isoformat()}))
    policy = config.environment(plan.environment).approvals
    if plan.state == PlanState.AWAITING_APPROVAL and policy.required > 0:
        existing = scheduler.pending(session, subject=_approval_subject(plan), kind=APPROVAL_NUDGE)
        due = (
            existing[0].due_at
            if existing
            else next_working_moment(now + config.reminders.approval_every, config)
        )
        wanted.append(
            (APPROVAL_NUDGE, _approval_subject(plan), due, {"round": plan.approval_round})
        )
    return wanted


def _pending_of_plan(session: Session, plan_id: int) -> Sequence[ScheduledJob]:
    subject = plan_subject(plan_id)
    return session.exec(
        select(ScheduledJob).where(
            col(ScheduledJob.done_at).is_(None),
            or_(
                ScheduledJob.subject == subject,
                col(ScheduledJob.subject).startswith(subject + ":"),
            ),
        )
    ).all()


def on_freeze_changed(session: Session, *, ctx: DomainContext, freeze: Freeze) -> None:
    """Owe the start/end notices of an ad-hoc freeze (when one is created or lifted)."""
    if freeze.id is None or freeze.kind != FreezeKind.MANUAL:
        return
    now = ctx.clock.now()
    subject = f"freeze:{freeze.id}"
    if freeze.lifted_at is not None:
        for job in scheduler.pending(session, subject=subject):
            scheduler.supersede(session, job, reason="the freeze was lifted", now=now)
        return
    # A freeze that starts now is announced by whoever froze (bot.release.freezes); only a later one
    # needs its start told.
    payload = {"environment": freeze.environment}
    if freeze.starts_at > now:
        scheduler.schedule(session, kind=FREEZE_START, subject=subject, due_at=freeze.starts_at)
        scheduler.schedule(
            session,
            kind=FREEZE_HOLDS,
            subject=subject,
            due_at=freeze.starts_at,
            payload={**payload, "ending": False},
        )
    if freeze.ends_at is not None and freeze.ends_at > now:
        scheduler.schedule(session, kind=FREEZE_END, subject=subject, due_at=freeze.ends_at)
        scheduler.schedule(
            session,
            kind=FREEZE_HOLDS,
            subject=subject,
            due_at=freeze.ends_at,
            payload={**payload, "ending": True},
        )


def freeze_changed(session: Session, ctx: DomainContext, event: FreezeChanged) -> None:
    """The `FreezeChanged` subscriber: owe or drop the freeze's notices before it commits."""
    freeze = session.get(Freeze, event.freeze_id)
    if freeze is not None:
        on_freeze_changed(session, ctx=ctx, freeze=freeze)


def plan_recurring(session: Session, *, ctx: DomainContext) -> None:
    """Put the next digest, recurring freeze notices and ad-hoc freeze notices in the database.

    Idempotent (unique job keys); every process may run it on every planning pass.
    """
    config = ctx.config
    now = ctx.clock.now()
    tz = config.tz
    scheduler.schedule(
        session, kind=DIGEST, subject="digest", due_at=next_cron(config.reminders.digest, now, tz)
    )
    horizon = now + PLANNING_HORIZON
    for name, environment in config.environments.items():
        for index, rule in enumerate(environment.freezes):
            zone = rule.zone(tz)
            subject = f"freeze:{name}:{index}"
            start = previous_cron(rule.cron, now, zone)
            while start < horizon:
                end = start + rule.duration
                payload: dict[str, object] = {
                    "environment": name,
                    "reason": rule.reason,
                    "starts_at": start.isoformat(),
                    "ends_at": end.isoformat(),
                }
                if start >= now:
                    scheduler.schedule(
                        session, kind=FREEZE_START, subject=subject, due_at=start, payload=payload
                    )
                    scheduler.schedule(
                        session,
                        kind=FREEZE_HOLDS,
                        subject=subject,
                        due_at=start,
                        payload={"environment": name, "ending": False},
                    )
                if end >= now:
                    scheduler.schedule(
                        session, kind=FREEZE_END, subject=subject, due_at=end, payload=payload
                    )
                    scheduler.schedule(
                        session,
                        kind=FREEZE_HOLDS,
                        subject=subject,
                        due_at=end,
                        payload={"environment": name, "ending": True},
                    )
                start = next_cron(rule.cron, start, zone)
    manual = session.exec(
        select(Freeze).where(
            Freeze.kind == FreezeKind.MANUAL,
            col(Freeze.lifted_at).is_(None),
            or_(col(Freeze.ends_at).is_(None), col(Freeze.ends_at) > now),
        )
    ).all()
    for freeze in manual:
        on_freeze_changed(session, ctx=ctx, freeze=freeze)


# -- handlers ---------------------------------------------------------------------------------


def register(runner: JobRunner, *, ctx: DomainContext) -> None:
    """Teach `runner` every reminder kind (`KINDS`)."""
    register_kinds(runner, KINDS, ctx=ctx)


def _plan_of(session: Session, job: ScheduledJob) -> ReleasePlan | None:
    plan_id = int(job.subject.split(":")[1])
    return session.get(ReleasePlan, plan_id)


def _moved(plan: ReleasePlan, job: ScheduledJob) -> str | None:
    """Why the job no longer applies to the plan, or None when it still does."""
    if plan.state not in WAITING:
        return f"{plan.ref} is {state_label(plan.state)}"
    start = job.payload.get("window_start")
    if start is not None and (plan.window_start is None or plan.window_start.isoformat() != start):
        return f"{plan.ref}'s window moved"
    return None


def window_soon(
    session: Session, *, ctx: DomainContext, job: ScheduledJob, now: datetime
) -> JobResult:
    """T-24h/T-1h/T-15m: tell the requester (and stakeholders) the window is near."""
    plan = _plan_of(session, job)
    if plan is None or (why := _moved(plan, job)) is not None:
        return not_needed(why or "the plan is gone")
    assert plan.window_start is not None and plan.id is not None
    lead = timedelta(seconds=int(job.payload.get("lead_seconds", 0)))
    if now >= plan.window_start:
        return skipped(f"{plan.ref}'s window already opened")
    # A reminder more than a quarter of its lead late says the wrong thing ("in 1 h" at T-40m).
    if now - job.due_at > max(lead / 4, timedelta(minutes=2)):
        return skipped(f"the T-{_span(lead)} reminder of {plan.ref} is too late to be useful")
    people = [plan.requester_id, *(s for s in plan.stakeholders if s[:1] in ("U", "W"))]
    reminded = outbox.owe_dms(
        session,
        people=people,
        template=WINDOW_SOON_MESSAGE,
        context={"lead_seconds": int(lead.total_seconds())},
        plan_id=plan.id,
        now=now,
        key=f"window-soon:{plan.id}:{job.id}",
    )
    return done(f"reminded {reminded} people of the window of {plan.ref}")


def approval_nudge(
    session: Session, *, ctx: DomainContext, job: ScheduledJob, now: datetime
) -> JobResult:
    """Every `approval_every` in working hours: DM approvers who have not decided yet."""
    plan = _plan_of(session, job)
    if plan is None or plan.state != PlanState.AWAITING_APPROVAL:
        return not_needed("the plan is no longer awaiting approval")
    if int(job.payload.get("round", 0)) != plan.approval_round:
        return not_needed(f"{plan.ref} is in a newer approval round")
    every = ctx.config.reminders.approval_every
    follow_up = next_working_moment(max(now, job.due_at) + every, ctx.config)
    scheduler.schedule(
        session,
        kind=APPROVAL_NUDGE,
        subject=job.subject,
        due_at=follow_up,
        payload={"round": plan.approval_round},
    )
    if now - job.due_at > every:
        return skipped(f"the approval reminder of {plan.ref} is {_span(now - job.due_at)} late")
    people = undecided_approvers(session, ctx=ctx, plan=plan)
    nudged = outbox.owe_dms(
        session,
        people=people,
        template=APPROVAL_REMINDER,
        plan_id=plan.id,
        now=now,
        key=f"approval-nudge:{plan.id}:{job.id}",
    )
    return done(f"nudged {nudged} approvers of {plan.ref}")


def undecided_approvers(session: Session, *, ctx: DomainContext, plan: ReleasePlan) -> list[str]:
    """The approvers (groups expanded) who have not decided on the current round."""
    policy = ctx.config.environment(plan.environment).approvals
    people = ctx.people(policy.approvers)
    if not policy.allow_self:
        people.discard(plan.requester_id)
    decided = set(
        session.exec(
            select(Approval.approver_id).where(
                Approval.plan_id == plan.id, Approval.round == plan.approval_round
            )
        ).all()
    )
    return sorted(people - decided)


def _nudge_requester(
    session: Session, *, plan: ReleasePlan, job: ScheduledJob, now: datetime
) -> None:
    """DM the requester that the window is open and the plan waits for them to deploy it."""
    outbox.owe_message(
        session,
        channel=plan.requester_id,
        template=DEPLOY_NUDGE_MESSAGE,
        plan_id=plan.id,
        now=now,
        dedupe_key=f"deploy-nudge:{plan.id}:{job.id}",
    )


def deploy_nudge(
    session: Session, *, ctx: DomainContext, job: ScheduledJob, now: datetime
) -> JobResult:
    """The window opened and nothing was deployed: remind the requester."""
    plan = _plan_of(session, job)
    if plan is None or (why := _moved(plan, job)) is not None:
        return not_needed(why or "the plan is gone")
    if plan.window_end is not None and now >= plan.window_end:
        return skipped(f"{plan.ref}'s window already closed")
    _nudge_requester(session, plan=plan, job=job, now=now)
    return done(f"nudged <@{plan.requester_id}> to deploy {plan.ref}")


def window_opened(
    session: Session, *, ctx: DomainContext, job: ScheduledJob, now: datetime
) -> JobResult:
    """A plan deployed by hand: its window opened, so its card offers Deploy now."""
    plan = _plan_of(session, job)
    if plan is None or (why := _moved(plan, job)) is not None:
        return not_needed(why or "the plan is gone")
    assert plan.id is not None
    outbox.owe_card(session, plan_id=plan.id, channel=ctx.config.channels.releases, now=now)
    return done(f"{plan.ref}'s window opened; its card is redrawn")


def window_open(
    session: Session, *, ctx: DomainContext, job: ScheduledJob, now: datetime
) -> JobResult:
    """auto_deploy: start an approved plan when its window opens (the rollout engine deploys)."""
    plan = _plan_of(session, job)
    if plan is None or (why := _moved(plan, job)) is not None:
        return not_needed(why or "the plan is gone")
    assert plan.id is not None
    # Whatever happens next, the card no longer shows the window as a hold.
    outbox.owe_card(session, plan_id=plan.id, channel=ctx.config.channels.releases, now=now)
    if plan.window_end is not None and now >= plan.window_end:
        return skipped(f"{plan.ref}'s window closed before it could start")
    if plan.state != PlanState.APPROVED:
        # Its last approval re-checks it (bot/release/holds.py),
        # so it may still start in its window.
        _nudge_requester(session, plan=plan, job=job, now=now)
        return done(f"{plan.ref} is not approved; it does not start by itself")
    refusal = auto_deploy.start(session, ctx=ctx, plan=plan, because=None)
    if refusal is not None:
        # A gate said no (a freeze, an open checklist item): say so where people look.
        auto_deploy.refused_at_window_open(session, ctx=ctx, plan=plan, refusal=refusal, now=now)
        _nudge_requester(session, plan=plan, job=job, now=now)
        return done(f"{plan.ref} did not start by itself: {refusal}")
    return done(f"started {plan.ref} (auto_deploy)")


def expire(session: Session, *, ctx: DomainContext, job: ScheduledJob, now: datetime) -> JobResult:
    """The window ended before the plan started: it expires, and the requester may plan again."""
    plan = _plan_of(session, job)
    if plan is None or plan.state not in WAITING:
        return not_needed(f"{plan.ref if plan else 'the plan'} already moved on")
    assert plan.id is not None
    if plan.window_end is None or plan.window_end > now:
        return not_needed(f"{plan.ref}'s window no longer ends at {job.due_at.isoformat()}")
    plans.transition(
        session,
        ctx=ctx,
        plan=plan,
        event=Event.EXPIRE,
        actor=ACTOR,
        reason="its window ended before it was deployed",
    )
    on_plan_changed(session, ctx=ctx, plan=plan)
    say(
        session,
        ctx=ctx,
        plan=plan,
        text=md(":alarm_clock: {} expired: its window ended before it was deployed.", plan.ref),
        dedupe_key=f"expired-thread:{plan.id}",
    )
    outbox.owe_message(
        session,
        channel=plan.requester_id,
        template=PLAN_EXPIRED,
        plan_id=plan.id,
        now=now,
        dedupe_key=f"expired-dm:{plan.id}",
    )
    return done(f"{plan.ref} expired")


def freeze_notice(
    session: Session, *, ctx: DomainContext, job: ScheduledJob, now: datetime, starting: bool
) -> JobResult:
    """Tell the releases channel that a freeze starts or ends."""
    parts = job.subject.split(":")
    if len(parts) == 2:
        freeze = session.get(Freeze, int(parts[1]))
        if freeze is None or freeze.lifted_at is not None:
            return not_needed("the freeze was lifted")
        environment, reason = freeze.environment, freeze.reason
        service, ends_at = freeze.service, freeze.ends_at
        if not starting and (ends_at is None or ends_at > now):
            return not_needed("the freeze was extended")
    else:
        environment, reason, service = (
            str(job.payload["environment"]),
            str(job.payload["reason"]),
            None,
        )
        ends_at = datetime.fromisoformat(str(job.payload["ends_at"]))
    outbox.owe_message(
        session,
        channel=ctx.config.channels.releases,
        template=FREEZE_NOTICE,
        context={
            "starting": starting,
            "environment": environment,
            "service": service,
            "reason": reason,
            "ends_at": ends_at.isoformat() if ends_at else None,
        },
        now=now,
        dedupe_key=f"freeze-notice:{job.id}",
    )
    verb = "starts" if starting else "ends"
    return done(f"announced that the {environment} freeze {verb}")


def freeze_start(
    session: Session, *, ctx: DomainContext, job: ScheduledJob, now: datetime
) -> JobResult:
    """A freeze starts: tell the releases channel."""
    return freeze_notice(session, ctx=ctx, job=job, now=now, starting=True)


def freeze_end(
    session: Session, *, ctx: DomainContext, job: ScheduledJob, now: datetime
) -> JobResult:
    """A freeze ends: tell the releases channel."""
    return freeze_notice(session, ctx=ctx, job=job, now=now, starting=False)


def freeze_holds(
    session: Session, *, ctx: DomainContext, job: ScheduledJob, now: datetime
) -> JobResult:
    """A freeze began or ended: redraw the cards it holds; at its end, re-check auto-deploys."""
    environment = str(job.payload["environment"])
    ending = bool(job.payload.get("ending"))
    parts = job.subject.split(":")
    if len(parts) == 2:
        freeze = session.get(Freeze, int(parts[1]))
        if freeze is None or freeze.lifted_at is not None:
            return not_needed("the freeze was lifted")
        if ending and (freeze.ends_at is None or freeze.ends_at > now):
            return not_needed("the freeze was extended")
    cleared = f"the freeze of {environment} ended" if ending else None
    holds.holds_changed(session, ctx=ctx, environment=environment, cleared=cleared)
    return done(f"redrew the cards of {environment} as its freeze {'ends' if ending else 'starts'}")


def digest(session: Session, *, ctx: DomainContext, job: ScheduledJob, now: datetime) -> JobResult:
    """The weekly digest of upcoming releases; the next one is scheduled at once."""
    config = ctx.config
    scheduler.schedule(
        session,
        kind=DIGEST,
        subject="digest",
        due_at=next_cron(config.reminders.digest, max(now, job.due_at), config.tz),
    )
    channel = config.channels.announcements or config.channels.releases
    outbox.owe_message(
        session,
        channel=channel,
        template=WEEKLY_DIGEST,
        context={"since": now.isoformat(), "until": (now + DIGEST_SPAN).isoformat()},
        now=now,
        dedupe_key=f"digest:{job.id}",
    )
    return done("posted the weekly digest")


# -- a rollout waiting at its gate ------------------------------------------------------------


def gate_subject(stage_id: int) -> str:
    """The subject of a gate nudge: one per stage that stops at a gate.

    Not `plan:<id>…`: a plan's own jobs are recomputed on each change, this one is not.
    """
    return f"gate:{stage_id}"


def plan_gate_nudges(session: Session, *, ctx: DomainContext) -> None:
    """Owe one nudge for each rollout newly seen waiting at a gate, `gate_nudge_after` later.

    Run on every planning pass: a gate is seen at most PLANNING_INTERVAL after it is reached,
    so the nudge comes that much late at worst, never early. Within working hours.
    """
    config = ctx.config
    now = ctx.clock.now()
    waiting = session.exec(
        select(DeploymentStage)
        .join(ReleasePlan, col(ReleasePlan.id) == col(DeploymentStage.plan_id))
        .where(
            DeploymentStage.status == StageStatus.AT_GATE,
            ReleasePlan.state == PlanState.DEPLOYING,
        )
    ).all()
    for stage in waiting:
        assert stage.id is not None
        subject = gate_subject(stage.id)
        seen = session.exec(
            select(ScheduledJob.id).where(
                ScheduledJob.kind == GATE_NUDGE, ScheduledJob.subject == subject
            )
        ).first()
        if seen is not None:
            continue
        scheduler.schedule(
            session,
            kind=GATE_NUDGE,
            subject=subject,
            due_at=next_working_moment(now + config.reminders.gate_nudge_after, config),
            payload={"plan_id": stage.plan_id, "stage_id": stage.id, "since": now.isoformat()},
        )


def gate_nudge(
    session: Session, *, ctx: DomainContext, job: ScheduledJob, now: datetime
) -> JobResult:
    """The rollout still waits at the same gate: tell its thread who can Promote it."""
    plan = session.get(ReleasePlan, int(job.payload["plan_id"]))
    stage = session.get(DeploymentStage, int(job.payload["stage_id"]))
    if plan is None or stage is None:
        return not_needed("the plan is gone")
    if plan.state != PlanState.DEPLOYING or stage.status != StageStatus.AT_GATE:
        return not_needed(f"{plan.ref} is no longer waiting at {stage.name}")
    assert plan.id is not None and stage.id is not None
    outbox.owe_thread_template(
        session,
        plan_id=plan.id,
        channel=ctx.config.channels.releases,
        template=GATE_NUDGE_MESSAGE,
        context={"stage_id": stage.id, "since": job.payload["since"]},
        now=now,
        dedupe_key=f"gate-nudge:{stage.id}",
    )
    return done(f"told the thread of {plan.ref} that it waits at {stage.name}")


def upcoming(session: Session, *, since: datetime, until: datetime) -> Sequence[ReleasePlan]:
    """Plans waiting or in flight whose window opens before `until` (or that have none)."""
    active = [
        PlanState.AWAITING_APPROVAL,
        PlanState.APPROVED,
        PlanState.DEPLOYING,
        PlanState.PAUSED,
        PlanState.VERIFYING,
    ]
    return session.exec(
        select(ReleasePlan)
        .where(
            col(ReleasePlan.state).in_([s.value for s in active]),
            or_(col(ReleasePlan.window_start).is_(None), col(ReleasePlan.window_start) < until),
            or_(col(ReleasePlan.window_end).is_(None), col(ReleasePlan.window_end) > since),
        )
        .order_by(col(ReleasePlan.window_start), col(ReleasePlan.id))
        .limit(200)
    ).all()


def _span(delta: timedelta) -> str:
    return format_duration(delta, largest="h", smallest="m")


KINDS: tuple[ReminderKind, ...] = (
    ReminderKind(WINDOW_SOON, window_soon, (WINDOW_SOON_MESSAGE,)),
    ReminderKind(WINDOW_OPEN, window_open, (DEPLOY_NUDGE_MESSAGE,)),
    ReminderKind(WINDOW_OPENED, window_opened),
    ReminderKind(DEPLOY_NUDGE, deploy_nudge, (DEPLOY_NUDGE_MESSAGE,)),
    ReminderKind(APPROVAL_NUDGE, approval_nudge, (APPROVAL_REMINDER,)),
    # Expiry is a state change, not a message: it happens however late we get to it.
    ReminderKind(EXPIRE, expire, (PLAN_EXPIRED,)),
    ReminderKind(
        FREEZE_START, freeze_start, (FREEZE_NOTICE,), stale_after=FREEZE_NOTICE_USEFUL_FOR
    ),
    ReminderKind(FREEZE_END, freeze_end, (FREEZE_NOTICE,), stale_after=FREEZE_NOTICE_USEFUL_FOR),
    ReminderKind(FREEZE_HOLDS, freeze_holds),
    ReminderKind(DIGEST, digest, (WEEKLY_DIGEST,), stale_after=DIGEST_USEFUL_FOR),
    ReminderKind(holds.RECHECK, auto_deploy.recheck),  # a held auto-deploy plan tried again
    ReminderKind(GATE_NUDGE, gate_nudge, (GATE_NUDGE_MESSAGE,)),
)
"""Every kind of timed job: the runner's handlers and the renderer's templates follow from it."""


def planner(db: Database, *, ctx: DomainContext) -> Callable[[], None]:
    """A planning pass for the background scheduler, in its own transaction: recurring work,
    and the nudges of rollouts newly seen waiting at a gate."""

    def plan() -> None:
        with db.session() as session:
            plan_recurring(session, ctx=ctx)
            plan_gate_nudges(session, ctx=ctx)

    return plan


def build_scheduler(
    db: Database, *, ctx: DomainContext, on_messages: Callable[[], None], owner: str | None = None
) -> scheduler.Scheduler:
    """The runner with every reminder kind, polled by APScheduler, planning recurring work."""
    runner = JobRunner(db=db, clock=ctx.clock, owner=owner)
    register(runner, ctx=ctx)
    runner.after_pass = on_messages  # jobs owe messages: wake delivery
    background = scheduler.Scheduler(runner=runner)
    background.add_interval(planner(db, ctx=ctx), PLANNING_INTERVAL.total_seconds(), name="plan")
    return background
