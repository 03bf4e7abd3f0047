"""What reaches a deploy command from Slack (issue 9.8): option- and path-like versions are
refused at the door, the command's environment holds no secret of the bot, and what the
command prints is redacted of configured secrets before it is posted or stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from bot.domain.config import ReleasebotConfig, load_config
from bot.domain.versions import VERSION_RULE
from bot.store.models import DeploymentStage, PlanState, ReleasePlan
from tests.scenario.driver import SlackDriver

DEPLOY_TOKEN = "dpl-4f9a1c7e2b8d6350"
DATABASE_SECRET = "pg-password-7731"

CONFIG = """
timezone = "UTC"
admins = ["U0ADMIN"]

[channels]
releases = "C0RELEASES"
announcements = "C0ANNOUNCE"

[environments.staging]
order = 1
approvals = {{ required = 0 }}

[services.payments]
command = ["{script}", "{{service}}", "{{version}}"]
pass_env = ["DEPLOY_API_TOKEN", "RECORD_TO"]
env = {{ REGION = "eu-west-1" }}
"""

# Records its environment, then prints the token it was given and one it found on disk.
SCRIPT = """#!/bin/sh
env > "$RECORD_TO"
echo "deploying $1 $2 to $REGION with token $DEPLOY_API_TOKEN"
echo "found $(cat "$(dirname "$0")/leaked") in a stray file"
exit 1
"""


@pytest.fixture
def record(tmp_path: Path) -> Path:
    return tmp_path / "deploy-env.txt"


@pytest.fixture
def config(tmp_path: Path, record: Path, monkeypatch: pytest.MonkeyPatch) -> ReleasebotConfig:
    script = tmp_path / "deploy.sh"
    script.write_text(SCRIPT)
    script.chmod(0o755)
    # The bot's own secrets in its environment, as an operator sets them.
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-scenario")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "scenario-signing-secret")
    monkeypatch.setenv("DATABASE_URL", f"postgresql://bot:{DATABASE_SECRET}@db.internal/bot")
    monkeypatch.setenv("DEPLOY_API_TOKEN", DEPLOY_TOKEN)
    monkeypatch.setenv("RECORD_TO", str(record))
    (tmp_path / "leaked").write_text("xoxb-scenario")
    path = tmp_path / "releasebot.toml"
    path.write_text(CONFIG.format(script=script))
    return load_config(path)


def _plans(slack: SlackDriver) -> list[ReleasePlan]:
    with slack.bot.db.session() as session:
        return list(session.exec(select(ReleasePlan)).all())


@pytest.mark.parametrize(
    ("text", "version", "subcommand"),
    [
        ("plan payments --help to staging", "--help", "plan"),
        ("plan payments -rf to staging", "-rf", "plan"),
        ("plan payments ../../etc/passwd to staging", "../../etc/passwd", "plan"),
        ("plan payments /etc/passwd to staging", "/etc/passwd", "plan"),
        ("edit R-1 version --help", "--help", "edit"),
        ("edit R-1 version ../../etc/passwd", "../../etc/passwd", "edit"),
    ],
)
def test_option_and_path_like_versions_are_refused_and_change_nothing(
    slack: SlackDriver, record: Path, text: str, version: str, subcommand: str
) -> None:
    slack.command("U0REQUESTER", "plan payments 1.4.2 to staging")
    slack.settle()
    calls_before = len(slack.workspace.calls)

    ack = slack.command("U0REQUESTER", text)

    assert ack["response_type"] == "ephemeral"
    assert ack["text"] == f"'{version}' is not a valid version: {VERSION_RULE}"
    assert f"/release {subcommand}" in str(ack["blocks"])  # the usage of what was typed
    slack.settle()
    assert [(p.id, p.version) for p in _plans(slack)] == [(1, "1.4.2")]
    assert len(slack.workspace.calls) == calls_before
    assert not record.exists()


def test_the_deploy_command_sees_release_variables_and_its_list_but_no_bot_secret(
    slack: SlackDriver, record: Path
) -> None:
    slack.command("U0REQUESTER", "plan payments 1.4.2 to staging")
    slack.command("U0REQUESTER", "deploy R-1")
    slack.roll(lambda: slack.state(1) == PlanState.FAILED or record.exists())

    seen = dict(line.split("=", 1) for line in record.read_text().splitlines() if "=" in line)
    for secret in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "DATABASE_URL"):
        assert secret not in seen
    assert (seen["RELEASE_ID"], seen["RELEASE_SERVICE"], seen["RELEASE_VERSION"]) == (
        "R-1",
        "payments",
        "1.4.2",
    )
    assert seen["RELEASE_ENVIRONMENT"] == "staging"
    assert seen["RELEASE_ACTION"] == "deploy"
    assert seen["DEPLOY_API_TOKEN"] == DEPLOY_TOKEN  # listed in pass_env
    assert seen["REGION"] == "eu-west-1"  # set by env
    assert "PATH" in seen


def test_secrets_the_command_prints_are_redacted_in_the_thread_and_the_stage(
    slack: SlackDriver,
) -> None:
    slack.command("U0REQUESTER", "plan payments 1.4.2 to staging")
    slack.command("U0REQUESTER", "deploy R-1")
    slack.roll(lambda: slack.state(1) in (PlanState.FAILED, PlanState.ROLLED_BACK))
    slack.settle()

    thread = slack.thread(slack.card("R-1"))
    # The rollout's stage fails, then the rollback's (the same script): both are redacted.
    failures = [t for t in thread if t.startswith(":x:")]
    assert len(failures) == 2, thread
    for failed in failures:
        assert "deploying payments 1.4.2 to eu-west-1 with token [redacted]" in failed
        assert "found [redacted] in a stray file" in failed
    everything = str([(c.method, c.args) for c in slack.workspace.calls])
    for secret in (DEPLOY_TOKEN, "xoxb-scenario"):
        assert secret not in everything
    with slack.bot.db.session() as session:
        stages = session.exec(select(DeploymentStage)).all()
    tails = "\n".join(s.output_tail or "" for s in stages)
    assert "with token [redacted]" in tails
    assert DEPLOY_TOKEN not in tails
