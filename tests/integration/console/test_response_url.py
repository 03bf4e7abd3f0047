"""response_url posts, replaces and deletes like Slack's; 30 minutes and 5 uses at most."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from console.slack_api import Workspace
from console.testing import ManualClock


def respond(url: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(url, json=body)


def test_default_answer_is_ephemeral_to_the_user(api_url: str, workspace: Workspace) -> None:
    url = workspace.issue_response_url(
        base_url=api_url, channel_id="C0RELEASES", user_id="U0REQUESTER"
    )
    answer = respond(url, {"text": "Unknown environment: prod. Known: staging, production"})
    assert answer.status_code == 200
    assert answer.json() == {"ok": True}
    [ephemeral] = workspace.ephemerals_for("U0REQUESTER", "C0RELEASES")
    assert ephemeral.text.startswith("Unknown environment")
    assert workspace.history("C0RELEASES") == []


def test_in_channel_posts_for_everyone(api_url: str, workspace: Workspace) -> None:
    url = workspace.issue_response_url(
        base_url=api_url, channel_id="C0RELEASES", user_id="U0REQUESTER"
    )
    respond(url, {"response_type": "in_channel", "text": "R-1 planned"})
    assert [m.text for m in workspace.history("C0RELEASES")] == ["R-1 planned"]


def test_replace_and_delete_original(api_url: str, workspace: Workspace) -> None:
    card = workspace.post_message("C0RELEASES", text="awaiting approval")
    url = workspace.issue_response_url(
        base_url=api_url, channel_id="C0RELEASES", user_id="U0APPROVER1", source_ts=card.ts
    )
    respond(url, {"replace_original": True, "text": "approved by alice"})
    [stored] = workspace.history("C0RELEASES")
    assert (stored.ts, stored.text) == (card.ts, "approved by alice")

    respond(url, {"delete_original": True})
    assert workspace.history("C0RELEASES") == []


def test_replacing_an_ephemeral_changes_only_that_ephemeral(
    api_url: str, workspace: Workspace
) -> None:
    shown = workspace.post_ephemeral("C0RELEASES", "U0REQUESTER", text="Confirm deploy?")
    url = workspace.issue_response_url(
        base_url=api_url,
        channel_id="C0RELEASES",
        user_id="U0REQUESTER",
        source_ts=shown.ts,
        source_is_ephemeral=True,
    )
    respond(url, {"replace_original": "true", "text": "Deploying"})
    assert [e.text for e in workspace.ephemerals_for("U0REQUESTER")] == ["Deploying"]
    assert workspace.history("C0RELEASES") == []


def test_five_uses_then_used_url(api_url: str, workspace: Workspace) -> None:
    url = workspace.issue_response_url(
        base_url=api_url, channel_id="C0RELEASES", user_id="U0REQUESTER"
    )
    for i in range(5):
        assert respond(url, {"text": f"update {i}"}).status_code == 200
    sixth = respond(url, {"text": "one too many"})
    assert sixth.status_code == 404
    assert sixth.json()["error"] == "used_url"
    assert len(workspace.ephemerals_for("U0REQUESTER")) == 5


def test_expires_after_thirty_minutes(
    api_url: str, workspace: Workspace, clock: ManualClock
) -> None:
    url = workspace.issue_response_url(
        base_url=api_url, channel_id="C0RELEASES", user_id="U0REQUESTER"
    )
    clock.advance(timedelta(minutes=30, seconds=1))
    assert respond(url, {"text": "late"}).json()["error"] == "expired_url"
    assert respond(api_url + "/response/never-issued", {"text": "x"}).status_code == 404


def test_invalid_blocks_are_refused_and_recorded(api_url: str, workspace: Workspace) -> None:
    url = workspace.issue_response_url(
        base_url=api_url, channel_id="C0RELEASES", user_id="U0REQUESTER"
    )
    answer = respond(url, {"text": "x", "blocks": [{"type": "section"}]})
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_blocks"
    assert workspace.ephemerals_for("U0REQUESTER") == []
    [call] = workspace.calls_to("response_url")
    assert call.error == "invalid_blocks"
    assert httpx.post(url, content=b"not json").json()["error"] == "invalid_payload"
