"""Block Kit the bot sends is checked against Slack's limits; rejects say what was wrong."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from console.blockkit import block_problems
from console.slack_api import Workspace


def button(action_id: str, text: str = "Approve", **extra: Any) -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        **extra,
    }


def section(text: str = "x", **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def rejected(client: WebClient, blocks: Any) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C0RELEASES", text="fallback", blocks=blocks)
    return dict(raised.value.response.data)


def test_fifty_blocks_pass_fifty_one_are_invalid_blocks(
    client: WebClient, workspace: Workspace
) -> None:
    assert client.chat_postMessage(channel="C0RELEASES", text="ok", blocks=[section()] * 50)["ok"]
    body = rejected(client, [section()] * 51)
    assert body["error"] == "invalid_blocks"
    assert "no more than 50 items" in body["response_metadata"]["messages"][0]
    assert len(workspace.history("C0RELEASES")) == 1


@pytest.mark.parametrize(
    ("blocks", "complaint"),
    [
        ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}], "150"),
        ([section("s" * 3001)], "3000"),
        ([{"type": "actions", "elements": [button("a", "b" * 76)]}], "75"),
        ([{"type": "actions", "elements": [button("a", style="loud")]}], "style"),
        (
            [{"type": "actions", "elements": [button("a"), button("a", "Reject")]}],
            "duplicate action_id",
        ),
        ([section(block_id="card"), section(block_id="card")], "duplicate block_id"),
        ([{"type": "carousel_of_doom"}], "unsupported type"),
        (
            [{"type": "actions", "elements": [{"type": "hologram", "action_id": "a"}]}],
            "unsupported",
        ),
        ([{"type": "actions", "elements": []}], "non-empty"),
        ([{"type": "header", "text": {"type": "mrkdwn", "text": "*h*"}}], "plain_text"),
        ([{"type": "actions", "elements": [{"type": "button", "action_id": "a"}]}], "malformed"),
        (["not an object"], "must be an object"),
        ([section(block_id="b" * 256)], "255"),
    ],
)
def test_payloads_slack_would_reject_are_invalid_blocks(
    client: WebClient, blocks: list[Any], complaint: str
) -> None:
    body = rejected(client, blocks)
    assert body["error"] == "invalid_blocks"
    assert any(complaint in line for line in body["response_metadata"]["messages"]), body


def test_blocks_that_are_not_json_are_invalid_blocks_format(
    api_url: str, workspace: Workspace
) -> None:
    import httpx

    answer = httpx.post(
        f"{api_url}/api/chat.postMessage",
        data={"channel": "C0RELEASES", "text": "x", "blocks": "[{oops"},
        headers={"Authorization": f"Bearer {workspace.bot_token}"},
    )
    assert answer.json()["error"] == "invalid_blocks_format"


def test_a_realistic_release_card_is_accepted() -> None:
    card = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": "R-7 checkout 1.4.2 → production"},
        },
        {
            "type": "section",
            "block_id": "summary",
            "fields": [
                {"type": "mrkdwn", "text": "*State*\nawaiting_approval"},
                {"type": "mrkdwn", "text": "*Window*\n2026-11-24 15:00 UTC"},
            ],
            "accessory": button("open_thread", "Details"),
        },
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": "requested by <@U0REQUESTER>"}],
        },
        {"type": "divider"},
        {"type": "image", "image_url": "https://example.com/chart.png", "alt_text": "error rate"},
        {
            "type": "actions",
            "block_id": "buttons",
            "elements": [
                button("approve", style="primary", value="R-7"),
                button(
                    "reject",
                    "Reject",
                    style="danger",
                    confirm={
                        "title": {"type": "plain_text", "text": "Reject R-7?"},
                        "text": {"type": "mrkdwn", "text": "The requester is told."},
                        "confirm": {"type": "plain_text", "text": "Reject"},
                        "deny": {"type": "plain_text", "text": "Keep"},
                    },
                ),
            ],
        },
    ]
    assert block_problems(card, limit=50) == []
