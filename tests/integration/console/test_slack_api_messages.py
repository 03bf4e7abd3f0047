"""The Web API stand-in answers chat.*, conversations.*, users.* and usergroups.* like Slack."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from console.slack_api import Workspace

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "*R-1* checkout 1.4.2"}}


def slack_error(call: Any) -> tuple[int, dict[str, Any]]:
    """Run a WebClient call that must fail; return (HTTP status, body)."""
    with pytest.raises(SlackApiError) as raised:
        call()
    return raised.value.response.status_code, dict(raised.value.response.data)


def test_auth_test_names_the_bot(client: WebClient, workspace: Workspace) -> None:
    answer = client.auth_test()
    assert answer["user_id"] == workspace.bot_user_id
    assert answer["bot_id"] == workspace.bot_id
    assert answer["team_id"] == workspace.team_id


def test_post_message_answers_slacks_shape_and_lands_in_the_channel(
    client: WebClient, workspace: Workspace
) -> None:
    answer = client.chat_postMessage(channel="C0RELEASES", text="R-1 planned", blocks=[SECTION])

    assert answer["channel"] == "C0RELEASES"
    assert re.fullmatch(r"\d{10}\.\d{6}", answer["ts"])
    assert answer["message"]["text"] == "R-1 planned"
    assert answer["message"]["blocks"] == [SECTION]
    assert answer["message"]["bot_id"] == workspace.bot_id
    [stored] = workspace.history("C0RELEASES")
    assert (stored.ts, stored.text, stored.blocks) == (answer["ts"], "R-1 planned", [SECTION])


def test_ts_values_are_unique_and_increasing_even_when_the_clock_stands_still(
    client: WebClient,
) -> None:
    stamps = [client.chat_postMessage(channel="C0RELEASES", text=str(i))["ts"] for i in range(5)]
    assert len(set(stamps)) == 5
    assert stamps == sorted(stamps, key=float)


def test_channel_can_be_a_name_and_a_user_id_means_their_dm(
    client: WebClient, workspace: Workspace
) -> None:
    workspace.bot_scopes |= {"im:read"}  # an app installed with im:read may look at its DMs
    by_name = client.chat_postMessage(channel="#announcements", text="released")
    to_user = client.chat_postMessage(channel="U0APPROVER1", text="please approve")
    opened = client.conversations_open(users="U0APPROVER1")

    assert by_name["channel"] == "C0ANNOUNCE"
    assert to_user["channel"].startswith("D")
    assert opened["channel"]["id"] == to_user["channel"]
    assert client.conversations_open(users="U0APPROVER1")["channel"]["id"] == to_user["channel"]
    info = client.conversations_info(channel=to_user["channel"])["channel"]
    assert info["is_im"] is True
    assert info["user"] == "U0APPROVER1"


def test_unknown_channel_and_user_are_slack_errors(client: WebClient) -> None:
    assert slack_error(lambda: client.chat_postMessage(channel="C0NOPE", text="x")) == (
        200,
        {"ok": False, "error": "channel_not_found"},
    )
    assert slack_error(lambda: client.conversations_open(users="U0NOBODY"))[1]["error"] == (
        "user_not_found"
    )
    assert slack_error(lambda: client.users_info(user="U0NOBODY"))[1]["error"] == "user_not_found"


def test_message_without_text_or_blocks_is_no_text(api_url: str, workspace: Workspace) -> None:
    answer = httpx.post(
        f"{api_url}/api/chat.postMessage",
        data={"channel": "C0RELEASES"},
        headers={"Authorization": f"Bearer {workspace.bot_token}"},
    )
    assert answer.json() == {"ok": False, "error": "no_text"}


def test_text_over_40000_characters_is_msg_too_long(client: WebClient) -> None:
    _, body = slack_error(lambda: client.chat_postMessage(channel="C0RELEASES", text="x" * 40_001))
    assert body["error"] == "msg_too_long"
    assert client.chat_postMessage(channel="C0RELEASES", text="x" * 40_000)["ok"]


def test_form_body_with_token_field_and_blocks_as_json_text(
    api_url: str, workspace: Workspace
) -> None:
    answer = httpx.post(
        f"{api_url}/api/chat.postMessage",
        data={
            "token": workspace.bot_token,
            "channel": "C0RELEASES",
            "text": "from a form",
            "blocks": json.dumps([SECTION]),
        },
    )
    assert answer.status_code == 200
    assert answer.json()["message"]["blocks"] == [SECTION]
    # The recorded call keeps the decoded blocks and never the token.
    call = workspace.calls_to("chat.postMessage")[-1]
    assert call.args["blocks"] == [SECTION]
    assert "token" not in call.args


def test_missing_token_is_not_authed_and_wrong_token_invalid_auth(
    api_url: str, workspace: Workspace
) -> None:
    url = f"{api_url}/api/auth.test"
    assert httpx.post(url).json() == {"ok": False, "error": "not_authed"}
    assert httpx.post(url, headers={"Authorization": "Bearer xoxb-wrong"}).json() == {
        "ok": False,
        "error": "invalid_auth",
    }
    # Slack does not read a token from a JSON body: JSON calls authenticate by header.
    inside_json = httpx.post(url, json={"token": workspace.bot_token})
    assert inside_json.json()["error"] == "not_authed"


def test_unknown_method_is_404_unknown_method(api_url: str, workspace: Workspace) -> None:
    answer = httpx.post(
        f"{api_url}/api/chat.sendCarrierPigeon",
        headers={"Authorization": f"Bearer {workspace.bot_token}"},
    )
    assert answer.status_code == 404
    assert answer.json() == {"ok": False, "error": "unknown_method"}


@pytest.mark.parametrize(
    ("body", "content_type", "error"),
    [
        (b"{not json", "application/json", "invalid_json"),
        (b"[1, 2]", "application/json", "json_not_object"),
        (b"\xff\xfe", "application/x-www-form-urlencoded", "invalid_form_data"),
        (b"<xml/>", "text/xml", "invalid_form_data"),
    ],
)
def test_malformed_bodies_get_slacks_errors(
    api_url: str, workspace: Workspace, body: bytes, content_type: str, error: str
) -> None:
    answer = httpx.post(
        f"{api_url}/api/chat.postMessage",
        content=body,
        headers={"Authorization": f"Bearer {workspace.bot_token}", "Content-Type": content_type},
    )
    assert answer.status_code == 200
    assert answer.json() == {"ok": False, "error": error}


def test_thread_replies_and_broadcasts(client: WebClient, workspace: Workspace) -> None:
    parent = client.chat_postMessage(channel="C0RELEASES", text="card")["ts"]
    client.chat_postMessage(channel="C0RELEASES", text="approved by alice", thread_ts=parent)
    client.chat_postMessage(
        channel="C0RELEASES", text="rolled back", thread_ts=parent, reply_broadcast=True
    )

    history = client.conversations_history(channel="C0RELEASES")["messages"]
    assert [m["text"] for m in history] == ["rolled back", "card"]  # newest first
    assert history[1]["reply_count"] == 2
    assert history[0]["subtype"] == "thread_broadcast"
    replies = client.conversations_replies(channel="C0RELEASES", ts=parent)["messages"]
    assert [m["text"] for m in replies] == ["card", "approved by alice", "rolled back"]
    assert all(m["thread_ts"] == parent for m in replies)
    assert (
        slack_error(
            lambda: client.chat_postMessage(channel="C0RELEASES", text="x", thread_ts="1.000001")
        )[1]["error"]
        == "thread_not_found"
    )


def test_history_pages_with_a_cursor(client: WebClient) -> None:
    for i in range(5):
        client.chat_postMessage(channel="C0ONCALL", text=f"alert {i}")
    first = client.conversations_history(channel="C0ONCALL", limit=2)
    assert first["has_more"] is True
    cursor = first["response_metadata"]["next_cursor"]
    second = client.conversations_history(channel="C0ONCALL", limit=10, cursor=cursor)
    texts = [m["text"] for m in first["messages"] + second["messages"]]
    assert texts == [f"alert {i}" for i in (4, 3, 2, 1, 0)]
    assert second["has_more"] is False


def test_update_edits_in_place_and_refuses_what_it_cannot(
    client: WebClient, workspace: Workspace
) -> None:
    ts = client.chat_postMessage(channel="C0RELEASES", text="awaiting approval")["ts"]
    answer = client.chat_update(channel="C0RELEASES", ts=ts, text="approved", blocks=[SECTION])

    assert answer["ts"] == ts
    assert answer["message"]["edited"]["user"] == workspace.bot_user_id
    [stored] = workspace.history("C0RELEASES")
    assert (stored.text, stored.blocks) == ("approved", [SECTION])
    assert (
        slack_error(lambda: client.chat_update(channel="C0RELEASES", ts="1.000001", text="x"))[1][
            "error"
        ]
        == "message_not_found"
    )
    human = workspace.post_message("C0RELEASES", text="hello", user="U0REQUESTER")
    assert (
        slack_error(lambda: client.chat_update(channel="C0RELEASES", ts=human.ts, text="x"))[1][
            "error"
        ]
        == "cant_update_message"
    )


def test_ephemeral_goes_to_one_user_only(client: WebClient, workspace: Workspace) -> None:
    answer = client.chat_postEphemeral(channel="C0RELEASES", user="U0REQUESTER", text="unknown env")
    assert re.fullmatch(r"\d{10}\.\d{6}", answer["message_ts"])
    assert [e.text for e in workspace.ephemerals_for("U0REQUESTER", "C0RELEASES")] == [
        "unknown env"
    ]
    assert workspace.ephemerals_for("U0APPROVER1") == []
    assert workspace.history("C0RELEASES") == []
    assert (
        slack_error(
            lambda: client.chat_postEphemeral(channel="C0RELEASES", user="U0NOBODY", text="x")
        )[1]["error"]
        == "user_not_in_channel"
    )


def test_permalink_and_delete(client: WebClient, workspace: Workspace) -> None:
    ts = client.chat_postMessage(channel="C0RELEASES", text="card")["ts"]
    link = client.chat_getPermalink(channel="C0RELEASES", message_ts=ts)["permalink"]
    assert link.endswith("/archives/C0RELEASES/p" + ts.replace(".", ""))
    # A reply's permalink names its thread, as Slack's do.
    reply = client.chat_postMessage(channel="C0RELEASES", text="reply", thread_ts=ts)["ts"]
    link = client.chat_getPermalink(channel="C0RELEASES", message_ts=reply)["permalink"]
    assert link.endswith(
        f"/archives/C0RELEASES/p{reply.replace('.', '')}?thread_ts={ts}&cid=C0RELEASES"
    )
    client.chat_delete(channel="C0RELEASES", ts=reply)

    assert client.chat_delete(channel="C0RELEASES", ts=ts)["ts"] == ts
    assert workspace.history("C0RELEASES") == []
    assert slack_error(lambda: client.chat_delete(channel="C0RELEASES", ts=ts))[1]["error"] == (
        "message_not_found"
    )


def test_users_and_usergroups(client: WebClient) -> None:
    ada = client.users_info(user="U0ADMIN")["user"]
    assert (ada["name"], ada["is_admin"], ada["profile"]["title"]) == ("ada", True, "Admin")
    groups = client.usergroups_list(include_users=True)["usergroups"]
    assert [(g["id"], g["handle"], g["users"]) for g in groups] == [
        ("S0SRE", "sre", ["U0APPROVER2", "U0ADMIN"])
    ]
    assert "users" not in client.usergroups_list()["usergroups"][0]
    assert client.usergroups_users_list(usergroup="S0SRE")["users"] == ["U0APPROVER2", "U0ADMIN"]
    assert slack_error(lambda: client.usergroups_users_list(usergroup="S0NOPE"))[1]["error"] == (
        "no_such_subteam"
    )


def test_every_call_is_recorded_with_its_answer(client: WebClient, workspace: Workspace) -> None:
    client.chat_postMessage(channel="C0RELEASES", text="one")
    slack_error(lambda: client.chat_postMessage(channel="C0NOPE", text="two"))

    calls = workspace.calls_to("chat.postMessage")
    assert [(c.args["text"], c.ok, c.error, c.status) for c in calls] == [
        ("one", True, None, 200),
        ("two", False, "channel_not_found", 200),
    ]


def test_listeners_hear_about_changes(client: WebClient, workspace: Workspace) -> None:
    heard: list[str] = []
    stop = workspace.add_listener(heard.append)
    client.chat_postMessage(channel="C0RELEASES", text="one")
    stop()
    client.chat_postMessage(channel="C0RELEASES", text="two")
    assert "message" in heard
    assert heard.count("message") == 1
