"""Rollbacks that never make things worse (issue 14 items 1 and 11; issue 12 items 15-16).

A first release is undone (weight 0, empty RELEASE_PREVIOUS_VERSION), never redeployed at
100 %; a rollback over an earlier release goes back to it; every message uses the same words;
the failed check's reason is in the thread and on the card.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.store.models import PlanState
from tests.scenario.conftest import Health
from tests.scenario.driver import SlackDriver, card_text
from tests.scenario.releases import deploy_envs, non_cards, plan, release_payments

UNDO = "nothing was released before; undoing 1.4.2"

# deploy.sh records every call in the test's own log, never in tests/fixtures/.
pytestmark = pytest.mark.usefixtures("deploy_calls")


def test_a_first_release_whose_check_fails_is_undone_and_every_message_says_so(
    slack: SlackDriver, health: Health, deploy_calls: Path
) -> None:
    plan(slack, "checkout 1.4.2 to staging")
    assert UNDO in card_text(slack.card("R-1"))  # before the deploy: what a rollback would do
    health.healthy = False
    slack.command("U0REQUESTER", "deploy R-1")
    slack.roll(lambda: slack.state(1) == PlanState.ROLLED_BACK)

    assert deploy_calls.read_text().splitlines() == [
        "deploy checkout 1.4.2 staging 10",
        "rollback checkout 1.4.2 staging 0",
    ]
    undo = deploy_envs(deploy_calls)[-1]
    assert undo["argv"] == "checkout 1.4.2 staging 0"
    assert (undo["RELEASE_ACTION"], undo["RELEASE_VERSION"], undo["RELEASE_WEIGHT"]) == (
        "rollback",
        "1.4.2",
        "0",
    )
    assert undo["RELEASE_PREVIOUS_VERSION"] == ""
    assert deploy_envs(deploy_calls)[0]["RELEASE_PREVIOUS_VERSION"] == ""

    card = slack.card("R-1")
    thread = "\n".join(slack.thread(card))
    [releases_alert] = non_cards(slack, "C0RELEASES")
    [oncall_alert] = non_cards(slack, "C0ONCALL")
    for where in (card_text(card), thread, releases_alert, oncall_alert):
        assert UNDO in where
        assert "previous version" not in where
    # The failed check's reason (check, measured value, limit) is in the thread and on the card.
    reason = "check checkout-health failed at canary 10%: 2 of 2 measurements failed, limit 1"
    assert reason in thread
    assert reason in card_text(card) and "HTTP 503" in card_text(card)
    assert ":rewind: *Rolled back* (automatically)" in card_text(card)


def test_rolling_back_over_an_earlier_release_goes_back_to_it_in_the_same_words(
    slack: SlackDriver, deploy_calls: Path
) -> None:
    release_payments(slack, 1, "1.0")
    release_payments(slack, 2, "1.1")
    slack.command("U0QA", "rollback R-2 error rate doubled")
    slack.roll(lambda: slack.state(2) == PlanState.ROLLED_BACK)

    assert deploy_calls.read_text().splitlines()[-1] == "rollback payments 1.0 staging 100"
    back = deploy_envs(deploy_calls)[-1]
    assert back["argv"] == "payments 1.0 staging"
    assert (back["RELEASE_VERSION"], back["RELEASE_PREVIOUS_VERSION"]) == ("1.0", "1.0")
    assert deploy_envs(deploy_calls)[1]["RELEASE_PREVIOUS_VERSION"] == "1.0"  # 1.1's deploy

    words = "rolling back to 1.0"
    card = slack.card("R-2")
    [alert] = non_cards(slack, "C0ONCALL")
    assert words in slack.ephemerals("U0QA")[-1]
    assert words in card_text(card)
    assert words in "\n".join(slack.thread(card))
    assert words in alert and "error rate doubled" in alert
    assert "*Why:* error rate doubled" in card_text(card)


def test_a_manual_rollback_of_a_first_release_undoes_it(
    slack: SlackDriver, deploy_calls: Path
) -> None:
    release_payments(slack, 1, "1.0")
    slack.command("U0QA", "rollback R-1")
    slack.roll(lambda: slack.state(1) == PlanState.ROLLED_BACK)

    assert deploy_calls.read_text().splitlines() == [
        "deploy payments 1.0 staging 100",
        "rollback payments 1.0 staging 0",
    ]
    assert deploy_envs(deploy_calls)[-1]["RELEASE_PREVIOUS_VERSION"] == ""
    assert "nothing was released before; undoing 1.0" in slack.ephemerals("U0QA")[-1]
    assert (
        ":leftwards_arrow_with_hook: R-1 rolled back: nothing was released before, and 1.0 is "
        "undone." in slack.thread(slack.card("R-1"))
    )


def test_rollback_and_unlock_reasons_are_shown_as_typed(slack: SlackDriver) -> None:
    """Issue 9.2: a reason reaches the thread, the alerts, the lock and the unlock as text."""
    delivered = "&lt;!channel&gt; see &lt;https://evil.example|logs&gt; &amp; &lt;@U0ADMIN&gt;"
    release_payments(slack, 1, "1.0")
    release_payments(slack, 2, "1.1")
    slack.command("U0QA", f"rollback R-2 {delivered}")
    slack.roll(lambda: slack.state(2) == PlanState.ROLLED_BACK)
    slack.command("U0ADMIN", f'unlock payments staging "{delivered}"')
    slack.settle()

    card = slack.card("R-2")
    [alert] = non_cards(slack, "C0ONCALL")
    assert f"*Why:* {delivered}" in card_text(card)
    assert f"*Why:* {delivered}" in "\n".join(slack.thread(card))
    assert alert.endswith(f"(by <@U0QA>): {delivered}")
    [unlocked] = [t for t in non_cards(slack, "C0RELEASES") if t.startswith(":unlock:")]
    assert unlocked.startswith(
        f":unlock: <@U0ADMIN> lifted the rollback lock of *payments* in *staging*: {delivered}."
    )
    shown = [
        *[m.text for m in slack.channel_messages()],
        *[card_text(m) for m in slack.channel_messages()],
        *slack.thread(card),
        alert,
    ]
    for bad in ("<!channel>", "<https://evil", "& <@U0ADMIN>"):
        assert not [t for t in shown if bad in t], bad
