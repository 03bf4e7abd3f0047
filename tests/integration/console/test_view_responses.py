"""A modal submission follows the bot's response_action: errors, update, push, clear or close."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier

from console.bot_link import BotLink
from console.interactions import TROUBLE_CONNECTING, ConsoleFlows
from console.settings import ConsoleSettings, ConsoleUser
from console.workspace import Workspace

SECRET = "view-test-secret"
USER = "U0REQUESTER"


def modal(title: str = "Plan", **extra: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "plan",
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Save"},
        "blocks": [
            {
                "type": "input",
                "block_id": "version",
                "label": {"type": "plain_text", "text": "Version"},
                "element": {"type": "plain_text_input", "action_id": "value"},
            }
        ],
        **extra,
    }


Reply = Callable[[dict[str, Any]], httpx.Response]


def flows_answering(reply: Reply) -> tuple[ConsoleFlows, Workspace, list[dict[str, Any]]]:
    """Console flows whose bot is a plain handler: it checks the signature, then replies."""
    received: list[dict[str, Any]] = []

    def bot(request: httpx.Request) -> httpx.Response:
        body = request.content.decode()
        assert SignatureVerifier(SECRET).is_valid_request(body, dict(request.headers))
        payload = json.loads(parse_qs(body)["payload"][0])
        received.append(payload)
        return reply(payload)

    settings = ConsoleSettings(
        signing_secret=SECRET,
        bot_events_url="http://bot.invalid/slack/events",
        bot_token="xoxb-test",
        users=[ConsoleUser(USER, "rita")],
        bot_transport=httpx.MockTransport(bot),
    )
    workspace = settings.build_workspace()
    return ConsoleFlows(workspace, settings, BotLink(settings)), workspace, received


def run(work: Coroutine[Any, Any, None]) -> None:
    """Run a flow on its own thread's loop (a session browser may own this thread's loop)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, work).result()


def submit(flows: ConsoleFlows, view_id: str, version: str = "1.4.2") -> None:
    run(flows.submit_view(user_id=USER, view_id=view_id, values={"version": {"value": version}}))


def test_the_submission_carries_the_typed_state_and_no_body_closes_the_modal() -> None:
    flows, workspace, received = flows_answering(lambda _: httpx.Response(200))
    opened = workspace.open_view(USER, modal(private_metadata="R-1"))

    submit(flows, opened.id, "2.0.0")

    [payload] = received
    assert payload["type"] == "view_submission"
    assert payload["user"]["id"] == USER
    assert payload["view"]["id"] == opened.id
    assert payload["view"]["private_metadata"] == "R-1"
    assert payload["view"]["state"]["values"] == {
        "version": {"value": {"type": "plain_text_input", "value": "2.0.0"}}
    }
    assert workspace.open_modals(USER) == []


def test_errors_stay_on_the_modal() -> None:
    errors = {"response_action": "errors", "errors": {"version": "Use a version like 1.4.2"}}
    flows, workspace, _ = flows_answering(lambda _: httpx.Response(200, json=errors))
    opened = workspace.open_view(USER, modal())

    submit(flows, opened.id, "nope")

    [still_open] = workspace.open_modals(USER)
    assert still_open.errors == {"version": "Use a version like 1.4.2"}


def test_update_replaces_the_modal_in_place() -> None:
    answer = {"response_action": "update", "view": modal("Plan: confirm")}
    flows, workspace, _ = flows_answering(lambda _: httpx.Response(200, json=answer))
    opened = workspace.open_view(USER, modal())

    submit(flows, opened.id)

    [shown] = workspace.open_modals(USER)
    assert shown.id == opened.id
    assert shown.view["title"]["text"] == "Plan: confirm"


def test_push_stacks_and_clear_closes_everything() -> None:
    answers = iter(
        [
            {"response_action": "push", "view": modal("Step 2")},
            {"response_action": "clear"},
        ]
    )
    flows, workspace, _ = flows_answering(lambda _: httpx.Response(200, json=next(answers)))
    opened = workspace.open_view(USER, modal())

    submit(flows, opened.id)
    assert [v.view["title"]["text"] for v in workspace.open_modals(USER)] == ["Plan", "Step 2"]
    submit(flows, workspace.open_modals(USER)[-1].id)
    assert workspace.open_modals(USER) == []


def test_an_invalid_view_in_the_answer_is_a_problem_not_a_crash() -> None:
    answer = {"response_action": "update", "view": modal("A title longer than twenty-four")}
    flows, workspace, _ = flows_answering(lambda _: httpx.Response(200, json=answer))
    opened = workspace.open_view(USER, modal())

    submit(flows, opened.id)

    [shown] = workspace.open_modals(USER)
    assert shown.view["title"]["text"] == "Plan"
    assert shown.errors == {"": "The app answered with an invalid view"}
    [call] = workspace.calls_to("view_submission.response")
    assert call.error == "invalid_arguments"


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow")],
    ids=["down", "slow"],
)
def test_a_bot_that_does_not_answer_keeps_the_modal_with_slacks_message(
    failure: httpx.HTTPError,
) -> None:
    def fail(_: dict[str, Any]) -> httpx.Response:
        raise failure

    flows, workspace, _ = flows_answering(fail)
    opened = workspace.open_view(USER, modal())

    submit(flows, opened.id)

    [shown] = workspace.open_modals(USER)
    assert shown.errors == {"": TROUBLE_CONNECTING}


def test_cancel_tells_the_bot_only_when_the_view_asked() -> None:
    flows, workspace, received = flows_answering(lambda _: httpx.Response(200))
    quiet = workspace.open_view(USER, modal())
    run(flows.close_view(user_id=USER, view_id=quiet.id))
    assert received == []

    noisy = workspace.open_view(USER, modal(notify_on_close=True))
    run(flows.close_view(user_id=USER, view_id=noisy.id))
    assert [p["type"] for p in received] == ["view_closed"]
    assert workspace.open_modals(USER) == []
