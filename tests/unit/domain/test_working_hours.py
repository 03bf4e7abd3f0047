"""Working hours and crons in the team's zone: when a nudge may go out, when a digest fires.

No database: `next_working_moment` and `next_cron` read the config and the calendar only.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain import working_hours
from bot.domain.config import ReleasebotConfig
from tests.helpers import config_with

# Tuesday 24 November 2026, the test clock's day; the team's zone is UTC.
TUESDAY = datetime(2026, 11, 24, tzinfo=UTC)


def at(day: datetime, hour: int, minute: int = 0) -> datetime:
    return day.replace(hour=hour, minute=minute)


def test_inside_working_hours_a_nudge_goes_out_at_once(config: ReleasebotConfig) -> None:
    assert working_hours.next_working_moment(at(TUESDAY, 9), config) == at(TUESDAY, 9)
    assert working_hours.next_working_moment(at(TUESDAY, 17, 59), config) == at(TUESDAY, 17, 59)


def test_before_hours_waits_for_the_start_and_after_hours_for_the_next_morning(
    config: ReleasebotConfig,
) -> None:
    assert working_hours.next_working_moment(at(TUESDAY, 6), config) == at(TUESDAY, 9)
    wednesday = TUESDAY + timedelta(days=1)
    assert working_hours.next_working_moment(at(TUESDAY, 18), config) == at(wednesday, 9)


def test_a_friday_evening_waits_for_monday_morning(config: ReleasebotConfig) -> None:
    friday, monday = TUESDAY + timedelta(days=3), TUESDAY + timedelta(days=6)
    assert working_hours.next_working_moment(at(friday, 20), config) == at(monday, 9)
    saturday = friday + timedelta(days=1)
    assert working_hours.next_working_moment(at(saturday, 11), config) == at(monday, 9)


def test_configured_days_and_hours_are_the_ones_that_count() -> None:
    config = config_with('[reminders]\nworking_hours = "07:30-24:00"\nworking_days = ["SAT"]')
    saturday = TUESDAY + timedelta(days=4)
    assert working_hours.next_working_moment(at(TUESDAY, 10), config) == at(saturday, 7, 30)
    assert working_hours.next_working_moment(at(saturday, 23, 59), config) == at(saturday, 23, 59)


def _in_paris(config: ReleasebotConfig) -> ReleasebotConfig:
    return config.model_copy(update={"timezone": "Europe/Paris"})


def test_working_hours_follow_the_team_zone_across_the_spring_dst_change(
    config: ReleasebotConfig,
) -> None:
    paris = _in_paris(config)
    # Friday 27 March 2026 17:30 CET + 4 h is after hours: Monday 30 March 09:00 CEST (UTC+2).
    friday = datetime(2026, 3, 27, 16, 30, tzinfo=UTC)
    due = working_hours.next_working_moment(friday + timedelta(hours=4), paris)
    assert due == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    # Inside working hours, the moment stands.
    assert working_hours.next_working_moment(friday, paris) == friday


def test_the_digest_stays_at_9_local_across_both_dst_changes(config: ReleasebotConfig) -> None:
    paris = _in_paris(config).tz
    spring = working_hours.next_cron("0 9 * * MON", datetime(2026, 3, 23, 9, 0, tzinfo=UTC), paris)
    assert spring == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # 09:00 CEST
    autumn = working_hours.next_cron("0 9 * * MON", datetime(2026, 10, 20, 0, 0, tzinfo=UTC), paris)
    assert autumn == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)  # 09:00 CET
