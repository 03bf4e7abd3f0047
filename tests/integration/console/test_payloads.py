"""Requests the console builds are what Slack sends: signed correctly, parsed by Bolt as usual."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_bolt import Ack, App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from console.payloads import (
    Sender,
    block_actions,
    clicked_action,
    find_element,
    form_body,
    interaction_body,
    sign,
    signed_headers,
    slash_command,
    state_values,
    view_submission,
)
from console.testing import ManualClock

VECTOR = json.loads((Path(__file__).parent / "slack-signature-vector.json").read_text())
SECRET = "console-signing-secret"
SENDER = Sender(
    user_id="U0APPROVER1",
    user_name="alice",
    team_id="T0CONSOLE",
    team_domain="releasebot-console",
    api_app_id="A0RELEASEBOT",
)
APPROVE = {
    "type": "button",
    "action_id": "approve",
    "text": {"type": "plain_text", "text": "Approve"},
    "value": "R-7",
    "style": "primary",
}
CARD = {
    "type": "message",
    "ts": "1764000000.000100",
    "text": "R-7",
    "blocks": [{"type": "actions", "block_id": "buttons", "elements": [APPROVE]}],
}


def test_sign_reproduces_slacks_documented_example() -> None:
    assert (
        sign(VECTOR["signing_secret"], VECTOR["timestamp"], VECTOR["body"]) == (VECTOR["signature"])
    )


def test_signed_headers_pass_slack_sdks_verifier() -> None:
    now = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    headers = signed_headers(SECRET, "text=hi", now)
    verifier = SignatureVerifier(SECRET, clock=ManualClock(now).for_slack_sdk())
    assert headers["X-Slack-Request-Timestamp"] == str(int(now.timestamp()))
    assert verifier.is_valid_request("text=hi", headers)
    assert not verifier.is_valid_request("text=tampered", headers)


def _bolt_app(client: WebClient) -> App:
    # Bolt authorizes each request with auth.test: the workspace stand-in answers it.
    return App(signing_secret=SECRET, client=client, token_verification_enabled=False)


def _dispatch(app: App, body: str) -> int:
    headers: dict[str, str | Sequence[str]] = {**signed_headers(SECRET, body, datetime.now(UTC))}
    return app.dispatch(BoltRequest(body=body, headers=headers)).status


def test_bolt_routes_the_slash_command_with_every_field(client: WebClient) -> None:
    app = _bolt_app(client)
    seen: dict[str, Any] = {}

    @app.command("/release")
    def on_release(ack: Ack, command: dict[str, Any]) -> None:
        seen.update(command)
        ack()

    fields = slash_command(
        SENDER,
        channel_id="C0RELEASES",
        channel_name="releases",
        command="/release",
        text="plan checkout 1.4.2 to production",
        response_url="http://127.0.0.1:3000/response/abc",
        trigger_id="1.2.abc",
    )
    assert _dispatch(app, form_body(fields)) == 200
    assert seen["text"] == "plan checkout 1.4.2 to production"
    assert seen["user_id"] == "U0APPROVER1"
    assert seen["response_url"] == "http://127.0.0.1:3000/response/abc"
    assert set(seen) >= {"team_domain", "channel_name", "api_app_id", "is_enterprise_install"}
    assert parse_qs(form_body(fields))["command"] == ["/release"]


def test_bolt_routes_a_button_click_with_its_message(client: WebClient) -> None:
    app = _bolt_app(client)
    seen: dict[str, Any] = {}

    @app.action("approve")
    def on_approve(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        seen.update(body=body, action=action)
        ack()

    element = find_element(CARD["blocks"], "buttons", "approve")  # type: ignore[arg-type]
    assert element is not None
    action = clicked_action(element, block_id="buttons", action_ts="1764000001.000200")
    payload = block_actions(
        SENDER,
        action=action,
        trigger_id="1.2.abc",
        channel=("C0RELEASES", "releases"),
        message=CARD,
        response_url="http://127.0.0.1:3000/response/xyz",
    )
    assert _dispatch(app, interaction_body(payload)) == 200
    assert seen["action"] == {
        "action_id": "approve",
        "block_id": "buttons",
        "type": "button",
        "action_ts": "1764000001.000200",
        "text": {"type": "plain_text", "text": "Approve"},
        "value": "R-7",
        "style": "primary",
    }
    assert seen["body"]["container"] == {
        "type": "message",
        "message_ts": CARD["ts"],
        "channel_id": "C0RELEASES",
        "is_ephemeral": False,
    }
    assert seen["body"]["message"]["blocks"] == CARD["blocks"]
    assert seen["body"]["user"]["id"] == "U0APPROVER1"


def test_a_click_inside_a_modal_names_the_view() -> None:
    view = {"id": "V0PLAN", "type": "modal", "blocks": []}
    payload = block_actions(
        SENDER,
        action=clicked_action(APPROVE, block_id="b", action_ts="1.0"),
        trigger_id="t",
        view=view,
    )
    assert payload["container"] == {"type": "view", "view_id": "V0PLAN"}
    assert "response_url" not in payload
    with pytest.raises(ValueError, match="either a view"):
        block_actions(SENDER, action={}, trigger_id="t")


MODAL_BLOCKS: list[dict[str, Any]] = [
    {
        "type": "input",
        "block_id": "version",
        "label": {"type": "plain_text", "text": "Version"},
        "element": {"type": "plain_text_input", "action_id": "value"},
    },
    {
        "type": "input",
        "block_id": "env",
        "label": {"type": "plain_text", "text": "Environment"},
        "element": {
            "type": "static_select",
            "action_id": "choice",
            "options": [
                {"text": {"type": "plain_text", "text": "Staging"}, "value": "staging"},
                {"text": {"type": "plain_text", "text": "Production"}, "value": "production"},
            ],
        },
    },
    {
        "type": "input",
        "block_id": "day",
        "label": {"type": "plain_text", "text": "Day"},
        "element": {"type": "datepicker", "action_id": "date"},
    },
    {
        "type": "input",
        "block_id": "at",
        "label": {"type": "plain_text", "text": "Time"},
        "element": {"type": "timepicker", "action_id": "time"},
    },
    {
        "type": "input",
        "block_id": "start",
        "label": {"type": "plain_text", "text": "Start"},
        "element": {"type": "datetimepicker", "action_id": "when"},
    },
    {
        "type": "input",
        "block_id": "checklist",
        "label": {"type": "plain_text", "text": "Checklist"},
        "element": {
            "type": "checkboxes",
            "action_id": "items",
            "options": [
                {"text": {"type": "plain_text", "text": "QA sign-off"}, "value": "qa"},
                {"text": {"type": "plain_text", "text": "UAT passed"}, "value": "uat"},
            ],
        },
    },
    {"type": "section", "text": {"type": "mrkdwn", "text": "not an input"}},
]


def test_state_values_carry_slacks_typed_entries() -> None:
    values = state_values(
        MODAL_BLOCKS,
        {
            "version": {"value": "1.4.2"},
            "env": {"choice": "production"},
            "day": {"date": "2026-11-24"},
            "at": {"time": "15:00"},
            "start": {"when": "2026-11-24T15:00"},
            "checklist": {"items": ["qa"]},
        },
    )
    assert values == {
        "version": {"value": {"type": "plain_text_input", "value": "1.4.2"}},
        "env": {
            "choice": {
                "type": "static_select",
                "selected_option": {
                    "text": {"type": "plain_text", "text": "Production"},
                    "value": "production",
                },
            }
        },
        "day": {"date": {"type": "datepicker", "selected_date": "2026-11-24"}},
        "at": {"time": {"type": "timepicker", "selected_time": "15:00"}},
        "start": {"when": {"type": "datetimepicker", "selected_date_time": 1795532400}},
        "checklist": {
            "items": {
                "type": "checkboxes",
                "selected_options": [
                    {"text": {"type": "plain_text", "text": "QA sign-off"}, "value": "qa"}
                ],
            }
        },
    }


def test_empty_inputs_are_sent_as_slacks_nulls() -> None:
    values = state_values(MODAL_BLOCKS, {})
    assert values["version"]["value"]["value"] is None
    assert values["env"]["choice"]["selected_option"] is None
    assert values["day"]["date"]["selected_date"] is None
    assert values["checklist"]["items"]["selected_options"] == []


def test_bolt_routes_the_view_submission(client: WebClient) -> None:
    app = _bolt_app(client)
    seen: dict[str, Any] = {}

    @app.view("plan")
    def on_submit(ack: Ack, view: dict[str, Any]) -> None:
        seen.update(view)
        ack()

    view = {
        "id": "V0PLAN",
        "type": "modal",
        "callback_id": "plan",
        "private_metadata": "R-7",
        "hash": "1764000000.abcd",
        "blocks": MODAL_BLOCKS,
        "state": {"values": state_values(MODAL_BLOCKS, {"version": {"value": "2.0.0"}})},
    }
    payload = view_submission(SENDER, view=view, trigger_id="1.2.abc")
    assert payload["response_urls"] == []
    assert _dispatch(app, interaction_body(payload)) == 200
    assert seen["state"]["values"]["version"]["value"]["value"] == "2.0.0"
    assert seen["private_metadata"] == "R-7"
