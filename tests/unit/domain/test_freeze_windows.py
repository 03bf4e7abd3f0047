"""Recurring freezes: cron matches in the freeze's time zone, real durations, DST on both sides.

No database: the windows a freeze rule opens, and how a freeze reads to a refused person.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain import freeze_windows as freezes
from bot.domain.config import Freeze as RecurringFreeze
from bot.domain.mrkdwn import md, person

BERLIN = ZoneInfo("Europe/Berlin")
WEEKEND = RecurringFreeze.model_validate(
    {"cron": "0 17 * * FRI", "duration": "63h", "reason": "Weekend freeze"}
)
TICK = timedelta(microseconds=1)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def holding(rule: RecurringFreeze, at: datetime) -> list[tuple[datetime, datetime]]:
    return freezes.recurring_windows(rule, BERLIN, start=at, end=at + TICK)


# 2026: summer time starts Sunday 29 March and ends Sunday 25 October in Europe/Berlin.
@pytest.mark.parametrize(
    ("at", "window"),
    [
        # The Friday before spring-forward: 17:00 CET is 16:00 UTC, 63 h later is Monday
        # 07:00 UTC, which is 09:00 summer time: the weekend keeps its real length.
        (utc(2026, 3, 27, 15, 59), None),
        (utc(2026, 3, 27, 16, 0), (utc(2026, 3, 27, 16, 0), utc(2026, 3, 30, 7, 0))),
        (utc(2026, 3, 30, 6, 59), (utc(2026, 3, 27, 16, 0), utc(2026, 3, 30, 7, 0))),
        (utc(2026, 3, 30, 7, 0), None),
        # The Friday after: 17:00 CEST is 15:00 UTC.
        (utc(2026, 4, 3, 14, 59), None),
        (utc(2026, 4, 3, 15, 0), (utc(2026, 4, 3, 15, 0), utc(2026, 4, 6, 6, 0))),
        # The Friday before fall-back: 17:00 CEST (15:00 UTC) for 63 h ends 07:00 CET.
        (utc(2026, 10, 23, 15, 0), (utc(2026, 10, 23, 15, 0), utc(2026, 10, 26, 6, 0))),
        (utc(2026, 10, 26, 6, 0), None),
        # The Friday after: 17:00 CET is 16:00 UTC again.
        (utc(2026, 10, 30, 15, 30), None),
        (utc(2026, 10, 30, 16, 0), (utc(2026, 10, 30, 16, 0), utc(2026, 11, 2, 7, 0))),
    ],
)
def test_weekend_freeze_starts_at_17_local_and_lasts_63_real_hours(
    at: datetime, window: tuple[datetime, datetime] | None
) -> None:
    found = holding(WEEKEND, at)
    assert found == ([window] if window else [])
    for began, ended in found:
        assert began.astimezone(BERLIN).strftime("%a %H:%M") == "Fri 17:00"
        assert ended - began == timedelta(hours=63)


def test_the_weeks_around_spring_forward_in_local_time() -> None:
    spans = freezes.recurring_windows(WEEKEND, BERLIN, start=utc(2026, 3, 17), end=utc(2026, 4, 8))
    local = [
        (
            b.astimezone(BERLIN).strftime("%d %b %H:%M %Z"),
            e.astimezone(BERLIN).strftime("%d %b %H:%M %Z"),
        )
        for b, e in spans
    ]
    assert local == [
        ("20 Mar 17:00 CET", "23 Mar 08:00 CET"),
        ("27 Mar 17:00 CET", "30 Mar 09:00 CEST"),
        ("03 Apr 17:00 CEST", "06 Apr 08:00 CEST"),
    ]


def test_the_weeks_around_fall_back_in_local_time() -> None:
    spans = freezes.recurring_windows(
        WEEKEND, BERLIN, start=utc(2026, 10, 20), end=utc(2026, 11, 3)
    )
    local = [
        (
            b.astimezone(BERLIN).strftime("%d %b %H:%M %Z"),
            e.astimezone(BERLIN).strftime("%d %b %H:%M %Z"),
        )
        for b, e in spans
    ]
    assert local == [
        ("23 Oct 17:00 CEST", "26 Oct 07:00 CET"),
        ("30 Oct 17:00 CET", "02 Nov 08:00 CET"),
    ]


def test_a_start_inside_the_spring_forward_gap_begins_just_after_it() -> None:
    nightly = RecurringFreeze.model_validate(
        {"cron": "30 2 * * *", "duration": "1h", "reason": "Backups"}
    )
    spans = freezes.recurring_windows(nightly, BERLIN, start=utc(2026, 3, 28), end=utc(2026, 3, 31))
    # 02:30 does not exist on 29 March: the clock jumps from 02:00 CET to 03:00 CEST.
    assert spans == [
        (utc(2026, 3, 28, 1, 30), utc(2026, 3, 28, 2, 30)),
        (utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 2, 30)),
        (utc(2026, 3, 30, 0, 30), utc(2026, 3, 30, 1, 30)),
    ]


def test_a_start_in_the_repeated_fall_back_hour_freezes_once() -> None:
    nightly = RecurringFreeze.model_validate(
        {"cron": "30 2 * * *", "duration": "1h", "reason": "Backups"}
    )
    spans = freezes.recurring_windows(
        nightly, BERLIN, start=utc(2026, 10, 24, 12), end=utc(2026, 10, 26, 12)
    )
    # 02:30 happens twice on 25 October; the freeze starts at the first one.
    assert spans == [
        (utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)),
        (utc(2026, 10, 26, 1, 30), utc(2026, 10, 26, 2, 30)),
    ]


def test_overlapping_matches_are_one_freeze_that_ends_with_the_last() -> None:
    hourly = RecurringFreeze.model_validate(
        {"cron": "0 9-11 * * *", "duration": "90m", "reason": "Trading hours"}
    )
    spans = freezes.recurring_windows(
        hourly, ZoneInfo("UTC"), start=utc(2026, 5, 4, 9, 15), end=utc(2026, 5, 4, 9, 16)
    )
    assert spans == [(utc(2026, 5, 4, 9, 0), utc(2026, 5, 4, 12, 30))]


# -- how a freeze reads to the person it refuses ----------------------------------------------

FRIDAY_17, MONDAY_09 = utc(2026, 3, 27, 16), utc(2026, 3, 30, 7)


def window(kind: str, reason: str, ends_at: datetime | None, **fields: str) -> freezes.FreezeWindow:
    rule = {
        "recurring": md("environments.production.freezes[0]"),
        "manual": md("ad-hoc freeze by {}", person("U0ADMIN")),
        "rollback_lock": md("rollback lock"),
    }[kind]
    return freezes.FreezeWindow("production", kind, reason, FRIDAY_17, ends_at, rule, **fields)


def test_a_freeze_holds_from_its_start_until_just_before_its_end() -> None:
    weekend = window("recurring", "Weekend freeze", MONDAY_09)
    assert not weekend.active_at(FRIDAY_17 - TICK)
    assert weekend.active_at(FRIDAY_17)
    assert weekend.active_at(MONDAY_09 - TICK)
    assert not weekend.active_at(MONDAY_09)
    assert window("manual", "Incident", None).active_at(utc(2027, 1, 1))


def test_a_recurring_freeze_names_its_rule_and_its_end_in_the_zone_given() -> None:
    weekend = window("recurring", "Weekend freeze", MONDAY_09)
    assert weekend.describe(BERLIN) == (
        "production is frozen: Weekend freeze "
        "(environments.production.freezes[0], until Mon 30 Mar 09:00 CEST)"
    )
    assert weekend.until(ZoneInfo("UTC")) == "until Mon 30 Mar 07:00 UTC"


def test_an_open_ended_freeze_says_who_set_it_and_how_it_is_lifted() -> None:
    incident = window("manual", "Incident <2026-11> & co", None)
    assert incident.describe(BERLIN) == (
        "production is frozen: Incident &lt;2026-11&gt; &amp; co "
        "(ad-hoc freeze by <@U0ADMIN>, until `/release unfreeze production`)"
    )


def test_a_rollback_lock_says_which_version_lifts_it() -> None:
    lock = window("rollback_lock", "R-2 rolled back", None, service="checkout", version="1.4.2")
    assert lock.describe(BERLIN) == (
        "checkout is locked in production: R-2 rolled back (until a new plan of a version "
        "other than 1.4.2 is approved, or an admin runs "
        '`/release unlock checkout production "&lt;reason&gt;"`)'
    )
    unversioned = window("rollback_lock", "R-2 rolled back", None, service="checkout")
    assert unversioned.until(BERLIN).startswith("until a new plan is approved, or an admin runs")
