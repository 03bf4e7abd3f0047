"""What Slack sends an app: slash-command forms, block_actions and view_submission payloads.

Shapes follow Slack's own examples as used in slackapi/bolt-python's
tests/scenario_tests (test_slash_command.py, test_block_actions.py, test_view_submission.py;
MIT licence) — field names and nesting only; the values here are the console's.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import quote, urlencode

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class Sender:
    """Who the request is from: the acting user, their team, and the app it is addressed to."""

    user_id: str
    user_name: str
    team_id: str
    team_domain: str
    api_app_id: str
    # The legacy verification token Slack still puts in every payload.
    token: str = "console-verification-token"

    def user(self) -> JsonDict:
        """The `user` object of interaction payloads."""
        return {
            "id": self.user_id,
            "username": self.user_name,
            "name": self.user_name,
            "team_id": self.team_id,
        }

    def team(self) -> JsonDict:
        """The `team` object of interaction payloads."""
        return {"id": self.team_id, "domain": self.team_domain}


def form_body(fields: dict[str, str]) -> str:
    """A form-encoded body as Slack sends it."""
    return urlencode(fields)


def interaction_body(payload: JsonDict) -> str:
    """An interaction payload as Slack posts it: `payload=<url-encoded JSON>`."""
    return "payload=" + quote(json.dumps(payload, separators=(",", ":")), safe="")


def slash_command(
    sender: Sender,
    *,
    channel_id: str,
    channel_name: str,
    command: str,
    text: str,
    response_url: str,
    trigger_id: str,
) -> dict[str, str]:
    """The form fields of a slash command, in Slack's order."""
    return {
        "token": sender.token,
        "team_id": sender.team_id,
        "team_domain": sender.team_domain,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": sender.user_id,
        "user_name": sender.user_name,
        "command": command,
        "text": text,
        "api_app_id": sender.api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def iter_elements(blocks: list[JsonDict]) -> Iterator[tuple[str | None, JsonDict]]:
    """Every interactive element in `blocks` with the block_id it sits in."""
    for block in blocks:
        block_id = block.get("block_id")
        elements = block.get("elements")
        if block.get("type") == "actions" and isinstance(elements, list):
            for element in elements:
                if isinstance(element, dict):
                    yield block_id, element
        for key in ("accessory", "element"):
            single = block.get(key)
            if isinstance(single, dict) and "action_id" in single:
                yield block_id, single


def find_element(blocks: list[JsonDict], block_id: str | None, action_id: str) -> JsonDict | None:
    """The element a user clicked, by (block_id, action_id); block_id may be unknown (None)."""
    for found_block_id, element in iter_elements(blocks):
        if element.get("action_id") == action_id and block_id in (None, found_block_id):
            return element
    return None


def clicked_action(
    element: JsonDict, *, block_id: str, action_ts: str, value: str | None = None
) -> JsonDict:
    """The `actions[0]` entry for a click on `element` (a button, or a select's choice)."""
    action: JsonDict = {
        "action_id": element.get("action_id"),
        "block_id": block_id,
        "type": element.get("type", "button"),
        "action_ts": action_ts,
    }
    if element.get("type", "button") == "button":
        action["text"] = element.get("text")
        if "value" in element:
            action["value"] = element["value"]
        if "style" in element:
            action["style"] = element["style"]
    else:
        option = _find_option(element, value)
        action["selected_option"] = option
    return action


def block_actions(
    sender: Sender,
    *,
    action: JsonDict,
    trigger_id: str,
    channel: tuple[str, str] | None = None,
    message: JsonDict | None = None,
    message_ts: str | None = None,
    is_ephemeral: bool = False,
    response_url: str | None = None,
    view: JsonDict | None = None,
) -> JsonDict:
    """A block_actions payload from a message (`channel` + `message`) or a modal (`view`).

    Clicks in ephemeral messages carry no `message`, only its ts in the container.
    """
    payload: JsonDict = {
        "type": "block_actions",
        "user": sender.user(),
        "api_app_id": sender.api_app_id,
        "token": sender.token,
        "trigger_id": trigger_id,
        "team": sender.team(),
        "enterprise": None,
        "is_enterprise_install": False,
        "actions": [action],
    }
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view["id"]}
        payload["view"] = view
        return payload
    ts = message_ts or (message or {}).get("ts")
    if channel is None or ts is None:
        raise ValueError("block_actions needs either a view or a channel and message")
    channel_id, channel_name = channel
    payload["container"] = {
        "type": "message",
        "message_ts": ts,
        "channel_id": channel_id,
        "is_ephemeral": is_ephemeral,
    }
    payload["channel"] = {"id": channel_id, "name": channel_name}
    if message is not None:
        payload["message"] = message
    payload["state"] = {"values": {}}
    if response_url is not None:
        payload["response_url"] = response_url
    return payload


def view_submission(sender: Sender, *, view: JsonDict, trigger_id: str) -> JsonDict:
    """A view_submission payload; `view` must already carry its `state.values`."""
    return {
        "type": "view_submission",
        "team": sender.team(),
        "user": sender.user(),
        "api_app_id": sender.api_app_id,
        "token": sender.token,
        "trigger_id": trigger_id,
        "view": view,
        "response_urls": [],
        "enterprise": None,
        "is_enterprise_install": False,
    }


def view_closed(sender: Sender, *, view: JsonDict, is_cleared: bool = False) -> JsonDict:
    """A view_closed payload (sent only when the modal asked for notify_on_close)."""
    return {
        "type": "view_closed",
        "team": sender.team(),
        "user": sender.user(),
        "api_app_id": sender.api_app_id,
        "token": sender.token,
        "view": view,
        "is_cleared": is_cleared,
        "enterprise": None,
        "is_enterprise_install": False,
    }


def state_values(blocks: list[JsonDict], typed: dict[str, dict[str, Any]]) -> JsonDict:
    """`view.state.values` for a modal's input blocks from what the user entered.

    `typed` maps block_id → action_id → the raw entry: text, an option value, a list of
    option values (checkboxes, multi-selects), "YYYY-MM-DD", "HH:MM", or epoch seconds.
    Inputs left empty appear with Slack's null value, as Slack sends them.
    """
    values: JsonDict = {}
    for block in blocks:
        element = block.get("element")
        if block.get("type") != "input" or not isinstance(element, dict):
            continue
        block_id = str(block.get("block_id", ""))
        action_id = str(element.get("action_id", ""))
        raw = typed.get(block_id, {}).get(action_id)
        values.setdefault(block_id, {})[action_id] = element_state(element, raw)
    return values


def element_state(element: JsonDict, raw: Any) -> JsonDict:
    """The state entry of one input element for the raw entry (None when left empty)."""
    kind = str(element.get("type", "plain_text_input"))
    empty = raw is None or raw == "" or raw == []
    state: JsonDict = {"type": kind}
    if kind in ("static_select", "radio_buttons"):
        state["selected_option"] = None if empty else _find_option(element, str(raw))
    elif kind in ("checkboxes", "multi_static_select"):
        chosen = [] if empty else [raw] if isinstance(raw, str) else list(raw)
        options = [_find_option(element, str(value)) for value in chosen]
        state["selected_options"] = [option for option in options if option is not None]
    elif kind == "users_select":
        state["selected_user"] = None if empty else str(raw)
    elif kind == "multi_users_select":
        state["selected_users"] = [] if empty else list(raw)
    elif kind == "conversations_select" or kind == "channels_select":
        state["selected_conversation" if kind.startswith("conv") else "selected_channel"] = (
            None if empty else str(raw)
        )
    elif kind == "datepicker":
        state["selected_date"] = None if empty else date.fromisoformat(str(raw)).isoformat()
    elif kind == "timepicker":
        state["selected_time"] = None if empty else time.fromisoformat(str(raw)).strftime("%H:%M")
        if element.get("timezone"):
            state["timezone"] = element["timezone"]
    elif kind == "datetimepicker":
        state["selected_date_time"] = None if empty else _epoch(raw)
    else:
        # plain_text_input, number_input, email_text_input, url_text_input: the text as typed.
        state["value"] = None if empty else str(raw)
    return state


def _epoch(raw: Any) -> int:
    """Epoch seconds from a number or an ISO date-time (naive means UTC)."""
    if isinstance(raw, int | float) or (isinstance(raw, str) and raw.isdigit()):
        return int(raw)
    parsed = datetime.fromisoformat(str(raw))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


def _all_options(element: JsonDict) -> Iterator[JsonDict]:
    yield from element.get("options") or []
    for group in element.get("option_groups") or []:
        yield from group.get("options") or []


def _find_option(element: JsonDict, value: str | None) -> JsonDict | None:
    """The option of a select/radio/checkbox element whose value is `value`."""
    for option in _all_options(element):
        if option.get("value") == value:
            return {key: option[key] for key in ("text", "value", "description") if key in option}
    return None


def sign(secret: str, timestamp: str, body: str) -> str:
    """Slack's request signature: "v0=" + HMAC-SHA256 of "v0:{timestamp}:{body}"."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: str, now: datetime) -> dict[str, str]:
    """The headers of a signed form POST from Slack at time `now`."""
    timestamp = str(int(now.timestamp()))
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": sign(secret, timestamp, body),
    }
