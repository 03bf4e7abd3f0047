"""Working hours and cron times (SPEC §6): when a nudge may be sent, when a digest is due.

Pure: read from the config's `[reminders]` and the calendar, DST-aware through zoneinfo.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

from bot.domain.config import ReleasebotConfig


def next_working_moment(moment: datetime, config: ReleasebotConfig) -> datetime:
    """`moment` if it is inside the team's working hours, else the next working day's start."""
    tz = config.tz
    hours = config.reminders.working_hours
    days = config.reminders.working_weekdays
    local = moment.astimezone(tz)
    for offset in range(0, 8):
        day = local.date() + timedelta(days=offset)
        if day.weekday() not in days:
            continue
        start = datetime.combine(day, hours.start, tzinfo=tz)
        end = (
            datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
            if hours.end == time.max
            else datetime.combine(day, hours.end, tzinfo=tz)
        )
        if offset == 0 and start <= local < end:
            return moment
        if local < start:
            # Through UTC so a DST change between now and then is applied by zoneinfo.
            return start.astimezone(ZoneInfo("UTC"))
    return moment  # no working day configured at all: nudge when due


def next_cron(expression: str, after: datetime, tz: ZoneInfo) -> datetime:
    """The next time `expression` matches after `after`, read in `tz` (DST-aware)."""
    found: datetime = croniter(expression, after.astimezone(tz)).get_next(datetime)
    return found.astimezone(ZoneInfo("UTC"))


def previous_cron(expression: str, before: datetime, tz: ZoneInfo) -> datetime:
    """The last time `expression` matched before `before`, read in `tz`."""
    found: datetime = croniter(expression, before.astimezone(tz)).get_prev(datetime)
    return found.astimezone(ZoneInfo("UTC"))


# -- scheduling -----------------------------------------------------------------------------
