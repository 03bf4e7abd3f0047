"""The whole release story in the console, played as people would play it by hand.

plan → deploy (confirmed) → canary stage 1 with its analysis → the manual gate → Promote →
verifying → released → the announcement with its changelog and Roll back → the demo service
turns unhealthy → Roll back (confirmed) → the rollback alert in #releases and #oncall →
rolled back. The deploy script, the health check and the changelog repository are real.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, Demo
from tests.e2e.console_page import ROLLOUT_TIMEOUT_MS, ConsolePage
from tests.e2e.seeding import released_to_staging

pytestmark = pytest.mark.browser


def test_canary_with_a_manual_gate_released_announced_and_rolled_back(
    console: ConsolePage, demo: Demo
) -> None:
    released_to_staging(demo.bot, "1.4.1")

    console.send("/release plan checkout 1.4.2 to staging")
    card = console.card("R-2")
    expect(card).to_contain_text("Approved")
    expect(card).to_contain_text("1.4.1")  # what it would roll back to

    console.click(card, "Deploy", confirm="Deploy")
    expect(card).to_contain_text("Deploying")
    thread = console.thread_of(card)
    expect(thread).to_contain_text("Stage 1 of 3", timeout=ROLLOUT_TIMEOUT_MS)

    # Stage 1 (10%) runs its analysis against the demo health endpoint, stage 2 stops at the gate.
    expect(thread).to_contain_text("waiting for someone to Promote", timeout=ROLLOUT_TIMEOUT_MS)
    expect(thread).to_contain_text("Stage 1 of 3 — canary 10%: done")
    promote = card.get_by_role("button", name="Promote", exact=True)
    expect(promote).to_be_visible()
    console.click(card, "Promote")

    # Stage 3 (100%), then the service's checks while verifying, then released.
    expect(card).to_contain_text("Released", timeout=ROLLOUT_TIMEOUT_MS)
    expect(thread).to_contain_text("all stages done; verifying")
    expect(thread).to_contain_text("R-2 is released.")
    expect(card.get_by_role("button", name="Promote", exact=True)).to_have_count(0)

    # Stakeholders read the announcement, with the changelog since 1.4.1.
    console.open_channel("#announcements")
    announcement = console.messages.locator("li.message").filter(has_text="checkout 1.4.2")
    expect(announcement).to_contain_text("released to staging", timeout=ROLLOUT_TIMEOUT_MS)
    expect(announcement).to_contain_text("Fix rounding of discounted totals")
    expect(announcement).to_contain_text("Marco Rossi")
    expect(announcement).not_to_contain_text("Add card payment step")  # that was in 1.4.1

    # The service goes bad after the release: the endpoint the check polls now fails.
    console.flip_demo_health(to="unhealthy")
    health = console.page.request.get(demo.url + "/demo/checkout/healthz")
    assert health.status == 503

    # Rita rolls back from the announcement, confirming first.
    console.click(announcement, "Roll back", confirm="Roll back")
    console.open_channel("#releases")
    alert = console.messages.locator("li.message").filter(has_text="rolling back to 1.4.1")
    expect(alert).to_contain_text("R-2")
    expect(alert).to_contain_text("1.4.1")
    expect(alert).to_contain_text("@rita")
    card = console.card("R-2")
    expect(card).to_contain_text("Rolled back", timeout=ROLLOUT_TIMEOUT_MS)
    # Emoji codes are drawn as emoji (or kept as codes), never half-read as _italics_.
    expect(card.locator("em")).to_have_count(0)
    console.open_channel("#oncall")
    expect(console.messages).to_contain_text("rolling back to 1.4.1")

    # A picture of the story: the releases channel with the card's thread open. It goes to the
    # git-ignored test-artifacts/; docs/console.png (shown by the README) is refreshed by hand
    # from it, so running the tests never changes a tracked file.
    console.open_channel("#releases")
    console.thread_of(console.card("R-2"))
    ARTIFACTS.mkdir(exist_ok=True)
    console.page.screenshot(path=str(ARTIFACTS / "console.png"), full_page=True)
