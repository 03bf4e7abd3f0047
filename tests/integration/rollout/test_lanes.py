"""Two deploys of one service to one environment at the same moment: one starts, one is told."""

from __future__ import annotations

import threading

from bot.domain.errors import InvalidInput, ReleasebotError
from bot.release import plans
from bot.release.desk import Desk
from bot.rollout import rollouts
from bot.store.models import PlanState


def test_a_deploy_waits_for_a_concurrent_one_of_its_lane_and_then_is_refused(desk: Desk) -> None:
    with desk.db.session() as session:
        for version in ("1.0", "1.1"):
            plans.create_plan(
                session,
                ctx=desk.ctx,
                actor="U0REQUESTER",
                new=plans.NewPlan(service="payments", version=version, environment="staging"),
            )
    second: list[ReleasebotError | PlanState] = []

    def deploy_second() -> None:
        try:
            with desk.db.session() as session:
                plan = rollouts.deploy(session, ctx=desk.ctx, actor="U0REQUESTER", plan_id=2)
                second.append(PlanState(plan.state))
        except ReleasebotError as refusal:
            second.append(refusal)

    with desk.db.session() as session:
        rollouts.deploy(session, ctx=desk.ctx, actor="U0REQUESTER", plan_id=1)
        racer = threading.Thread(target=deploy_second)
        racer.start()
        # R-1's transaction is still open: R-2's deploy must wait for it, not read around it.
        racer.join(timeout=1.0)
        assert racer.is_alive()
    racer.join(timeout=30)

    [outcome] = second
    assert isinstance(outcome, InvalidInput)
    assert outcome.message.startswith("can't deploy R-2 now: R-1 (payments 1.0) is deploying")
    with desk.db.session() as session:
        assert plans.get_plan(session, plan_id=2).state == PlanState.APPROVED
