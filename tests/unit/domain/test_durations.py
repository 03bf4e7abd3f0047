"""Durations as people read them: in config (`1h30m`) and in sentences (`1 h 30 min`)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.durations import format_duration, parse_duration, spoken_duration

H, M, S = timedelta(hours=1), timedelta(minutes=1), timedelta(seconds=1)


@pytest.mark.parametrize(
    ("value", "text"),
    [(0 * S, "0s"), (45 * S, "45s"), (90 * M, "1h30m"), (26 * H + 5 * S, "1d2h5s")],
)
def test_config_durations_are_written_shortest_and_read_back(value: timedelta, text: str) -> None:
    assert format_duration(value) == text
    assert parse_duration(text) == value


@pytest.mark.parametrize(
    ("value", "text"),
    [(0 * S, "0m"), (45 * S, "0m"), (15 * M + 59 * S, "15m"), (H, "1h"), (24 * H, "24h")],
)
def test_to_the_minute_in_hours_as_reminders_name_their_lead(value: timedelta, text: str) -> None:
    assert format_duration(value, largest="h", smallest="m") == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (30 * S, "0 min"),
        (15 * M, "15 min"),
        (H, "1 h"),
        (H + 5 * M + 30 * S, "1 h 5 min"),
        (24 * H, "24 hours"),
        (25 * H, "25 h"),
        (72 * H, "3 days"),
    ],
)
def test_in_a_sentence_a_window_opens_in(value: timedelta, text: str) -> None:
    assert spoken_duration(value) == text
