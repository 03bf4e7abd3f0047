"""Webhook deploy callbacks are ordered and a final state is final (issue 9 item 5).

The rollout is started from Slack; the team's deploy service is a recording far side that
learns its callback URL from releasebot's signed POST, and calls back over real HTTP to
`POST /hooks/deploy/<token>` the way the contract in integrations/deploy/webhook.py says.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from bot.domain.config import ReleasebotConfig, load_config
from bot.store.models import DeployCallback, DeploymentStage, PlanState
from console.slack_api import Workspace
from console.testing import ManualClock
from tests.scenario.driver import SlackDriver, card_text
from tests.scenario.webhooks import SECRET, DeployService, bot_with_deploy_hooks

DEPLOYER = "https://deployer.internal/releasebot"
CONFIG = f"""
timezone = "UTC"
[channels]
releases = "C0RELEASES"
oncall = "C0ONCALL"
[environments.staging]
approvals = {{ required = 0 }}
[services.search]
backend = "webhook"
url = "{DEPLOYER}"
"""


@pytest.fixture
def deploy_service() -> DeployService:
    return DeployService()


@pytest.fixture
def config(tmp_path: Path) -> ReleasebotConfig:
    (tmp_path / "releasebot.toml").write_text(CONFIG)
    return load_config(tmp_path / "releasebot.toml")


@pytest.fixture
def slack(
    workspace: Workspace,
    database_url: str,
    config: ReleasebotConfig,
    clock: ManualClock,
    deploy_service: DeployService,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[SlackDriver]:
    with bot_with_deploy_hooks(
        workspace=workspace,
        database_url=database_url,
        config=config,
        clock=clock,
        service=deploy_service,
        state_dir=tmp_path / "state",
        monkeypatch=monkeypatch,
    ) as driver:
        yield driver


def test_a_replayed_or_late_callback_cannot_turn_a_failed_stage_into_a_release(
    slack: SlackDriver, deploy_service: DeployService
) -> None:
    slack.command("U0REQUESTER", "plan search 2.0 to staging")
    slack.command("U0REQUESTER", "deploy R-1")
    slack.roll(lambda: len(deploy_service.received) == 1)
    [started] = deploy_service.received
    assert (started["action"], started["version"], started["previous_version"]) == (
        "deploy",
        "2.0",
        None,
    )

    running_body, running_headers = deploy_service.signed({"state": "running", "sequence": 1})
    assert deploy_service.post(0, running_body, running_headers).status_code == 200
    failed = deploy_service.call_back(
        0, state="failed", sequence=2, message="pods crash-looping in search-7f9c"
    )
    assert failed.status_code == 200

    # The very same signed "running" again, then a "succeeded" sent late by a retry queue.
    replay = deploy_service.post(0, running_body, running_headers)
    assert replay.status_code == 409
    assert "sequence 1 is not after" not in replay.json()["error"]  # a final state wins first
    assert "already reported failed, and a final state is final" in replay.json()["error"]
    late = deploy_service.call_back(0, state="succeeded", sequence=3, message="all good")
    assert late.status_code == 409

    slack.roll(lambda: len(deploy_service.received) == 2)
    rollback = deploy_service.received[1]
    assert (rollback["action"], rollback["version"], rollback["weight"]) == ("rollback", "2.0", 0)
    assert rollback["previous_version"] is None
    assert deploy_service.call_back(1, state="succeeded", sequence=1).status_code == 200
    slack.roll(lambda: slack.state(1) == PlanState.ROLLED_BACK)

    # The first deployment has ended: a callback about it, however new, changes nothing.
    ended = deploy_service.call_back(0, state="succeeded", sequence=99)
    assert ended.status_code == 409
    assert "the deployment has ended" in ended.json()["error"]
    assert slack.state(1) == PlanState.ROLLED_BACK
    assert "pods crash-looping in search-7f9c" in "\n".join(slack.thread(slack.card("R-1")))
    audit = str(slack.command("U0REQUESTER", "audit R-1")["blocks"])
    assert audit.count("callback.refused") == 3


def test_callbacks_out_of_order_unsigned_or_without_a_sequence_are_refused(
    slack: SlackDriver, deploy_service: DeployService
) -> None:
    slack.command("U0REQUESTER", "plan search 2.0 to staging")
    slack.command("U0REQUESTER", "deploy R-1")
    slack.roll(lambda: len(deploy_service.received) == 1)

    unordered = deploy_service.call_back(0, state="succeeded")
    assert unordered.status_code == 400
    assert "`sequence` must be a non-negative integer" in unordered.json()["error"]
    body, headers = deploy_service.signed({"state": "succeeded", "sequence": 1})
    forged = deploy_service.post(0, body, {**headers, "X-Releasebot-Signature": "sha256=00"})
    assert forged.status_code == 401

    assert deploy_service.call_back(0, state="running", sequence=5).status_code == 200
    older = deploy_service.call_back(0, state="succeeded", sequence=4)
    assert older.status_code == 409
    assert "sequence 4 is not after 5, the last one accepted" in older.json()["error"]
    slack.roll(lambda: "running" in card_text(slack.card("R-1")))
    assert slack.state(1) == PlanState.DEPLOYING

    assert deploy_service.call_back(0, state="succeeded", sequence=6).status_code == 200
    slack.roll(lambda: slack.state(1) == PlanState.RELEASED)


def test_a_callback_that_quotes_a_configured_secret_is_stored_and_posted_redacted(
    slack: SlackDriver, deploy_service: DeployService
) -> None:
    """Issue 9.8: the service's words pass the bot's Redactor before the row and the thread."""
    slack.command("U0REQUESTER", "plan search 2.0 to staging")
    slack.command("U0REQUESTER", "deploy R-1")
    slack.roll(lambda: len(deploy_service.received) == 1)

    failed = deploy_service.call_back(
        0,
        state="failed",
        sequence=1,
        message=f"rejected: signature {SECRET} does not match",
        output=f"POST with secret={SECRET} and token={slack.workspace.bot_token}",
    )
    assert failed.status_code == 200
    slack.roll(lambda: len(deploy_service.received) == 2)

    thread = "\n".join(slack.thread(slack.card("R-1")))
    assert "rejected: signature [redacted] does not match" in thread
    assert "POST with secret=[redacted] and token=[redacted]" in thread
    with slack.bot.db.session() as session:
        stored = [row.payload for row in session.exec(select(DeployCallback)).all()]
        stages = [(s.message, s.output_tail) for s in session.exec(select(DeploymentStage)).all()]
    assert SECRET not in str(stored) and SECRET not in str(stages)
    assert "rejected: signature [redacted] does not match" in str(stored)


def test_a_callbacks_message_and_output_are_posted_as_text(
    slack: SlackDriver, deploy_service: DeployService
) -> None:
    """Issue 9.2: what the deploy service says is shown as it said it, never as markup."""
    slack.command("U0REQUESTER", "plan search 2.0 to staging")
    slack.command("U0REQUESTER", "deploy R-1")
    slack.roll(lambda: len(deploy_service.received) == 1)

    failed = deploy_service.call_back(
        0,
        state="failed",
        sequence=1,
        message="<!channel> pods crash-looping, ask <@U0ADMIN>",
        output="step 3\n```\n<!here> exit 1 & <https://evil.example|logs>\n```",
    )
    assert failed.status_code == 200
    slack.roll(lambda: len(deploy_service.received) == 2)

    thread = slack.thread(slack.card("R-1"))
    [line] = [t for t in thread if t.startswith(":x:")]
    assert "failed: &lt;!channel&gt; pods crash-looping, ask &lt;@U0ADMIN&gt;" in line
    assert line.count("```") == 2 and line.endswith("```")  # its own ``` cannot close it
    assert "&lt;!here&gt; exit 1 &amp; &lt;https://evil.example|logs&gt;" in line
    everything = [
        *thread,
        card_text(slack.card("R-1")),
        *[m.text for m in slack.channel_messages()],
        *[m.text for m in slack.channel_messages("C0ONCALL")],
    ]
    for bad in ("<!channel>", "<!here>", "ask <@U0ADMIN>", "<https://evil"):
        assert not [t for t in everything if bad in t], bad
