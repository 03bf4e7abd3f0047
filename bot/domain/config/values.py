"""Validated values that appear in releasebot.toml: durations, crons, ids, names, URLs."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from croniter import CroniterBadDateError, croniter
from pydantic import AfterValidator, BeforeValidator, PlainSerializer, PlainValidator

from bot.domain.config.recurrence import shortest_gap
from bot.domain.durations import format_duration, parse_duration


def toml_repr(value: object) -> str:
    """A value the way the admin wrote it in TOML, for error messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        text = "[" + ", ".join(toml_repr(item) for item in value) + "]"
        return text if len(text) <= 60 else text[:57] + "...]"
    if isinstance(value, datetime | time):
        return value.isoformat()
    return repr(value)


# --- durations -------------------------------------------------------------------------


def _to_duration(value: object) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError(
            f'expected a duration in quotes like "30s", "5m" or "1h30m", got {toml_repr(value)}'
        )
    return parse_duration(value)


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("must be longer than 0s")
    return value


_MILLISECONDS = re.compile(r"^\s*(\d+)\s*ms\s*$", re.IGNORECASE)


def _to_latency(value: object) -> timedelta:
    # bot.domain.durations has no `ms`, but latency bounds are naturally written in milliseconds.
    if isinstance(value, str) and (match := _MILLISECONDS.match(value)):
        return timedelta(milliseconds=int(match.group(1)))
    try:
        return _to_duration(value)
    except ValueError:
        raise ValueError(
            f'expected a latency like "500ms", "2s" or "1m", got {toml_repr(value)}'
        ) from None


def format_latency(value: timedelta) -> str:
    """`500ms` below a second, else the usual `1m30s` form."""
    if value.microseconds:
        return f"{int(value.total_seconds() * 1000)}ms"
    return format_duration(value)


_json_duration = PlainSerializer(format_duration, return_type=str, when_used="json")

Duration = Annotated[timedelta, BeforeValidator(_to_duration), _json_duration]
PositiveDuration = Annotated[Duration, AfterValidator(_positive)]
Latency = Annotated[
    timedelta,
    BeforeValidator(_to_latency),
    AfterValidator(_positive),
    PlainSerializer(format_latency, return_type=str, when_used="json"),
]


# --- time: cron, zones, working hours ----------------------------------------------------


MIN_INTERVAL = timedelta(hours=1)


def _check_cron(text: str) -> str:
    fields = text.split()
    if len(fields) != 5:
        raise ValueError(
            f"{toml_repr(text)} is not a 5-field cron expression "
            '(minute hour day-of-month month day-of-week), e.g. "0 17 * * FRI"'
        )
    if not croniter.is_valid(text):
        raise ValueError(
            f"{toml_repr(text)} is not a valid cron expression; fields are minute (0-59), "
            "hour (0-23), day of month (1-31), month (1-12 or JAN-DEC), "
            "day of week (0-6 or SUN-SAT)"
        )
    try:
        croniter(text, datetime(2000, 1, 1, tzinfo=UTC)).get_next(datetime)
    except CroniterBadDateError:
        raise ValueError(f"{toml_repr(text)} never matches a real date") from None
    normalised = " ".join(fields)
    gap = shortest_gap(normalised)
    if gap is not None and gap < MIN_INTERVAL:
        # An every-minute freeze meant a job and a post per minute; nothing sensible is that tight.
        raise ValueError(
            f"{toml_repr(text)} fires every {format_duration(gap)} at its closest; a recurring "
            f"schedule may fire at most hourly (at least {format_duration(MIN_INTERVAL)} "
            'between firings), e.g. "0 17 * * FRI"'
        )
    return normalised


Cron = Annotated[str, AfterValidator(_check_cron)]


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(name, sorted(available_timezones()), n=1, cutoff=0.6)
        hint = f"; did you mean {toml_repr(close[0])}?" if close else ""
        raise ValueError(
            f'{toml_repr(name)} is not an IANA time zone like "Europe/Paris" or "UTC"{hint}'
        ) from None
    return name


TimeZoneName = Annotated[str, AfterValidator(_check_timezone)]


# --- the same rules for passes over the raw document: None where the field reports a problem


def checked_cron(value: object) -> str | None:
    """`value` as the Cron type accepts it, else None."""
    try:
        return _check_cron(value) if isinstance(value, str) else None
    except ValueError:
        return None


def checked_duration(value: object) -> timedelta | None:
    """`value` as PositiveDuration accepts it, else None."""
    try:
        return _positive(_to_duration(value))
    except ValueError:
        return None


def checked_zone(value: object) -> ZoneInfo | None:
    """`value` as TimeZoneName accepts it, as a zone, else None."""
    try:
        return ZoneInfo(_check_timezone(value)) if isinstance(value, str) else None
    except ValueError:
        return None


@dataclass(frozen=True)
class WorkingHours:
    """A daily span of local time, e.g. 09:00-18:00 (the end is excluded)."""

    start: time
    end: time

    def __contains__(self, moment: time) -> bool:
        return self.start <= moment.replace(tzinfo=None) < self.end

    def __str__(self) -> str:
        end = "24:00" if self.end == time.max else f"{self.end:%H:%M}"
        return f"{self.start:%H:%M}-{end}"


_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def _to_working_hours(value: object) -> WorkingHours:
    if isinstance(value, WorkingHours):
        return value
    match = _HOURS.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f'expected a span like "09:00-18:00", got {toml_repr(value)}')
    start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
    if start_h > 23 or start_m > 59 or end_m > 59 or end_h > 24 or (end_h == 24 and end_m):
        raise ValueError(f"{toml_repr(value)} has a time of day that does not exist")
    end = time.max if end_h == 24 else time(end_h, end_m)
    hours = WorkingHours(time(start_h, start_m), end)
    if hours.end <= hours.start:
        raise ValueError(
            f"{toml_repr(value)} ends before it starts (spans over midnight are not supported)"
        )
    return hours


WorkingHoursSpan = Annotated[
    WorkingHours,
    PlainValidator(_to_working_hours),
    PlainSerializer(str, return_type=str),
]

Weekday = Literal["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]
WEEKDAYS: tuple[Weekday, ...] = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


# --- Slack ids, people and names --------------------------------------------------------

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_GROUP = re.compile(r"^@[A-Za-z0-9][A-Za-z0-9._-]*$")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")


def is_user_id(text: str) -> bool:
    """A Slack user id such as U0123ABC (or W… on Enterprise Grid)."""
    return bool(_USER_ID.match(text))


def is_group_handle(text: str) -> bool:
    """A Slack user group written as its handle, e.g. @sre."""
    return bool(_GROUP.match(text))


def _check_principal(text: str) -> str:
    if is_user_id(text) or is_group_handle(text):
        return text
    hint = ""
    if text.startswith("<@") and text.endswith(">"):
        hint = f"; write the bare id {toml_repr(text[2:-1].split('|')[0])}"
    raise ValueError(
        f"{toml_repr(text)} is not a Slack user id (U… or W…) or a user group handle (@sre){hint}"
    )


Principal = Annotated[str, AfterValidator(_check_principal)]

ANYONE = "anyone"
ADMINS = "admins"


def _check_grantee(text: str) -> str:
    if text in (ANYONE, ADMINS):
        return text
    try:
        return _check_principal(text)
    except ValueError:
        raise ValueError(
            f'{toml_repr(text)} is not "anyone", "admins", a Slack user id (U… or W…) '
            "or a user group handle (@sre)"
        ) from None


Grantee = Annotated[str, AfterValidator(_check_grantee)]


def _check_channel(text: str) -> str:
    if _CHANNEL_ID.match(text):
        return text
    hint = ""
    if text.startswith("#"):
        hint = " (use the channel id from the channel's details, not its name)"
    raise ValueError(f"{toml_repr(text)} is not a Slack channel id like C0123ABC{hint}")


ChannelId = Annotated[str, AfterValidator(_check_channel)]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def is_name(text: object) -> bool:
    """A name usable for a service, environment, strategy or check."""
    return isinstance(text, str) and bool(_NAME.match(text))


def _check_name(text: str) -> str:
    if not is_name(text):
        # Names are typed as single words in `/release plan <service> ... to <env>`.
        raise ValueError(
            f"{toml_repr(text)} is not a usable name: use up to 64 letters, digits, '.', '_' "
            "or '-', starting with a letter or digit (names are typed in /release commands)"
        )
    return text


Name = Annotated[str, AfterValidator(_check_name)]


def _check_text(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be empty")
    return text


Text = Annotated[str, AfterValidator(_check_text)]

_ENV_VAR = re.compile(r"^[A-Z_][A-Z0-9_]*$")


def _check_env_var(text: str) -> str:
    if not _ENV_VAR.match(text):
        # A lower-case "name" here is most often a pasted token rather than a variable name.
        raise ValueError(
            "expected the NAME of an environment variable, in capitals like GITHUB_TOKEN; "
            "put the secret itself in that variable, never in this file"
        )
    return text


EnvVarName = Annotated[str, AfterValidator(_check_env_var)]


def _check_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{toml_repr(text)} is not an http:// or https:// URL")
    if parts.username or parts.password:
        raise ValueError(
            "URLs must not carry credentials; put them in an environment variable "
            "and name it with token_env"
        )
    return text


Url = Annotated[str, AfterValidator(_check_url)]

_GITHUB_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


def _check_github_repo(text: str) -> str:
    if not _GITHUB_REPO.match(text):
        raise ValueError(f'{toml_repr(text)} is not a GitHub repository like "acme/checkout"')
    return text


GithubRepo = Annotated[str, AfterValidator(_check_github_repo)]


def unknown_name(kind: str, name: str, known: list[str]) -> str:
    """The message for a reference to something that is not defined."""
    if not known:
        return f"unknown {kind} '{name}'; none are defined"
    return f"unknown {kind} '{name}'; known: {', '.join(known)}"
