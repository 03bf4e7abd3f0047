"""What a browser reload keeps and drops: as in Slack, and never the wrong person."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import ARTIFACTS, Demo, started_demo
from tests.e2e.console_page import PEOPLE, ConsolePage

pytestmark = pytest.mark.browser


def test_a_reload_drops_ephemeral_messages_as_slack_does(console: ConsolePage) -> None:
    console.send("/release help")
    expect(console.ephemeral("/release")).to_have_count(1)

    console.page.reload()
    expect(console.page.get_by_role("heading", name="#releases")).to_be_visible()
    expect(console.messages.locator("li.message.ephemeral")).to_have_count(0)

    # What arrives after the reload is shown, as usual.
    console.send("/release help")
    expect(console.ephemeral("/release")).to_have_count(1)


def test_a_reload_keeps_who_is_acting_and_where(console: ConsolePage) -> None:
    console.act_as("alice")
    console.open_channel("#oncall")
    console.page.reload()

    switcher = console.page.get_by_label("Acting as")
    expect(switcher).to_have_value(PEOPLE["alice"])
    expect(console.page.get_by_role("heading", name="#oncall", exact=True)).to_be_visible()
    # The address says so too: a link copied from it opens as alice in #oncall.
    assert f"user={PEOPLE['alice']}" in console.page.url


def bot_call(demo: Demo, method: str, **args: str) -> dict[str, Any]:
    """A Web API call as the bot makes it (its token, form-encoded), answered by the console."""
    answer = httpx.post(
        f"{demo.url}/api/{method}",
        data=args,
        headers={"Authorization": f"Bearer {demo.workspace.bot_token}"},
    )
    body: dict[str, Any] = answer.json()
    assert body["ok"], body
    return body


def test_permalinks_open_the_message_in_the_console_thread_included(
    console: ConsolePage, demo: Demo
) -> None:
    console.send("/release plan checkout 1.4.2 to staging")
    card = console.card("R-1")
    expect(card).to_be_visible()
    card_ts = card.get_attribute("data-ts")
    assert card_ts
    bot_call(demo, "chat.postMessage", channel="C0RELEASES", thread_ts=card_ts, text="a reply")

    # The bot's permalink is the console's own address, not a made-up slack.com one.
    link = bot_call(demo, "chat.getPermalink", channel="C0RELEASES", message_ts=card_ts)
    permalink = link["permalink"]
    assert permalink.startswith(demo.url + "/archives/C0RELEASES/p")
    bot_call(
        demo, "chat.postMessage", channel="C0ONCALL", text=f"See <{permalink}|the card of R-1>"
    )

    console.open_channel("#oncall")
    console.messages.get_by_role("link", name="the card of R-1").click()
    expect(console.page.get_by_role("heading", name="#releases", exact=True)).to_be_visible()
    expect(console.card("R-1")).to_have_class(re.compile(r"\blinked\b"))
    # Slack's shortcodes are drawn as the emoji Slack shows.
    expect(console.card("R-1")).to_contain_text("\U0001f7e2 Approved")
    expect(console.card("R-1")).not_to_contain_text(":large_green_circle:")
    thread = console.page.get_by_role("complementary", name="Thread")
    expect(thread).to_contain_text("a reply")
    ARTIFACTS.mkdir(exist_ok=True)
    console.page.screenshot(path=str(ARTIFACTS / "console-permalink-opens-card.png"))

    # Opened from outside (a new tab), it lands on the same message, as the same person.
    console.act_as("alice")
    console.open_channel("#oncall")
    console.page.goto(permalink)
    expect(console.page.get_by_role("heading", name="#releases", exact=True)).to_be_visible()
    expect(console.page.get_by_label("Acting as")).to_have_value(PEOPLE["alice"])
    expect(console.card("R-1")).to_have_class(re.compile(r"\blinked\b"))
    expect(thread).to_contain_text("a reply")


@pytest.mark.usefixtures("demo_env")
def test_a_restart_keeps_the_conversation_and_later_card_updates_land(
    browser: Browser, tmp_path: Path
) -> None:
    """Stop the console stack, start it again on the same files: cards and threads stay."""
    with started_demo(tmp_path) as demo:
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(demo.url + f"/?user={PEOPLE['rita']}")
        first = ConsolePage(page)
        first.send("/release plan checkout 1.4.2 to staging")
        card = first.card("R-1")
        expect(card).to_contain_text("Approved")
        page.close()

    with started_demo(tmp_path) as demo:
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(demo.url + f"/?user={PEOPLE['rita']}")
        again = ConsolePage(page)
        card = again.card("R-1")
        expect(card).to_contain_text("Approved")
        expect(again.ephemeral("Planned R-1")).to_have_count(0)
        # The bot still edits the card it posted before the restart.
        again.click(card, "Cancel", confirm="Cancel plan")
        expect(card).to_contain_text("Cancelled")
        expect(card).to_contain_text("(edited)")
        expect(page.locator("#banner")).to_be_hidden()
        page.screenshot(path=str(ARTIFACTS / "console-after-restart.png"))
        page.close()


def test_a_link_naming_someone_not_in_the_workspace_acts_as_the_first_person_and_says_so(
    console: ConsolePage, demo: Demo
) -> None:
    console.page.goto(demo.url + "/?user=U0NOBODY&channel=C0RELEASES")
    expect(console.page.get_by_role("status")).to_contain_text("Nobody here has the id U0NOBODY")
    expect(console.page.get_by_label("Acting as")).to_have_value(PEOPLE["rita"])
    assert f"user={PEOPLE['rita']}" in console.page.url
