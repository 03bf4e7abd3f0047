"""Recurring freezes and the digest: crons that fire too often or overlap themselves are refused."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from croniter import croniter
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.config.recurrence import matching_days, shortest_gap
from tests.unit.test_config import SPEC_EXAMPLE, config_error, edit, load_text, write

FREEZE = '{ cron = "0 17 * * FRI", duration = "63h", reason = "Weekend freeze" }'
WHERE = "environments.production.freezes[0].cron"


def freeze(cron: str, duration: str, extra: str = "") -> str:
    """The SPEC example with its weekend freeze replaced."""
    return edit(FREEZE, f'{{ cron = "{cron}", duration = "{duration}", reason = "x"{extra} }}')


def only_problem(tmp_path: Path, text: str) -> tuple[str, str]:
    _, error = config_error(tmp_path, text)
    [problem] = error.problems
    return problem.location, problem.message


# --- the loader ------------------------------------------------------------------------------


def test_a_freeze_firing_every_minute_is_refused_with_its_interval(tmp_path: Path) -> None:
    assert only_problem(tmp_path, freeze("* * * * *", "63h")) == (
        WHERE,
        '"* * * * *" fires every 1m at its closest; a recurring schedule may fire at most '
        'hourly (at least 1h between firings), e.g. "0 17 * * FRI"',
    )


@pytest.mark.parametrize(
    ("cron", "interval"),
    [
        ("*/30 * * * *", "30m"),
        ("0,30 9 * * MON", "30m"),  # irregular: 30m once a week, otherwise a week
        ("59 8 * * *", None),  # daily: fine
        ("0 * * * *", None),  # hourly is the limit, and allowed
    ],
)
def test_only_crons_firing_more_often_than_hourly_are_refused(
    tmp_path: Path, cron: str, interval: str | None
) -> None:
    text = freeze(cron, "20m")
    if interval is None:
        load_text(tmp_path, text)
        return
    location, message = only_problem(tmp_path, text)
    assert location == WHERE
    assert message.startswith(f'"{cron}" fires every {interval} at its closest;')


def test_a_freeze_as_long_as_its_repeat_never_lifts_and_is_refused(tmp_path: Path) -> None:
    assert only_problem(tmp_path, freeze("0 17 * * *", "63h")) == (
        WHERE,
        'the freeze lasts 2d15h but "0 17 * * *" starts it again 1d later at the closest, '
        "so it would overlap itself and never lift; make duration shorter than 1d or let the "
        "cron fire less often",
    )
    location, message = only_problem(tmp_path, freeze("0 17 * * *", "24h"))
    assert (location, message.split(" but ")[0]) == (WHERE, "the freeze lasts 1d")
    load_text(tmp_path, freeze("0 17 * * *", "23h59m"))


def test_irregular_spacing_is_judged_by_the_closest_pair(tmp_path: Path) -> None:
    # 09:00 and 10:00 every day: 1h apart, then 23h; a 2h freeze would overlap the next one.
    location, message = only_problem(tmp_path, freeze("0 9,10 * * *", "2h"))
    assert location == WHERE
    assert "starts it again 1h later at the closest" in message
    load_text(tmp_path, freeze("0 9,10 * * *", "59m"))


def test_the_gap_over_midnight_counts(tmp_path: Path) -> None:
    # 00:45 and 23:45: 23h apart within a day, but only 1h from 23:45 to the next 00:45.
    location, message = only_problem(tmp_path, freeze("45 0,23 * * *", "90m"))
    assert location == WHERE
    assert "starts it again 1h later at the closest" in message


def test_day_of_month_or_day_of_week_fire_a_day_apart(tmp_path: Path) -> None:
    # Both restricted: the 1st of March OR any Monday, so some years fire Monday then Tuesday.
    location, message = only_problem(tmp_path, freeze("0 0 1 3 MON", "2d"))
    assert location == WHERE
    assert "starts it again 1d later at the closest" in message


def test_daylight_saving_shortens_the_gap_in_the_teams_zone(tmp_path: Path) -> None:
    # In Paris the spring-forward night makes one daily gap 23h, so a 23h30m freeze overlaps.
    paris = edit('timezone = "UTC"', 'timezone = "Europe/Paris"', freeze("0 9 * * *", "23h30m"))
    location, message = only_problem(tmp_path, paris)
    assert location == WHERE
    assert message == (
        'the freeze lasts 23h30m but "0 9 * * *" starts it again 1d later at the closest '
        "(23h across a daylight-saving change in Europe/Paris), so it would overlap itself and "
        "never lift; make duration shorter than 23h or let the cron fire less often"
    )
    load_text(tmp_path, freeze("0 9 * * *", "23h30m"))  # UTC never shifts
    load_text(
        tmp_path,
        edit('timezone = "UTC"', 'timezone = "Europe/Paris"', freeze("0 9 * * *", "22h59m")),
    )


def test_a_freezes_own_zone_is_the_one_that_counts(tmp_path: Path) -> None:
    text = freeze("0 9 * * *", "23h30m", ', timezone = "America/New_York"')
    location, message = only_problem(tmp_path, text)
    assert location == WHERE
    assert "daylight-saving change in America/New_York" in message


def test_the_digest_may_not_fire_more_often_than_hourly(tmp_path: Path) -> None:
    text = SPEC_EXAMPLE + '\n[reminders]\ndigest = "*/10 9-17 * * MON-FRI"\n'
    assert only_problem(tmp_path, text) == (
        "reminders.digest",
        '"*/10 9-17 * * MON-FRI" fires every 10m at its closest; a recurring schedule may fire '
        'at most hourly (at least 1h between firings), e.g. "0 17 * * FRI"',
    )
    config = load_text(tmp_path, SPEC_EXAMPLE + '\n[reminders]\ndigest = "0 9-17 * * MON-FRI"\n')
    assert config.reminders.digest == "0 9-17 * * MON-FRI"


def test_special_day_syntax_is_measured_by_croniter(tmp_path: Path) -> None:
    # The last day of each month: 28 days apart at the closest (31 January to 28 February).
    location, message = only_problem(tmp_path, freeze("0 0 L * *", "30d"))
    assert location == WHERE
    assert "starts it again 28d later at the closest" in message
    load_text(tmp_path, freeze("0 0 L * *", "27d"))


def test_a_problem_elsewhere_does_not_hide_an_overlapping_freeze(tmp_path: Path) -> None:
    text = edit('timezone = "UTC"', 'timezone = "Europe/Pari"', freeze("0 17 * * *", "63h"))
    _, error = config_error(tmp_path, text)

    # The team zone is unreadable, so the overlap is judged without daylight saving.
    assert [p.location for p in error.problems] == ["timezone", WHERE]


# --- releasebot check-config, the console script --------------------------------------------


def test_check_config_refuses_an_every_minute_freeze_naming_the_key_and_interval(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, freeze("* * * * *", "63h"))
    script = Path(sys.executable).parent / "releasebot"
    env = {"PATH": "/usr/bin:/bin", "RELEASEBOT_CONFIG": str(path)}

    done = subprocess.run(
        [str(script), "check-config"], cwd=tmp_path, env=env, capture_output=True, text=True
    )

    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines() == [
        f'{path}: {WHERE}: "* * * * *" fires every 1m at its closest; a recurring schedule '
        'may fire at most hourly (at least 1h between firings), e.g. "0 17 * * FRI"'
    ]


# --- the interval agrees with croniter's own firings -------------------------------------------


def _brute_force_gap(cron: str, start: datetime, end: datetime) -> timedelta:
    firings = croniter(cron, start - timedelta(minutes=1))
    times: list[datetime] = []
    while not times or times[-1] < end:
        times.append(firings.get_next(datetime))
    return min(later - earlier for earlier, later in pairwise(times))


minute_fields = st.sets(st.integers(0, 59), min_size=1, max_size=4)
hour_fields = st.sets(st.integers(0, 23), min_size=1, max_size=4)


@settings(max_examples=40, deadline=None)
@given(minutes=minute_fields, hours=hour_fields)
def test_the_interval_of_a_daily_cron_matches_its_firings(
    minutes: set[int], hours: set[int]
) -> None:
    cron = f"{','.join(map(str, sorted(minutes)))} {','.join(map(str, sorted(hours)))} * * *"
    start = datetime(2026, 3, 2)

    assert shortest_gap(cron) == _brute_force_gap(cron, start, start + timedelta(days=2))


day_of_month = st.one_of(
    # Up to the 28th, so every combination fires in every month it names.
    st.just("*"),
    st.sets(st.integers(1, 28), min_size=1, max_size=3).map(
        lambda days: ",".join(map(str, sorted(days)))
    ),
)
month = st.one_of(
    st.just("*"),
    st.sets(st.integers(1, 12), min_size=1, max_size=3).map(
        lambda months: ",".join(map(str, sorted(months)))
    ),
)
day_of_week = st.one_of(
    st.just("*"),
    st.sets(st.integers(0, 6), min_size=1, max_size=2).map(
        lambda days: ",".join(map(str, sorted(days)))
    ),
)


@settings(max_examples=40, deadline=None)
@given(dom=day_of_month, mon=month, dow=day_of_week)
def test_matching_days_are_the_days_croniter_fires_on(dom: str, mon: str, dow: str) -> None:
    cron = f"0 0 {dom} {mon} {dow}"
    start, end = date(2027, 1, 1), date(2029, 1, 1)
    expanded, _ = croniter.expand(cron)
    fired = croniter(cron, datetime(2026, 12, 31, 12))
    expected: list[int] = []
    while (day := fired.get_next(datetime).date()) < end:
        expected.append(day.toordinal())

    assert matching_days(expanded, start=start, end=end) == expected
