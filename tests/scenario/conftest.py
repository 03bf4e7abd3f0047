"""Scenario fixtures: the bot built as in production, talking to a local Slack stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bot.app.bootstrap import SlackCredentials, build
from bot.app.settings import Settings
from bot.domain.config import ReleasebotConfig
from console.slack_api import Workspace, create_slack_api_app
from console.testing import ManualClock, running_server
from tests.scenario.driver import SIGNING_SECRET, InlineExecutor, SlackDriver


@pytest.fixture
def workspace(clock: ManualClock) -> Workspace:
    workspace = Workspace(clock=clock, bot_token="xoxb-scenario")
    for channel_id, name in (
        ("C0RELEASES", "releases"),
        ("C0ANNOUNCE", "announcements"),
        ("C0ONCALL", "oncall"),
    ):
        workspace.add_channel(channel_id, name)
    for user_id in (
        "U0REQUESTER",
        "U0APPROVER1",
        "U0APPROVER2",
        "U0APPROVER3",
        "U0APPROVER4",
        "U0QA",
        "U0STRANGER",
    ):
        workspace.add_user(user_id, user_id.lower())
    workspace.add_user("U0ADMIN", "admin", is_admin=True)
    workspace.add_usergroup("S0SRE", "sre", ["U0APPROVER4", "U0ADMIN"])
    return workspace


@dataclass
class Health:
    """The far side of the checkout-health check (http://127.0.0.1:8080/healthz)."""

    healthy: bool = True

    def handler(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200 if self.healthy else 503)


@pytest.fixture
def health() -> Health:
    return Health()


@pytest.fixture
def deploy_calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where tests/fixtures/deploy.sh records each call."""
    calls = tmp_path / "deploy-calls.log"
    monkeypatch.setenv("RELEASEBOT_TEST_CALLS", str(calls))
    return calls


@pytest.fixture
def slack(
    workspace: Workspace,
    database_url: str,
    config: ReleasebotConfig,
    clock: ManualClock,
    health: Health,
    tmp_path: Path,
) -> Iterator[SlackDriver]:
    http = httpx.Client(transport=httpx.MockTransport(health.handler))
    with running_server(create_slack_api_app(workspace)) as url:
        bot = build(
            Settings(DATABASE_URL=database_url, RELEASEBOT_STATE_DIR=str(tmp_path / "state")),
            http=http,
            credentials=SlackCredentials(
                bot_token=workspace.bot_token, signing_secret=SIGNING_SECRET, api_url=url + "/api/"
            ),
            config=config,
            clock=clock,
            executor=InlineExecutor(),
        )
        yield SlackDriver(bot=bot, workspace=workspace, api_url=url, clock=clock)
        bot.db.engine.dispose()
    http.close()
