"""What reaches the deploy command of the shipped bot (issue 9.8): option- and path-like
versions are refused in the ephemeral answer and never planned or deployed; the command's
environment holds the RELEASE_* variables, never the bot's own secrets."""

from __future__ import annotations

import pytest

from bot.domain.versions import VERSION_RULE
from tests.blackbox.conftest import Shared
from tests.blackbox.harness import BOT_TOKEN, SIGNING_SECRET, Deployment, FakeSlack, ShippedBot


def _posts(slack: FakeSlack) -> list[str]:
    """Every Web API call that shows something (Bolt's own auth.test is not one)."""
    return [call.method for call in slack.workspace.calls if call.method != "auth.test"]


@pytest.mark.parametrize(
    "version", ["--help", "-rf", "../../etc/passwd", "/etc/passwd", "v1/../../../root"]
)
def test_option_and_path_like_versions_are_refused_and_nothing_is_planned(
    shared: Shared, version: str
) -> None:
    slack = shared.slack
    before = _posts(slack)

    ack = shared.bot.command(slack, "U0REQUESTER", f"plan checkout {version} to staging")

    assert ack.status_code == 200
    answer = ack.json()
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == f"'{version}' is not a valid version: {VERSION_RULE}"
    slack.quiet(quiet_for=1.0)
    assert slack.card("R-1") is None
    assert slack.history("C0RELEASES") == []
    assert _posts(slack) == before
    assert shared.deployment.deploy_calls() == []


def test_the_deploy_command_never_sees_the_bots_secrets(
    bot: ShippedBot, slack: FakeSlack, deployment: Deployment
) -> None:
    assert bot.command(slack, "U0REQUESTER", "plan checkout 1.4.2 to staging").status_code == 200
    card = slack.card_when("R-1", "Approved", timeout=20)
    assert bot.click(slack, "U0REQUESTER", card, "plan_deploy").status_code == 200
    card = slack.card_when("R-1", "Released", "Failed", "Rolled back")
    assert card.text.endswith("Released"), slack.story("R-1")

    calls = deployment.deploy_calls()
    assert [call.argv for call in calls] == [
        ["checkout", "1.4.2", "staging", "10"],
        ["checkout", "1.4.2", "staging", "100"],
    ]
    for call in calls:
        for secret in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "DATABASE_URL"):
            assert secret not in call.env, sorted(call.env)
        values = "\n".join(call.env.values())
        assert BOT_TOKEN not in values and SIGNING_SECRET not in values
        assert bot.env.get("DATABASE_URL", "no database url") not in values
        assert call.env["RELEASE_ID"] == "R-1"
        assert call.env["RELEASE_VERSION"] == "1.4.2"
        assert call.env["RELEASE_ENVIRONMENT"] == "staging"
        assert call.env["PATH"] == bot.env["PATH"]
