"""Who may do what (SPEC §5), rule by rule: allowed and refused, the refusal naming its rule."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import Session, select

from bot.domain.config import ReleasebotConfig
from bot.domain.context import DomainContext, StaticDirectory
from bot.domain.errors import PermissionDenied
from bot.domain.policy import Action, ensure_allowed
from bot.release import checklists, freezes, gates, plans
from bot.release.desk import Desk
from bot.store.db import Database
from bot.store.models import AuditEvent, ReleasePlan
from console.testing import ManualClock
from tests.conftest import GROUPS
from tests.integration.policies.conftest import approved_production_plan, config_with, desk_for

# The defaults of SPEC §5, from a config with no permissions table (sre = APPROVER4 + ADMIN).
DEFAULTS: list[tuple[Action, str, str | None]] = [
    ("plan", "U0STRANGER", None),
    ("deploy", "U0STRANGER", None),
    ("rollback", "U0STRANGER", None),
    ("freeze", "U0ADMIN", None),
    ("freeze", "U0APPROVER4", "environments.production.permissions.freeze allows admins"),
    ("override", "U0ADMIN", None),
    ("override", "U0REQUESTER", "environments.production.permissions.override allows admins"),
]

CONFIGURED_RULES = """
[environments.production.permissions]
plan = ["@sre", "U0REQUESTER"]
deploy = ["U0REQUESTER"]
rollback = ["@sre"]
freeze = ["admins", "U0APPROVER1"]
override = ["@sre"]
"""

CONFIGURED: list[tuple[Action, str, str | None]] = [
    ("plan", "U0APPROVER4", None),
    ("plan", "U0REQUESTER", None),
    ("plan", "U0STRANGER", "permissions.plan allows @sre, <@U0REQUESTER>"),
    ("deploy", "U0REQUESTER", None),
    ("deploy", "U0ADMIN", "permissions.deploy allows <@U0REQUESTER>"),
    ("rollback", "U0APPROVER4", None),
    ("rollback", "U0REQUESTER", "permissions.rollback allows @sre"),
    ("freeze", "U0ADMIN", None),
    ("freeze", "U0APPROVER1", None),
    ("freeze", "U0APPROVER2", "permissions.freeze allows admins, <@U0APPROVER1>"),
    ("override", "U0APPROVER4", None),
    ("override", "U0APPROVER1", "permissions.override allows @sre"),
]


def _ctx(config: ReleasebotConfig) -> DomainContext:
    return DomainContext(config=config, clock=ManualClock(), directory=StaticDirectory(GROUPS))


@pytest.mark.parametrize(("action", "actor", "refusal"), DEFAULTS)
def test_default_rules(
    config: ReleasebotConfig, action: Action, actor: str, refusal: str | None
) -> None:
    _check(_ctx(config), action, actor, refusal)


@pytest.mark.parametrize(("action", "actor", "refusal"), CONFIGURED)
def test_configured_rules(action: Action, actor: str, refusal: str | None) -> None:
    _check(_ctx(config_with(CONFIGURED_RULES)), action, actor, refusal)


def test_a_rule_of_one_environment_does_not_reach_another() -> None:
    ensure_allowed(
        _ctx(config_with(CONFIGURED_RULES)),
        actor="U0STRANGER",
        action="plan",
        environment="staging",
    )


def _check(ctx: DomainContext, action: Action, actor: str, refusal: str | None) -> None:
    if refusal is None:
        ensure_allowed(ctx, actor=actor, action=action, environment="production")
        return
    with pytest.raises(PermissionDenied) as refused:
        ensure_allowed(ctx, actor=actor, action=action, environment="production")
    assert refused.value.message.startswith(f"you may not {action} in production: ")
    assert refused.value.message.endswith(refusal)


# -- the same rules where they are enforced, through the desk that audits refusals -------------

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
