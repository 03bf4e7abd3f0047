"""A rollout waiting at its manual gate: after `[reminders] gate_nudge_after` (30 min) its thread
is told once who can Promote it; not before, not once it was promoted, and in working hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.store.models import PlanState
from bot.timing import reminders
from tests.scenario.driver import SlackDriver, card_text

NUDGE = ":hourglass_flowing_sand: R-1 has waited"


def _at_the_gate(slack: SlackDriver) -> None:
    slack.command("U0REQUESTER", "plan checkout 1.4.2 to staging")
    slack.settle()
    slack.command("U0REQUESTER", "deploy R-1")
    slack.roll(lambda: "waiting for Promote" in card_text(slack.card("R-1")))


def _server_runs_for(slack: SlackDriver, span: timedelta) -> None:
    """Let `span` pass as a server would: a planning pass every 5 min, due jobs, delivery."""
    step = reminders.PLANNING_INTERVAL
    passed = timedelta(0)
    while passed < span:
        reminders.planner(slack.bot.db, ctx=slack.bot.desk.ctx)()
        slack.bot.scheduler.runner.run_due()
        slack.settle()
        move = min(step, span - passed)
        slack.clock.advance(move)
        passed += move
    reminders.planner(slack.bot.db, ctx=slack.bot.desk.ctx)()
    slack.bot.scheduler.runner.run_due()
    slack.settle()


def _nudges(slack: SlackDriver) -> list[str]:
    return [t for t in slack.thread(slack.card("R-1")) if t.startswith(NUDGE)]


def test_the_thread_is_nudged_once_after_half_an_hour_at_the_gate(
    slack: SlackDriver, deploy_calls: Path
) -> None:
    _at_the_gate(slack)

    _server_runs_for(slack, timedelta(minutes=25))
    assert _nudges(slack) == []

    _server_runs_for(slack, timedelta(minutes=5))
    # Staging lets anyone deploy (the default), so anyone may promote: the requester first.
    assert _nudges(slack) == [
        ":hourglass_flowing_sand: R-1 has waited 30 min at canary 50% for someone to Promote "
        "(or Abort): <@U0REQUESTER> or anyone else here can."
    ]
    [nudge] = [
        m
        for m in slack.workspace.replies("C0RELEASES", slack.card("R-1").ts)
        if m.text.startswith(NUDGE)
    ]
    assert "Promote" in card_text(nudge)

    _server_runs_for(slack, timedelta(hours=3))
    assert len(_nudges(slack)) == 1


def test_no_nudge_once_the_rollout_was_promoted(slack: SlackDriver, deploy_calls: Path) -> None:
    _at_the_gate(slack)
    _server_runs_for(slack, timedelta(minutes=20))

    slack.command("U0APPROVER1", "promote R-1")
    slack.roll(lambda: slack.state(1) == PlanState.RELEASED)
    _server_runs_for(slack, timedelta(hours=1))

    thread = slack.thread(slack.card("R-1"))
    assert any(t.startswith(":fast_forward: <@U0APPROVER1> promoted R-1") for t in thread)
    assert _nudges(slack) == []


def test_a_gate_reached_late_in_the_day_is_nudged_the_next_working_morning(
    slack: SlackDriver, deploy_calls: Path
) -> None:
    # From Tuesday 15:00 to 17:40 UTC: the gate is reached shortly before working hours end.
    slack.clock.advance(timedelta(hours=2, minutes=40))
    _at_the_gate(slack)
    reached = slack.clock.now()
    assert reached.hour == 17

    _server_runs_for(slack, datetime(2026, 11, 25, 8, 55, tzinfo=UTC) - reached)
    assert _nudges(slack) == []

    _server_runs_for(slack, timedelta(minutes=10))
    [nudge] = _nudges(slack)
    assert nudge.startswith(NUDGE + " 15 h")
