"""`/release new` in the console: the modal the bot opens, filled in and submitted by hand."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, expect
from sqlmodel import Session, select

from bot.store.models import ReleasePlan
from tests.e2e.conftest import ARTIFACTS, Demo
from tests.e2e.console_page import PEOPLE, ConsolePage

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


def test_every_mistake_in_the_plan_form_shows_at_once_under_its_field(
    console: ConsolePage,
) -> None:
    console.send("/release new")
    modal = console.modal("Plan a release")
    expect(modal).to_be_visible()
    # No service, no environment (both required), a version with a space, a bad dependency.
    modal.get_by_label("Version").fill("1.4 .3")
    modal.get_by_label("After (dependencies)").fill("R-1 banana")
    modal.get_by_role("button", name="Plan", exact=True).click()

    def error_under(label: str) -> Locator:
        return modal.locator(".bk-input").filter(has=console.page.get_by_label(label))

    expect(error_under("Service").get_by_role("alert")).to_have_text(
        "Please complete this required field."
    )
    expect(error_under("Environment").get_by_role("alert")).to_have_text(
        "Please complete this required field."
    )
    # Slack never sent the form: the bot's own checks run once the required fields are in.
    expect(error_under("Version").get_by_role("alert")).to_have_count(0)
    ARTIFACTS.mkdir(exist_ok=True)
    modal.screenshot(path=str(ARTIFACTS / "console-modal-required-fields.png"))

    modal.get_by_label("Service").select_option("checkout")
    modal.get_by_label("Environment").select_option("staging")
    modal.get_by_role("button", name="Plan", exact=True).click()
    expect(error_under("Version").get_by_role("alert")).to_contain_text(
        "'1.4 .3' is not a valid version"
    )
    expect(error_under("After (dependencies)").get_by_role("alert")).to_contain_text("banana")
    expect(modal.get_by_role("alert")).to_have_count(2)
    expect(modal.get_by_label("Version")).to_have_value("1.4 .3")
    modal.screenshot(path=str(ARTIFACTS / "console-modal-all-errors-at-once.png"))


def test_stakeholders_are_picked_from_the_workspaces_people(
    console: ConsolePage, demo: Demo
) -> None:
    console.send("/release new")
    modal = console.modal("Plan a release")
    picker = modal.get_by_role("group", name="Stakeholders")
    # Everyone in the workspace, by name, and not the app itself.
    expect(picker.get_by_role("checkbox")).to_have_count(len(PEOPLE))
    expect(picker).not_to_contain_text("releasebot")
    picker.get_by_role("checkbox", name="@alice").check()
    picker.get_by_role("checkbox", name="@quinn").check()
    modal.get_by_label("Service").select_option("checkout")
    modal.get_by_label("Version").fill("1.4.3")
    modal.get_by_label("Environment").select_option("staging")
    picker.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    modal.screenshot(path=str(ARTIFACTS / "console-modal-stakeholders-picker.png"))
    modal.get_by_role("button", name="Plan", exact=True).click()
    expect(modal).to_be_hidden()
    expect(console.ephemeral("Planned R-1")).to_be_visible()

    with Session(demo.bot.db.engine) as session:
        plan = session.exec(select(ReleasePlan)).one()
    assert plan.stakeholders == [PEOPLE["alice"], PEOPLE["quinn"]]
