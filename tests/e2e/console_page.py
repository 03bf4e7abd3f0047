"""What a person does on the console page, in words a release story reads well in."""

from __future__ import annotations

import re
from dataclasses import dataclass

from playwright.sync_api import Locator, Page, expect

from bot.app.console import DEMO_PEOPLE

PEOPLE = {name: user_id for user_id, (name, _) in DEMO_PEOPLE.items()}

# Expectations wait this long by default (set by the page fixtures): a loaded CI machine runs
# six test workers and Chromium on two cores. Rollout steps get their own, longer deadlines.
EXPECT_TIMEOUT_MS = 10_000
# How long a rollout step may take on the page (deploy-script polls are 5 s apart).
ROLLOUT_TIMEOUT_MS = 60_000


@dataclass
class ConsolePage:
    """The console in one browser tab; `page` for anything the helpers do not cover."""

    page: Page

    # -- who and where -------------------------------------------------------------------

    def act_as(self, name: str) -> None:
        """Pick someone in the "Acting as" switcher by their name (rita, alice, bob, …)."""
        user_id = PEOPLE[name]
        switcher = self.page.get_by_label("Acting as")
        switcher.select_option(user_id)
        expect(switcher).to_have_value(user_id)
        expect(switcher.locator("option:checked")).to_contain_text(name)

    def open_channel(self, label: str) -> None:
        """Open a channel ("#announcements") or a DM ("releasebot") from the sidebar."""
        nav = self.page.get_by_role("navigation", name="Conversations")
        nav.get_by_role("button", name=re.compile(rf"^{re.escape(label)}( \d+ unread)?$")).click()
        expect(self.page.get_by_role("heading", name=label, exact=True)).to_be_visible()

    @property
    def messages(self) -> Locator:
        """The open conversation's message list."""
        return self.page.get_by_role("list", name="Messages", exact=True)

    # -- typing and clicking ---------------------------------------------------------------

    def send(self, text: str) -> None:
        """Type into the composer and press Enter, as a person would."""
        composer = self.page.locator("#composer-input")
        composer.fill(text)
        composer.press("Enter")
        try:
            expect(composer).to_have_value("")
        except AssertionError as error:
            # The console keeps what was typed when it could not send it, and says why in the
            # toast: that is the message a failure here needs.
            said = self.page.locator("#toast").text_content()
            raise AssertionError(f"{text!r} was not sent; the console said {said!r}") from error

    def card(self, ref: str) -> Locator:
        """The plan card (the message whose header starts with `R-<n> ·`) in this channel."""
        header = self.page.get_by_role("heading", name=re.compile(rf"^{re.escape(ref)} ·"))
        return self.messages.locator(":scope > li.message:not(.ephemeral)").filter(has=header)

    def ephemeral(self, text: str | re.Pattern[str]) -> Locator:
        """The "only visible to you" messages of the open conversation containing `text`."""
        return self.messages.locator("li.message.ephemeral").filter(has_text=text)

    def click(self, message: Locator, button: str, *, confirm: str | None = None) -> None:
        """Click a message's button; when a confirmation dialog opens, press `confirm` in it."""
        message.get_by_role("button", name=button, exact=True).click()
        if confirm is not None:
            dialog = self.page.locator("dialog#confirm")
            expect(dialog).to_be_visible()
            dialog.get_by_role("button", name=confirm, exact=True).click()
            expect(dialog).to_be_hidden()

    def confirm_dialog(self) -> Locator:
        """The open confirmation dialog."""
        return self.page.locator("dialog#confirm")

    def modal(self, title: str) -> Locator:
        """The open modal with this title."""
        return self.page.get_by_role("dialog", name=title)

    def thread_of(self, message: Locator) -> Locator:
        """Open a message's thread in the side panel and return the panel."""
        message.get_by_role("button", name=re.compile(r"^\d+ repl(y|ies)$")).click()
        thread = self.page.get_by_role("complementary", name="Thread")
        expect(thread).to_be_visible()
        return thread

    def flip_demo_health(self, *, to: str) -> None:
        """Press the demo service switch until it says `to` (healthy / unhealthy)."""
        switch = self.page.get_by_role("button", name=re.compile("^Demo service"))
        switch.click()
        expect(switch).to_have_text(f"Demo service: {to}")
