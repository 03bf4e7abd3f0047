"""A `serve` killed mid-work and started again carries on at once, repeating nothing."""

from __future__ import annotations

from tests.blackbox.harness import CheckTarget, Deployment, FakeSlack, ShippedBot, eventually

# Well under the 2-minute lease a dead process used to leave behind (issue 9.11).
RESUME_DEADLINE = 40.0


def test_a_rollout_killed_mid_canary_resumes_and_runs_each_stage_once(
    bot: ShippedBot, slack: FakeSlack, deployment: Deployment, target: CheckTarget
) -> None:
    assert bot.command(slack, "U0REQUESTER", "plan checkout 1.4.2 to staging").status_code == 200
    card = slack.card_when("R-1", "Approved", timeout=20)
    # The canary's analysis measures while the plan is claimed: hold that measurement.
    target.hanging.set()
    assert bot.click(slack, "U0REQUESTER", card, "plan_deploy").status_code == 200
    eventually(lambda: target.seen() >= 1, timeout=30, what="the canary's first measurement")
    assert [call.argv[-1] for call in deployment.deploy_calls()] == ["10"]

    bot.kill()
    target.hanging.clear()
    bot.serve()

    card = slack.card_when("R-1", "Released", "Failed", "Rolled back", timeout=RESUME_DEADLINE)
    assert card.text.endswith("Released"), slack.story("R-1")
    calls = deployment.deploy_calls()
    assert [(call.action, call.argv[-1]) for call in calls] == [("deploy", "10"), ("deploy", "100")]


def test_a_message_in_flight_when_killed_is_delivered_after_restart(
    bot: ShippedBot, slack: FakeSlack
) -> None:
    # Slack holds the card's post; the process dies while waiting for the answer.
    slack.workspace.fail_next("chat.postMessage", "timeout")
    assert bot.command(slack, "U0REQUESTER", "plan checkout 1.4.2 to staging").status_code == 200
    eventually(lambda: slack.arrivals.count("/api/chat.postMessage") >= 1, what="the card's post")
    bot.kill()
    bot.serve()

    card = eventually(lambda: slack.card("R-1"), timeout=RESUME_DEADLINE, what="the card")
    assert card.text.endswith("Approved")
    assert len([m for m in slack.history("C0RELEASES") if m.text.startswith("R-1 ·")]) == 1
