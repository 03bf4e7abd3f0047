"""Only the release live in an environment can be rolled back (issue 14 item 2).

Superseded cards lose their Roll back button (they are redrawn when a later release replaces
them); an older announcement keeps its button, and a click on it is refused with the way to go
back further. The live release is the one deployed last, not the newest plan.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.store.models import PlanState
from commands.ids import ActionId
from tests.scenario.driver import SlackDriver, buttons, card_text
from tests.scenario.releases import plan, release_payments

# deploy.sh records every call in the test's own log, never in tests/fixtures/.
pytestmark = pytest.mark.usefixtures("deploy_calls")


def test_only_the_live_release_can_be_rolled_back(slack: SlackDriver, deploy_calls: Path) -> None:
    release_payments(slack, 1, "1.0")
    release_payments(slack, 2, "1.1")
    first_announcement = slack.channel_messages("C0ANNOUNCE")[0]
    assert buttons(first_announcement) == ["Roll back"]  # posted while 1.0 was live

    # The superseded card was redrawn without its button, and says what replaced it.
    assert buttons(slack.card("R-1")) == []
    assert "Superseded by R-2 (`1.1`)" in card_text(slack.card("R-1"))
    assert buttons(slack.card("R-2")) == ["Roll back"]

    refusal = (
        "can't roll back R-1: it is no longer live in staging, R-2 (payments 1.1) replaced it. "
        "Only the live release can be rolled back (that is R-2); to go back further, plan that "
        "version: `/release plan payments 1.0 to staging`."
    )
    slack.click("U0QA", first_announcement, ActionId.ROLLBACK)
    assert slack.ephemerals("U0QA")[-1] == refusal
    slack.command("U0QA", "rollback R-1")
    assert slack.ephemerals("U0QA")[-1] == refusal
    slack.roll(lambda: True)
    assert [line.split()[0] for line in deploy_calls.read_text().splitlines()] == [
        "deploy",
        "deploy",
    ]
    assert slack.state(1) == PlanState.RELEASED

    # Rolled back, R-2 hands the live slot back to R-1, whose card gets its button again.
    slack.command("U0QA", "rollback R-2")
    slack.roll(lambda: slack.state(2) == PlanState.ROLLED_BACK)
    assert buttons(slack.card("R-1")) == ["Roll back"]
    assert "Superseded" not in card_text(slack.card("R-1"))


def test_the_live_release_is_the_one_deployed_last_not_the_newest_plan(
    slack: SlackDriver, deploy_calls: Path
) -> None:
    plan(slack, "payments 1.1 to staging")
    release_payments(slack, 2, "1.0")  # planned later, deployed first
    slack.command("U0REQUESTER", "deploy R-1")
    slack.roll(lambda: slack.state(1) == PlanState.RELEASED)

    assert buttons(slack.card("R-1")) == ["Roll back"]
    assert buttons(slack.card("R-2")) == []
    slack.command("U0QA", "rollback R-2")
    assert (
        "can't roll back R-2: it is no longer live in staging, R-1"
        in (slack.ephemerals("U0QA")[-1])
    )
    slack.command("U0QA", "rollback R-1")
    slack.roll(lambda: slack.state(1) == PlanState.ROLLED_BACK)
    assert deploy_calls.read_text().splitlines()[-1] == "rollback payments 1.0 staging 100"
