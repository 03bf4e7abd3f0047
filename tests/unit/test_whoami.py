"""`/release whoami [@someone]`: its grammar, its usage, and the roles it reads from the config."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain.context import DomainContext
from commands.grammar import Help, UsageError
from commands.people_commands import Whoami, roles
from commands.registry import parse_command, usage_for

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def parse(text: str) -> object:
    return parse_command(text, now=NOW, tz=ZoneInfo("UTC"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("whoami", Whoami()),
        ("WhoAmI", Whoami()),
        ("whoami <@U0QA|qa>", Whoami(user_id="U0QA")),
        ("whoami <@U0QA>", Whoami(user_id="U0QA")),
        ("whoami help", Help(topic="whoami")),
        ("help whoami", Help(topic="whoami")),
    ],
)
def test_whoami_forms(text: str, expected: object) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("whoami alice", "expected a person like @alice, got 'alice'"),
        ("whoami @alice", "expected a person like @alice, got '@alice'"),
        ('whoami "<@U0QA>"', "expected a person like @alice, got '<@U0QA>'"),
        ("whoami <#C0RELEASES>", "expected a person like @alice, got '<#C0RELEASES>'"),
        ("whoami <@U0QA> <@U0ADMIN>", "unexpected '<@U0ADMIN>'; name one person"),
    ],
)
def test_whoami_mistakes_show_its_usage(text: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse(text)
    assert caught.value.message == message
    assert caught.value.subcommand == "whoami"
    assert caught.value.usage == usage_for("whoami")


def test_whoami_has_usage_and_is_in_the_overview() -> None:
    assert usage_for("whoami").startswith("`/release whoami [@someone]`\n")
    assert "`/release whoami [@someone]`\n" in usage_for(None)


def test_an_approver_through_a_group_sees_the_group(ctx: DomainContext) -> None:
    assert roles(ctx, "U0APPROVER4", asked_by="U0APPROVER4") == (
        ":bust_in_silhouette: Your roles — admin: no\n"
        "• *staging*: plan: yes · approve: no approval needed · deploy: yes\n"
        "• *production*: plan: yes · approve: yes, as a member of @sre · deploy: yes"
    )


def test_an_admin_listed_by_name_and_in_a_group(ctx: DomainContext) -> None:
    text = roles(ctx, "U0ADMIN", asked_by="U0QA")
    assert text.startswith(":bust_in_silhouette: Roles of <@U0ADMIN> — admin: yes\n")
    assert "*production*: plan: yes · approve: yes, as a member of @sre · deploy: yes" in text


def test_someone_listed_by_name_and_someone_not_listed(ctx: DomainContext) -> None:
    assert "approve: yes, listed by name" in roles(ctx, "U0APPROVER1", asked_by="U0APPROVER1")
    assert "*production*: plan: yes · approve: no · deploy: yes" in roles(
        ctx, "U0STRANGER", asked_by="U0STRANGER"
    )
