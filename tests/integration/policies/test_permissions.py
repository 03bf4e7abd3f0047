"""Who may do what (SPEC §5) where each rule is enforced, through the desk that audits refusals.

The rules themselves are tested without a database in tests/unit/domain/test_policy.py.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import Session, select

from bot.domain.errors import PermissionDenied
from bot.domain.policy import Action
from bot.release import checklists, freezes, gates, plans
from bot.release.desk import Desk
from bot.store.db import Database
from bot.store.models import AuditEvent, ReleasePlan
from console.testing import ManualClock
from tests.integration.policies.conftest import approved_production_plan, config_with, desk_for
from tests.unit.domain.test_policy import CONFIGURED, CONFIGURED_RULES

Attempt = Callable[[Session, Desk, ReleasePlan, str], object]


def _plan(session: Session, desk: Desk, plan: ReleasePlan, actor: str) -> object:
    new = plans.NewPlan(service="checkout", version="1.4.2", environment="production")
    return plans.create_plan(session, ctx=desk.ctx, actor=actor, new=new)


def _deploy(session: Session, desk: Desk, plan: ReleasePlan, actor: str) -> object:
    gates.ensure_deployable(session, ctx=desk.ctx, plan=plan, actor=actor)
    return None


def _rollback(session: Session, desk: Desk, plan: ReleasePlan, actor: str) -> object:
    gates.ensure_may_roll_back(desk.ctx, plan=plan, actor=actor)
    return None


def _freeze(session: Session, desk: Desk, plan: ReleasePlan, actor: str) -> object:
    return freezes.freeze(
        session, ctx=desk.ctx, actor=actor, environment="production", until=None, reason="Audit"
    )


def _override(session: Session, desk: Desk, plan: ReleasePlan, actor: str) -> object:
    assert plan.id is not None
    return gates.approve_override(
        session, ctx=desk.ctx, actor=actor, plan_id=plan.id, round_seen=plan.approval_round
    )


ATTEMPTS: dict[str, Attempt] = {
    "plan": _plan,
    "deploy": _deploy,
    "rollback": _rollback,
    "freeze": _freeze,
    "override": _override,
}


@pytest.fixture
def configured(db: Database, clock: ManualClock) -> tuple[Desk, ReleasePlan]:
    """Production with CONFIGURED_RULES; R-2 approved with its QA sign-off ticked."""
    desk = desk_for(db, config_with(CONFIGURED_RULES), clock)
    plan = approved_production_plan(desk)
    assert plan.id is not None
    with desk.db.session() as session:
        checklists.tick(session, ctx=desk.ctx, actor="U0QA", plan_id=plan.id, item="QA sign-off")
    return desk, plan


@pytest.mark.parametrize(("action", "actor", "refusal"), CONFIGURED)
def test_each_rule_where_it_is_enforced(
    configured: tuple[Desk, ReleasePlan], action: Action, actor: str, refusal: str | None
) -> None:
    desk, plan = configured
    if action == "override":
        # An override is only there to approve during a freeze, once someone asked for it.
        with desk.db.session() as session:
            _freeze(session, desk, plan, "U0ADMIN")
        with desk.db.session() as session:
            assert plan.id is not None
            gates.request_override(
                session, ctx=desk.ctx, actor="U0REQUESTER", plan_id=plan.id, reason="hotfix"
            )
    attempt = ATTEMPTS[action]
    if refusal is None:
        desk.act(actor=actor, request_key=None, work=lambda s: attempt(s, desk, plan, actor))
        return
    with pytest.raises(PermissionDenied) as refused:
        desk.act(actor=actor, request_key=None, work=lambda s: attempt(s, desk, plan, actor))
    assert refusal in refused.value.message
    with desk.db.session() as session:
        audited = session.exec(
            select(AuditEvent).where(AuditEvent.action == "permission.refused")
        ).all()
    assert [(e.actor_id, e.reason) for e in audited] == [(actor, refused.value.message)]
    if action in ("deploy", "override"):
        assert audited[0].plan_id == plan.id  # the refusal is in the plan's trail
