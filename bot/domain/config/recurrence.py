"""How closely a cron's firings follow each other, worked out from its fields, not by walking it.

The rule: a cron's interval is the smallest gap between two consecutive firings in local
wall-clock time, over a whole 28-year calendar cycle (2001-2028: every pairing of weekday and
leap year that occurs from 1901 to 2099), so crons with irregular spacing (`0 9,10 * * *`:
1h, then 23h) are judged by their closest pair. The firings are every (day, time) with a
matching day and a time from the minute x hour fields, so the smallest gap is either between
two times of one day or from the last time of a day to the first of the next matching day;
only the matching days are enumerated (about 10,000 dates, once per distinct cron).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo

from croniter import croniter

CYCLE_START = date(2001, 1, 1)
CYCLE_END = date(2029, 1, 1)
_DAY_MINUTES = 24 * 60


@lru_cache(maxsize=512)
def shortest_gap(cron: str) -> timedelta | None:
    """The shortest wall-clock time between two firings; None if it fires at most once a cycle."""
    (minutes, hours, *_), _ = croniter.expand(cron)
    times = sorted(
        hour * 60 + minute for hour in _values(hours, 24) for minute in _values(minutes, 60)
    )
    gaps = [later - earlier for earlier, later in pairwise(times)]
    day_gap = _shortest_day_gap(cron)
    if day_gap is not None:
        gaps.append(day_gap * _DAY_MINUTES - (times[-1] - times[0]))
    return timedelta(minutes=min(gaps)) if gaps else None


@lru_cache(maxsize=64)
def daylight_saving_shift(zone: ZoneInfo) -> timedelta:
    """How much a zone's clocks move at a DST change (0 for UTC): a day can be that much shorter."""
    # Two coming years of tzdata rules; historical changes of standard time are not DST.
    samples = [datetime(2026, 1, 1) + timedelta(days=d) for d in range(0, 731, 7)]
    offsets = [zone.utcoffset(sample) or timedelta(0) for sample in samples]
    return max(offsets) - min(offsets)


def _values(field: Sequence[int | str], size: int) -> list[int]:
    return list(range(size)) if field == ["*"] else [int(v) for v in field]


def _shortest_day_gap(cron: str) -> int | None:
    """The fewest days between two consecutive matching days of the cycle."""
    expanded, nth_weekday = croniter.expand(cron)
    days_of_month = expanded[2]
    # Last day (L), nearest weekday (W) and nth weekday (#) are croniter's to interpret.
    special = nth_weekday or "l" in days_of_month or "W" in cron.split()[2].upper()
    matching = (
        _days_by_croniter(cron)
        if special
        else matching_days(expanded, start=CYCLE_START, end=CYCLE_END)
    )
    shortest: int | None = None
    previous: int | None = None
    for day in matching:
        if previous is not None:
            gap = day - previous
            shortest = gap if shortest is None else min(shortest, gap)
            if shortest == 1:
                break  # no two days can be closer
        previous = day
    return shortest


def matching_days(expanded: Sequence[Sequence[int | str]], *, start: date, end: date) -> list[int]:
    """Ordinals of the days in [start, end) that plain cron fields match.

    croniter's rule: day of month OR day of week when both are restricted, else whichever is.
    """
    _, _, days_of_month, months, days_of_week = expanded
    month_set = set(_values(months, 13))
    dom_set = set(_values(days_of_month, 32))
    # cron counts Sunday as 0; isoweekday() % 7 does the same.
    dow_set = set(_values(days_of_week, 7))
    either = days_of_month != ["*"] and days_of_week != ["*"]
    matching = []
    for ordinal in range(start.toordinal(), end.toordinal()):
        day = date.fromordinal(ordinal)
        if day.month not in month_set:
            continue
        by_date, by_weekday = day.day in dom_set, day.isoweekday() % 7 in dow_set
        if (by_date or by_weekday) if either else (by_date and by_weekday):
            matching.append(ordinal)
    return matching


def _days_by_croniter(cron: str) -> list[int]:
    """Matching days found by croniter itself, for the special day syntaxes."""
    _, _, dom, month, dow = cron.split()
    days = croniter(f"0 0 {dom} {month} {dow}", datetime(2000, 12, 31, 12))
    matching: list[int] = []
    while True:
        day: datetime = days.get_next(datetime)
        if day.date() >= CYCLE_END:
            return matching
        matching.append(day.toordinal())
        if len(matching) > 1 and matching[-1] - matching[-2] == 1:
            return matching  # a one-day gap is the least there can be
