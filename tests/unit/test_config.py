"""releasebot.toml: what loads, what the admin is told when it does not, and the lookups."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.domain.config import ConfigError, HttpCheck, ReleasebotConfig, load_config
from bot.domain.errors import InvalidInput, NotFound
from integrations.deploy.argocd import ArgoCdSettings
from integrations.deploy.command import CommandSettings
from integrations.deploy.github_actions import GithubActionsSettings
from integrations.deploy.jenkins import JenkinsSettings
from integrations.deploy.webhook import WebhookSettings

REPO_ROOT = Path(__file__).resolve().parents[2]

# SPEC §10, verbatim: this exact text must be accepted.
SPEC_EXAMPLE = """\
timezone = "UTC"
admins = ["U0ADMIN"]

[channels]
releases = "C0RELEASES"        # cards, threads, rollback alerts
announcements = "C0ANNOUNCE"   # stakeholder announcements with changelog
oncall = "C0ONCALL"            # rollback alerts too (optional)

[environments.staging]
order = 1
approvals = { required = 0 }

[environments.production]
order = 2
requires = "staging"
approvals = { required = 2, approvers = ["U0APPROVER1", "U0APPROVER2", "U0APPROVER3", "@sre"], allow_self = false }
freezes = [{ cron = "0 17 * * FRI", duration = "63h", reason = "Weekend freeze" }]

[services.checkout]
repo_path = "./demo/checkout.git"   # changelog from a local git repo; or repo = "acme/checkout" for GitHub
backend = "command"
command = ["./deploy.sh", "{service}", "{version}", "{environment}", "{weight}"]
strategy = "canary"
checks = ["checkout-health"]
on_failure = "rollback"

[strategies.canary]
steps = [
  { weight = 10, pause = "5m", analysis = ["checkout-health"] },
  { weight = 50, pause = "5m", gate = "manual" },
  { weight = 100 },
]

[checks.checkout-health]
type = "http"
url = "http://127.0.0.1:8080/healthz"
expect_status = 200
interval = "30s"
count = 5
failure_limit = 1
"""  # noqa: E501  (kept exactly as the SPEC writes it)


def edit(old: str, new: str, text: str = SPEC_EXAMPLE) -> str:
    """The SPEC example with one snippet replaced (failing loudly if the snippet is gone)."""
    assert old in text, f"test setup: {old!r} is not in the example"
    return text.replace(old, new, 1)


def write(folder: Path, text: str, name: str = "releasebot.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def load_text(folder: Path, text: str) -> ReleasebotConfig:
    return load_config(write(folder, text))


def config_error(folder: Path, text: str) -> tuple[Path, ConfigError]:
    path = write(folder, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return path, caught.value


GITHUB_SERVICE = """
[services.payments]
repo = "acme/payments"
backend = "github_actions"
workflow = "deploy.yml"
"""

# --- the examples load ---------------------------------------------------------------------


def test_spec_example_loads_exactly_as_written(tmp_path: Path) -> None:
    config = load_text(tmp_path, SPEC_EXAMPLE)

    assert config.tz.key == "UTC"
    assert config.admins == ["U0ADMIN"]
    assert (config.channels.releases, config.channels.announcements, config.channels.oncall) == (
        "C0RELEASES",
        "C0ANNOUNCE",
        "C0ONCALL",
    )
    production = config.environment("production")
    assert production.requires == "staging"
    assert production.approvals.required == 2
    assert production.approvals.approvers[-1] == "@sre"
    assert production.approvals.allow_self is False
    freeze = production.freezes[0]
    assert (freeze.cron, freeze.duration, freeze.reason) == (
        "0 17 * * FRI",
        timedelta(hours=63),
        "Weekend freeze",
    )
    assert config.environment("staging").approvals.required == 0

    canary = config.strategy_for("checkout")
    assert canary.kind == "canary"  # inferred from the table name
    assert [(s.weight, s.pause, s.gate) for s in canary.stages] == [
        (10, timedelta(minutes=5), None),
        (50, timedelta(minutes=5), "manual"),
        (100, None, None),
    ]
    assert canary.stages[0].analysis == ["checkout-health"]

    check = config.check("checkout-health")
    assert isinstance(check, HttpCheck)
    assert (check.url, check.expect_status, check.interval, check.count) == (
        "http://127.0.0.1:8080/healthz",
        200,
        timedelta(seconds=30),
        5,
    )
    assert (check.failure_limit, check.consecutive_error_limit, check.initial_delay) == (
        1,
        4,
        timedelta(0),
    )


def test_spec_example_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    config = load_text(tmp_path, SPEC_EXAMPLE)

    assert config.base_dir == tmp_path
    assert config.repo_path("checkout") == tmp_path / "demo" / "checkout.git"
    settings = config.backend_settings("checkout")
    assert settings == CommandSettings(
        command=[
            str(tmp_path / "deploy.sh"),
            "{service}",
            "{version}",
            "{environment}",
            "{weight}",
        ],
        timeout=timedelta(minutes=30),
    )
    # Bare program names go through PATH; absolute paths are left alone.
    assert config.resolve_command(["kubectl", "./x"]) == ["kubectl", "./x"]
    assert config.resolve_command(["/bin/true"]) == ["/bin/true"]


def test_repository_example_config_loads() -> None:
    config = load_config(REPO_ROOT / "releasebot.toml")

    assert config.base_dir == REPO_ROOT
    settings = config.backend_settings("checkout")
    assert isinstance(settings, CommandSettings)
    assert settings.command[0] == str(REPO_ROOT / "demo" / "deploy.sh")
    check = config.check("checkout-health")
    assert isinstance(check, HttpCheck)
    assert check.url == "http://127.0.0.1:3000/demo/checkout/healthz"
    assert config.environment("staging").checklist == []
    checklist = config.environment("production").checklist
    assert [(i.item, i.assignee, i.required, i.phase) for i in checklist] == [
        ("QA sign-off", "U0QA", True, "pre_deploy"),
        ("Smoke tests reviewed", "@sre", True, "post_release"),
    ]


def test_repository_example_commented_backends_are_valid_when_uncommented(tmp_path: Path) -> None:
    text = (REPO_ROOT / "releasebot.toml").read_text(encoding="utf-8")
    block = text.split("# Other backends, for reference:\n", 1)[1].split("\n\n# ----", 1)[0]
    uncommented = "\n".join(line.removeprefix("#").removeprefix(" ") for line in block.splitlines())
    assert "[services.billing]" in uncommented

    config = load_text(tmp_path, text + "\n" + uncommented)

    assert isinstance(config.backend_settings("payments"), GithubActionsSettings)
    assert isinstance(config.backend_settings("catalog"), ArgoCdSettings)
    assert isinstance(config.backend_settings("billing"), JenkinsSettings)
    assert isinstance(config.backend_settings("search"), WebhookSettings)


# --- every kind of problem is named with its file, key path and a readable reason ----------

PROBLEMS = [
    pytest.param(
        edit("approvals = { required = 0 }", "aprovals = { required = 0 }"),
        "environments.staging.aprovals",
        "unknown key 'aprovals'; did you mean 'approvals'?",
        id="unknown-key-typo",
    ),
    pytest.param(
        edit('releases = "C0RELEASES"', 'releases = "C0RELEASES"\narchive = "C0ARCHIVE"'),
        "channels.archive",
        "unknown key 'archive'; expected one of: releases, announcements, oncall",
        id="unknown-key-no-close-match",
    ),
    pytest.param(
        edit('"0 17 * * FRI"', '"0 17 * * FRY"'),
        "environments.production.freezes[0].cron",
        '"0 17 * * FRY" is not a valid cron expression',
        id="bad-cron",
    ),
    pytest.param(
        edit('"0 17 * * FRI"', '"0 0 17 * * FRI"'),
        "environments.production.freezes[0].cron",
        "is not a 5-field cron expression (minute hour day-of-month month day-of-week)",
        id="cron-with-seconds",
    ),
    pytest.param(
        edit('"0 17 * * FRI"', '"0 0 30 2 *"'),
        "environments.production.freezes[0].cron",
        '"0 0 30 2 *" never matches a real date',
        id="cron-never-fires",
    ),
    pytest.param(
        edit('duration = "63h"', 'duration = "63hours"'),
        "environments.production.freezes[0].duration",
        "'63hours' is not a duration; write it like 30s, 5m, 2h, 1d or 1h30m",
        id="bad-duration",
    ),
    pytest.param(
        edit('pause = "5m", gate', "pause = 5, gate"),
        "strategies.canary.steps[1].pause",
        'expected a duration in quotes like "30s", "5m" or "1h30m", got 5',
        id="duration-without-unit",
    ),
    pytest.param(
        edit('timezone = "UTC"', 'timezone = "Europe/Pari"'),
        "timezone",
        '"Europe/Pari" is not an IANA time zone like "Europe/Paris" or "UTC"; '
        'did you mean "Europe/Paris"?',
        id="bad-timezone",
    ),
    pytest.param(
        edit('checks = ["checkout-health"]', 'checks = ["checkout-helth"]'),
        "services.checkout.checks[0]",
        "unknown check 'checkout-helth'; known: checkout-health",
        id="unknown-check-in-service",
    ),
    pytest.param(
        edit('analysis = ["checkout-health"]', 'analysis = ["latency"]'),
        "strategies.canary.steps[0].analysis[0]",
        "unknown check 'latency'; known: checkout-health",
        id="unknown-check-in-strategy-step",
    ),
    pytest.param(
        edit('strategy = "canary"', 'strategy = "fast"'),
        "services.checkout.strategy",
        "unknown strategy 'fast'; known: canary, all_at_once, blue_green",
        id="unknown-strategy",
    ),
    pytest.param(
        edit('backend = "command"', 'backend = "github_actions"\nrepo = "acme/checkout"'),
        "services.checkout.workflow",
        "'workflow' is required for backend 'github_actions' "
        '(the workflow file, e.g. "deploy.yml")',
        id="missing-backend-key",
    ),
    pytest.param(
        edit('on_failure = "rollback"', 'on_failure = "rollback"\nworkflow = "deploy.yml"'),
        "services.checkout.workflow",
        "'workflow' belongs to backend 'github_actions', but this service uses backend 'command'",
        id="key-of-another-backend",
    ),
    pytest.param(
        edit("backend = ", 'backend = "ansible"\n# ', text=SPEC_EXAMPLE),
        "services.checkout.backend",
        "expected 'command', 'github_actions', 'argocd', 'jenkins', 'webhook' or 'noop', "
        'got "ansible"',
        id="unknown-backend",
    ),
    pytest.param(
        edit('on_failure = "rollback"', 'on_failure = "rollback"\ntoken = "xoxb-123-secret"'),
        "services.checkout.token",
        "put it in an environment variable and name it with token_env",
        id="literal-secret",
    ),
    pytest.param(
        SPEC_EXAMPLE + GITHUB_SERVICE + 'inputs = { api_key = "k-123" }\n',
        "services.payments.inputs.api_key",
        "put it in an environment variable and name it with token_env",
        id="literal-secret-in-nested-table",
    ),
    pytest.param(
        SPEC_EXAMPLE + GITHUB_SERVICE + 'token_env = "ghp_16C7e42F292c6912E7710c838347Ae178B4a"\n',
        "services.payments.token_env",
        "expected the NAME of an environment variable, in capitals like GITHUB_TOKEN",
        id="token-pasted-into-token_env",
    ),
    pytest.param(
        edit("order = 1\n", 'order = 1\nrequires = "production"\n'),
        "environments.staging.requires",
        "requires forms a cycle: staging → production → staging",
        id="requires-cycle",
    ),
    pytest.param(
        edit('requires = "staging"', 'requires = "production"'),
        "environments.production.requires",
        "requires forms a cycle: production → production",
        id="requires-itself",
    ),
    pytest.param(
        edit('requires = "staging"', 'requires = "qa"'),
        "environments.production.requires",
        "unknown environment 'qa'; known: staging, production",
        id="requires-unknown",
    ),
    pytest.param(
        edit("{ weight = 50,", "{ weight = 5,"),
        "strategies.canary.steps[1].weight",
        "5 is lower than the previous 10; weights must not decrease",
        id="decreasing-weights",
    ),
    pytest.param(
        edit("  { weight = 100 },\n", ""),
        "strategies.canary.steps[1].weight",
        "the last stage is at 50; it must reach 100 to finish the rollout",
        id="last-step-below-100",
    ),
    pytest.param(
        edit("{ weight = 10,", "{ weight = 0,"),
        "strategies.canary.steps[0].weight",
        "must be at least 1, got 0",
        id="weight-out-of-range",
    ),
    pytest.param(
        SPEC_EXAMPLE + "\n[strategies.slow]\nsteps = [{ weight = 100 }]\n",
        "strategies.slow.kind",
        "'kind' is required but missing (all_at_once, canary, phased, blue_green or "
        "feature_flag (inferred when the table is named after one))",
        id="strategy-kind-missing",
    ),
    pytest.param(
        edit('command = ["./deploy.sh", "{service}"', 'command = ["./deploy.sh", "{svc}"'),
        "services.checkout.command[1]",
        'unknown placeholder {svc} in "{svc}"; known: {release_id}, {service}, {version}, '
        "{environment}, {action}, {stage}, {stage_index}, {weight}, {colour}, {idempotency_key}",
        id="unknown-placeholder",
    ),
    pytest.param(
        edit('releases = "C0RELEASES"', 'releases = "#releases"'),
        "channels.releases",
        '"#releases" is not a Slack channel id like C0123ABC (use the channel id',
        id="channel-name-instead-of-id",
    ),
    pytest.param(
        edit('releases = "C0RELEASES"        # cards, threads, rollback alerts\n', ""),
        "channels.releases",
        "'releases' is required but missing (the channel id for cards, threads and rollback "
        'alerts, e.g. "C0RELEASES")',
        id="missing-required-key",
    ),
    pytest.param(
        edit('"U0APPROVER1"', '"<@U0APPROVER1>"'),
        "environments.production.approvals.approvers[0]",
        '"<@U0APPROVER1>" is not a Slack user id (U… or W…) or a user group handle (@sre); '
        'write the bare id "U0APPROVER1"',
        id="mention-instead-of-user-id",
    ),
    pytest.param(
        edit('approvers = ["U0APPROVER1", "U0APPROVER2", "U0APPROVER3", "@sre"]', "approvers = []"),
        "environments.production.approvals.required",
        "2 approval(s) required but no approvers are listed",
        id="approvals-without-approvers",
    ),
    pytest.param(
        edit(
            'required = 2, approvers = ["U0APPROVER1", "U0APPROVER2", "U0APPROVER3", "@sre"]',
            'required = 3, approvers = ["U0APPROVER1", "U0APPROVER2"]',
        ),
        "environments.production.approvals.required",
        "3 approvals required but only 2 approver(s) listed, so no plan could ever be approved",
        id="quorum-unreachable",
    ),
    pytest.param(
        edit("order = 2", 'order = "2"'),
        "environments.production.order",
        'expected a whole number, got "2"',
        id="string-for-number",
    ),
    pytest.param(
        edit('type = "http"', 'type = "grpc"'),
        "checks.checkout-health.type",
        "unknown type \"grpc\"; expected one of 'http', 'prometheus', 'command'",
        id="unknown-check-type",
    ),
    pytest.param(
        edit('type = "http"\n', ""),
        "checks.checkout-health.type",
        "'type' is required but missing",
        id="check-type-missing",
    ),
    pytest.param(
        edit('url = "http://127.0.0.1:8080/healthz"', 'url = "127.0.0.1:8080/healthz"'),
        "checks.checkout-health.url",
        '"127.0.0.1:8080/healthz" is not an http:// or https:// URL',
        id="url-without-scheme",
    ),
    pytest.param(
        edit("failure_limit = 1", "failure_limit = 5"),
        "checks.checkout-health.failure_limit",
        "failure_limit 5 tolerates all 5 measurement(s), so this check could never fail",
        id="check-that-cannot-fail",
    ),
    pytest.param(
        edit("failure_limit = 1", 'failure_limit = 1\nmax_latency = "fast"'),
        "checks.checkout-health.max_latency",
        'expected a latency like "500ms", "2s" or "1m", got "fast"',
        id="bad-latency",
    ),
    pytest.param(
        SPEC_EXAMPLE + '\n[checks.errors]\ntype = "prometheus"\nurl = "http://prom:9090"\n'
        'query = "sum(rate(errors[5m]))"\n',
        "checks.errors.success",
        "a prometheus check needs a success or a failure condition",
        id="prometheus-without-condition",
    ),
    pytest.param(
        SPEC_EXAMPLE + '\n[checks.errors]\ntype = "prometheus"\nurl = "http://prom:9090"\n'
        'query = "up"\nsuccess = "  "\n',
        "checks.errors.success",
        "must not be empty",
        id="prometheus-empty-condition",
    ),
    pytest.param(
        edit('strategy = "canary"', 'strategy = "dark"')
        + '\n[strategies.dark]\nkind = "feature_flag"\nramp = [10, 50, 100]\n',
        "services.checkout.flag",
        "strategy 'dark' turns on a feature flag, so this service needs flag = {",
        id="feature-flag-strategy-without-flag",
    ),
    pytest.param(
        edit(
            'on_failure = "rollback"',
            'on_failure = "rollback"\nflag = { provider = "unleash", key = "new-checkout" }',
        ),
        "services.checkout.flag.api_url",
        "required for provider 'unleash'",
        id="unleash-without-url",
    ),
    pytest.param(
        edit(
            "approvals = { required = 0 }",
            'approvals = { required = 0 }\nchecklist = [{ item = "QA", assignee = "U0QA" }, '
            '{ item = "qa", assignee = "U0QA" }]',
        ),
        "environments.staging.checklist[1].item",
        "'qa' is listed twice in this checklist",
        id="duplicate-checklist-item",
    ),
    pytest.param(
        edit(
            "approvals = { required = 0 }",
            'approvals = { required = 0 }\nchecklist = [{ item = "Smoke", assignee = "U0QA", '
            'phase = "post_release", per_version = true }]',
        ),
        "environments.staging.checklist[0].per_version",
        "only a pre_deploy item can be per_version: a post_release item is ticked after the "
        "deploy, when the plan's version can no longer change",
        id="per-version-post-release-item",
    ),
    pytest.param(
        edit(
            "approvals = { required = 0 }",
            'approvals = { required = 0 }\nchecklist = [{ item = "QA", assignee = "U0QA", '
            'per_version = "yes" }]',
        ),
        "environments.staging.checklist[0].per_version",
        "expected true or false",
        id="per-version-not-a-boolean",
    ),
    pytest.param(
        edit(
            "approvals = { required = 0 }",
            'approvals = { required = 0 }\npermissions = { deploy = ["everyone"] }',
        ),
        "environments.staging.permissions.deploy[0]",
        '"everyone" is not "anyone", "admins", a Slack user id (U… or W…) or a user group',
        id="unknown-permission-grantee",
    ),
    pytest.param(
        SPEC_EXAMPLE + '\n[services."web shop"]\ncommand = ["./x.sh"]\n',
        'services."web shop"',
        '"web shop" is not a usable name',
        id="name-with-a-space",
    ),
    pytest.param(
        SPEC_EXAMPLE + '\n[reminders]\nworking_hours = "18:00-09:00"\n',
        "reminders.working_hours",
        '"18:00-09:00" ends before it starts',
        id="working-hours-backwards",
    ),
    pytest.param(
        SPEC_EXAMPLE + '\n[reminders]\nworking_days = ["MON", "FUN"]\n',
        "reminders.working_days[1]",
        "expected 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT' or 'SUN', got \"FUN\"",
        id="unknown-working-day",
    ),
]


@pytest.mark.parametrize(("text", "location", "message"), PROBLEMS)
def test_each_problem_names_file_key_path_and_reason(
    tmp_path: Path, text: str, location: str, message: str
) -> None:
    path, error = config_error(tmp_path, text)

    assert error.path == path
    listed = [(p.location, p.message) for p in error.problems]
    assert len(listed) == len(set(listed)), f"a problem is listed twice: {listed}"
    assert any(p.location == location and message in p.message for p in error.problems), (
        error.problems
    )
    assert f"{path}: {location}: " in str(error)


def test_toml_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    path, error = config_error(tmp_path, edit("order = 2", "order = "))

    [problem] = error.problems
    assert (problem.line, problem.column) == (14, 9)
    assert str(error) == f"{path}: line 14, column 9: invalid TOML: Invalid value"


def test_toml_syntax_error_at_end_of_file_points_at_the_last_line(tmp_path: Path) -> None:
    path, error = config_error(tmp_path, 'timezone = "UTC"\nadmins = [\n')

    assert str(error) == f"{path}: line 2, column 11: invalid TOML: Invalid value"


def test_a_cycle_is_reported_once_at_its_first_member(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "[environments.production]\n",
        '[environments.dev]\nrequires = "staging"\n'
        '[environments.staging]\nrequires = "production"\n'
        '[environments.production]\nrequires = "staging"\n',
    )
    _, error = config_error(tmp_path, text)

    assert [(p.location, p.message) for p in error.problems] == [
        ("environments.staging.requires", "requires forms a cycle: staging → production → staging")
    ]


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}: file not found"


def test_a_literal_secret_is_never_echoed_back(tmp_path: Path) -> None:
    _, error = config_error(
        tmp_path, edit('on_failure = "rollback"', 'on_failure = "rollback"\npassword = "hunter2"')
    )

    # Only the secret problem: its "unknown key" twin would be noise.
    assert [p.location for p in error.problems] == ["services.checkout.password"]
    assert "hunter2" not in str(error)


def test_several_problems_are_all_reported_in_file_order(tmp_path: Path) -> None:
    text = edit('timezone = "UTC"', 'timezone = "Mars/Olympus"')
    text = edit("approvals = { required = 0 }", "aprovals = { required = 0 }", text)
    text = edit('"0 17 * * FRI"', '"0 17 * * FRY"', text)
    text = edit('checks = ["checkout-health"]', 'checks = ["checkout-helth"]', text)
    text = edit('on_failure = "rollback"', 'on_failure = "rollback"\ntoken = "s3cr3t"', text)
    text = edit("{ weight = 50,", "{ weight = 5,", text)

    path, error = config_error(tmp_path, text)

    assert [p.location for p in error.problems] == [
        "timezone",
        "environments.staging.aprovals",
        "environments.production.freezes[0].cron",
        "services.checkout.checks[0]",
        "services.checkout.token",
        "strategies.canary.steps[1].weight",
    ]
    lines = str(error).splitlines()
    assert len(lines) == 6
    assert all(line.startswith(f"{path}: ") for line in lines)


def test_backend_problems_are_reported_even_when_another_key_of_the_service_fails(
    tmp_path: Path,
) -> None:
    text = edit('backend = "command"', 'backend = "github_actions"')
    text = edit('"{service}", "{version}"', '"{svc}", "{version}"', text)

    _, error = config_error(tmp_path, text)

    listed = [(p.location, p.message) for p in error.problems]
    assert len(listed) == len(set(listed)), "a problem is listed twice"
    assert {p.location for p in error.problems} >= {
        "services.checkout.command",  # belongs to the command backend
        "services.checkout.command[1]",  # unknown placeholder
        "services.checkout.repo",
        "services.checkout.workflow",
    }


def test_validating_a_mapping_directly_also_checks_references() -> None:
    data = {
        "channels": {"releases": "C0RELEASES"},
        "environments": {"staging": {}},
        "services": {"api": {"command": ["./deploy.sh"], "checks": ["nope"]}},
    }
    with pytest.raises(ValidationError) as caught:
        ReleasebotConfig.model_validate(data)
    [problem] = caught.value.errors()
    assert problem["loc"] == ("services", "api", "checks", 0)
    assert problem["msg"] == "unknown check 'nope'; none are defined"


def test_an_empty_file_asks_for_the_required_tables(tmp_path: Path) -> None:
    _, error = config_error(tmp_path, "")

    assert [(p.location, p.message) for p in error.problems] == [
        ("channels", "'channels' is required but missing (needs at least releases = \"C…\")"),
        (
            "environments",
            "'environments' is required but missing "
            "(define at least one [environments.<name>] table)",
        ),
        (
            "services",
            "'services' is required but missing (define at least one [services.<name>] table)",
        ),
    ]


# --- defaults, typed views and lookups ---------------------------------------------------

MINIMAL = """
[channels]
releases = "C0RELEASES"

[environments.production]

[services.api]
command = ["deploy", "{version}"]
"""


def test_defaults_follow_the_spec(tmp_path: Path) -> None:
    config = load_text(tmp_path, MINIMAL)

    assert config.timezone == "UTC"
    production = config.environment("production")
    assert production.approvals.required == 0
    assert production.auto_deploy is False
    assert production.permissions.granted("plan") == ["anyone"]
    assert production.permissions.granted("deploy") == ["anyone"]
    assert production.permissions.granted("rollback") == ["anyone"]
    assert production.permissions.granted("freeze") == ["admins"]
    assert production.permissions.granted("override") == ["admins"]
    service = config.service("api")
    assert (service.backend, service.strategy, service.on_failure) == (
        "command",
        "all_at_once",
        "rollback",
    )
    assert [s.weight for s in config.strategy_for("api").stages] == [100]
    reminders = config.reminders
    assert reminders.before_window == [
        timedelta(hours=24),
        timedelta(hours=1),
        timedelta(minutes=15),
    ]
    assert reminders.approval_every == timedelta(hours=4)
    assert time(9) in reminders.working_hours
    assert time(18) not in reminders.working_hours
    assert reminders.working_weekdays == frozenset({0, 1, 2, 3, 4})
    assert reminders.digest == "0 9 * * MON"


def test_pre_deploy_items_are_per_version_unless_they_say_otherwise(tmp_path: Path) -> None:
    config = load_text(
        tmp_path,
        edit(
            "approvals = { required = 0 }",
            "approvals = { required = 0 }\nchecklist = ["
            '{ item = "QA", assignee = "U0QA" }, '
            '{ item = "Ticket", assignee = "U0QA", per_version = false }, '
            '{ item = "Smoke", assignee = "U0QA", phase = "post_release" }]',
        ),
    )
    checklist = config.environment("staging").checklist
    assert [(i.item, i.reopens_on_new_version) for i in checklist] == [
        ("QA", True),
        ("Ticket", False),
        ("Smoke", False),
    ]


def test_reminders_and_freeze_time_zones_can_be_set(tmp_path: Path) -> None:
    text = (
        'timezone = "Europe/Paris"\n'
        + MINIMAL.replace(
            "[environments.production]\n",
            '[environments.production]\nfreezes = [{ cron = "0 18 * * fri", duration = "2d", '
            'reason = "weekend", timezone = "America/New_York" },\n'
            '  { cron = "0 0 24 12 *", duration = "1w", reason = "holidays" }]\n',
        )
        + '\n[reminders]\nworking_hours = "08:30-24:00"\nworking_days = ["SUN"]\n'
    )
    config = load_text(tmp_path, text)

    weekend, holidays = config.environment("production").freezes
    assert weekend.zone(config.tz).key == "America/New_York"
    assert holidays.zone(config.tz).key == "Europe/Paris"
    assert time(8, 29) not in config.reminders.working_hours
    assert time(23, 59) in config.reminders.working_hours
    assert config.reminders.working_weekdays == frozenset({6})


def test_backend_settings_fill_each_backends_defaults(tmp_path: Path) -> None:
    text = MINIMAL + (
        '\n[services.gh]\nrepo = "acme/gh"\nbackend = "github_actions"\nworkflow = "d.yml"\n'
        '\n[services.argo]\nbackend = "argocd"\nargocd_url = "https://argo"\napp = "argo"\n'
        '\n[services.jk]\nbackend = "jenkins"\njenkins_url = "https://ci"\njob = "deploy/jk"\n'
        "parameters = { DRY_RUN = false, REPLICAS = 3 }\n"
        '\n[services.hook]\nbackend = "webhook"\nurl = "https://hooks.example.com/deploy"\n'
    )
    config = load_text(tmp_path, text)

    assert config.backend_settings("gh") == GithubActionsSettings(
        repo="acme/gh",
        workflow="d.yml",
        ref="main",
        ref_input="version",
        inputs={},
        token_env="GITHUB_TOKEN",
        api_url="https://api.github.com",
    )
    assert config.backend_settings("argo") == ArgoCdSettings(
        argocd_url="https://argo",
        app="argo",
        rollout=None,
        namespace=None,
        token_env="ARGOCD_TOKEN",
    )
    assert config.backend_settings("jk") == JenkinsSettings(
        jenkins_url="https://ci",
        job="deploy/jk",
        parameters={"DRY_RUN": "false", "REPLICAS": "3"},
        user_env="JENKINS_USER",
        token_env="JENKINS_TOKEN",
    )
    assert config.backend_settings("hook") == WebhookSettings(
        url="https://hooks.example.com/deploy",
        status_url=None,
        secret_env="RELEASEBOT_WEBHOOK_SECRET",
    )
    # A bare program name is looked up on PATH, so it is not turned into a path.
    assert config.backend_settings("api") == CommandSettings(
        command=["deploy", "{version}"], timeout=timedelta(minutes=30)
    )


def test_latency_accepts_milliseconds(tmp_path: Path) -> None:
    config = load_text(
        tmp_path, edit("failure_limit = 1", 'failure_limit = 1\nmax_latency = "500ms"')
    )
    check = config.check("checkout-health")
    assert isinstance(check, HttpCheck)
    assert check.max_latency == timedelta(milliseconds=500)


def test_quorum_larger_than_listed_people_is_fine_when_a_group_is_listed(tmp_path: Path) -> None:
    config = load_text(tmp_path, edit("required = 2,", "required = 5,"))
    assert config.environment("production").approvals.required == 5


def test_strategy_kind_is_inferred_from_its_name_or_given(tmp_path: Path) -> None:
    text = SPEC_EXAMPLE + (
        "\n[strategies.phased]\nsteps = [{ weight = 25 }, { weight = 100 }]\n"
        '\n[strategies.slow]\nkind = "canary"\nsteps = [{ weight = 1 }, { weight = 100 }]\n'
        '\n[strategies.flags]\nkind = "feature_flag"\nramp = [10, 50, 100]\n'
    )
    config = load_text(tmp_path, text)

    assert config.strategy("phased").kind == "phased"
    assert config.strategy("slow").kind == "canary"
    assert [s.weight for s in config.strategy("flags").stages] == [10, 50, 100]
    assert config.strategy_for("checkout", "slow").stages[0].weight == 1
    assert config.strategy_for("checkout", "blue_green").kind == "blue_green"


def test_lookups_name_the_known_choices(tmp_path: Path) -> None:
    config = load_text(tmp_path, SPEC_EXAMPLE)

    with pytest.raises(NotFound) as env:
        config.environment("prod")
    assert env.value.message == "unknown environment 'prod'; known: staging, production"
    with pytest.raises(NotFound) as service:
        config.service("cart")
    assert service.value.message == "unknown service 'cart'; known: checkout"
    with pytest.raises(NotFound) as strategy:
        config.strategy_for("checkout", "yolo")
    assert (
        strategy.value.message == "unknown strategy 'yolo'; known: canary, all_at_once, blue_green"
    )
    with pytest.raises(NotFound) as check:
        config.check("latency")
    assert check.value.message == "unknown check 'latency'; known: checkout-health"


def test_overriding_to_a_feature_flag_strategy_needs_a_flag(tmp_path: Path) -> None:
    config = load_text(tmp_path, SPEC_EXAMPLE + "\n[strategies.feature_flag]\nramp = [50, 100]\n")
    with pytest.raises(InvalidInput, match="service 'checkout' has no flag configured"):
        config.strategy_for("checkout", "feature_flag")


def test_service_auto_deploy_overrides_the_environment(tmp_path: Path) -> None:
    text = edit("order = 1\n", "order = 1\nauto_deploy = true\n")
    text = edit('on_failure = "rollback"', 'on_failure = "rollback"\nauto_deploy = false', text)
    text += '\n[services.docs]\ncommand = ["./docs.sh"]\n'
    config = load_text(tmp_path, text)

    assert config.auto_deploys("checkout", "staging") is False
    assert config.auto_deploys("docs", "staging") is True
    assert config.auto_deploys("docs", "production") is False


def test_environments_are_ordered_by_order_then_file_position(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "[environments.production]\n",
        "[environments.production]\norder = 3\n[environments.qa]\n"
        "[environments.staging]\norder = 1\n[environments.dev]\n",
    )
    config = load_text(tmp_path, text)
    assert [name for name, _ in config.ordered_environments()] == [
        "qa",
        "dev",
        "staging",
        "production",
    ]


def test_prometheus_conditions_are_parsed_at_load(tmp_path: Path) -> None:
    check = '\n[checks.errors]\ntype = "prometheus"\nurl = "http://prom:9090"\nquery = "up"\n'
    load_text(tmp_path, SPEC_EXAMPLE + check + 'success = "result[0] == 1"\n')

    _, error = config_error(tmp_path, SPEC_EXAMPLE + check + 'failure = "result[0] >"\n')
    assert [(p.location, p.message) for p in error.problems] == [
        ("checks.errors.failure", "unexpected end of condition at column 12")
    ]


def test_a_loaded_config_survives_a_json_round_trip() -> None:
    config = load_config(REPO_ROOT / "releasebot.toml")

    again = ReleasebotConfig.model_validate_json(config.model_dump_json())

    assert again == config
    assert config.model_dump(mode="json")["reminders"]["working_hours"] == "09:00-18:00"
