"""The gate nudge names who may Promote: the deploy permission of the plan's environment, with
`admins` spelt out as the admins the config lists."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain.config import ReleasebotConfig, load_config
from bot.domain.config.environments import Permissions
from tests.conftest import FIXTURES
from tests.scenario.driver import SlackDriver, card_text
from tests.scenario.test_gate_nudge_in_slack import NUDGE, _nudges, _server_runs_for


@pytest.fixture
def config() -> ReleasebotConfig:
    shipped = load_config(FIXTURES / "releasebot.toml")
    staging = shipped.environments["staging"]
    drivers = Permissions(deploy=["U0APPROVER1", "@sre", "admins"])
    return shipped.model_copy(
        update={
            "environments": {
                **shipped.environments,
                "staging": staging.model_copy(update={"permissions": drivers}),
            }
        }
    )


def test_the_nudge_names_the_people_and_groups_who_may_promote(
    slack: SlackDriver, deploy_calls: Path
) -> None:
    slack.command("U0REQUESTER", "plan checkout 1.4.2 to staging")
    slack.settle()
    slack.command("U0APPROVER1", "deploy R-1")
    slack.roll(lambda: "waiting for Promote" in card_text(slack.card("R-1")))

    _server_runs_for(slack, timedelta(minutes=30))
    assert _nudges(slack) == [
        f"{NUDGE} 30 min at canary 50% for someone to Promote (or Abort): "
        "<@U0APPROVER1>, @sre, <@U0ADMIN> can."
    ]
