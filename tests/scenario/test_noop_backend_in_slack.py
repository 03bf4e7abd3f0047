"""A dry run from Slack: a service on the `noop` backend is planned, approved, deployed,
released and rolled back like any other, and its thread says that nothing was deployed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from bot.domain.config import ReleasebotConfig, load_config
from bot.store.models import DeploymentStage, PlanState
from commands.ids import ActionId
from tests.scenario.driver import SlackDriver, buttons, card_text

CONFIG = """
timezone = "UTC"
admins = ["U0ADMIN"]

[channels]
releases = "C0RELEASES"
announcements = "C0ANNOUNCE"
oncall = "C0ONCALL"

[environments.staging]
approvals = { required = 1, approvers = ["U0APPROVER1"] }

[services.ledger]
backend = "noop"
strategy = "halves"

[strategies.halves]
kind = "phased"
steps = [{ weight = 50 }, { weight = 100 }]
"""


@pytest.fixture
def config(tmp_path: Path) -> ReleasebotConfig:
    path = tmp_path / "releasebot.toml"
    path.write_text(CONFIG)
    return load_config(path)


def _stages(slack: SlackDriver) -> list[DeploymentStage]:
    with slack.bot.db.session() as session:
        return list(session.exec(select(DeploymentStage).order_by(DeploymentStage.id)).all())


def test_a_noop_service_is_approved_deployed_and_released_as_a_dry_run(
    slack: SlackDriver,
) -> None:
    slack.command("U0REQUESTER", "plan ledger 2.0.0 to staging")
    slack.settle()
    slack.click("U0APPROVER1", slack.card("R-1"), ActionId.APPROVE)
    slack.settle()
    assert slack.state(1) == PlanState.APPROVED

    slack.click("U0REQUESTER", slack.card("R-1"), ActionId.DEPLOY)
    slack.roll(lambda: slack.state(1) == PlanState.RELEASED)

    card = slack.card("R-1")
    assert card.text == "R-1 · ledger 2.0.0 → staging: Released"
    thread = slack.thread(card)
    done = [line for line in thread if line.startswith(":white_check_mark: Stage")]
    assert done == [
        ":white_check_mark: Stage 1 of 2 — phased 50%: done "
        "(dry run: the noop backend deployed nothing).",
        ":white_check_mark: Stage 2 of 2 — phased 100%: done "
        "(dry run: the noop backend deployed nothing).",
    ]
    [announcement] = slack.channel_messages("C0ANNOUNCE")
    assert "`2.0.0` is live in *staging*" in card_text(announcement)
    # What a real backend would have been given is kept with each stage.
    first, second = _stages(slack)
    assert first.output_tail is not None and second.output_tail is not None
    assert "RELEASE_VERSION=2.0.0" in first.output_tail
    assert "RELEASE_WEIGHT=50" in first.output_tail
    assert "RELEASE_WEIGHT=100" in second.output_tail


def test_rolling_back_a_dry_run_says_nothing_was_rolled_back(slack: SlackDriver) -> None:
    slack.command("U0REQUESTER", "plan ledger 2.0.0 to staging")
    slack.settle()
    slack.click("U0APPROVER1", slack.card("R-1"), ActionId.APPROVE)
    slack.command("U0REQUESTER", "deploy R-1")
    slack.roll(lambda: slack.state(1) == PlanState.RELEASED)

    [announcement] = slack.channel_messages("C0ANNOUNCE")
    assert buttons(announcement) == ["Roll back"]
    slack.click("U0APPROVER1", announcement, ActionId.ROLLBACK)
    slack.roll(lambda: slack.state(1) == PlanState.ROLLED_BACK)

    thread = slack.thread(slack.card("R-1"))
    assert (
        ":white_check_mark: Rollback — undo 2.0.0 (weight 0): done "
        "(dry run: the noop backend rolled nothing back)."
    ) in thread
    assert slack.card("R-1").text == "R-1 · ledger 2.0.0 → staging: Rolled back"
