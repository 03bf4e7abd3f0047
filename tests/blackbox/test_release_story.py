"""README story 1 as a user meets it: plan, approve, deploy through `command`, released."""

from __future__ import annotations

from tests.blackbox.harness import Deployment, FakeSlack, ShippedBot, eventually


def test_plan_approve_deploy_release_and_announce(
    bot: ShippedBot, slack: FakeSlack, deployment: Deployment
) -> None:
    ack = bot.command(slack, "U0REQUESTER", "plan checkout 1.4.2 to production")
    assert ack.status_code == 200
    card = eventually(lambda: slack.card("R-1"), what="the card of R-1 in #releases")
    assert "Awaiting approval" in card.text or "awaiting" in card.text.lower(), card.text
    # Every listed approver is asked in a DM (the @sre group's member too).
    for approver in ("U0APPROVER1", "U0APPROVER2", "U0APPROVER3"):
        eventually(lambda a=approver: slack.dm(a), what=f"the approval request to {approver}")

    assert bot.click(slack, "U0APPROVER1", card, "plan_approve").status_code == 200
    request = slack.dm("U0APPROVER2")[0]
    assert bot.click(slack, "U0APPROVER2", request, "plan_approve").status_code == 200
    approved = eventually(
        lambda: (c := slack.card("R-1")) and "plan_deploy" in str(c.blocks) and c,
        what="the approved card with a Deploy button",
    )

    assert bot.click(slack, "U0REQUESTER", approved, "plan_deploy").status_code == 200
    card = slack.card_when("R-1", "Released", "Failed", "Rolled back")
    assert card.text.endswith("Released"), slack.story("R-1")
    announcement = eventually(lambda: slack.history("C0ANNOUNCE"), what="the release announcement")[
        0
    ]
    eventually(
        lambda: any("R-1 is released" in line for line in slack.thread(card)),
        what="'R-1 is released' in the card's thread",
    )
    announced = str(announcement.blocks) + announcement.text
    assert "checkout 1.4.2" in announced and "production" in announced, announced
    assert "Fix rounding of discounted totals" in announced, announced

    calls = deployment.deploy_calls()
    assert [call.argv for call in calls] == [
        ["checkout", "1.4.2", "production", "10"],
        ["checkout", "1.4.2", "production", "100"],
    ]
    for call in calls:
        assert call.cwd == str(deployment.root)
        assert call.env["RELEASE_ID"] == "R-1"
        assert call.env["RELEASE_ACTION"] == "deploy"
        assert call.env["RELEASE_VERSION"] == "1.4.2"
        assert call.env["RELEASE_ENVIRONMENT"] == "production"
