"""Rate limits and injected faults look to the bot like Slack's 429s, 5xx and timeouts."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from console.slack_api import Workspace, create_slack_api_app
from console.testing import ManualClock, running_server


def post(
    url: str, workspace: Workspace, channel: str, text: str, timeout: float = 5.0
) -> httpx.Response:
    return httpx.post(
        f"{url}/api/chat.postMessage",
        json={"channel": channel, "text": text},
        headers={"Authorization": f"Bearer {workspace.bot_token}"},
        timeout=timeout,
    )


def test_rate_limit_is_per_channel_per_second(clock: ManualClock) -> None:
    workspace = Workspace(clock=clock, rate_limit_per_channel_per_second=1)
    workspace.add_channel("C0RELEASES", "releases")
    workspace.add_channel("C0ONCALL", "oncall")
    with running_server(create_slack_api_app(workspace)) as url:
        assert post(url, workspace, "C0RELEASES", "one").status_code == 200
        limited = post(url, workspace, "C0RELEASES", "two")
        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "1"
        assert limited.json() == {"ok": False, "error": "ratelimited"}
        assert post(url, workspace, "C0ONCALL", "elsewhere").status_code == 200
        clock.advance(timedelta(seconds=1))
        assert post(url, workspace, "C0RELEASES", "two again").status_code == 200
    assert [m.text for m in workspace.history("C0RELEASES")] == ["one", "two again"]


def test_fractional_rate_spaces_writes_out(clock: ManualClock) -> None:
    workspace = Workspace(clock=clock, rate_limit_per_channel_per_second=0.5)
    workspace.add_channel("C0RELEASES", "releases")
    assert workspace.allow_send("chat.postMessage", "C0RELEASES")
    clock.advance(timedelta(seconds=1.5))
    assert not workspace.allow_send("chat.postMessage", "C0RELEASES")
    clock.advance(timedelta(seconds=0.5))
    assert workspace.allow_send("chat.postMessage", "C0RELEASES")
    # Reads are never limited.
    assert workspace.allow_send("conversations.history", "C0RELEASES")


def test_without_a_rate_limit_bursts_pass(client: WebClient) -> None:
    for i in range(10):
        assert client.chat_postMessage(channel="C0RELEASES", text=str(i))["ok"]


def test_fail_next_500_fails_exactly_n_calls(client: WebClient, workspace: Workspace) -> None:
    workspace.fail_next("chat.postMessage", 500, times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as raised:
            client.chat_postMessage(channel="C0RELEASES", text="card")
        assert raised.value.response.status_code == 500
    assert client.chat_postMessage(channel="C0RELEASES", text="card")["ok"]
    assert len(workspace.history("C0RELEASES")) == 1
    assert [c.status for c in workspace.calls_to("chat.postMessage")] == [500, 500, 200]


def test_fail_next_429_carries_retry_after(api_url: str, workspace: Workspace) -> None:
    workspace.fail_next("chat.update", 429)
    answer = httpx.post(
        f"{api_url}/api/chat.update",
        json={"channel": "C0RELEASES", "ts": "1.000001", "text": "x"},
        headers={"Authorization": f"Bearer {workspace.bot_token}"},
    )
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "1"
    assert answer.json()["error"] == "ratelimited"


def test_fail_next_with_an_error_code_answers_it_with_http_200(
    api_url: str, workspace: Workspace
) -> None:
    workspace.fail_next("chat.postMessage", "service_unavailable")
    answer = post(api_url, workspace, "C0RELEASES", "later")
    assert (answer.status_code, answer.json()) == (
        200,
        {"ok": False, "error": "service_unavailable"},
    )
    assert post(api_url, workspace, "C0RELEASES", "now").json()["ok"]
    assert [m.text for m in workspace.history("C0RELEASES")] == ["now"]


def test_fail_next_timeout_holds_until_the_client_gives_up(
    api_url: str, workspace: Workspace
) -> None:
    workspace.fail_next("chat.postMessage", "timeout")
    with pytest.raises(httpx.ReadTimeout):
        post(api_url, workspace, "C0RELEASES", "lost?", timeout=0.3)
    # The next call goes through, and nothing was posted by the timed-out one.
    assert post(api_url, workspace, "C0RELEASES", "delivered").json()["ok"]
    assert [m.text for m in workspace.history("C0RELEASES")] == ["delivered"]


def test_running_server_frees_its_port(workspace: Workspace) -> None:
    with running_server(create_slack_api_app(workspace)) as url:
        assert httpx.post(f"{url}/api/auth.test").json()["error"] == "not_authed"
    with pytest.raises(httpx.ConnectError):
        httpx.post(f"{url}/api/auth.test")
