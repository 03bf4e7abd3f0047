"""views.* need a fresh trigger_id the console issued; updates honour hash and external_id."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from console.slack_api import Workspace
from console.testing import ManualClock


def modal(title: str = "Plan a release", **extra: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "plan",
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Plan"},
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


def error_of(call: Any) -> str:
    with pytest.raises(SlackApiError) as raised:
        call()
    return str(raised.value.response["error"])


def test_open_with_a_fresh_trigger_shows_the_modal_to_that_user(
    client: WebClient, workspace: Workspace
) -> None:
    trigger = workspace.issue_trigger_id("U0REQUESTER")
    view = client.views_open(trigger_id=trigger, view=modal())["view"]

    assert view["id"].startswith("V")
    assert view["callback_id"] == "plan"
    assert view["state"] == {"values": {}}
    assert view["root_view_id"] == view["id"]
    assert [v.id for v in workspace.open_modals("U0REQUESTER")] == [view["id"]]


def test_unknown_and_stale_triggers_are_refused(
    client: WebClient, workspace: Workspace, clock: ManualClock
) -> None:
    assert error_of(lambda: client.views_open(trigger_id="123.456.abc", view=modal())) == (
        "invalid_trigger_id"
    )
    trigger = workspace.issue_trigger_id("U0REQUESTER")
    clock.advance(timedelta(seconds=3, milliseconds=1))
    assert error_of(lambda: client.views_open(trigger_id=trigger, view=modal())) == (
        "expired_trigger_id"
    )
    assert workspace.open_modals("U0REQUESTER") == []


def test_push_stacks_up_to_three_views(client: WebClient, workspace: Workspace) -> None:
    root = client.views_open(trigger_id=workspace.issue_trigger_id("U0ADMIN"), view=modal())
    for title in ("Second", "Third"):
        pushed = client.views_push(
            trigger_id=workspace.issue_trigger_id("U0ADMIN"), view=modal(title)
        )["view"]
        assert pushed["root_view_id"] == root["view"]["id"]
    assert len(workspace.open_modals("U0ADMIN")) == 3
    assert (
        error_of(
            lambda: client.views_push(
                trigger_id=workspace.issue_trigger_id("U0ADMIN"), view=modal()
            )
        )
        == "push_limit_reached"
    )


def test_update_by_id_or_external_id_with_hash_check(
    client: WebClient, workspace: Workspace
) -> None:
    opened = client.views_open(
        trigger_id=workspace.issue_trigger_id("U0REQUESTER"), view=modal(external_id="plan-1")
    )["view"]

    updated = client.views_update(
        view_id=opened["id"], hash=opened["hash"], view=modal("Plan: step 2")
    )["view"]
    assert updated["id"] == opened["id"]
    assert updated["title"]["text"] == "Plan: step 2"
    assert updated["hash"] != opened["hash"]
    # The old hash no longer matches: someone else's update won the race.
    assert (
        error_of(
            lambda: client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal())
        )
        == "hash_conflict"
    )
    by_external = client.views_update(external_id="plan-1", view=modal("Plan: step 3"))["view"]
    assert by_external["id"] == opened["id"]
    assert error_of(lambda: client.views_update(view_id="V0NOPE", view=modal())) == "not_found"


def test_invalid_views_are_refused_before_the_trigger_is_looked_at(
    client: WebClient, workspace: Workspace
) -> None:
    trigger = workspace.issue_trigger_id("U0REQUESTER")
    too_many = modal(blocks=[{"type": "divider"}] * 101)
    assert error_of(lambda: client.views_open(trigger_id=trigger, view=too_many)) == (
        "invalid_blocks"
    )
    long_title = modal("A title longer than twenty-four")
    assert error_of(lambda: client.views_open(trigger_id=trigger, view=long_title)) == (
        "invalid_arguments"
    )
    assert workspace.open_modals("U0REQUESTER") == []
    hundred = modal(blocks=[{"type": "divider"}] * 100)
    assert client.views_open(trigger_id=trigger, view=hundred)["ok"]


def test_publish_stores_the_home_tab(client: WebClient, workspace: Workspace) -> None:
    home = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
    }
    first = client.views_publish(user_id="U0ADMIN", view=home)["view"]
    again = client.views_publish(user_id="U0ADMIN", view=home)["view"]
    assert first["type"] == "home"
    assert again["id"] == first["id"]
    [stored] = workspace.home_views["U0ADMIN"].view["blocks"]
    assert stored["text"]["text"] == "hi"
    # Slack fills in the block_id an app leaves out, and answers with it.
    assert stored["block_id"] == first["blocks"][0]["block_id"] != ""
