"""Block Kit checks: what Slack would refuse, worded the way Slack's error details are."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MESSAGE_BLOCK_LIMIT = 50
MODAL_BLOCK_LIMIT = 100
MESSAGE_TEXT_LIMIT = 40_000
ACTIONS_ELEMENT_LIMIT = 25
CONTEXT_ELEMENT_LIMIT = 10

# Element and block types whose `text` Slack requires to be a plain_text object, not a string.
_PLAIN_TEXT_ONLY = {"header", "button"}


class BlocksFormatError(ValueError):
    """The `blocks` argument is not a JSON array of objects (Slack: invalid_blocks_format)."""


def parse_json_list(value: object) -> list[Any] | None:
    """A `blocks`-style argument as a list: JSON text is decoded, a list passes, None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            raise BlocksFormatError(f"blocks is not valid JSON: {error.msg}") from error
    if not isinstance(value, list):
        raise BlocksFormatError("blocks must be a JSON array")
    return value


def parse_json_object(value: object) -> dict[str, Any] | None:
    """A `view`-style argument as a dict: JSON text is decoded, a dict passes, None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            raise BlocksFormatError(f"not valid JSON: {error.msg}") from error
    if not isinstance(value, dict):
        raise BlocksFormatError("must be a JSON object")
    return value


def _error(message: str, pointer: str) -> str:
    return f"[ERROR] {message} [json-pointer:{pointer}]"


def block_problems(blocks: list[Any], *, limit: int, pointer: str = "/blocks") -> list[str]:
    """Every reason Slack would answer `invalid_blocks`, one `[ERROR] …` line each."""
    problems: list[str] = []
    if len(blocks) > limit:
        problems.append(_error(f"no more than {limit} items allowed", pointer))
    seen_block_ids: set[str] = set()
    for index, raw in enumerate(blocks):
        where = f"{pointer}/{index}"
        if not isinstance(raw, dict):
            problems.append(_error("must be an object", where))
            continue
        problems.extend(_single_block_problems(raw, where))
        block_id = raw.get("block_id")
        if isinstance(block_id, str):
            if block_id in seen_block_ids:
                problems.append(_error(f"duplicate block_id {block_id!r}", f"{where}/block_id"))
            seen_block_ids.add(block_id)
    return problems


def _single_block_problems(raw: dict[str, Any], where: str) -> list[str]:
    """Problems of one block: slack_sdk's validators first, then the limits they do not check."""
    try:
        parsed = Block.parse(raw)
    except (TypeError, KeyError, AttributeError, ValueError) as error:
        return [_error(f"malformed block: {error}", where)]
    if parsed is None:
        return [_error(f"unsupported type: {raw.get('type')!r}", f"{where}/type")]
    try:
        rendered = parsed.to_dict()
    except SlackObjectFormationError as error:
        return [_error(str(error), where)]
    except (TypeError, KeyError, AttributeError, ValueError) as error:
        return [_error(f"malformed block: {error}", where)]
    problems: list[str] = []
    if _has_unknown_element(rendered):
        problems.append(_error("contains an element of an unsupported type", where))
    problems.extend(_shape_problems(raw, where))
    problems.extend(_duplicate_action_ids(raw, where))
    return problems


def _has_unknown_element(value: object) -> bool:
    """slack_sdk turns elements it cannot parse into None; Slack rejects them."""
    if isinstance(value, list):
        return any(item is None or _has_unknown_element(item) for item in value)
    if isinstance(value, dict):
        return any(_has_unknown_element(item) for item in value.values())
    return False


def _shape_problems(raw: dict[str, Any], where: str) -> list[str]:
    """Limits slack_sdk leaves to the server: element counts and plain_text-only fields."""
    problems: list[str] = []
    kind = raw.get("type")
    if kind == "actions":
        problems.extend(_list_size(raw.get("elements"), ACTIONS_ELEMENT_LIMIT, f"{where}/elements"))
    if kind == "context":
        problems.extend(_list_size(raw.get("elements"), CONTEXT_ELEMENT_LIMIT, f"{where}/elements"))
    for path, node in _walk(raw, where):
        if node.get("type") in _PLAIN_TEXT_ONLY:
            text = node.get("text")
            if not isinstance(text, dict) or text.get("type") != "plain_text":
                problems.append(_error("must be a plain_text object", f"{path}/text"))
    return problems


def _list_size(value: object, limit: int, where: str) -> list[str]:
    if not isinstance(value, list) or not value:
        return [_error("must be a non-empty array", where)]
    if len(value) > limit:
        return [_error(f"no more than {limit} items allowed", where)]
    return []


def _walk(node: dict[str, Any], where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every dict inside a block with its JSON pointer (the block itself included)."""
    yield where, node
    for key, value in node.items():
        if isinstance(value, dict):
            yield from _walk(value, f"{where}/{key}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    yield from _walk(item, f"{where}/{key}/{index}")


def _interactive_elements(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """The elements of one block that carry an action_id."""
    found: list[dict[str, Any]] = []
    elements = raw.get("elements")
    if isinstance(elements, list):
        found.extend(item for item in elements if isinstance(item, dict))
    for key in ("accessory", "element"):
        single = raw.get(key)
        if isinstance(single, dict):
            found.append(single)
    return [element for element in found if "action_id" in element]


def _duplicate_action_ids(raw: dict[str, Any], where: str) -> list[str]:
    seen: set[object] = set()
    problems: list[str] = []
    for element in _interactive_elements(raw):
        action_id = element["action_id"]
        if action_id in seen:
            problems.append(_error(f"duplicate action_id {action_id!r}", where))
        seen.add(action_id)
    return problems


def view_problems(view: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(view-level problems → invalid_arguments, block problems → invalid_blocks)."""
    kind = view.get("type")
    if kind not in ("modal", "home"):
        return [_error("must be 'modal' or 'home'", "/view/type")], []
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        return [_error("must be an array", "/view/blocks")], []
    block_errors = block_problems(blocks, limit=MODAL_BLOCK_LIMIT, pointer="/view/blocks")
    shell = {key: value for key, value in view.items() if key != "blocks"}
    try:
        # Validate the view's own fields (title, submit, metadata lengths) without its blocks,
        # which were already checked above with better pointers.
        View(**shell, blocks=[{"type": "divider"}]).to_dict()
    except SlackObjectFormationError as error:
        return [_error(str(error), "/view")], block_errors
    except (TypeError, KeyError, AttributeError, ValueError) as error:
        return [_error(f"malformed view: {error}", "/view")], block_errors
    if kind == "modal" and not isinstance(view.get("title"), dict):
        return [_error("a modal needs a plain_text title", "/view/title")], block_errors
    has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
    if kind == "modal" and has_input and not isinstance(view.get("submit"), dict):
        return [_error("a modal with input blocks needs a submit button", "/view/submit")], (
            block_errors
        )
    return [], block_errors


def assign_block_ids(blocks: list[Any], seed: str) -> list[Any]:
    """Blocks with Slack-style generated block_ids where the app gave none (stable per seed)."""
    assigned: list[Any] = []
    for index, block in enumerate(blocks):
        if isinstance(block, dict) and not block.get("block_id"):
            digest = hashlib.sha1(f"{seed}:{index}".encode()).digest()
            block = {**block, "block_id": base64.b32encode(digest).decode()[:5]}
        assigned.append(block)
    return assigned
