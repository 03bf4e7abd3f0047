"""README story 3 as a user meets it: a failing check rolls the release back by itself."""

from __future__ import annotations

from tests.blackbox.harness import CheckTarget, Deployment, FakeSlack, ShippedBot, eventually

UNDO = "nothing was released before; undoing 1.4.2"


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
        # Issue 14.1: a first release has nothing to go back to, and every message says so.
        assert UNDO in alert.text, alert.text
    assert target.seen() >= 1
    calls = deployment.deploy_calls()
    assert [call.action for call in calls] == ["deploy", "rollback"]
    assert calls[0].argv == ["checkout", "1.4.2", "staging", "10"]
    assert all(call.env["RELEASE_ID"] == "R-1" for call in calls)
    # The rollback undoes 1.4.2 (weight 0); it never sends the failing version to everyone.
    undo = calls[-1]
    assert undo.argv == ["checkout", "1.4.2", "staging", "0"]
    assert (undo.env["RELEASE_VERSION"], undo.env["RELEASE_WEIGHT"]) == ("1.4.2", "0")
    assert undo.env["RELEASE_PREVIOUS_VERSION"] == ""
    assert all(call.argv[-1] != "100" for call in calls)
    assert UNDO in str(card.blocks), card.blocks
    eventually(
        lambda: any(
            UNDO in line or "nothing was released before" in line for line in slack.thread(card)
        ),
        what="the undo in the card's thread",
    )
