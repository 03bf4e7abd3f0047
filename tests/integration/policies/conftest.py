"""Policy fixtures: plans at the gate, configs with other rules, and the Slack driver."""

from __future__ import annotations

import pytest

from bot.domain.config import ReleasebotConfig
from bot.domain.context import DomainContext, StaticDirectory
from bot.release import plans
from bot.release.approvals import decide
from bot.release.desk import Desk
from bot.store.db import Database
from bot.store.models import Decision, ReleasePlan
from console.testing import ManualClock
from tests.conftest import GROUPS
from tests.helpers import config_with as config_with
from tests.helpers import walk_to_released

# Every fixture the Slack driver needs (`slack` and whatever it is built from), shared as is.
from tests.scenario.conftest import *  # noqa: F403

BERLIN_WEEKENDS = (
    ('reason = "Weekend freeze" }', 'reason = "Weekend freeze", timezone = "Europe/Berlin" }'),
)


def desk_for(db: Database, config: ReleasebotConfig, clock: ManualClock) -> Desk:
    """A desk on `db` with another config."""
    return Desk(
        db=db, ctx=DomainContext(config=config, clock=clock, directory=StaticDirectory(GROUPS))
    )


def released_to_staging(desk: Desk, *, version: str = "1.4.2", service: str = "checkout") -> None:
    """Plan `service` `version` to staging and walk it to released."""
    with desk.db.session() as session:
        staging = plans.create_plan(
            session,
            ctx=desk.ctx,
            actor="U0REQUESTER",
            new=plans.NewPlan(service=service, version=version, environment="staging"),
        )
        walk_to_released(session, ctx=desk.ctx, plan=staging)


def approved_production_plan(desk: Desk) -> ReleasePlan:
    """checkout 1.4.2 to production, approved by two approvers; its QA sign-off is open."""
    released_to_staging(desk)
    with desk.db.session() as session:
        plan = plans.create_plan(
            session,
            ctx=desk.ctx,
            actor="U0REQUESTER",
            new=plans.NewPlan(service="checkout", version="1.4.2", environment="production"),
        )
    assert plan.id is not None
    for approver in ("U0APPROVER1", "U0APPROVER2"):
        with desk.db.session() as session:
            plan = decide(
                session,
                ctx=desk.ctx,
                actor=approver,
                plan_id=plan.id,
                decision=Decision.APPROVE,
                comment=None,
            )
    return plan


@pytest.fixture
def approved(desk: Desk) -> ReleasePlan:
    """R-2: checkout 1.4.2 to production, approved, QA sign-off still open."""
    return approved_production_plan(desk)
