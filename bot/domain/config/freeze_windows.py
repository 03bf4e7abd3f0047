"""Recurring freezes that would overlap themselves, checked on the raw document.

A freeze lasting as long as the gap between its starts never lifts (the next one begins
before or as it ends), and every pair of overlapping firings schedules its own start and end
posts. Daylight saving is counted: in a zone whose clocks move 1h, a daily freeze's start can
come 23h after the previous one, so it must be shorter than that. This needs the top-level
timezone as well as the freeze, hence a pass over the whole document.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.config.base import Loc
from bot.domain.config.recurrence import daylight_saving_shift, shortest_gap
from bot.domain.config.values import checked_cron, checked_duration, checked_zone, toml_repr
from bot.domain.durations import format_duration


def overlap_problems(data: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    """Every freeze whose duration reaches its own next start, located at its cron."""
    environments = data.get("environments")
    if not isinstance(environments, Mapping):
        return []
    team_zone = checked_zone(data.get("timezone", "UTC"))
    problems: list[tuple[Loc, str]] = []
    for name, environment in environments.items():
        freezes = environment.get("freezes") if isinstance(environment, Mapping) else None
        for index, freeze in enumerate(freezes if isinstance(freezes, list) else []):
            if not isinstance(freeze, Mapping):
                continue
            own_zone = checked_zone(freeze["timezone"]) if "timezone" in freeze else team_zone
            problem = _overlap(freeze.get("cron"), freeze.get("duration"), own_zone)
            if problem:
                problems.append((("environments", name, "freezes", index, "cron"), problem))
    return problems


def _overlap(cron: object, duration: object, zone: ZoneInfo | None) -> str | None:
    rule, length = checked_cron(cron), checked_duration(duration)
    # Invalid values are reported by their own fields; nothing to compare then.
    if rule is None or length is None:
        return None
    gap = shortest_gap(rule)
    if gap is None:
        return None
    # An unreadable zone is reported on its own; judge without daylight saving meanwhile.
    shift = daylight_saving_shift(zone) if zone else timedelta(0)
    shortest = gap - shift
    if length < shortest:
        return None
    across = (
        f" ({format_duration(shortest)} across a daylight-saving change in {zone.key})"
        if zone and shift
        else ""
    )
    return (
        f"the freeze lasts {format_duration(length)} but {toml_repr(rule)} starts it again "
        f"{format_duration(gap)} later at the closest{across}, so it would overlap itself and "
        f"never lift; make duration shorter than {format_duration(shortest)} or let the cron "
        "fire less often"
    )
