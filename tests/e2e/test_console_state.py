"""What a browser reload keeps and drops: as in Slack, and never the wrong person."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS
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
    ARTIFACTS.mkdir(exist_ok=True)
    console.page.screenshot(path=str(ARTIFACTS / "console-reload-keeps-acting-as.png"))
