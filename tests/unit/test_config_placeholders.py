"""Placeholders: the config accepts exactly what the deploy stages and checks fill in."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.domain.placeholders import (
    CHECK_PLACEHOLDERS,
    DEPLOY_PLACEHOLDERS,
    PLACEHOLDERS,
    release_environment,
    values_for,
)
from bot.ports.deploy import DeployRequest
from integrations.deploy.command import CommandBackend, CommandSettings
from integrations.deploy.github_actions import GithubActionsSettings
from tests.unit.test_config import REPO_ROOT, SPEC_EXAMPLE, config_error, edit, load_text

BLUE_GREEN_SERVICE = """
[services.search]
backend = "command"
strategy = "blue_green"
command = ["./deploy.sh", "{service}", "{version}", "--colour={colour}", "{weight}"]
"""

SMOKE_CHECK = """
[checks.smoke]
type = "command"
command = ["./smoke.sh", "{environment}", "{weight}"]
"""


def _request(**changes: object) -> DeployRequest:
    fields: dict[str, object] = {
        "release_id": "R-7",
        "service": "search",
        "version": "2.0.0",
        "environment": "staging",
        "action": "deploy",
        "stage_index": 0,
        "stage_name": "deploy to green",
        "weight": 0,
        "colour": "green",
        "idempotency_key": "R-7:deploy:0",
    }
    return DeployRequest(**{**fields, **changes})  # type: ignore[arg-type]


def test_check_config_accepts_the_colour_the_blue_green_backend_supplies(tmp_path: Path) -> None:
    config = load_text(tmp_path, SPEC_EXAMPLE + BLUE_GREEN_SERVICE)

    settings = config.backend_settings("search")
    assert isinstance(settings, CommandSettings)
    assert settings.command[3] == "--colour={colour}"


def test_the_colour_accepted_by_the_config_reaches_the_command_as_it_does_release_colour(
    tmp_path: Path,
) -> None:
    config = load_text(tmp_path, SPEC_EXAMPLE + BLUE_GREEN_SERVICE)
    settings = config.backend_settings("search")
    assert isinstance(settings, CommandSettings)
    backend = CommandBackend(command=settings.command, state_dir=tmp_path / "state")

    argv = backend.argv(_request())

    assert argv[1:] == ["search", "2.0.0", "--colour=green", "0"]
    assert release_environment(_request())["RELEASE_COLOUR"] == "green"


def test_every_declared_placeholder_is_accepted_in_a_command(tmp_path: Path) -> None:
    every = ", ".join(f'"{{{name}}}"' for name in DEPLOY_PLACEHOLDERS)
    text = edit(
        'command = ["./deploy.sh", "{service}", "{version}", "{environment}", "{weight}"]',
        f'command = ["./deploy.sh", {every}]',
    )

    config = load_text(tmp_path, text)

    settings = config.backend_settings("checkout")
    assert isinstance(settings, CommandSettings)
    assert settings.command[1:] == [f"{{{name}}}" for name in DEPLOY_PLACEHOLDERS]


def test_an_unknown_placeholder_lists_every_declared_one(tmp_path: Path) -> None:
    misspelt = BLUE_GREEN_SERVICE.replace("colour}", "color}")
    _, error = config_error(tmp_path, SPEC_EXAMPLE + misspelt)

    [problem] = error.problems
    assert problem.location == "services.search.command[3]"
    assert problem.message == (
        'unknown placeholder {color} in "--colour={color}"; known: {release_id}, {service}, '
        "{version}, {environment}, {action}, {stage}, {stage_index}, {weight}, {colour}, "
        "{idempotency_key}, {previous_version}"
    )


def test_every_placeholder_has_the_value_of_its_release_variable() -> None:
    request = _request(weight=None, colour=None, previous_version="1.9.0")

    values, variables = values_for(request), release_environment(request)

    assert {p.variable: values[p.name] for p in PLACEHOLDERS} == variables
    assert variables == {
        "RELEASE_ID": "R-7",
        "RELEASE_SERVICE": "search",
        "RELEASE_VERSION": "2.0.0",
        "RELEASE_ENVIRONMENT": "staging",
        "RELEASE_ACTION": "deploy",
        "RELEASE_STAGE": "deploy to green",
        "RELEASE_STAGE_INDEX": "0",
        "RELEASE_WEIGHT": "",
        "RELEASE_COLOUR": "",
        "RELEASE_IDEMPOTENCY_KEY": "R-7:deploy:0",
        "RELEASE_PREVIOUS_VERSION": "1.9.0",
    }


def test_a_command_check_is_refused_a_placeholder_checks_are_never_given(tmp_path: Path) -> None:
    # Checks measure a plan after its stage: {weight} would reach the smoke test as literal text.
    _, error = config_error(tmp_path, SPEC_EXAMPLE + SMOKE_CHECK)

    [problem] = error.problems
    assert problem.location == "checks.smoke.command[2]"
    assert problem.message == (
        'unknown placeholder {weight} in "{weight}"; '
        "known: {release_id}, {service}, {version}, {environment}"
    )
    assert CHECK_PLACEHOLDERS == ("release_id", "service", "version", "environment")


def test_a_command_check_may_use_the_plan_placeholders(tmp_path: Path) -> None:
    text = SPEC_EXAMPLE + SMOKE_CHECK.replace('"{weight}"', '"{release_id}", "{version}"')

    config = load_text(tmp_path, text)

    assert config.checks["smoke"].command[1:] == [  # type: ignore[union-attr]
        "{environment}",
        "{release_id}",
        "{version}",
    ]


@pytest.mark.parametrize(
    ("service", "location"),
    [
        pytest.param(
            '[services.payments]\nrepo = "acme/payments"\nbackend = "github_actions"\n'
            'workflow = "deploy.yml"\ninputs = { version = "{vers}", payload = \'{"a": 1}\' }\n',
            "services.payments.inputs.version",
            id="workflow-input",
        ),
        pytest.param(
            '[services.billing]\nbackend = "jenkins"\njenkins_url = "https://ci.example.com"\n'
            'job = "deploy"\nparameters = { TARGET = "{env}", DRY_RUN = false }\n',
            "services.billing.parameters.TARGET",
            id="jenkins-parameter",
        ),
        pytest.param(
            '[services.search]\nbackend = "webhook"\nurl = "https://deployer.example.com/go"\n'
            'status_url = "https://deployer.example.com/status/{release}"\n',
            "services.search.status_url",
            id="webhook-status-url",
        ),
    ],
)
def test_templated_values_of_other_backends_are_checked_at_load_not_at_first_deploy(
    tmp_path: Path, service: str, location: str
) -> None:
    _, error = config_error(tmp_path, SPEC_EXAMPLE + "\n" + service)

    assert [p.location for p in error.problems] == [location]
    assert error.problems[0].message.startswith("unknown placeholder {")
    assert "known: {release_id}, {service}" in error.problems[0].message


def test_json_braces_in_a_workflow_input_are_not_placeholders(tmp_path: Path) -> None:
    text = (
        SPEC_EXAMPLE + '\n[services.payments]\nrepo = "acme/payments"\nbackend = "github_actions"\n'
        'workflow = "deploy.yml"\ninputs = { payload = \'{"colour": "{colour}"}\' }\n'
    )

    config = load_text(tmp_path, text)

    settings = config.backend_settings("payments")
    assert isinstance(settings, GithubActionsSettings)
    assert settings.inputs == {"payload": '{"colour": "{colour}"}'}


def test_the_example_config_lists_every_placeholder_in_its_comments() -> None:
    text = (REPO_ROOT / "releasebot.toml").read_text(encoding="utf-8")
    comments = "\n".join(line for line in text.splitlines() if line.lstrip().startswith("#"))
    listed = re.search(r"Placeholders in a command.*?(?=\n# -{10})", comments, re.DOTALL)
    assert listed is not None, "releasebot.toml has no placeholder list"

    assert re.findall(r"\{([a-z_]+)\}", listed.group()) == list(DEPLOY_PLACEHOLDERS)
    for placeholder in PLACEHOLDERS:
        assert placeholder.variable in listed.group()
