"""Hostile and malformed bodies: refused before they are read whole or parsed (issue 9.9).

Each refusal is a 4xx (never 500, never 200 "Something went wrong"), one warning line,
one count in /metrics, and nothing else: no Slack call, no plan.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from console import payloads
from tests.blackbox.conftest import Shared
from tests.blackbox.harness import SIGNING_SECRET, ShippedBot, eventually

MIB = 1024 * 1024


def _signed(body: bytes, *, timestamp: str | None = None) -> dict[str, str]:
    """Slack's headers for `body`, signed over its raw bytes."""
    timestamp = timestamp or str(int(time.time()))
    base = b"v0:" + timestamp.encode() + b":" + body
    digest = hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": f"v0={digest}",
    }


def _unsigned() -> dict[str, str]:
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(int(time.time())),
        "X-Slack-Signature": "v0=" + "0" * 64,
    }


def _refusals(bot: ShippedBot) -> list[dict[str, Any]]:
    return [r for r in bot.log_records() if r.get("event") == "http.refused"]


def _refused_in_metrics(bot: ShippedBot, route: str) -> float:
    total = 0.0
    for line in httpx.get(bot.url + "/metrics").text.splitlines():
        if line.startswith("releasebot_http_refused_total{") and f'route="{route}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


@pytest.fixture
def watch(shared: Shared) -> Iterator[dict[str, Any]]:
    """Before/after of what a refusal may change: log, metrics, Slack calls."""
    before = {
        "refusals": len(_refusals(shared.bot)),
        "slack": _refused_in_metrics(shared.bot, "/slack/events"),
        "hooks": _refused_in_metrics(shared.bot, "/hooks/deploy"),
        "calls": len(shared.slack.workspace.calls),
    }
    yield before
    # Nothing reached Slack: no message, no ephemeral, no card.
    assert len(shared.slack.workspace.calls) == before["calls"]


def _refused_once(shared: Shared, watch: dict[str, Any], route: str) -> None:
    """One warning line and one count in /metrics more than before."""
    key = "slack" if route == "/slack/events" else "hooks"
    eventually(lambda: len(_refusals(shared.bot)) > watch["refusals"], what="the warning line")
    new = _refusals(shared.bot)[watch["refusals"] :]
    assert len(new) == 1, new
    assert new[0]["level"] == "warning"
    assert "Traceback" not in shared.bot.output()
    assert _refused_in_metrics(shared.bot, route) == watch[key] + 1


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b"command=%2Frelease&text=\xff\xfe", _unsigned, 401),
        (b"payload=%7Bnot-json", _unsigned, 401),
        (
            b"command=%2Frelease&text=\xff\xfe",
            lambda: _signed(b"command=%2Frelease&text=\xff\xfe"),
            400,
        ),
        (b"payload=%7Bnot-json", lambda: _signed(b"payload=%7Bnot-json"), 400),
        (b"payload=%5B1%2C2%5D", lambda: _signed(b"payload=%5B1%2C2%5D"), 400),
        (
            b"command=%2Frelease&text=list",
            lambda: _signed(b"command=%2Frelease&text=list", timestamp="soon"),
            401,
        ),
        (
            b"command=%2Frelease&text=list",
            lambda: {"Content-Type": "application/x-www-form-urlencoded"},
            401,
        ),
    ],
    ids=[
        "unsigned invalid utf-8",
        "unsigned payload not json",
        "signed invalid utf-8",
        "signed payload not json",
        "signed payload not an object",
        "timestamp not a number",
        "no signature at all",
    ],
)
def test_a_malformed_body_gets_a_4xx_and_changes_nothing(
    shared: Shared, watch: dict[str, Any], body: bytes, headers: Any, status: int
) -> None:
    answer = httpx.post(shared.bot.url + "/slack/events", content=body, headers=headers())
    assert answer.status_code == status, answer.text
    assert "Something went wrong" not in answer.text
    _refused_once(shared, watch, "/slack/events")


def _memory_kib(pid: int, field: str) -> int:
    """VmRSS (now) or VmHWM (the peak since the last reset) of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def _chunks(total: int) -> Iterator[bytes]:
    chunk = b"x" * MIB
    for _ in range(total // MIB):
        yield chunk


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_an_oversized_body_is_refused_before_it_is_read_whole(
    shared: Shared, watch: dict[str, Any], declared: bool
) -> None:
    assert shared.bot.process is not None
    pid = shared.bot.process.pid
    # Reset the peak to the current size: a buffered body shows as a peak even once freed.
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    before = _memory_kib(pid, "VmRSS")
    size = 96 * MIB
    headers = _unsigned()
    if declared:
        headers["Content-Length"] = str(size)
    try:
        answer = httpx.post(
            shared.bot.url + "/slack/events", content=_chunks(size), headers=headers, timeout=60
        )
        status: int | None = answer.status_code
    except httpx.TransportError:
        status = None  # the bot may close the connection once it has answered 413
    grew = _memory_kib(pid, "VmHWM") - before
    assert grew < 24 * 1024, f"serve grew by {grew} KiB reading a {size // MIB} MiB body"
    assert status in (413, None)
    _refused_once(shared, watch, "/slack/events")


def test_an_oversized_deploy_callback_is_refused(shared: Shared, watch: dict[str, Any]) -> None:
    body = b"{" + b" " * (2 * MIB) + b"}"
    answer = httpx.post(shared.bot.url + "/hooks/deploy/0123456789abcdef", content=body)
    assert answer.status_code == 413
    _refused_once(shared, watch, "/hooks/deploy")


@pytest.mark.parametrize(
    ("action_id", "value"),
    [
        ("plan_deploy", "R-1; drop table"),
        ("plan_deploy", "999:1"),
        ("plan_deploy", 12345),
        ("plan_deploy", None),
        ("plan_reject", {"plan": 1}),
    ],
)
def test_a_signed_button_with_a_value_that_is_no_plan_gets_an_answer(
    shared: Shared, action_id: str, value: Any
) -> None:
    slack, bot = shared.slack, shared.bot
    user = "U0STRANGER"
    before = len(slack.ephemerals(user))
    payload = payloads.block_actions(
        slack.sender(user),
        action={
            "action_id": action_id,
            "block_id": "plan_actions",
            "type": "button",
            "value": value,
            "text": {"type": "plain_text", "text": "Deploy"},
            "action_ts": f"{time.time():.6f}",
        },
        trigger_id=slack.workspace.issue_trigger_id(user),
        channel=("C0RELEASES", "releases"),
        message_ts="1700000000.000100",
        response_url=slack.workspace.issue_response_url(
            base_url=slack.url, channel_id="C0RELEASES", user_id=user
        ),
    )
    answer = bot.post_signed(payloads.interaction_body(payload))
    assert answer.status_code == 200
    shown = eventually(lambda: slack.ephemerals(user)[before:], what="an answer to the click")
    if value == "999:1":
        assert shown == ["there is no plan R-999"], shown
    else:
        assert shown == ["that button does not belong to a release plan"], shown


def test_a_forged_deploy_callback_is_refused_and_counted(
    shared: Shared, watch: dict[str, Any]
) -> None:
    answer = httpx.post(
        shared.bot.url + "/hooks/deploy/0123456789abcdef0123456789abcdef",
        content=b'{"state": "succeeded"}',
        headers={"X-Releasebot-Timestamp": str(int(time.time())), "X-Releasebot-Signature": "x"},
    )
    assert answer.status_code == 401
    assert answer.json()["ok"] is False
    _refused_once(shared, watch, "/hooks/deploy")
