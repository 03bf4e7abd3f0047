"""Block Kit as plain dictionaries, for the messages rendered on every read.

slack_sdk's block classes validate themselves on every `to_dict()` (a `dir()` walk per
object); for the card, drawn on each `/release show` and each delivery, that was 1.4 ms of a
5 ms request. These builders produce the same JSON directly; Slack's limits are kept by the
callers (`clip`), and the tests' Slack stand-in validates every message with slack_sdk.
"""

from __future__ import annotations

from typing import Any

from bot.domain.mrkdwn import escape

Json = dict[str, Any]


def mrkdwn(text: str) -> Json:
    return {"type": "mrkdwn", "text": text}


def plain(text: str) -> Json:
    return {"type": "plain_text", "text": text, "emoji": True}


def header(text: str) -> Json:
    return {"type": "header", "text": plain(text)}


def section(
    text: str,
    *,
    fields: list[str] | None = None,
    block_id: str | None = None,
    accessory: Json | None = None,
) -> Json:
    block: Json = {"type": "section", "text": mrkdwn(text)}
    if fields:
        block["fields"] = [mrkdwn(f) for f in fields]
    if block_id:
        block["block_id"] = block_id
    if accessory:
        block["accessory"] = accessory
    return block


def context(text: str) -> Json:
    return {"type": "context", "elements": [mrkdwn(text)]}


def divider() -> Json:
    return {"type": "divider"}


def actions(elements: list[Json], *, block_id: str | None = None) -> Json:
    block: Json = {"type": "actions", "elements": elements}
    if block_id:
        block["block_id"] = block_id
    return block


def button(
    text: str,
    action_id: str,
    value: str,
    *,
    style: str | None = None,
    confirm: tuple[str, str, str] | None = None,
) -> Json:
    """A button; `confirm` is (title, text, confirm label) for Slack's confirmation dialog."""
    element: Json = {"type": "button", "text": plain(text), "action_id": action_id, "value": value}
    if style:
        element["style"] = style
    if confirm is not None:
        heading, body, yes = confirm
        dialog: Json = {
            "title": plain(heading),
            # The body is words the bot wrote around names; escaped so none becomes markup.
            "text": mrkdwn(escape(body)),
            "confirm": plain(yes),
            "deny": plain("Not now"),
        }
        if style == "danger":
            dialog["style"] = "danger"
        element["confirm"] = dialog
    return element


def static_select(action_id: str, placeholder: str, options: list[tuple[str, str]]) -> Json:
    """A menu of (label, value) options."""
    return {
        "type": "static_select",
        "action_id": action_id,
        "placeholder": plain(placeholder),
        "options": [{"text": plain(label), "value": value} for label, value in options],
    }
