"""One rollout per service and environment (issue 9 item 6), seen from Slack.

A second deploy while a plan of the same service and environment is in flight is refused,
naming that plan; both cards show who waits on whom. The rollback target is what is live
when the rollout starts, not what was live when the plan was made.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.store.models import PlanState
from tests.scenario.driver import SlackDriver, buttons, card_text
from tests.scenario.releases import deploy_envs, non_cards, plan, release_payments

# deploy.sh records every call in the test's own log, never in tests/fixtures/.
pytestmark = pytest.mark.usefixtures("deploy_calls")


def test_a_second_rollout_of_a_service_to_an_environment_is_refused_while_one_is_in_flight(
    slack: SlackDriver, deploy_calls: Path
) -> None:
    plan(slack, "checkout 1.4.1 to staging")
    slack.command("U0REQUESTER", "deploy R-1")
    slack.roll(lambda: "waiting for Promote" in card_text(slack.card("R-1")))
    plan(slack, "checkout 1.4.2 to staging")
    plan(slack, "payments 2.0 to staging")  # another lane: not held

    slack.command("U0REQUESTER", "deploy R-2")
    assert slack.ephemerals("U0REQUESTER")[-1] == (
        "can't deploy R-2 now: R-1 (checkout 1.4.1) is deploying in staging, and a service "
        "rolls out to an environment one plan at a time. R-2 can go once R-1 has ended "
        "(released or rolled back)."
    )
    slack.command("U0REQUESTER", "pause R-1")
    slack.command("U0APPROVER1", "deploy R-2")
    assert "R-1 (checkout 1.4.1) is paused in staging" in slack.ephemerals("U0APPROVER1")[-1]
    slack.settle()

    assert (
        ":construction: R-1 (`1.4.1`) is paused in staging: R-2 can deploy once it has ended"
        in (card_text(slack.card("R-2")))
    )
    assert "Waiting for this rollout to end: R-2 (`1.4.2`)." in card_text(slack.card("R-1"))
    assert "Waiting for this rollout" not in card_text(slack.card("R-3"))
    assert slack.state(2) == PlanState.APPROVED
    assert all(line.split()[2] == "1.4.1" for line in deploy_calls.read_text().splitlines())

    slack.command("U0REQUESTER", "resume R-1")
    slack.command("U0REQUESTER", "promote R-1")
    slack.roll(lambda: slack.state(1) == PlanState.RELEASED)
    assert ":construction:" not in card_text(slack.card("R-2"))
    assert "Waiting for this rollout" not in card_text(slack.card("R-1"))

    slack.command("U0REQUESTER", "deploy R-2")
    slack.roll(lambda: "waiting for Promote" in card_text(slack.card("R-2")))
    assert deploy_calls.read_text().splitlines()[-1] == "deploy checkout 1.4.2 staging 50"
    assert deploy_envs(deploy_calls)[-1]["RELEASE_PREVIOUS_VERSION"] == "1.4.1"


def test_the_rollback_target_is_the_release_live_when_the_rollout_starts(
    slack: SlackDriver, deploy_calls: Path
) -> None:
    release_payments(slack, 1, "1.0")
    plan(slack, "payments 2.0-bad to staging")  # made while 1.0 was live
    assert "*Rolls back to*\n1.0" in card_text(slack.card("R-2"))
    release_payments(slack, 3, "1.5")
    slack.settle()
    assert "*Rolls back to*\n1.5" in card_text(slack.card("R-2"))

    slack.command("U0REQUESTER", "deploy R-2")
    slack.roll(lambda: slack.state(2) == PlanState.ROLLED_BACK)

    assert deploy_calls.read_text().splitlines()[-2:] == [
        "deploy payments 2.0-bad staging 100",
        "rollback payments 1.5 staging 100",
    ]
    assert deploy_envs(deploy_calls)[-1]["RELEASE_PREVIOUS_VERSION"] == "1.5"
    [alert] = non_cards(slack, "C0ONCALL")
    assert "rolling back to 1.5" in alert
    assert buttons(slack.card("R-3")) == ["Roll back"]  # 1.5 is live again
