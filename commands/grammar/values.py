"""Argument values: plan ids, names, versions, free texts and times."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.domain.durations import parse_duration
from bot.domain.versions import VERSION_LIMIT as VERSION_LIMIT
from bot.domain.versions import VERSION_RULE, is_safe_version

from .errors import ArgumentError, shown

TEXT_LIMIT = 2000
NAME_LIMIT = 63
# Plan ids are stored in ordinary integer columns; bigger numbers cannot name a plan.
_PLAN_ID_MAX = 2**31 - 1

_PLAN_ID = re.compile(r"[Rr]-([0-9]+)")
# What someone probably meant as a plan id: `R12`, `12`, `#12`, R with an en dash.
_PLAN_ID_LIKE = re.compile(r"[#Rr]?[-\u2010-\u2015\u2212]?[0-9]+")
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")

_ISO = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})(?:[Tt]| +)"
    r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})"
    r"(?::(?P<second>[0-9]{2})(?:[.,](?P<fraction>[0-9]{1,6}))?)?"
    r"(?P<offset>[Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)?"
)
DATE_ONLY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
CLOCK_ONLY = re.compile(
    r"[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]{1,6})?)?(?:[Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)?"
)
_TIME_FORMS = "use 2026-11-24T15:00, 2026-11-24T15:00Z, now, or from now like +30m, +2h, +1d"


def normal(value: str) -> str:
    """Fold compatibility forms (full-width letters from IMEs) for structured arguments."""
    return unicodedata.normalize("NFKC", value)


def plan_id(value: str) -> int:
    """`R-12` or `r-12` -> 12; anything else names the expected form."""
    match = _PLAN_ID.fullmatch(normal(value)) if len(value) <= 40 else None
    number = int(match.group(1)) if match else 0
    if number < 1:
        raise ArgumentError(f"expected a plan id like R-12, got {shown(value)}")
    if number > _PLAN_ID_MAX:
        raise ArgumentError(f"plan id {shown(value)} is out of range")
    return number


def looks_like_plan_id(value: str) -> bool:
    """Whether the text is a plan id or a near miss such as `R12` or `#12`."""
    return bool(_PLAN_ID_LIKE.fullmatch(normal(value))) if len(value) <= 40 else False


def is_name(value: str) -> bool:
    """Whether the text would pass as a name (used to spot options inside unquoted text)."""
    folded = normal(value).lower()
    return len(folded) <= NAME_LIMIT and folded.isascii() and bool(_NAME.fullmatch(folded))


def name(value: str, what: str) -> str:
    """A service or environment name (`what` says which), lower-cased."""
    return _checked_name(value, what)


def strategy(value: str) -> str:
    """A rollout strategy name, lower-cased; config decides whether it exists."""
    return _checked_name(value, "strategy")


def _checked_name(value: str, what: str) -> str:
    folded = normal(value).lower()
    if len(folded) > NAME_LIMIT:
        raise ArgumentError(
            f"{what} name too long: {len(folded):,} characters (the limit is {NAME_LIMIT})"
        )
    if not folded.isascii() or not _NAME.fullmatch(folded):
        raise ArgumentError(
            f"{shown(value)} is not a valid {what} name: use letters, digits, '.', '_' and '-', "
            "starting with a letter or digit"
        )
    return folded


def version(value: str) -> str:
    """A git ref, tag, sha, semver or image tag, case kept; never option- or path-like."""
    folded = normal(value)
    if len(folded) > VERSION_LIMIT:
        raise ArgumentError(
            f"version too long: {len(folded):,} characters (the limit is {VERSION_LIMIT})"
        )
    if not is_safe_version(folded):
        raise ArgumentError(f"{shown(value)} is not a valid version: {VERSION_RULE}")
    return folded


def free_text(value: str, what: str) -> str:
    """Notes, risks, reasons, comments and checklist items: any text up to the limit."""
    text = value.strip()
    if len(text) > TEXT_LIMIT:
        raise ArgumentError(
            f"{what} too long: {len(text):,} characters (the limit is {TEXT_LIMIT:,})"
        )
    return text


def parse_time(value: str, *, now: datetime, tz: ZoneInfo) -> datetime:
    """An ISO 8601 time, `now` or `+1h30m`, as an aware UTC datetime."""
    text = normal(value).strip()
    if len(text) > 64:
        raise ArgumentError(f"{shown(value)} is not a time: {_TIME_FORMS}")
    if text.lower() == "now":
        return now.astimezone(UTC)
    if text.startswith(("+", "-")):
        return _relative(text, value, now)
    match = _ISO.fullmatch(text)
    if match is None:
        if DATE_ONLY.fullmatch(text):
            raise ArgumentError(f"{shown(value)} has no time of day: write it like {text}T15:00")
        raise ArgumentError(f"{shown(value)} is not a time: {_TIME_FORMS}")
    return _absolute(match, value, tz)


def _relative(text: str, value: str, now: datetime) -> datetime:
    if text.startswith("-"):
        raise ArgumentError(f"{shown(value)} is in the past: relative times count forward, +30m")
    try:
        delta = parse_duration(text[1:])
        # Elapsed time, so `+1d` across a DST change is 24 hours, not "same clock time".
        return now.astimezone(UTC) + delta
    except ValueError:
        raise ArgumentError(
            f"{shown(value)} is not a relative time: write it like +30m, +2h, +1d or +1h30m"
        ) from None
    except OverflowError:
        raise ArgumentError(f"{shown(value)} is too far in the future") from None


def _absolute(match: re.Match[str], value: str, tz: ZoneInfo) -> datetime:
    fraction = (match["fraction"] or "").ljust(6, "0")
    try:
        naive = datetime(
            int(match["year"]),
            int(match["month"]),
            int(match["day"]),
            int(match["hour"]),
            int(match["minute"]),
            int(match["second"] or 0),
            int(fraction or 0),
        )
    except ValueError:
        raise ArgumentError(f"{shown(value)} is not a valid date and time") from None
    offset = match["offset"]
    try:
        if offset is None:
            return _in_zone(naive, value, tz)
        return naive.replace(tzinfo=_fixed_offset(offset, value)).astimezone(UTC)
    except (OverflowError, ValueError):
        raise ArgumentError(f"{shown(value)} is out of range") from None


def _fixed_offset(offset: str, value: str) -> timezone:
    if offset in ("Z", "z"):
        return UTC
    digits = offset[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise ArgumentError(f"{shown(value)} has an impossible UTC offset {offset}")
    sign = -1 if offset[0] == "-" else 1
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _in_zone(naive: datetime, value: str, tz: ZoneInfo) -> datetime:
    # fold=0 picks the first of two repeated times when clocks go back (the earlier instant).
    aware = naive.replace(tzinfo=tz).astimezone(UTC)
    if aware.astimezone(tz).replace(tzinfo=None) != naive:
        raise ArgumentError(
            f"{shown(value)} does not exist in {tz}: the clocks skip that time when "
            "daylight saving time starts; pick a time outside the gap"
        )
    return aware
