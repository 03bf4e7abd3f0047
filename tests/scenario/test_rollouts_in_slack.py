"""Deploying from Slack: the Deploy button, stage replies, the manual gate, Promote,
the announcement with its Roll back button, and a check that rolls back by itself."""

from __future__ import annotations

from pathlib import Path

from bot.store.models import PlanState
from commands.ids import ActionId
from tests.scenario.conftest import Health
from tests.scenario.driver import SlackDriver, buttons, card_text


def _staging(slack: SlackDriver, version: str = "1.4.2") -> None:
    slack.command("U0REQUESTER", f"plan checkout {version} to staging")
    slack.settle()


def test_a_canary_deployed_from_the_card_waits_at_its_gate_and_is_released(
    slack: SlackDriver, deploy_calls: Path
) -> None:
    _staging(slack)
    slack.click("U0REQUESTER", slack.card("R-1"), ActionId.DEPLOY)
    slack.roll(lambda: "waiting for Promote" in card_text(slack.card("R-1")))

    card = slack.card("R-1")
    assert "*Rollout:* stage 2 of 3 — canary 50%: waiting for Promote" in card_text(card)
    assert buttons(card) == ["Promote", "Pause", "Abort"]
    thread = slack.thread(card)
    assert thread[0] == ":rocket: R-1 deploying by <@U0REQUESTER>: canary, 3 stages."
    assert ":arrow_forward: Stage 1 of 3 — canary 10%: started." in thread
    assert any(t.startswith(":vertical_traffic_light: R-1 is at canary 50%") for t in thread)

    slack.click("U0APPROVER1", slack.card("R-1"), ActionId.PROMOTE)
    slack.roll(lambda: slack.state(1) == PlanState.RELEASED)
    card = slack.card("R-1")
    assert card.text == "R-1 · checkout 1.4.2 → staging: Released"
    assert buttons(card) == ["Roll back"]
    assert deploy_calls.read_text().splitlines() == [
        "deploy checkout 1.4.2 staging 10",
        "deploy checkout 1.4.2 staging 50",
        "deploy checkout 1.4.2 staging 100",
    ]
    [announcement] = slack.channel_messages("C0ANNOUNCE")
    assert "`1.4.2` is live in *staging*" in card_text(announcement)
    assert buttons(announcement) == ["Roll back"]


def test_rolling_back_from_the_announcement(slack: SlackDriver, deploy_calls: Path) -> None:
    for plan_id, version in ((1, "1.4.1"), (2, "1.4.2")):
        _staging(slack, version)
        slack.command("U0REQUESTER", f"deploy R-{plan_id}")
        slack.roll(
            lambda plan_id=plan_id: "waiting for Promote" in card_text(slack.card(f"R-{plan_id}"))
        )  # type: ignore[misc]
        slack.command("U0REQUESTER", f"promote R-{plan_id}")
        slack.roll(lambda plan_id=plan_id: slack.state(plan_id) == PlanState.RELEASED)  # type: ignore[misc]

    announcement = slack.channel_messages("C0ANNOUNCE")[-1]
    slack.click("U0QA", announcement, ActionId.ROLLBACK)
    slack.roll(lambda: slack.state(2) == PlanState.ROLLED_BACK)

    assert deploy_calls.read_text().splitlines()[-1] == "rollback checkout 1.4.1 staging 100"
    [alert] = [m for m in slack.channel_messages("C0ONCALL")]
    assert alert.text.startswith(
        ":rotating_light: *R-2* checkout `1.4.2` in staging: rolling back to 1.4.1 (by <@U0QA>)"
    )
    assert (
        "checkout is locked in staging until a new plan of a version other than 1.4.2 is approved"
        in slack.thread(slack.card("R-2"))[-1]
    )
    assert slack.card("R-2").text == "R-2 · checkout 1.4.2 → staging: Rolled back"


def test_a_failing_health_check_rolls_back_by_itself(
    slack: SlackDriver, health: Health, deploy_calls: Path
) -> None:
    _staging(slack)
    health.healthy = False
    slack.command("U0REQUESTER", "deploy R-1")
    slack.roll(lambda: slack.state(1) == PlanState.ROLLED_BACK)
    alert = slack.channel_messages("C0ONCALL")[0]
    assert "(automatically): check checkout-health failed at canary 10%" in alert.text
    assert "HTTP 503" in alert.text
    checks = slack.command("U0REQUESTER", "checks R-1")
    assert "checkout-health" in str(checks["blocks"]) and "failure" in str(checks["blocks"])


def test_a_deploy_that_is_not_allowed_yet_says_why(slack: SlackDriver) -> None:
    slack.command("U0REQUESTER", "plan checkout 1.4.2 to staging")
    slack.command("U0REQUESTER", "cancel R-1")
    slack.command("U0REQUESTER", "deploy R-1")
    assert "can't deploy R-1: it is cancelled" in slack.ephemerals("U0REQUESTER")[-1]
    slack.command("U0REQUESTER", "promote R-1")
    assert "can't promote R-1" in slack.ephemerals("U0REQUESTER")[-1]
