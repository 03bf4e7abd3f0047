"""The bare `releasebot` (no Slack tokens) from a fresh directory: the offline console."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.blackbox.harness import (
    Deployment,
    FakeSlack,
    ShippedBot,
    eventually,
    shipped_bot,
)

SLACK = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_API_URL")


@pytest.fixture
def console(
    deployment: Deployment, slack: FakeSlack, database_url: str | None
) -> Iterator[ShippedBot]:
    with shipped_bot(deployment.root, slack, database_url=database_url) as shipped:
        for name in SLACK:
            shipped.env.pop(name)
        shipped.start()  # the bare command: no sub-command at all
        shipped.wait_healthy()
        yield shipped


def _messages(console: ShippedBot, channel: str) -> list[str]:
    state = httpx.get(console.url + "/console/state", params={"user_id": "U0REQUESTER"}).json()
    return [str(m.get("text", "")) for m in state["messages"].get(channel, [])]


def _plan_and_see_the_card(console: ShippedBot) -> None:
    """Type a plan in the console as Rita; its card appears in the console's #releases."""
    typed = httpx.post(
        console.url + "/console/command",
        json={
            "user_id": "U0REQUESTER",
            "channel_id": "C0RELEASES",
            "text": "/release plan checkout 1.4.2 to staging",
        },
    )
    assert typed.json() == {"ok": True}
    eventually(
        lambda: any(
            text.startswith("R-1 · checkout 1.4.2 → staging")
            for text in _messages(console, "C0RELEASES")
        ),
        what="the card in the console's #releases",
    )


def test_the_console_serves_its_page_and_runs_the_bot(console: ShippedBot) -> None:
    page = httpx.get(console.url + "/")
    assert page.status_code == 200
    assert "<title>Releasebot console</title>" in page.text
    assert httpx.get(console.url + "/static/console.js").status_code == 200

    _plan_and_see_the_card(console)
    assert "Traceback" not in console.output()


def test_a_fresh_directory_without_a_config_runs_the_demo_console_and_serve_refuses(
    tmp_path: Path, slack: FakeSlack
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with shipped_bot(empty, slack) as bot:
        # `serve` needs a real config: one line saying where it would go, nothing written.
        refused = bot.run("serve")
        assert refused.code == 2
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1, refused.stderr
        assert lines[0].startswith("releasebot: refusing to start: releasebot.toml: file not found")
        assert "RELEASEBOT_CONFIG" in lines[0]
        assert sorted(p.name for p in empty.iterdir()) == ["home"]

        # The bare `releasebot` (the offline console) starts on the bundled demo config and
        # says where it is and how to write one's own.
        for name in SLACK:
            bot.env.pop(name)
        bot.start()
        bot.wait_healthy()
        said = bot.output()
        assert f"no releasebot.toml in {empty}; the console runs the bundled demo" in said
        assert f"copy it to {empty / 'releasebot.toml'} and edit it" in said
        _plan_and_see_the_card(bot)
        assert "Traceback" not in bot.output()
