"""feature_flag rollouts from Slack: every flag change lands in the release's own environment."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from bot.domain.config import ReleasebotConfig, load_config
from bot.store.models import AuditEvent, DeploymentStage, OutboxMessage, PlanState
from commands.ids import ActionId
from tests.integration.adapters.flags.fakes import FakeLaunchDarkly, FakeUnleash
from tests.scenario.conftest import Health
from tests.scenario.driver import SlackDriver

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CONFIG = f"""
timezone = "UTC"
admins = ["U0ADMIN"]

[channels]
releases = "C0RELEASES"
announcements = "C0ANNOUNCE"
oncall = "C0ONCALL"

[environments.staging]
order = 1
approvals = {{ required = 0 }}

[environments.production]
order = 2
approvals = {{ required = 0 }}

[services.storefront]
command = ["{FIXTURES / "deploy.sh"}"]
pass_env = ["RELEASEBOT_TEST_CALLS"]
strategy = "dark-launch"
flag = {{ provider = "launchdarkly", key = "new-checkout", project = "shop" }}

[services.search]
command = ["{FIXTURES / "deploy.sh"}"]
pass_env = ["RELEASEBOT_TEST_CALLS"]
strategy = "dark-launch"
flag = {{ provider = "unleash", key = "semantic-search", api_url = "https://unleash.example.com" }}

[strategies.dark-launch]
kind = "feature_flag"
ramp = [25, 100]
"""


class FlagHosts(Health):
    """The bot's outbound HTTP: LaunchDarkly and Unleash fakes; nothing else is expected."""

    def __init__(self) -> None:
        super().__init__()
        self.launchdarkly = FakeLaunchDarkly(
            token="ld-api-token",
            project="shop",
            flag="new-checkout",
            environments=("staging", "production"),
        )
        self.unleash = FakeUnleash(
            token="unleash-api-token",
            project="default",
            feature="semantic-search",
            environments=("staging", "production"),
        )
        # A misconfigured proxy in front of LaunchDarkly refusing every call with a page that
        # quotes the request's headers back (fault injection, not LaunchDarkly's behaviour).
        self.echoing_proxy = False

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.echoing_proxy:
            quoted = "".join(f"<li>{k}: {v}</li>" for k, v in request.headers.items())
            page = f"<html><body><h1>403 Forbidden</h1><ul>{quoted}</ul></body></html>"
            return httpx.Response(403, html=page)
        if request.url.host == "app.launchdarkly.com":
            return self.launchdarkly.handler(request)
        if request.url.host == "unleash.example.com":
            return self.unleash.handler(request)
        raise AssertionError(f"unexpected call to {request.url}")


@pytest.fixture
def health(monkeypatch: pytest.MonkeyPatch) -> FlagHosts:
    monkeypatch.setenv("LAUNCHDARKLY_API_TOKEN", "ld-api-token")
    monkeypatch.setenv("UNLEASH_API_TOKEN", "unleash-api-token")
    return FlagHosts()


@pytest.fixture
def config(tmp_path: Path) -> ReleasebotConfig:
    path = tmp_path / "releasebot.toml"
    path.write_text(CONFIG)
    return load_config(path)


def _release(slack: SlackDriver, plan_id: int, text: str) -> None:
    slack.command("U0REQUESTER", text)
    slack.settle()
    slack.click("U0REQUESTER", slack.card(f"R-{plan_id}"), ActionId.DEPLOY)
    slack.roll(lambda: slack.state(plan_id) == PlanState.RELEASED)


def test_launchdarkly_changes_follow_each_release_to_its_environment(
    slack: SlackDriver, health: FlagHosts, deploy_calls: Path
) -> None:
    ld = health.launchdarkly

    _release(slack, 1, "plan storefront 2.0.0 to staging")

    assert ld.environments["staging"].percent_on == 100
    assert ld.environments["production"].on is False
    assert {env for _, env in ld.calls} == {"staging"}
    assert [method for method, _ in ld.calls] == ["GET", "PATCH", "GET", "PATCH"]

    _release(slack, 2, "plan storefront 2.0.0 to production")
    assert ld.environments["production"].percent_on == 100
    assert {env for _, env in ld.calls[4:]} == {"production"}

    slack.command("U0REQUESTER", 'rollback R-2 "conversion dropped"')
    slack.roll(lambda: slack.state(2) == PlanState.ROLLED_BACK)

    assert ld.calls[-1] == ("PATCH", "production")  # turnFlagOff, in production only
    assert ld.environments["production"].on is False
    assert ld.environments["staging"].percent_on == 100
    assert deploy_calls.read_text().splitlines() == [
        "deploy storefront 2.0.0 staging 0",  # the code ships dark, once per environment
        "deploy storefront 2.0.0 production 0",
    ]
    assert slack.card("R-2").text == "R-2 · storefront 2.0.0 → production: Rolled back"


def test_unleash_changes_use_the_releases_environment_path_segment(
    slack: SlackDriver, health: FlagHosts, deploy_calls: Path
) -> None:
    unleash = health.unleash

    _release(slack, 1, "plan search 3.1.0 to staging")

    assert unleash.environments["staging"].percent_on == 100
    assert unleash.environments["production"].strategies == []
    assert {env for _, env, _ in unleash.calls} == {"staging"}

    slack.command("U0REQUESTER", "rollback R-1")
    slack.roll(lambda: slack.state(1) == PlanState.ROLLED_BACK)

    assert unleash.calls[-1] == ("POST", "staging", "off")
    assert unleash.environments["staging"].enabled is False
    assert unleash.environments["production"].enabled is False
    assert deploy_calls.read_text().splitlines() == ["deploy search 3.1.0 staging 0"]


def test_a_flag_services_words_reach_the_thread_without_the_flag_token(
    slack: SlackDriver, health: FlagHosts, deploy_calls: Path
) -> None:
    health.echoing_proxy = True

    slack.command("U0REQUESTER", "plan storefront 2.0.0 to staging")
    slack.settle()
    slack.click("U0REQUESTER", slack.card("R-1"), ActionId.DEPLOY)
    slack.roll(lambda: slack.state(1) in (PlanState.FAILED, PlanState.ROLLED_BACK))
    slack.settle()

    thread = slack.thread(slack.card("R-1"))
    refused = [t for t in thread if "LaunchDarkly answered 403" in t]
    assert refused, thread
    assert all("authorization: [redacted]" in t for t in refused), refused
    everything = str([(c.method, c.args) for c in slack.workspace.calls])
    assert "ld-api-token" not in everything
    with slack.bot.db.session() as session:
        stored = [
            row.model_dump()
            for table in (DeploymentStage, AuditEvent, OutboxMessage)
            for row in session.exec(select(table)).all()
        ]
    assert "authorization: [redacted]" in str(stored)
    assert "ld-api-token" not in str(stored)
