"""Durations as written in config and chat: `30s`, `5m`, `2h`, `1d`, `1h30m`."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+)([smhdw])")
_WHOLE = re.compile(r"^(?:\d+[smhdw])+$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """Parse `1h30m`-style durations; raise ValueError with the accepted form."""
    cleaned = text.strip().lower()
    if not _WHOLE.match(cleaned):
        raise ValueError(f"'{text}' is not a duration; write it like 30s, 5m, 2h, 1d or 1h30m")
    seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in _PART.findall(cleaned))
    return timedelta(seconds=seconds)


_UNITS = ("d", "h", "m", "s")
_SPOKEN = {"h": " h", "m": " min"}


def _parts(value: timedelta, largest: str, smallest: str) -> list[tuple[int, str]]:
    """Whole counts of the units from `largest` down to `smallest` (the rest is dropped)."""
    units = _UNITS[_UNITS.index(largest) : _UNITS.index(smallest) + 1]
    seconds = int(value.total_seconds())
    parts = []
    for unit in units:
        count, seconds = divmod(seconds, _UNIT_SECONDS[unit])
        if count:
            parts.append((count, unit))
    return parts


def format_duration(value: timedelta, *, largest: str = "d", smallest: str = "s") -> str:
    """The shortest `1h30m`-style text for a duration, in units from `largest` to `smallest`.

    `smallest="m"` drops the seconds (`1h30m`, `0m`); `largest="h"` keeps `24h` as it is.
    """
    parts = _parts(value, largest, smallest)
    if not parts:
        return f"0{smallest}"
    return "".join(f"{count}{unit}" for count, unit in parts)


def spoken_duration(value: timedelta) -> str:
    """A duration in a sentence, to the minute: `15 min`, `1 h 30 min`, `24 hours`, `3 days`."""
    days = _parts(value, "d", "m")
    if len(days) == 1 and days[0][1] == "d":
        return "24 hours" if days[0][0] == 1 else f"{days[0][0]} days"
    parts = _parts(value, "h", "m")
    if not parts:
        return "0 min"
    return " ".join(f"{count}{_SPOKEN[unit]}" for count, unit in parts)
