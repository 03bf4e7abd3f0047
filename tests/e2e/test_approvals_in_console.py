"""Planning and approving in the console: the real bot, a real browser, real confirmations."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, Demo
from tests.e2e.console_page import ConsolePage
from tests.e2e.seeding import released_to_staging

pytestmark = pytest.mark.browser


def test_plan_by_command_then_two_approvers_confirm_and_the_card_updates_in_place(
    console: ConsolePage, demo: Demo
) -> None:
    released_to_staging(demo.bot, "1.4.2")

    # Rita plans by typing the command; the bot tells her where the card is.
    console.send("/release plan checkout 1.4.2 to production")
    expect(console.ephemeral("Planned R-2")).to_contain_text("checkout 1.4.2 → production")
    card = console.card("R-2")
    expect(card).to_contain_text("Awaiting approval")
    expect(card).to_contain_text("0 of 2 approvals")
    card_ts = card.get_attribute("data-ts")

    # Alice opens the confirmation, thinks better of it: nothing is recorded.
    console.act_as("alice")
    card.get_by_role("button", name="Approve", exact=True).click()
    dialog = console.confirm_dialog()
    expect(dialog).to_contain_text("Approve R-2?")
    expect(dialog).to_contain_text("You approve releasing checkout 1.4.2 to production.")
    dialog.get_by_role("button", name="Not now").click()
    expect(dialog).to_be_hidden()
    expect(card).to_contain_text("0 of 2 approvals")

    # Then she approves: the same message is edited, and she is told where the quorum stands.
    console.click(card, "Approve", confirm="Approve")
    expect(console.ephemeral("You approved R-2")).to_contain_text("1 of 2 approvals")
    expect(card).to_contain_text("1 of 2 approvals")
    expect(card).to_contain_text("(edited)")
    expect(card).to_have_attribute("data-ts", card_ts or "")

    # Bob's approval completes the quorum: Approve/Reject go; Deploy waits for QA's sign-off.
    console.act_as("bob")
    console.click(card, "Approve", confirm="Approve")
    expect(card).to_contain_text("Approved")
    expect(card).to_contain_text("2 of 2 approvals")
    expect(card.get_by_role("button", name="Approve", exact=True)).to_have_count(0)
    expect(card).to_contain_text("QA sign-off must be ticked by")
    expect(card.get_by_role("button", name="Deploy", exact=True)).to_have_count(0)
    console.act_as("quinn")
    console.send("/release tick R-2 QA sign-off")
    expect(card.get_by_role("button", name="Deploy", exact=True)).to_be_visible()
    expect(console.card("R-2")).to_have_count(1)

    # The thread tells the story of the decisions.
    thread = console.thread_of(card)
    expect(thread).to_contain_text("@alice approved R-2 (1 of 2)")
    expect(thread).to_contain_text("@bob approved R-2 (2 of 2) — R-2 is approved.")

    # Rita hears about it in her DM with the bot.
    console.act_as("rita")
    console.open_channel("releasebot")
    expect(console.messages).to_contain_text("R-2")
    expect(console.messages).to_contain_text(re.compile("approved", re.IGNORECASE))


def test_a_requester_cannot_approve_their_own_plan_nor_can_a_stranger(
    console: ConsolePage, demo: Demo
) -> None:
    released_to_staging(demo.bot, "1.4.2")

    # Alice is an approver, but this plan is hers.
    console.act_as("alice")
    console.send("/release plan checkout 1.4.2 to production")
    card = console.card("R-2")
    expect(card).to_contain_text("Awaiting approval")
    console.click(card, "Approve", confirm="Approve")
    refusal = console.ephemeral("you requested R-2")
    expect(refusal).to_contain_text("does not count a requester's own approval")
    expect(refusal).to_contain_text("Only visible to you")

    # Sam is not an approver at all.
    console.act_as("sam")
    console.click(card, "Approve", confirm="Approve")
    expect(console.ephemeral("you are not an approver for production")).to_be_visible()

    # Neither click counted, and nobody else saw the refusals.
    expect(card).to_contain_text("0 of 2 approvals")
    console.act_as("bob")
    expect(console.card("R-2")).to_be_visible()
    expect(console.messages.locator("li.message.ephemeral")).to_have_count(0)


def test_reject_asks_for_a_reason_in_a_modal(console: ConsolePage, demo: Demo) -> None:
    released_to_staging(demo.bot, "1.4.2")
    console.send("/release plan checkout 1.4.2 to production")
    card = console.card("R-2")
    expect(card).to_contain_text("Awaiting approval")

    console.act_as("bob")
    card.get_by_role("button", name="Reject", exact=True).click()
    modal = console.modal("Reject R-2")
    expect(modal).to_contain_text("Tell the requester what to fix in R-2.")

    # No reason: the field is required, so Slack itself keeps the modal open, under the field.
    modal.get_by_role("button", name="Reject", exact=True).click()
    expect(modal.get_by_role("alert")).to_have_text("Please complete this required field.")

    modal.get_by_label("Reason").fill("p99 latency doubled in staging; see the checkout dashboard")
    modal.get_by_role("button", name="Reject", exact=True).click()
    expect(modal).to_be_hidden()

    expect(card).to_contain_text("Rejected")
    expect(card).to_contain_text("@bob: p99 latency doubled in staging")
    expect(card.get_by_role("button", name="Approve", exact=True)).to_have_count(0)
    thread = console.thread_of(card)
    expect(thread).to_contain_text("@bob rejected R-2: p99 latency doubled in staging")


def test_approval_dms_show_the_outcome_instead_of_buttons_once_decided(
    console: ConsolePage, demo: Demo
) -> None:
    released_to_staging(demo.bot, "1.4.2")
    console.send("/release plan checkout 1.4.2 to production")
    card = console.card("R-2")
    expect(card).to_contain_text("Awaiting approval")

    # Carol is asked in her DM, with live buttons.
    console.act_as("carol")
    console.open_channel("releasebot")
    request = console.messages.locator("li.message").filter(has_text="asks for your approval")
    expect(request).to_contain_text("0 of 2 approvals")
    expect(request.get_by_role("button", name="Approve", exact=True)).to_be_visible()

    # Alice and Bob approve on the card.
    for approver in ("alice", "bob"):
        console.act_as(approver)
        console.open_channel("#releases")
        console.click(card, "Approve", confirm="Approve")
    expect(card).to_contain_text("2 of 2 approvals")

    # Carol's DM now says so, and has no buttons left to press.
    console.act_as("carol")
    console.open_channel("releasebot")
    expect(request).to_contain_text("2 of 2 approvals")
    expect(request).to_contain_text("Approved — nothing more to decide here.")
    expect(request.get_by_role("button")).to_have_count(0)
    expect(request).to_contain_text("(edited)")
    console.page.screenshot(path=str(ARTIFACTS / "console-approval-dm-after-decision.png"))
