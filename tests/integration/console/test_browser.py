"""The console page in headless Chromium: type, click, confirm, fill a modal, see updates."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from console.testing import ConsoleRun
from tests.e2e.console_page import EXPECT_TIMEOUT_MS, ConsolePage

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"


@pytest.fixture
def page(browser: Browser, console_run: ConsoleRun) -> Iterator[Page]:
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(console_run.url + "/?user=U0REQUESTER")
    expect(page.get_by_role("heading", name="#releases")).to_be_visible()
    yield page
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def send(page: Page, text: str) -> None:
    ConsolePage(page).send(text)


def test_command_confirm_modal_ephemeral_and_update_in_place(page: Page) -> None:
    messages = page.get_by_role("list", name="Messages", exact=True)

    # An ephemeral answer, marked as such.
    send(page, "/release help")
    ephemeral = messages.locator(".message.ephemeral")
    expect(ephemeral).to_contain_text("Usage: /release plan")
    expect(ephemeral).to_contain_text("Only visible to you")

    # A slash command whose card arrives through the Web API, rendered from Block Kit.
    send(page, "/release plan checkout 1.4.2 to production")
    card = messages.locator(".message").filter(has_text="R-1 checkout 1.4.2")
    expect(card.get_by_role("heading", name="R-1 checkout 1.4.2")).to_be_visible()
    expect(card).to_contain_text("State: awaiting_approval")
    expect(card.locator(".mention")).to_have_text("@rita")
    approve = card.get_by_role("button", name="Approve")
    expect(approve).to_have_class(re.compile("primary"))

    # The modal: a wrong version shows the bot's error under the input, a right one closes it.
    card.get_by_role("button", name="Edit").click()
    dialog = page.get_by_role("dialog", name="Edit R-1")
    expect(dialog).to_be_visible()
    version = dialog.get_by_label("Version")
    expect(version).to_be_focused()
    version.fill("one point four")
    dialog.get_by_label("Environment").select_option("staging")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("alert")).to_have_text("Use a version like 1.4.2")
    expect(version).to_have_value("one point four")
    version.fill("1.4.3")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    expect(messages).to_contain_text("R-1 now 1.4.3 to staging")

    # A confirm dialog: deny sends nothing, confirm approves; the card is edited in place.
    approve.click()
    confirm = page.get_by_role("dialog", name="Approve R-1?")
    expect(confirm).to_contain_text("This counts toward the quorum.")
    confirm.get_by_role("button", name="Not yet").click()
    expect(confirm).to_be_hidden()
    expect(card).to_contain_text("awaiting_approval")
    approve.click()
    confirm.get_by_role("button", name="Yes, approve").click()
    expect(card).to_contain_text("State: approved")
    expect(card).to_contain_text("(edited)")
    expect(card.get_by_role("button", name="Approve")).to_have_count(0)

    # The approval went to the card's thread.
    card.get_by_role("button", name="1 reply").click()
    thread = page.get_by_role("complementary", name="Thread")
    expect(thread).to_contain_text("@rita approved")

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "console.png"), full_page=True)


def test_ephemeral_buttons_and_the_error_banner(page: Page) -> None:
    messages = page.get_by_role("list", name="Messages", exact=True)
    send(page, "/release confirm")
    ephemeral = messages.locator(".message.ephemeral")
    ephemeral.get_by_role("button", name="Deploy").click()
    expect(ephemeral).to_contain_text("Deploying R-1")
    expect(ephemeral.get_by_role("button", name="Deploy")).to_have_count(0)

    send(page, "/release broken")
    banner = page.locator("#banner")
    expect(banner).to_contain_text("chat.postMessage: invalid_blocks")
    expect(banner).to_contain_text("no more than 50 items")
    banner.get_by_role("button", name="Dismiss").click()
    expect(banner).to_be_hidden()


def test_switching_users_unread_marks_and_the_demo_switch(page: Page) -> None:
    send(page, "/release public")
    page.get_by_label("Acting as").select_option("U0APPROVER1")
    expect(page.get_by_label("Acting as")).to_have_value("U0APPROVER1")
    messages = page.get_by_role("list", name="Messages", exact=True)
    expect(messages).to_contain_text("Everyone sees this answer")
    dms = page.get_by_role("list", name="Direct messages")
    expect(dms.get_by_role("button", name="releasebot")).to_be_visible()

    # Something new in another channel shows as unread there.
    page.get_by_role("button", name="#oncall").click()
    page.get_by_label("Acting as").select_option("U0REQUESTER")
    page.get_by_role("button", name="#releases").click()
    send(page, "/release plan checkout 1.4.2 to production")
    page.get_by_label("Acting as").select_option("U0APPROVER1")
    expect(
        page.get_by_role("navigation", name="Conversations").get_by_label("1 unread")
    ).to_be_visible()

    switch = page.get_by_role("button", name=re.compile("Demo service"))
    expect(switch).to_have_text("Demo service: healthy")
    switch.click()
    expect(switch).to_have_text("Demo service: unhealthy")
    expect(switch).to_have_attribute("aria-pressed", "false")


def test_keyboard_only_command(page: Page) -> None:
    page.get_by_label("Message #releases").focus()
    page.keyboard.type("/release help")
    page.keyboard.press("Enter")
    expect(page.locator(".message.ephemeral")).to_contain_text("Usage:")
