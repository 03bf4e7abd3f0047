"""Off the README's script (issue 12, items 17 to 19): what a person reads when they stray."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, Demo
from tests.e2e.console_page import ConsolePage
from tests.e2e.seeding import released_to_staging

pytestmark = pytest.mark.browser


def test_past_windows_other_years_and_refusals_that_name_who_can_act(
    console: ConsolePage, demo: Demo
) -> None:
    # A window typed with last year's date is refused with the way out; nothing is planned.
    console.send("/release plan checkout 1.4.3 to staging at 2025-11-24T16:00")
    expect(console.ephemeral("the window would start in the past")).to_contain_text(
        "(2025-11-24 16:00 UTC); give at now to open it now, or a later time"
    )
    expect(console.card("R-1")).to_have_count(0)

    # A window next year shows its year on the card.
    next_year = datetime.now(UTC).year + 1
    console.send(f"/release plan checkout 1.4.3 to staging at {next_year}-01-05T09:00")
    expect(console.card("R-1")).to_contain_text(f"from Tue 05 Jan {next_year} 09:00 UTC")

    # Rita's own approval: she hears the rule about requesters, as README story 2 says.
    released_to_staging(demo.bot, "1.4.2")
    console.send("/release plan checkout 1.4.2 to production")
    card = console.card("R-3")
    console.click(card, "Approve", confirm="Approve")
    expect(console.ephemeral("you requested R-3")).to_contain_text(
        "production does not count a requester's own approval"
    )

    # Approved, but QA has not signed off: the refusal names Quinn and what to type.
    for approver in ("alice", "bob"):
        console.act_as(approver)
        console.click(card, "Approve", confirm="Approve")
    expect(card).to_contain_text("2 of 2 approvals")
    console.act_as("rita")
    console.send("/release deploy R-3")
    refusal = console.ephemeral("can't deploy until it is ticked")
    expect(refusal).to_contain_text("QA sign-off — waiting on @quinn, who can")
    expect(refusal).to_contain_text("/release tick R-3 QA sign-off")
    console.page.screenshot(path=str(ARTIFACTS / "console-refusal-names-who-can-act.png"))
