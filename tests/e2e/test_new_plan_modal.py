"""`/release new` in the console: the modal the bot opens, filled in and submitted by hand."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.console_page import ConsolePage

pytestmark = pytest.mark.browser


def test_release_new_opens_the_plan_form_and_submitting_it_plans_the_release(
    console: ConsolePage,
) -> None:
    console.send("/release new")
    modal = console.modal("Plan a release")
    expect(modal).to_be_visible()
    modal.get_by_label("Service").select_option("checkout")
    modal.get_by_label("Environment").select_option("staging")
    modal.get_by_label("Notes and known issues").fill("First release with the new payment step.")

    # A version with a space is refused next to the field; what was typed stays.
    version = modal.get_by_label("Version")
    version.fill("1.4 .3")
    modal.get_by_role("button", name="Plan", exact=True).click()
    expect(modal.get_by_role("alert")).to_contain_text("'1.4 .3' is not a valid version")
    expect(modal.get_by_label("Service")).to_have_value("checkout")

    version.fill("1.4.3")
    modal.get_by_role("button", name="Plan", exact=True).click()
    expect(modal).to_be_hidden()

    # The plan exists: Rita is told, and the card is in #releases (staging needs no approval).
    expect(console.ephemeral("Planned R-1")).to_be_visible()
    card = console.card("R-1")
    expect(card.get_by_role("heading")).to_have_text("R-1 · checkout 1.4.3 → staging")
    expect(card).to_contain_text("Approved")
    expect(card).to_contain_text("No approval needed for staging.")
    expect(card).to_contain_text("First release with the new payment step.")
    expect(card.get_by_role("button", name="Deploy", exact=True)).to_be_visible()
