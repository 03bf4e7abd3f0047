"""Who may do what (SPEC §5), rule by rule: allowed and refused, the refusal naming its rule.

No database: the rules as the policy reads them from config. tests/integration/policies/
test_permissions.py checks the same table where each rule is enforced.
"""

from __future__ import annotations

import pytest

from bot.domain.config import ReleasebotConfig
from bot.domain.context import DomainContext, StaticDirectory
from bot.domain.errors import PermissionDenied
from bot.domain.policy import Action, ensure_allowed, requires_approval
from console.testing import ManualClock
from tests.conftest import GROUPS
from tests.helpers import config_with

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


def test_only_environments_with_a_quorum_need_approval(config: ReleasebotConfig) -> None:
    ctx = _ctx(config)
    assert requires_approval(ctx, environment="production")
    assert not requires_approval(ctx, environment="staging")
