"""A lane is one service in one environment: one rollout at a time in it, one release live.

Rollouts in a lane are serialised (SPEC §9): a deploy or a rollback while another plan of the
lane is in flight is refused, naming that plan, rather than queued. A queue would start a plan
later, unattended, on top of whatever the first rollout left behind (a rollback, a lock); a
refusal leaves that decision to a person, and both cards show who waits on whom.

The live release is the released plan deployed last (not the highest plan id: a plan made later
may deploy first); it is what a new rollout would roll back to.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.domain.context import DomainContext
from bot.domain.errors import InvalidInput
from bot.domain.lifecycle import IN_FLIGHT
from bot.domain.states import state_label
from bot.notify import outbox
from bot.store.models import PlanState, ReleasePlan

# Plans that have not started: they wait for their lane.
WAITING = (PlanState.AWAITING_APPROVAL, PlanState.APPROVED)
_IN_FLIGHT = [s.value for s in IN_FLIGHT]


def lock(session: Session, *, service: str, environment: str) -> None:
    """Hold the lane until the transaction ends, so two deploys cannot both find it free.

    PostgreSQL takes a transaction-scoped advisory lock; SQLite transactions already take the
    database's write lock when they begin (bot/store/db.py).
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"lane\0{service}\0{environment}".encode()).digest()
    session.exec(select(func.pg_advisory_xact_lock(int.from_bytes(digest[:8], signed=True))))


def in_flight(
    session: Session, *, service: str, environment: str, excluding: int | None = None
) -> ReleasePlan | None:
    """The plan deploying, paused, verifying or rolling back in the lane, if any."""
    statement = select(ReleasePlan).where(
        ReleasePlan.service == service,
        ReleasePlan.environment == environment,
        col(ReleasePlan.state).in_(_IN_FLIGHT),
    )
    if excluding is not None:
        statement = statement.where(ReleasePlan.id != excluding)
    return session.exec(statement.order_by(col(ReleasePlan.id)).limit(1)).first()


def waiting(session: Session, *, service: str, environment: str) -> Sequence[ReleasePlan]:
    """The lane's plans that have not started yet, oldest first."""
    return session.exec(
        select(ReleasePlan)
        .where(
            ReleasePlan.service == service,
            ReleasePlan.environment == environment,
            col(ReleasePlan.state).in_([s.value for s in WAITING]),
        )
        .order_by(col(ReleasePlan.id))
    ).all()


def live_release(
    session: Session, *, service: str, environment: str, excluding: int | None = None
) -> ReleasePlan | None:
    """The released plan deployed last in the lane (`excluding` one: the release before it)."""
    statement = select(ReleasePlan).where(
        ReleasePlan.service == service,
        ReleasePlan.environment == environment,
        ReleasePlan.state == PlanState.RELEASED,
    )
    if excluding is not None:
        statement = statement.where(ReleasePlan.id != excluding)
    # deployed_at DESC NULLS LAST, id DESC, as two probes of ix_release_plan_lane_deployed:
    # one ORDER BY with NULLS LAST sorted every release of the lane (issue 13).
    deployed = statement.where(col(ReleasePlan.deployed_at).is_not(None)).order_by(
        col(ReleasePlan.deployed_at).desc(), col(ReleasePlan.id).desc()
    )
    found = session.exec(deployed.limit(1)).first()
    if found is not None:
        return found
    never = statement.where(col(ReleasePlan.deployed_at).is_(None))
    return session.exec(never.order_by(col(ReleasePlan.id).desc()).limit(1)).first()


def ensure_free(session: Session, *, plan: ReleasePlan, doing: str) -> None:
    """Refuse to start a rollout or a rollback of `plan` while another plan of its lane runs."""
    busy = in_flight(session, service=plan.service, environment=plan.environment, excluding=plan.id)
    if busy is None:
        return
    state = state_label(busy.state)
    raise InvalidInput(
        f"can't {doing} {plan.ref} now: {busy.ref} ({plan.service} {busy.version}) is {state} "
        f"in {plan.environment}, and a service rolls out to an environment one plan at a time. "
        f"{plan.ref} can go once {busy.ref} has ended (released or rolled back)."
    )


def refresh(session: Session, *, ctx: DomainContext, plan: ReleasePlan, before: str | None) -> None:
    """Owe the cards of the lane that show `plan`, when its move changed what they show.

    Waiting cards name the plan in flight, the card in flight names those waiting, and only the
    live release keeps its Roll back button.
    """
    if before is not None and _standing(before) == _standing(plan.state):
        return
    related = session.exec(
        select(ReleasePlan.id).where(
            ReleasePlan.service == plan.service,
            ReleasePlan.environment == plan.environment,
            col(ReleasePlan.state).in_([*_IN_FLIGHT, *(s.value for s in WAITING)]),
            ReleasePlan.id != plan.id,
        )
    ).all()
    ids = set(related)
    if PlanState.RELEASED in (before, plan.state) or plan.state in (
        PlanState.ROLLED_BACK,
        PlanState.FAILED,
    ):
        live = live_release(session, service=plan.service, environment=plan.environment)
        superseded = live_release(
            session, service=plan.service, environment=plan.environment, excluding=plan.id
        )
        ids |= {p.id for p in (live, superseded) if p is not None}
    now = ctx.clock.now()
    for plan_id in sorted(i for i in ids if i is not None and i != plan.id):
        outbox.owe_card(session, plan_id=plan_id, channel=ctx.config.channels.releases, now=now)


def _standing(state: str) -> str:
    """How a plan counts for the rest of its lane: waiting, in flight (cards of waiting plans
    name its state), released, or over."""
    if state in _IN_FLIGHT:
        return state
    if state in WAITING:
        return "waiting"
    return "released" if state == PlanState.RELEASED else "over"
