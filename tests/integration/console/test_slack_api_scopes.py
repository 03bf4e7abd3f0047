"""The Web API stand-in holds a bot token to the scopes it was installed with and to the
conversations the bot is in, answering as Slack does (missing_scope, not_in_channel, …)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from console.scopes import MANIFEST_BOT_SCOPES
from console.slack_api import Workspace

ROOT = Path(__file__).parents[3]


def refusal(call: Any) -> dict[str, Any]:
    """The body of a WebClient call that must fail with HTTP 200 (how Slack refuses)."""
    with pytest.raises(SlackApiError) as raised:
        call()
    assert raised.value.response.status_code == 200
    return dict(raised.value.response.data)


def test_a_default_workspace_grants_exactly_the_manifests_bot_scopes() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == MANIFEST_BOT_SCOPES
    assert Workspace().bot_scopes == MANIFEST_BOT_SCOPES


def test_a_method_without_its_scope_is_missing_scope_with_needed_and_provided(
    client: WebClient, workspace: Workspace
) -> None:
    workspace.bot_scopes = frozenset({"commands", "users:read"})
    body = refusal(lambda: client.chat_postMessage(channel="C0RELEASES", text="R-1"))
    assert body == {
        "ok": False,
        "error": "missing_scope",
        "needed": "chat:write",
        "provided": "commands,users:read",
    }
    assert workspace.history("C0RELEASES") == []
    assert client.users_info(user="U0APPROVER1")["ok"]


@pytest.mark.parametrize(
    ("private", "needed"),
    [(False, "channels:history"), (True, "groups:history")],
    ids=["public channel", "private channel"],
)
def test_reading_a_channel_needs_the_history_scope_of_its_type(
    client: WebClient, workspace: Workspace, private: bool, needed: str
) -> None:
    workspace.add_channel("C0DEPLOYS", "deploys", private=private)
    client.chat_postMessage(channel="C0DEPLOYS", text="R-1")
    workspace.bot_scopes = MANIFEST_BOT_SCOPES - {needed}
    body = refusal(lambda: client.conversations_history(channel="C0DEPLOYS"))
    assert (body["error"], body["needed"]) == ("missing_scope", needed)
    assert refusal(lambda: client.conversations_replies(channel="C0DEPLOYS", ts="1.0"))[
        "needed"
    ] == (needed)
    workspace.bot_scopes = MANIFEST_BOT_SCOPES | {needed}
    assert [m["text"] for m in client.conversations_history(channel="C0DEPLOYS")["messages"]] == [
        "R-1"
    ]


def test_a_dm_opened_by_posting_to_a_user_id_is_read_with_im_history(
    client: WebClient, workspace: Workspace
) -> None:
    posted = client.chat_postMessage(channel="U0APPROVER1", text="please approve R-1")
    dm = posted["channel"]
    assert dm.startswith("D")
    workspace.bot_scopes = MANIFEST_BOT_SCOPES - {"im:history"}
    body = refusal(lambda: client.conversations_history(channel=dm))
    assert (body["error"], body["needed"]) == ("missing_scope", "im:history")
    workspace.bot_scopes = MANIFEST_BOT_SCOPES | {"im:history"}
    [message] = client.conversations_history(channel=dm)["messages"]
    assert message["text"] == "please approve R-1"


def test_history_takes_a_conversation_id_not_a_user_id_or_a_name(client: WebClient) -> None:
    client.chat_postMessage(channel="U0APPROVER1", text="please approve R-1")
    for reference in ("U0APPROVER1", "#releases", "releases"):
        body = refusal(lambda reference=reference: client.conversations_history(channel=reference))  # type: ignore[misc]
        assert body == {"ok": False, "error": "channel_not_found"}


def test_opening_a_dm_needs_im_write_and_a_group_dm_mpim_write(
    client: WebClient, workspace: Workspace
) -> None:
    workspace.bot_scopes = MANIFEST_BOT_SCOPES - {"im:write"}
    assert refusal(lambda: client.conversations_open(users="U0APPROVER1"))["needed"] == "im:write"
    group = "U0APPROVER1,U0APPROVER2"
    assert refusal(lambda: client.conversations_open(users=group))["needed"] == "mpim:write"
    assert "U0APPROVER1" not in {c.user for c in workspace.channels.values()}


def test_a_public_channel_the_bot_was_not_invited_to(
    client: WebClient, workspace: Workspace
) -> None:
    workspace.add_channel("C0DEPLOYS", "deploys", bot_is_member=False)
    # chat:write.public lets it post there, but a bot token reads only where it is a member.
    posted = client.chat_postMessage(channel="C0DEPLOYS", text="R-1 planned")
    assert posted["ok"]
    assert refusal(lambda: client.conversations_history(channel="C0DEPLOYS")) == {
        "ok": False,
        "error": "not_in_channel",
    }
    assert refusal(lambda: client.conversations_replies(channel="C0DEPLOYS", ts=posted["ts"]))[
        "error"
    ] == ("not_in_channel")
    workspace.bot_scopes = MANIFEST_BOT_SCOPES - {"chat:write.public"}
    assert refusal(lambda: client.chat_postMessage(channel="C0DEPLOYS", text="again")) == {
        "ok": False,
        "error": "not_in_channel",
    }
    assert [m.text for m in workspace.history("C0DEPLOYS")] == ["R-1 planned"]


def test_a_private_channel_the_bot_is_not_in_does_not_exist_for_it(
    client: WebClient, workspace: Workspace
) -> None:
    workspace.add_channel("C0SECRET", "secret", private=True, bot_is_member=False)
    for call in (
        lambda: client.chat_postMessage(channel="C0SECRET", text="R-1"),
        lambda: client.conversations_history(channel="C0SECRET"),
    ):
        assert refusal(call) == {"ok": False, "error": "channel_not_found"}
    assert workspace.history("C0SECRET") == []


def test_methods_slack_lists_without_a_scope_need_none(
    client: WebClient, workspace: Workspace
) -> None:
    posted = client.chat_postMessage(channel="C0RELEASES", text="R-1")
    workspace.bot_scopes = frozenset()
    assert client.auth_test()["ok"]
    assert client.chat_getPermalink(channel="C0RELEASES", message_ts=posted["ts"])["ok"]
