"""`pass_env` / `env` of a command service, check-config's word on them, and the Redactor that
keeps configured secrets out of what deploy services say (issue 9.8)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from bot.app.cli import main
from bot.domain.checks.measurement import Outcome
from bot.domain.clock import SystemClock
from bot.domain.errors import BackendError
from bot.domain.redaction import REDACTED, Redactor, redactor_for
from bot.ports.deploy import DeployHandle, DeployState, DeployStatus
from integrations.checks.registry import ProbeFactory
from integrations.deploy.command import CommandSettings
from integrations.deploy.redacted import RedactedBackend
from tests.unit.test_config import SPEC_EXAMPLE, config_error, edit, load_text

COMMAND = 'command = ["./deploy.sh", "{service}", "{version}", "{environment}", "{weight}"]'


def with_keys(keys: str) -> str:
    return edit(COMMAND, COMMAND + "\n" + keys)


@pytest.fixture(autouse=True)
def _keep_logging() -> Iterator[None]:
    """main() sets up JSON logging on the root logger; give the next test its own back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_pass_env_and_env_reach_the_command_settings(tmp_path: Path) -> None:
    config = load_text(
        tmp_path, with_keys('pass_env = ["AWS_PROFILE", "KUBECONFIG"]\nenv = { REGION = "eu" }')
    )
    settings = config.backend_settings("checkout")
    assert isinstance(settings, CommandSettings)
    assert settings.pass_env == ["AWS_PROFILE", "KUBECONFIG"]
    assert settings.env == {"REGION": "eu"}
    assert settings.timeout == timedelta(minutes=30)


@pytest.mark.parametrize(
    ("keys", "where", "problem"),
    [
        (
            'pass_env = ["SLACK_BOT_TOKEN"]',
            "services.checkout.pass_env[0]",
            "SLACK_BOT_TOKEN is releasebot's own secret; deploy commands never get it",
        ),
        (
            'pass_env = ["DATABASE_URL"]',
            "services.checkout.pass_env[0]",
            "DATABASE_URL is releasebot's own secret; deploy commands never get it",
        ),
        (
            'env = { RELEASE_VERSION = "1.0" }',
            "services.checkout.env.RELEASE_VERSION",
            "RELEASE_VERSION is set by releasebot for each deploy; RELEASE_* names are its own",
        ),
        (
            'pass_env = ["aws_profile"]',
            "services.checkout.pass_env[0]",
            "expected the NAME of an environment variable",
        ),
        ('pass_env = ["A", "A"]', "services.checkout.pass_env", "A listed more than once"),
        (
            'pass_env = ["REGION"]\nenv = { REGION = "eu" }',
            "services.checkout.env",
            "REGION is in both pass_env and env; keep one",
        ),
    ],
)
def test_bad_pass_env_and_env_name_the_key_and_problem(
    tmp_path: Path, keys: str, where: str, problem: str
) -> None:
    path, error = config_error(tmp_path, with_keys(keys))
    assert f"{path}: {where}: {problem}" in str(error)


def test_pass_env_belongs_to_the_command_backend_only(tmp_path: Path) -> None:
    text = SPEC_EXAMPLE + (
        '\n[services.payments]\nrepo = "acme/payments"\nbackend = "github_actions"\n'
        'workflow = "deploy.yml"\npass_env = ["AWS_PROFILE"]\n'
    )
    path, error = config_error(tmp_path, text)
    assert (
        f"{path}: services.payments.pass_env: 'pass_env' belongs to backend 'command', "
        "but this service uses backend 'github_actions'"
    ) in str(error)


def test_check_config_warns_of_a_listed_pass_env_variable_that_is_not_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "releasebot.toml"
    path.write_text(with_keys('pass_env = ["AWS_PROFILE", "KUBECONFIG"]'))
    monkeypatch.setenv("RELEASEBOT_CONFIG", str(path))
    monkeypatch.setenv("AWS_PROFILE", "deployer")
    monkeypatch.delenv("KUBECONFIG", raising=False)

    assert main(["check-config"]) == 0

    assert capsys.readouterr().out.splitlines() == [
        f"{path}: warning: services.checkout.pass_env: KUBECONFIG is not set in the "
        "environment; the deploy command of service 'checkout' runs without it",
        f"{path}: ok — 1 services, 2 environments, 1 checks",
    ]


# --- the Redactor ---------------------------------------------------------------------------


def test_every_value_of_eight_characters_or_more_is_redacted_and_shorter_ones_are_not() -> None:
    redact = Redactor(["xoxb-1234-abcd", "hunter22", "short", None, ""])
    text = "token xoxb-1234-abcd, password hunter22, word short; xoxb-1234-abcd again"
    assert redact(text) == (f"token {REDACTED}, password {REDACTED}, word short; {REDACTED} again")


def test_a_secret_that_contains_another_is_redacted_whole() -> None:
    redact = Redactor(["abcdefgh", "abcdefgh-and-more"])
    assert redact("x abcdefgh-and-more y abcdefgh") == f"x {REDACTED} y {REDACTED}"


def test_the_running_bots_secrets_come_from_its_config_environment_and_database_url(
    tmp_path: Path,
) -> None:
    text = with_keys('pass_env = ["DEPLOY_API_TOKEN", "AWS_PROFILE"]') + (
        '\n[services.payments]\nrepo = "acme/payments"\nbackend = "github_actions"\n'
        'workflow = "deploy.yml"\n'
    )
    config = load_text(tmp_path, text)
    environ = {
        "GITHUB_TOKEN": "ghp_abcdefghijklmnop",
        "DEPLOY_API_TOKEN": "dpl-0123456789",
        "AWS_PROFILE": "deployer-profile",  # passed, but not named like a secret
        "SLACK_APP_TOKEN": "xapp-1-abcdefgh",
        "UNRELATED_TOKEN": "not-configured-anywhere",
    }
    redact = redactor_for(
        config,
        environ,
        database_url="postgresql+psycopg://bot:db-password-42@db/releasebot",
        also=["xoxb-from-credentials"],
    )
    said = (
        "ghp_abcdefghijklmnop dpl-0123456789 xapp-1-abcdefgh db-password-42 "
        "xoxb-from-credentials deployer-profile not-configured-anywhere"
    )
    assert redact(said) == (
        f"{REDACTED} {REDACTED} {REDACTED} {REDACTED} {REDACTED} "
        "deployer-profile not-configured-anywhere"
    )


class _Leaky:
    """A backend that quotes a secret back, as a misconfigured far side might."""

    name = "command"

    def start(self, request: object) -> DeployHandle:
        raise BackendError("401 from the deployer: bad token tok-abcdefgh")

    def find(self, request: object) -> DeployHandle | None:
        return None

    def status(self, handle: DeployHandle) -> DeployStatus:
        return DeployStatus(
            DeployState.FAILED, "failed with tok-abcdefgh", None, "curl -H 'Bearer tok-abcdefgh'"
        )

    def cancel(self, handle: DeployHandle) -> None:
        raise BackendError("cancel refused for tok-abcdefgh")


def test_a_redacted_backend_redacts_statuses_tails_and_errors() -> None:
    backend = RedactedBackend(_Leaky(), Redactor(["tok-abcdefgh"]))  # type: ignore[arg-type]
    handle = DeployHandle(backend="command", ref={}, url=None)

    status = backend.status(handle)
    assert (status.message, status.output_tail) == (
        f"failed with {REDACTED}",
        f"curl -H 'Bearer {REDACTED}'",
    )
    with pytest.raises(BackendError) as refused:
        backend.start(object())  # type: ignore[arg-type]
    assert refused.value.message == f"401 from the deployer: bad token {REDACTED}"
    assert str(refused.value) == refused.value.message
    with pytest.raises(BackendError, match=r"cancel refused for \[redacted\]"):
        backend.cancel(handle)


def test_a_check_whose_output_quotes_a_secret_is_measured_redacted(tmp_path: Path) -> None:
    leaked = tmp_path / "leaked"
    leaked.write_text("tok-abcdefgh")
    text = SPEC_EXAMPLE + (
        '\n[checks.smoke]\ntype = "command"\n'
        f'command = ["/bin/sh", "-c", "echo smoke saw $(cat {leaked}); exit 1"]\n'
    )
    config = load_text(tmp_path, text)
    with httpx.Client() as http:
        factory = ProbeFactory(
            config=config, http=http, clock=SystemClock(), redact=Redactor(["tok-abcdefgh"])
        )
        measured = factory.probe("smoke", values={}).measure()
    assert measured.outcome is Outcome.FAILURE
    assert measured.detail.endswith(f"output:\nsmoke saw {REDACTED}"), measured.detail
