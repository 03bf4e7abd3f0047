"""`/release whoami` through signed Slack requests: the caller's roles, answered in the ack."""

from __future__ import annotations

import pytest

from bot.domain.config import ReleasebotConfig, load_config
from tests.conftest import FIXTURES
from tests.scenario.driver import SlackDriver


@pytest.fixture
def config() -> ReleasebotConfig:
    """The test config with production deploys limited to the @sre group."""
    loaded = load_config(FIXTURES / "releasebot.toml")
    production = loaded.environments["production"]
    permissions = production.permissions.model_copy(update={"deploy": ["@sre"]})
    environments = {
        **loaded.environments,
        "production": production.model_copy(update={"permissions": permissions}),
    }
    return loaded.model_copy(update={"environments": environments})


def _section(answer: dict[str, object]) -> str:
    [block] = answer["blocks"]  # type: ignore[misc]
    return str(block["text"]["text"])  # type: ignore[index]


def test_whoami_shows_the_caller_their_roles_only_to_them(slack: SlackDriver) -> None:
    answer = slack.command("U0APPROVER4", "whoami")

    assert answer["response_type"] == "ephemeral"
    assert _section(answer) == (
        ":bust_in_silhouette: Your roles — admin: no\n"
        "• *staging*: plan: yes · approve: no approval needed · deploy: yes\n"
        "• *production*: plan: yes · approve: yes, as a member of @sre · deploy: yes"
    )
    slack.settle()
    assert slack.ephemerals("U0APPROVER4") == []  # answered in the ack, nothing follows
    assert slack.channel_messages("C0RELEASES") == []


def test_whoami_someone_names_them_and_what_they_may_not_do(slack: SlackDriver) -> None:
    stranger = _section(slack.command("U0QA", "whoami <@U0STRANGER|stranger>"))
    admin = _section(slack.command("U0QA", "whoami <@U0ADMIN|admin>"))
    named = _section(slack.command("U0QA", "whoami <@U0APPROVER1|approver1>"))

    assert stranger == (
        ":bust_in_silhouette: Roles of <@U0STRANGER> — admin: no\n"
        "• *staging*: plan: yes · approve: no approval needed · deploy: yes\n"
        "• *production*: plan: yes · approve: no · deploy: no"
    )
    assert admin.startswith(":bust_in_silhouette: Roles of <@U0ADMIN> — admin: yes\n")
    assert "*production*: plan: yes · approve: yes, as a member of @sre · deploy: yes" in admin
    assert "*production*: plan: yes · approve: yes, listed by name · deploy: no" in named


def test_whoami_is_listed_in_help_and_explained(slack: SlackDriver) -> None:
    overview = str(slack.command("U0QA", "help")["blocks"])
    explained = _section(slack.command("U0QA", "help whoami"))

    assert "`/release whoami [@someone]`" in overview
    assert explained.startswith("`/release whoami [@someone]`\nShows what you")


def test_whoami_of_something_that_is_not_a_person_explains_the_form(slack: SlackDriver) -> None:
    answer = slack.command("U0QA", "whoami production")

    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == "expected a person like @alice, got 'production'"
    assert "/release whoami [@someone]" in str(answer["blocks"])
