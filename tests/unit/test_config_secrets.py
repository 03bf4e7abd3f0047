"""Secrets the configured services need: named by check-config, required by serve and socket."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app.cli import main
from bot.domain.config import load_config, needed_secrets
from tests.unit.test_config import REPO_ROOT, SPEC_EXAMPLE

SERVICES = """
[services.payments]
repo = "acme/payments"
backend = "github_actions"
workflow = "deploy.yml"

[services.catalog]
backend = "argocd"
argocd_url = "https://argocd.example.com"
app = "catalog"
token_env = "CATALOG_ARGOCD_TOKEN"

[services.billing]
backend = "jenkins"
jenkins_url = "https://jenkins.example.com"
job = "deploy/billing"

[services.search]
backend = "webhook"
url = "https://deployer.example.com/hooks/releasebot"

[services.storefront]
command = ["./deploy.sh"]
flag = { provider = "launchdarkly", key = "new-checkout" }

[services.recs]
command = ["./deploy.sh"]
flag = { provider = "unleash", key = "recs", api_url = "https://unleash.example.com" }

[services.web]
repo = "acme/web"
backend = "github_actions"
workflow = "deploy.yml"
"""
VARIABLES = (
    "GITHUB_TOKEN",
    "CATALOG_ARGOCD_TOKEN",
    "JENKINS_USER",
    "JENKINS_TOKEN",
    "RELEASEBOT_WEBHOOK_SECRET",
    "LAUNCHDARKLY_API_TOKEN",
    "UNLEASH_API_TOKEN",
)


@pytest.fixture(autouse=True)
def _keep_logging() -> Iterator[None]:
    """main() sets up JSON logging on the root logger; give the next test its own back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def deployment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A deployment directory whose config names every kind of secret; none of them set."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "signing-secret")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-test")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.store.db'}")
    path = tmp_path / "releasebot.toml"
    path.write_text(SPEC_EXAMPLE + SERVICES)
    monkeypatch.setenv("RELEASEBOT_CONFIG", str(path))
    return path


def test_every_secret_is_derived_from_the_backend_and_flag_settings(deployment: Path) -> None:
    secrets = needed_secrets(load_config(deployment))

    assert [(s.key, s.variable, s.owner, s.purpose) for s in secrets] == [
        (
            "services.payments.token_env",
            "GITHUB_TOKEN",
            "service 'payments'",
            "its github_actions backend",
        ),
        (
            "services.catalog.token_env",
            "CATALOG_ARGOCD_TOKEN",
            "service 'catalog'",
            "its argocd backend",
        ),
        ("services.billing.user_env", "JENKINS_USER", "service 'billing'", "its jenkins backend"),
        ("services.billing.token_env", "JENKINS_TOKEN", "service 'billing'", "its jenkins backend"),
        (
            "services.search.secret_env",
            "RELEASEBOT_WEBHOOK_SECRET",
            "service 'search'",
            "its webhook backend",
        ),
        (
            "services.storefront.flag.token_env",
            "LAUNCHDARKLY_API_TOKEN",
            "service 'storefront'",
            "its launchdarkly feature flag",
        ),
        (
            "services.recs.flag.token_env",
            "UNLEASH_API_TOKEN",
            "service 'recs'",
            "its unleash feature flag",
        ),
        ("services.web.token_env", "GITHUB_TOKEN", "service 'web'", "its github_actions backend"),
    ]


def test_the_example_config_needs_no_secret_so_the_console_starts_with_it() -> None:
    assert needed_secrets(load_config(REPO_ROOT / "releasebot.toml")) == []


@pytest.mark.parametrize("command", ["serve", "socket"])
def test_slack_modes_refuse_to_start_with_one_line_per_missing_variable(
    deployment: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    monkeypatch.setenv("JENKINS_USER", "releasebot")
    monkeypatch.setenv("UNLEASH_API_TOKEN", "")  # set but empty is as good as missing

    with pytest.raises(SystemExit) as stopped:
        main([command])

    assert stopped.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        "releasebot: refusing to start, secrets are not set:",
        "releasebot: GITHUB_TOKEN is not set; service 'payments' needs it for its github_actions "
        "backend (services.payments.token_env); service 'web' needs it for its github_actions "
        "backend (services.web.token_env)",
        "releasebot: CATALOG_ARGOCD_TOKEN is not set; service 'catalog' needs it for its argocd "
        "backend (services.catalog.token_env)",
        "releasebot: JENKINS_TOKEN is not set; service 'billing' needs it for its jenkins backend "
        "(services.billing.token_env)",
        "releasebot: RELEASEBOT_WEBHOOK_SECRET is not set; service 'search' needs it for its "
        "webhook backend (services.search.secret_env)",
        "releasebot: LAUNCHDARKLY_API_TOKEN is not set; service 'storefront' needs it for its "
        "launchdarkly feature flag (services.storefront.flag.token_env)",
        "releasebot: UNLEASH_API_TOKEN is not set; service 'recs' needs it for its unleash "
        "feature flag (services.recs.flag.token_env)",
    ]


def test_with_every_secret_set_serve_goes_on_to_its_next_check(
    deployment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in VARIABLES:
        monkeypatch.setenv(name, f"value-of-{name.lower()}")

    # The next refusal is the database's: the secrets passed.
    with pytest.raises(SystemExit, match="run `releasebot migrate`"):
        main(["serve"])


def test_check_config_names_each_key_whose_secret_is_unset(
    deployment: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in VARIABLES:
        monkeypatch.setenv(name, "set")
    monkeypatch.delenv("LAUNCHDARKLY_API_TOKEN")
    monkeypatch.delenv("GITHUB_TOKEN")

    assert main(["check-config"]) == 1

    assert capsys.readouterr().out.splitlines() == [
        f"{deployment}: services.payments.token_env: GITHUB_TOKEN is not set in the environment; "
        "service 'payments' needs it for its github_actions backend",
        f"{deployment}: services.storefront.flag.token_env: LAUNCHDARKLY_API_TOKEN is not set in "
        "the environment; service 'storefront' needs it for its launchdarkly feature flag",
        f"{deployment}: services.web.token_env: GITHUB_TOKEN is not set in the environment; "
        "service 'web' needs it for its github_actions backend",
    ]


def test_check_config_is_ok_once_every_secret_is_set(
    deployment: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in VARIABLES:
        monkeypatch.setenv(name, "set")

    assert main(["check-config"]) == 0

    assert capsys.readouterr().out == (f"{deployment}: ok — 8 services, 2 environments, 1 checks\n")
