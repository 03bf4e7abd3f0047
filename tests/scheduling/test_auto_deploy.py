"""auto_deploy (SPEC §2): an approved plan starts by itself when its window opens."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot import reminders
from bot.config import ReleasebotConfig, load_config
from bot.lifecycle import Event
from bot.models import AuditEvent, ReleasePlan
from bot.plans import get_plan, transition
from tests.scenario.driver import SlackDriver, buttons, card_text
from tests.scheduling.conftest import advance, jobs

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "releasebot.toml"
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
    advance(slack, timedelta(hours=1), step=timedelta(minutes=5))  # 16:00: the window opens
    assert _plan_row(slack, 1).state == "approved"
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
        for event in (Event.DEPLOY, Event.STAGES_DONE, Event.CHECKS_PASSED):
            transition(session, ctx=slack.bot.desk.ctx, plan=plan, event=event, actor="U0REQUESTER")


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
