"""`releasebot socket` with tokens Slack refuses, or with Slack out of reach, says so in one
line naming the cause and what to check (issue 14, item 12), never a traceback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from console.testing import running_server
from tests.blackbox.harness import (
    BOT_TOKEN,
    Deployment,
    FakeSlack,
    Finished,
    RefusingSlack,
    ShippedBot,
    free_port,
    shipped_bot,
)

APP_TOKEN = "xapp-1-A0RELEASEBOT-0000-socket"


def _one_line(finished: Finished) -> str:
    assert finished.code != 0, finished.stdout + finished.stderr
    assert "Traceback" not in finished.stderr, finished.stderr
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1, finished.stderr
    return lines[0]


@pytest.fixture
def bot(deployment: Deployment, slack: FakeSlack) -> Iterator[ShippedBot]:
    with shipped_bot(deployment.root, slack, SLACK_APP_TOKEN=APP_TOKEN) as shipped:
        assert shipped.run("migrate").code == 0
        yield shipped


def _socket_against(bot: ShippedBot, refusing: RefusingSlack) -> str:
    with running_server(refusing.app()) as url:
        bot.env["SLACK_API_URL"] = url + "/api/"
        return _one_line(bot.run("socket", timeout=30))


def test_a_bot_token_slack_refuses(bot: ShippedBot) -> None:
    line = _socket_against(bot, RefusingSlack(bot_token="xoxb-the-real-one", app_token=APP_TOKEN))
    assert line.startswith("releasebot: Slack refused SLACK_BOT_TOKEN (invalid_auth)"), line
    assert "xoxb-" in line  # what to check: the bot token...
    assert BOT_TOKEN not in line  # ...never the token itself


def test_an_app_token_slack_refuses(bot: ShippedBot) -> None:
    line = _socket_against(bot, RefusingSlack(bot_token=BOT_TOKEN, app_token="xapp-the-real-one"))
    assert line.startswith("releasebot: Slack refused SLACK_APP_TOKEN (invalid_auth)"), line
    assert "connections:write" in line and APP_TOKEN not in line


def test_slack_out_of_reach(bot: ShippedBot) -> None:
    url = f"http://127.0.0.1:{free_port()}/api/"
    bot.env["SLACK_API_URL"] = url
    line = _one_line(bot.run("socket", timeout=30))
    assert line.startswith(f"releasebot: cannot reach Slack at {url}"), line
    assert "SLACK_API_URL" in line
