"""Reminders as people get them in Slack: window, approval, nudge, expiry, freezes, digest."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from bot.store.models import AuditEvent, ReleasePlan
from bot.timing import reminders
from console.models import Message
from tests.integration.timing.conftest import advance, jobs, release_to_staging
from tests.scenario.driver import SlackDriver, buttons, card_text

# The fake clock starts on Tuesday 24 November 2026, 15:00 UTC.


def _dm_texts(slack: SlackDriver, user: str) -> list[str]:
    return [m.text for m in slack.dm(user)]


def test_window_reminders_arrive_at_t_minus_24h_1h_and_15m(slack: SlackDriver) -> None:
    slack.command(
        "U0REQUESTER", "plan checkout 1.4.2 to staging at 2026-11-26T15:00 until 2026-11-26T17:00"
    )
    slack.settle()
    assert _dm_texts(slack, "U0REQUESTER") == []

    advance(slack, timedelta(hours=23, minutes=59))
    assert _dm_texts(slack, "U0REQUESTER") == []
    advance(slack, timedelta(minutes=1))  # Wed 15:00 = T-24h
    assert _dm_texts(slack, "U0REQUESTER") == ["R-1's window opens in 24 hours"]
    [first] = slack.dm("U0REQUESTER")
    assert "Thu 26 Nov 15:00 UTC" in card_text(first)
    assert "`/release deploy R-1`" in card_text(first)

    advance(slack, timedelta(hours=23))  # Thu 14:00 = T-1h
    advance(slack, timedelta(minutes=45))  # Thu 14:45 = T-15m
    assert _dm_texts(slack, "U0REQUESTER") == [
        "R-1's window opens in 24 hours",
        "R-1's window opens in 1 h",
        "R-1's window opens in 15 min",
    ]


def test_a_window_opened_with_nothing_deployed_nudges_the_requester(slack: SlackDriver) -> None:
    slack.command(
        "U0REQUESTER", "plan checkout 1.4.2 to staging at 2026-11-24T15:30 until 2026-11-24T18:00"
    )
    advance(slack, timedelta(minutes=44), step=timedelta(minutes=1))
    assert _dm_texts(slack, "U0REQUESTER") == ["R-1's window opens in 15 min"]
    advance(slack, timedelta(minutes=1))  # 15:45 = window start + 15 min
    nudge = slack.dm("U0REQUESTER")[-1]
    assert nudge.text == "R-1's window is open"
    assert "has not been deployed" in card_text(nudge)
    assert buttons(nudge) == ["Deploy"]


def test_editing_the_window_moves_its_reminders_and_the_old_ones_never_fire(
    slack: SlackDriver,
) -> None:
    slack.command(
        "U0REQUESTER", "plan checkout 1.4.2 to staging at 2026-11-26T15:00 until 2026-11-26T17:00"
    )
    slack.command("U0REQUESTER", "edit R-1 window 2026-11-27T10:00 until 2026-11-27T12:00")
    soon = jobs(slack, reminders.WINDOW_SOON)
    pending = [j.due_at for j in soon if j.done_at is None]
    assert pending == [
        datetime(2026, 11, 26, 10, 0, tzinfo=UTC),
        datetime(2026, 11, 27, 9, 0, tzinfo=UTC),
        datetime(2026, 11, 27, 9, 45, tzinfo=UTC),
    ]
    old = [j for j in soon if j.done_at is not None]
    assert len(old) == 3 and all(j.outcome and j.outcome.startswith("superseded") for j in old)

    advance(slack, timedelta(days=2), step=timedelta(minutes=15))  # past the old T-24h and T-1h
    assert _dm_texts(slack, "U0REQUESTER") == ["R-1's window opens in 24 hours"]
    [reminder] = slack.dm("U0REQUESTER")
    assert "Fri 27 Nov 10:00 UTC" in card_text(reminder)


def test_moving_a_window_back_revives_its_reminders(slack: SlackDriver) -> None:
    slack.command("U0REQUESTER", "plan checkout 1.4.2 to staging at 2026-11-26T15:00")
    slack.command("U0REQUESTER", "edit R-1 window 2026-11-27T15:00")
    slack.command("U0REQUESTER", "edit R-1 window 2026-11-26T15:00")
    pending = [j.due_at for j in jobs(slack, reminders.WINDOW_SOON) if j.done_at is None]
    assert pending[0] == datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    assert len(pending) == 3


def test_a_reminder_missed_during_downtime_is_skipped_and_audited(slack: SlackDriver) -> None:
    slack.command("U0REQUESTER", "plan checkout 1.4.2 to staging at 2026-11-26T15:00")
    # The bot is down from now until Thursday 14:00 (T-1h): nothing runs in between.
    slack.clock.advance(timedelta(hours=47))
    slack.bot.scheduler.runner.run_due()
    slack.settle()

    assert _dm_texts(slack, "U0REQUESTER") == ["R-1's window opens in 1 h"]
    with slack.bot.db.session() as session:
        skipped = session.exec(select(AuditEvent).where(AuditEvent.action == "job.skipped")).all()
    assert [(e.plan_id, e.actor_id) for e in skipped] == [(1, "releasebot")]
    assert (
        skipped[0].reason is not None and "T-24h reminder of R-1 is too late" in skipped[0].reason
    )


def _production_plan(slack: SlackDriver) -> None:
    release_to_staging(slack)
    slack.command("U0REQUESTER", "plan checkout 1.4.2 to production at 2026-12-01T15:00")
    slack.settle()


def test_approvers_who_have_not_decided_are_reminded_every_4h_in_working_hours(
    slack: SlackDriver,
) -> None:
    _production_plan(slack)  # Tue 15:00: the request DMs go out
    approvers = ("U0APPROVER1", "U0APPROVER2", "U0APPROVER3", "U0APPROVER4", "U0ADMIN")
    assert all(len(slack.dm(a)) == 1 for a in approvers)

    # 19:00 is after working hours (09:00-18:00 UTC): the first reminder waits for Wed 09:00.
    advance(slack, timedelta(hours=17, minutes=59), step=timedelta(hours=1))
    assert all(len(slack.dm(a)) == 1 for a in approvers)
    advance(slack, timedelta(minutes=1))
    for approver in approvers:
        reminder = slack.dm(approver)[-1]
        assert reminder.text == "Reminder: approval requested for R-2 · checkout 1.4.2 → production"
        assert buttons(reminder) == ["Approve", "Reject"]

    slack.command("U0APPROVER1", "approve R-2")
    advance(slack, timedelta(hours=4))  # Wed 13:00
    assert len(slack.dm("U0APPROVER1")) == 2  # decided: not reminded again
    assert len(slack.dm("U0APPROVER2")) == 3

    slack.command("U0APPROVER2", "approve R-2")  # quorum: approved
    advance(slack, timedelta(days=1), step=timedelta(hours=1))
    assert len(slack.dm("U0APPROVER3")) == 3
    assert [j.done_at is not None for j in jobs(slack, reminders.APPROVAL_NUDGE)] == [
        True,
        True,
        True,
    ]


def test_a_plan_whose_window_ends_unstarted_expires_and_can_be_planned_again(
    slack: SlackDriver,
) -> None:
    slack.command(
        "U0REQUESTER", "plan checkout 1.4.2 to staging at 2026-11-24T15:30 until 2026-11-24T16:00"
    )
    advance(slack, timedelta(hours=1), step=timedelta(minutes=5))

    assert slack.card("R-1").text == "R-1 · checkout 1.4.2 → staging: Expired"
    assert ":alarm_clock: R-1 expired: its window ended before it was deployed." in slack.thread(
        slack.card("R-1")
    )
    expired = slack.dm("U0REQUESTER")[-1]
    assert expired.text == "R-1 expired"
    assert buttons(expired) == ["Plan again"]

    slack.click("U0STRANGER", expired, "plan_replan")
    assert (
        "only the requester (<@U0REQUESTER>) or an admin may plan R-1 again"
        in (slack.ephemerals("U0STRANGER")[-1])
    )
    slack.click("U0REQUESTER", expired, "plan_replan")
    slack.settle()
    assert slack.ephemerals("U0REQUESTER")[-1].startswith(":repeat: Planned *R-2* again from R-1")
    with slack.bot.db.session() as session:
        again = session.get(ReleasePlan, 2)
    assert again is not None
    assert (again.service, again.version, again.environment, again.state) == (
        "checkout",
        "1.4.2",
        "staging",
        "approved",
    )
    # The same slot, the next day.
    assert (again.window_start, again.window_end) == (
        datetime(2026, 11, 25, 15, 30, tzinfo=UTC),
        datetime(2026, 11, 25, 16, 0, tzinfo=UTC),
    )
    assert slack.card("R-2").text == "R-2 · checkout 1.4.2 → staging: Approved"


def test_the_weekend_freeze_start_and_end_are_announced(slack: SlackDriver) -> None:
    reminders.planner(slack.bot.db, ctx=slack.bot.desk.ctx)()
    advance(slack, timedelta(days=3, hours=1, minutes=59), step=timedelta(hours=6))
    assert not any("frozen" in m.text for m in slack.channel_messages())
    advance(slack, timedelta(minutes=1))  # Fri 27 Nov 17:00 UTC
    assert slack.channel_messages()[-1].text == (
        ":snowflake: *production* is frozen until Mon 30 Nov 08:00 UTC: Weekend freeze. "
        'Deploys there need `--override "&lt;reason&gt;"` and an admin\'s approval.'
    )
    advance(slack, timedelta(hours=63))
    assert slack.channel_messages()[-1].text == (
        ":sunny: The freeze of *production* (Weekend freeze) has ended; deploys are open."
    )


def test_the_weekly_digest_lists_the_weeks_releases(slack: SlackDriver) -> None:
    slack.command("U0REQUESTER", "plan checkout 1.4.2 to staging at 2026-12-02T15:00")
    slack.command("U0REQUESTER", "plan payments 2.0.0 to staging at 2026-12-20T15:00")
    reminders.planner(slack.bot.db, ctx=slack.bot.desk.ctx)()
    advance(slack, timedelta(days=5, hours=18), step=timedelta(hours=6))  # Mon 30 Nov 09:00

    [digest] = [m for m in slack.channel_messages("C0ANNOUNCE") if "this week" in m.text]
    assert digest.text == "1 releases planned this week"
    shown = card_text(digest)
    assert "*R-1* checkout `1.4.2`" in shown
    assert "R-2" not in shown
    # The next Monday's digest is already owed.
    pending = [j.due_at for j in jobs(slack, reminders.DIGEST) if j.done_at is None]
    assert pending == [datetime(2026, 12, 7, 9, 0, tzinfo=UTC)]


def test_a_window_reminder_lands_at_the_same_utc_instant_across_dst(
    slack: SlackDriver,
) -> None:
    # T-24h before a window just after the autumn change is 24 real hours, not 24 wall hours.
    slack.clock.advance(datetime(2026, 10, 24, 12, 0, tzinfo=UTC) - slack.clock.now())
    slack.command("U0REQUESTER", "plan checkout 1.4.2 to staging at 2026-10-25T15:00Z")
    due = [j.due_at for j in jobs(slack, reminders.WINDOW_SOON)]
    assert due[0] == datetime(2026, 10, 24, 15, 0, tzinfo=UTC)


def _expired_dm(slack: SlackDriver) -> Message:
    slack.command(
        "U0REQUESTER", "plan checkout 1.4.2 to staging at 2026-11-24T15:30 until 2026-11-24T16:00"
    )
    advance(slack, timedelta(hours=1), step=timedelta(minutes=5))
    expired = slack.dm("U0REQUESTER")[-1]
    assert buttons(expired) == ["Plan again"]
    return expired


def _plan_ids(slack: SlackDriver) -> list[int | None]:
    with slack.bot.db.session() as session:
        return [p.id for p in session.exec(select(ReleasePlan).order_by(col(ReleasePlan.id)))]


def test_plan_again_clicked_twice_makes_one_plan_and_names_it(slack: SlackDriver) -> None:
    expired = _expired_dm(slack)
    slack.click("U0REQUESTER", expired, "plan_replan")
    slack.click("U0REQUESTER", expired, "plan_replan")
    slack.settle()

    first, second = slack.ephemerals("U0REQUESTER")[-2:]
    assert first.startswith(":repeat: Planned *R-2* again from R-1")
    assert second == (
        ":repeat: R-1 was already planned again as *R-2* (approved); its card is in <#C0RELEASES>."
    )
    assert _plan_ids(slack) == [1, 2]
    assert [m.text for m in slack.channel_messages() if m.text.startswith("R-")] == [
        "R-1 · checkout 1.4.2 → staging: Expired",
        "R-2 · checkout 1.4.2 → staging: Approved",
    ]


def test_plan_again_clicked_twice_at_once_makes_one_plan(slack: SlackDriver) -> None:
    expired = _expired_dm(slack)
    start = threading.Barrier(2)

    def click() -> None:
        start.wait()
        slack.click("U0REQUESTER", expired, "plan_replan")

    clicks = [threading.Thread(target=click) for _ in range(2)]
    for thread in clicks:
        thread.start()
    for thread in clicks:
        thread.join(timeout=60)
    slack.settle()

    assert _plan_ids(slack) == [1, 2]
    answers = sorted(slack.ephemerals("U0REQUESTER")[-2:])
    assert answers[0].startswith(":repeat: Planned *R-2* again from R-1")
    assert answers[1].startswith(":repeat: R-1 was already planned again as *R-2*")
