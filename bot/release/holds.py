"""What holds a waiting plan back, and what is owed when a hold clears or can never clear.

A plan `after R-n` waits until R-n is released. Any plan may be a dependency (another service,
another environment: ordering across services is what `after` is for); a plan that can never
be released (rejected, cancelled, expired, rolled back, failed) may not become one, and a plan
whose dependency dies is told so on its card and its requester by DM, once.

When a freeze or a rollback lock begins or ends, the cards of the plans it holds are owed.
When a hold clears (a dependency released, an item ticked, a freeze over, a lock lifted, the
last approval, an override approved), every affected auto-deploy plan whose window is open is
re-checked at once by a `window.recheck` job (bot/timing/auto_deploy.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.domain.context import DomainContext
from bot.domain.errors import InvalidInput, NotFound
from bot.domain.lifecycle import TERMINAL
from bot.domain.mrkdwn import md
from bot.domain.states import state_label
from bot.notify import outbox
from bot.notify.thread import say
from bot.store.models import PlanState, ReleasePlan, ScheduledJob
from bot.timing import scheduler

RECHECK = "window.recheck"
WAITING = (PlanState.AWAITING_APPROVAL.value, PlanState.APPROVED.value)
# How a plan that can never be released is named in a sentence ("R-3 was rolled back").
DEAD_WORDS: dict[str, str] = {
    PlanState.REJECTED: "was rejected",
    PlanState.CANCELLED: "was cancelled",
    PlanState.EXPIRED: "expired",
    PlanState.ROLLED_BACK: "was rolled back",
    PlanState.FAILED: "failed",
}


@dataclass(frozen=True)
class Dependency:
    """A plan another plan goes after, as it stands now."""

    plan_id: int
    service: str
    version: str
    environment: str
    state: str

    @property
    def ref(self) -> str:
        """R-3."""
        return f"R-{self.plan_id}"

    @property
    def released(self) -> bool:
        """True once the dependency is released: it no longer holds anything back."""
        return self.state == PlanState.RELEASED

    @property
    def dead(self) -> bool:
        """True when the dependency can never be released."""
        return self.state in TERMINAL

    def fate(self) -> str:
        """`was rolled back`, or `is deploying` while it may still be released."""
        return DEAD_WORDS.get(self.state) or f"is {state_label(self.state)}"


def dependencies(session: Session, *, plan: ReleasePlan) -> tuple[Dependency, ...]:
    """The plans `plan` goes after, in the order it lists them."""
    if not plan.depends_on:
        return ()
    rows = session.exec(select(ReleasePlan).where(col(ReleasePlan.id).in_(plan.depends_on))).all()
    found = {r.id: r for r in rows}
    return tuple(_dependency(found[d]) for d in plan.depends_on if d in found)


def check_after(session: Session, *, plan: ReleasePlan | None, after: Sequence[int]) -> None:
    """Refuse dependencies a plan could never deploy after: unknown, dead, itself, a cycle.

    `plan` is None for a plan being created (it cannot be in a cycle: it is the newest).
    """
    for plan_id in after:
        if plan is not None and plan_id == plan.id:
            raise InvalidInput(f"{plan.ref} can't go after itself")
        dependency = session.get(ReleasePlan, plan_id)
        if dependency is None:
            raise NotFound(f"there is no plan R-{plan_id}")
        if dependency.state in TERMINAL:
            if plan is None:
                raise InvalidInput(
                    f"{dependency.ref} {DEAD_WORDS[dependency.state]}, so a plan after it could "
                    "never deploy; plan without `after`, or after another plan"
                )
            raise InvalidInput(
                f"{dependency.ref} {DEAD_WORDS[dependency.state]}, so {plan.ref} could never "
                f"deploy after it; choose another plan, or `after none`"
            )
        if plan is not None and _reaches(session, start=dependency, target=plan.id):
            raise InvalidInput(
                f"{dependency.ref} already goes after {plan.ref} (directly or through other "
                f"plans), so {plan.ref} can't go after {dependency.ref}"
            )


def after_transition(session: Session, *, ctx: DomainContext, plan: ReleasePlan) -> None:
    """Tell the plans waiting on `plan` what its new state means for them (call on every move)."""
    assert plan.id is not None
    if plan.state == PlanState.APPROVED:
        recheck_auto_deploys(session, ctx=ctx, plans=[plan], reason="it is approved")
    if plan.state != PlanState.RELEASED and plan.state not in TERMINAL:
        return
    now = ctx.clock.now()
    dependents = waiting_dependents(session, plan_id=plan.id)
    for dependent in dependents:
        assert dependent.id is not None
        outbox.owe_card(
            session, plan_id=dependent.id, channel=ctx.config.channels.releases, now=now
        )
        if plan.state == PlanState.RELEASED:
            say(
                session,
                ctx=ctx,
                plan=dependent,
                text=md(
                    ":link: {} is released; {} no longer waits for it.", plan.ref, dependent.ref
                ),
                dedupe_key=f"dependency-released:{dependent.id}:{plan.id}",
            )
        else:
            _tell_blocked(session, ctx=ctx, dependent=dependent, dependency=plan, now=now)
    if plan.state == PlanState.RELEASED:
        recheck_auto_deploys(session, ctx=ctx, plans=dependents, reason=f"{plan.ref} is released")


def waiting_dependents(session: Session, *, plan_id: int) -> list[ReleasePlan]:
    """Plans that have not started and go after `plan_id`."""
    # depends_on is a JSON list; the plans still waiting are few, so they are filtered here
    # rather than with a JSON query that SQLite and PostgreSQL spell differently.
    waiting = session.exec(
        select(ReleasePlan).where(col(ReleasePlan.state).in_(WAITING)).order_by(col(ReleasePlan.id))
    ).all()
    return [p for p in waiting if plan_id in p.depends_on]


def holds_changed(
    session: Session,
    *,
    ctx: DomainContext,
    environment: str,
    service: str | None = None,
    cleared: str | None = None,
) -> None:
    """A freeze or lock of `environment` (one `service`'s, for a lock) began or ended.

    The cards of plans that have not started are owed (they show the hold); with `cleared`
    (what ended, as a clause: "the staging freeze ended"), auto-deploy plans are re-checked.
    """
    statement = select(ReleasePlan).where(
        ReleasePlan.environment == environment, col(ReleasePlan.state).in_(WAITING)
    )
    if service is not None:
        statement = statement.where(ReleasePlan.service == service)
    affected = session.exec(statement.order_by(col(ReleasePlan.id))).all()
    now = ctx.clock.now()
    for plan in affected:
        assert plan.id is not None
        outbox.owe_card(session, plan_id=plan.id, channel=ctx.config.channels.releases, now=now)
    if cleared is not None:
        recheck_auto_deploys(session, ctx=ctx, plans=affected, reason=cleared)


def recheck_auto_deploys(
    session: Session, *, ctx: DomainContext, plans: Iterable[ReleasePlan], reason: str
) -> None:
    """Owe an immediate re-check of each plan that would start by itself if nothing held it.

    `reason` says what cleared ("R-3 is released"); the thread quotes it if the plan starts.
    """
    now = ctx.clock.now()
    for plan in plans:
        if plan.id is not None and starts_by_itself_now(ctx, plan=plan, at=now):
            subject = f"plan:{plan.id}"
            scheduler.schedule(
                session,
                kind=RECHECK,
                subject=subject,
                due_at=_free_moment(session, subject=subject, at=now),
                payload={"reason": reason},
            )


def _free_moment(session: Session, *, subject: str, at: datetime) -> datetime:
    """`at`, or the first microsecond after it no finished re-check of `subject` has taken.

    Jobs are unique per (kind, subject, due time): a re-check already run at this very moment
    would otherwise swallow the new one; a pending one there is fine (it runs anyway).
    """
    taken = set(
        session.exec(
            select(ScheduledJob.due_at).where(
                ScheduledJob.kind == RECHECK,
                ScheduledJob.subject == subject,
                col(ScheduledJob.due_at) >= at,
                col(ScheduledJob.done_at).is_not(None),
            )
        ).all()
    )
    while at in taken:
        at += timedelta(microseconds=1)
    return at


def starts_by_itself_now(ctx: DomainContext, *, plan: ReleasePlan, at: datetime) -> bool:
    """True for an approved auto-deploy plan whose window is open at `at`."""
    return (
        plan.state == PlanState.APPROVED
        and ctx.config.auto_deploys(plan.service, plan.environment)
        and plan.window_start is not None
        and plan.window_start <= at
        and (plan.window_end is None or at < plan.window_end)
    )


def _dependency(row: ReleasePlan) -> Dependency:
    assert row.id is not None
    return Dependency(
        plan_id=row.id,
        service=row.service,
        version=row.version,
        environment=row.environment,
        state=row.state,
    )


def _reaches(session: Session, *, start: ReleasePlan, target: int | None) -> bool:
    """True when `start` goes after `target`, directly or through other plans."""
    seen: set[int] = set()
    todo = list(start.depends_on)
    while todo:
        current = todo.pop()
        if current == target:
            return True
        if current in seen:
            continue
        seen.add(current)
        row = session.get(ReleasePlan, current)
        if row is not None:
            todo.extend(row.depends_on)
    return False


def _tell_blocked(
    session: Session,
    *,
    ctx: DomainContext,
    dependent: ReleasePlan,
    dependency: ReleasePlan,
    now: datetime,
) -> None:
    """The dependency died: say so in the dependent's thread and to its requester, once."""
    assert dependent.id is not None and dependency.id is not None
    fate = DEAD_WORDS[dependency.state]
    fix = md(
        "Change that with `/release edit {} after none` (or after another plan), or cancel {}.",
        dependent.ref,
        dependent.ref,
    )
    say(
        session,
        ctx=ctx,
        plan=dependent,
        text=md(
            ":no_entry: {} {}, so {} can never deploy after it. {}",
            dependency.ref,
            fate,
            dependent.ref,
            fix,
        ),
        dedupe_key=f"dependency-dead:{dependent.id}:{dependency.id}",
    )
    outbox.owe_message(
        session,
        channel=dependent.requester_id,
        message=outbox.Rendered(
            md(
                ":no_entry: {} ({} {} → {}) {}, so your plan {} ({} {} → {}) can never deploy "
                "after it. {}",
                dependency.ref,
                dependency.service,
                dependency.version,
                dependency.environment,
                fate,
                dependent.ref,
                dependent.service,
                dependent.version,
                dependent.environment,
                fix,
            )
        ),
        plan_id=dependent.id,
        now=now,
        dedupe_key=f"dependency-dead-dm:{dependent.id}:{dependency.id}",
    )
