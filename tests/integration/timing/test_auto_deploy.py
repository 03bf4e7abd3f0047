"""auto_deploy (SPEC §2): an approved plan starts by itself when its window opens."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.domain.config import ReleasebotConfig, load_config
from bot.release.plans import get_plan
from bot.store.models import AuditEvent, ReleasePlan
from bot.timing import auto_deploy, reminders
from tests.helpers import walk_to_released
from tests.integration.timing.conftest import advance, jobs
from tests.scenario.driver import SlackDriver, buttons, card_text

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "releasebot.toml"
# The fake clock starts on Tuesday 24 November 2026, 15:00 UTC.
STARTED = ":rocket: R-1 deploying automatically as its window opened: all_at_once, 1 stage."


@pytest.fixture
def config(tmp_path: Path) -> ReleasebotConfig:
    """The test configuration, with payments (only) starting by itself when its window opens."""
    text = FIXTURE.read_text()
    assert "[services.payments]\n" in text
    text = text.replace("[services.payments]\n", "[services.payments]\nauto_deploy = true\n")
    path = tmp_path / "releasebot.toml"
    path.write_text(text)
    shutil.copy2(FIXTURE.parent / "deploy.sh", tmp_path)  # the command the config names
    return load_config(path)


def _plan_row(slack: SlackDriver, plan_id: int) -> ReleasePlan:
    with slack.bot.db.session() as session:
        plan = session.get(ReleasePlan, plan_id)
    assert plan is not None
    return plan


def test_an_approved_plan_starts_by_itself_when_its_window_opens(slack: SlackDriver) -> None:
    slack.command(
        "U0REQUESTER", "plan payments 2.0.0 to staging at 2026-11-24T16:00 until 2026-11-24T18:00"
    )
    slack.settle()
    assert _plan_row(slack, 1).state == "approved"  # staging needs no approval
    assert ":clock3: The window opens Tue 24 Nov 16:00 UTC: R-1 starts by itself then." in (
        card_text(slack.card("R-1"))
    )

    advance(slack, timedelta(minutes=59), step=timedelta(minutes=1))
    assert _plan_row(slack, 1).state == "approved"  # not a minute early
    advance(slack, timedelta(minutes=1))  # 16:00: the window opens

    plan = _plan_row(slack, 1)
    assert plan.state == "deploying"
    assert STARTED in slack.thread(slack.card("R-1"))
    assert slack.card("R-1").text == "R-1 · payments 2.0.0 → staging: Deploying"
    with slack.bot.db.session() as session:
        started = session.exec(
            select(AuditEvent).where(AuditEvent.plan_id == 1, AuditEvent.to_state == "deploying")
        ).all()
    assert [(e.actor_id, e.from_state) for e in started] == [("releasebot", "approved")]
    # Started, so nobody is nudged to deploy it, before or after the nudge's usual time.
    advance(slack, timedelta(minutes=30), step=timedelta(minutes=5))
    assert not any("window is open" in m.text for m in slack.dm("U0REQUESTER"))
    [opened] = jobs(slack, reminders.WINDOW_OPEN)
    assert opened.outcome == "started R-1 (auto_deploy)"


def test_without_auto_deploy_the_requester_is_nudged_instead(slack: SlackDriver) -> None:
    slack.command(
        "U0REQUESTER", "plan checkout 1.4.2 to staging at 2026-11-24T16:00 until 2026-11-24T18:00"
    )
    slack.settle()
    # Until the window opens the card says when, and offers no Deploy that would be refused.
    card = slack.card("R-1")
    assert (
        "*Before R-1 can deploy:*\n:clock3: The window opens Tue 24 Nov 16:00 UTC: R-1 can "
        "deploy from then."
    ) in card_text(card)
    assert "Deploy" not in buttons(card)
    slack.command("U0REQUESTER", "deploy R-1")
    assert slack.ephemerals("U0REQUESTER")[-1] == (
        "R-1's window opens Tue 24 Nov 16:00 UTC; deploy it then, or edit its window"
    )

    advance(slack, timedelta(hours=1), step=timedelta(minutes=5))  # 16:00: the window opens
    assert _plan_row(slack, 1).state == "approved"
    card = slack.card("R-1")
    assert ":clock3:" not in card_text(card)
    assert "Deploy" in buttons(card)
    assert not any(":rocket:" in line for line in slack.thread(slack.card("R-1")))
    assert jobs(slack, reminders.WINDOW_OPEN) == []

    advance(slack, timedelta(minutes=15))  # 16:15
    nudge = slack.dm("U0REQUESTER")[-1]
    assert nudge.text == "R-1's window is open"
    assert "has not been deployed" in card_text(nudge)
    assert buttons(nudge) == ["Deploy"]
    assert _plan_row(slack, 1).state == "approved"


def _released_to_staging(slack: SlackDriver) -> None:
    """payments 2.0.0 released to staging, so production may plan it (no window: no job)."""
    slack.command("U0REQUESTER", "plan payments 2.0.0 to staging")
    with slack.bot.db.session() as session:
        plan_id = session.exec(select(ReleasePlan.id).order_by(col(ReleasePlan.id))).all()[-1]
        assert plan_id is not None
        plan = get_plan(session, plan_id=plan_id, for_update=True)
        walk_to_released(session, ctx=slack.bot.desk.ctx, plan=plan)


def test_a_plan_still_awaiting_approval_does_not_start_when_its_window_opens(
    slack: SlackDriver,
) -> None:
    _released_to_staging(slack)
    slack.command(
        "U0REQUESTER",
        "plan payments 2.0.0 to production at 2026-11-24T16:00 until 2026-11-24T18:00",
    )
    slack.command("U0APPROVER1", "approve R-2")  # one of the two approvals production needs
    advance(slack, timedelta(hours=1), step=timedelta(minutes=5))  # 16:00

    plan = _plan_row(slack, 2)
    assert plan.state == "awaiting_approval"  # an unanswered gate never becomes a yes
    assert not any(":rocket:" in line for line in slack.thread(slack.card("R-2")))
    nudge = slack.dm("U0REQUESTER")[-1]
    assert nudge.text == "R-2's window is open"


def test_an_auto_deploy_a_freeze_refuses_says_why_in_the_thread(slack: SlackDriver) -> None:
    slack.command(
        "U0REQUESTER", "plan payments 2.0.0 to staging at 2026-11-24T16:00 until 2026-11-24T18:00"
    )
    slack.command("U0ADMIN", 'freeze staging until 2026-11-24T17:00 reason "load test"')
    slack.settle()
    advance(slack, timedelta(hours=1), step=timedelta(minutes=5))  # 16:00: the window opens

    assert _plan_row(slack, 1).state == "approved"
    refused = slack.thread(slack.card("R-1"))[-1]
    assert refused.startswith(":no_entry: R-1's window opened but it did not start by itself:")
    assert "load test" in refused
    with slack.bot.db.session() as session:
        audited = session.exec(
            select(AuditEvent).where(AuditEvent.action == "auto_deploy.refused")
        ).all()
    assert [(e.plan_id, e.actor_id) for e in audited] == [(1, "releasebot")]


# -- a plan held at its window's start starts once what held it clears (issue 14 item 5) ------

WINDOW = "at 2026-11-24T16:00 until 2026-11-24T18:00"
UNTIL = "until its window closes (Tue 24 Nov 18:00 UTC)"


def _rockets(slack: SlackDriver, ref: str) -> list[str]:
    return [t for t in slack.thread(slack.card(ref)) if t.startswith(":rocket:")]


def test_a_plan_held_by_its_dependency_starts_once_the_dependency_is_released(
    slack: SlackDriver, deploy_calls: Path
) -> None:
    slack.command("U0REQUESTER", "plan payments 1.9.0 to staging")  # R-1, no window
    slack.command("U0REQUESTER", f"plan payments 2.0.0 to staging {WINDOW} after R-1")
    advance(slack, timedelta(hours=1), step=timedelta(minutes=5))  # 16:00: the window opens

    assert _plan_row(slack, 2).state == "approved"
    thread = slack.thread(slack.card("R-2"))
    advance(slack, timedelta(minutes=30), step=timedelta(minutes=5))  # re-checked, quietly
    assert slack.thread(slack.card("R-2")) == thread

    slack.command("U0REQUESTER", "deploy R-1")
    slack.roll(lambda: _plan_row(slack, 1).state == "released")
    advance(slack, timedelta(seconds=1))  # the scheduler's next pass

    assert _plan_row(slack, 2).state == "deploying"
    assert _rockets(slack, "R-2") == [
        ":rocket: R-2 deploying automatically now that R-1 is released: all_at_once, 1 stage."
    ]
    advance(slack, timedelta(minutes=30), step=timedelta(minutes=5))
    assert len(_rockets(slack, "R-2")) == 1  # once
    slack.roll(lambda: _plan_row(slack, 2).state == "released")
    assert deploy_calls.read_text().splitlines() == [
        "deploy payments 1.9.0 staging 100",
        "deploy payments 2.0.0 staging 100",
    ]
    with slack.bot.db.session() as session:
        retried = session.exec(
            select(AuditEvent).where(AuditEvent.action == "auto_deploy.retried")
        ).all()
    assert [(e.plan_id, e.actor_id, e.reason) for e in retried] == [
        (2, "releasebot", "R-1 is released")
    ]
    assert thread[-1] == (
        ":no_entry: R-2's window opened but it did not start by itself: R-2 comes after R-1, "
        f"not released yet. It starts by itself as soon as that clears, {UNTIL}."
    )


def test_a_plan_held_by_an_unticked_item_starts_when_it_is_ticked(slack: SlackDriver) -> None:
    _released_to_staging(slack)
    slack.command("U0REQUESTER", f"plan payments 2.0.0 to production {WINDOW}")
    for approver in ("U0APPROVER1", "U0APPROVER2"):
        slack.command(approver, "approve R-2")
    advance(slack, timedelta(hours=1), step=timedelta(minutes=5))  # 16:00
    refused = slack.thread(slack.card("R-2"))[-1]

    advance(slack, timedelta(minutes=20), step=timedelta(minutes=5))
    slack.command("U0QA", "tick R-2 QA sign-off")
    advance(slack, timedelta(seconds=1))

    assert _plan_row(slack, 2).state == "deploying"
    assert _rockets(slack, "R-2") == [
        ":rocket: R-2 deploying automatically now that 'QA sign-off' is ticked: all_at_once, "
        "1 stage."
    ]
    assert refused == (
        ":no_entry: R-2's window opened but it did not start by itself: R-2 can't deploy until "
        "it is ticked: QA sign-off — waiting on <@U0QA>, who can `/release tick R-2 QA sign-off`. "
        f"It starts by itself as soon as that clears, "
        f"{UNTIL}."
    )


def test_a_plan_approved_after_its_window_opened_starts_at_once(slack: SlackDriver) -> None:
    _released_to_staging(slack)
    slack.command("U0REQUESTER", f"plan payments 2.0.0 to production {WINDOW}")
    slack.command("U0QA", "tick R-2 QA sign-off")
    slack.command("U0APPROVER1", "approve R-2")
    advance(slack, timedelta(hours=1, minutes=10), step=timedelta(minutes=5))  # 16:10
    assert _plan_row(slack, 2).state == "awaiting_approval"

    slack.command("U0APPROVER2", "approve R-2")
    advance(slack, timedelta(seconds=1))

    assert _plan_row(slack, 2).state == "deploying"
    assert _rockets(slack, "R-2") == [
        ":rocket: R-2 deploying automatically now that it is approved: all_at_once, 1 stage."
    ]


def test_a_plan_held_by_a_freeze_starts_when_the_freeze_ends(slack: SlackDriver) -> None:
    slack.command("U0REQUESTER", f"plan payments 2.0.0 to staging {WINDOW}")
    slack.command("U0ADMIN", 'freeze staging until 2026-11-24T17:00 reason "load test"')
    advance(slack, timedelta(hours=1), step=timedelta(minutes=5))  # 16:00: held
    assert _plan_row(slack, 1).state == "approved"

    advance(slack, timedelta(minutes=55), step=timedelta(minutes=5))  # 16:55
    assert _plan_row(slack, 1).state == "approved"
    advance(slack, timedelta(minutes=5))  # 17:00: the freeze ends

    assert _plan_row(slack, 1).state == "deploying"
    assert _rockets(slack, "R-1") == [
        ":rocket: R-1 deploying automatically now that the freeze of staging ended: "
        "all_at_once, 1 stage."
    ]


def test_a_plan_held_by_a_lifted_freeze_starts_at_once(slack: SlackDriver) -> None:
    slack.command("U0REQUESTER", f"plan payments 2.0.0 to staging {WINDOW}")
    slack.command("U0ADMIN", 'freeze staging reason "load test"')
    advance(slack, timedelta(hours=1, minutes=3), step=timedelta(minutes=1))  # 16:03: held
    slack.command("U0ADMIN", "unfreeze staging")
    advance(slack, timedelta(seconds=1))

    assert _plan_row(slack, 1).state == "deploying"
    assert _rockets(slack, "R-1") == [
        ":rocket: R-1 deploying automatically now that the freeze of staging was lifted: "
        "all_at_once, 1 stage."
    ]


def test_a_held_plan_is_re_checked_while_its_window_is_open_and_no_longer(
    slack: SlackDriver,
) -> None:
    slack.command("U0REQUESTER", "plan payments 2.0.0 to staging at 2026-11-24T16:00 until +2h")
    slack.command("U0ADMIN", 'freeze staging until 2026-11-24T18:00 reason "load test"')
    advance(slack, timedelta(hours=2), step=timedelta(minutes=5))  # 17:00: expired

    assert _plan_row(slack, 1).state == "expired"
    rechecks = jobs(slack, auto_deploy.RECHECK)
    assert [j.due_at.strftime("%H:%M") for j in rechecks] == [
        "16:10",
        "16:20",
        "16:30",
        "16:40",
        "16:50",
    ]
    assert all(j.outcome and j.outcome.startswith("R-1 is still held: ") for j in rechecks)
    refusals = [t for t in slack.thread(slack.card("R-1")) if t.startswith(":no_entry:")]
    assert len(refusals) == 1


def test_a_hold_that_clears_unannounced_is_caught_by_the_safety_re_check(
    slack: SlackDriver,
) -> None:
    # No planning pass runs here, so nothing announces the end of the weekend freeze: only the
    # re-check every 10 minutes can notice it.
    _released_to_staging(slack)
    slack.command(
        "U0REQUESTER",
        "plan payments 2.0.0 to production at 2026-11-30T07:00 until 2026-11-30T10:00",
    )  # R-2, inside the weekend freeze that ends on Monday 08:00
    for approver in ("U0APPROVER1", "U0APPROVER2"):
        slack.command(approver, "approve R-2")
    slack.command("U0QA", "tick R-2 QA sign-off")
    advance(slack, timedelta(days=5, hours=16), step=timedelta(hours=4))  # Mon 07:00
    assert "Weekend freeze" in slack.thread(slack.card("R-2"))[-1]

    advance(slack, timedelta(hours=1), step=timedelta(minutes=5))  # 08:00: the freeze is over
    assert _plan_row(slack, 2).state == "approved"  # the safety re-check gives events a minute
    advance(slack, timedelta(minutes=1))
    assert _plan_row(slack, 2).state == "deploying"
    assert _rockets(slack, "R-2") == [
        ":rocket: R-2 deploying automatically now that nothing holds it any more: all_at_once, "
        "1 stage."
    ]
