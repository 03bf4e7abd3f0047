"""README story 3 as a user meets it: a failing check rolls the release back by itself."""

from __future__ import annotations

from tests.blackbox.harness import CheckTarget, Deployment, FakeSlack, ShippedBot, eventually


def test_a_failing_check_rolls_back_and_alerts_releases_and_oncall(
    bot: ShippedBot, slack: FakeSlack, deployment: Deployment, target: CheckTarget
) -> None:
    target.healthy = False
    assert bot.command(slack, "U0REQUESTER", "plan checkout 1.4.2 to staging").status_code == 200
    card = slack.card_when("R-1", "Approved", timeout=20)
    assert bot.click(slack, "U0REQUESTER", card, "plan_deploy").status_code == 200

    card = slack.card_when("R-1", "Rolled back", "Failed", "Released")
    assert card.text.endswith("Rolled back"), slack.story("R-1")
    for channel in ("C0RELEASES", "C0ONCALL"):
        alert = eventually(
            lambda c=channel: [m for m in slack.history(c) if "checkout-health" in m.text],
            what=f"the rollback alert in {channel}",
        )[0]
        for shown in ("*R-1*", "automatically", "checkout-health failed", "HTTP 503"):
            assert shown in alert.text, alert.text
    assert target.seen() >= 1
    calls = deployment.deploy_calls()
    assert [call.action for call in calls] == ["deploy", "rollback"]
    assert calls[0].argv == ["checkout", "1.4.2", "staging", "10"]
    assert all(call.env["RELEASE_ID"] == "R-1" for call in calls)
