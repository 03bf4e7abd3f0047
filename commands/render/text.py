"""Text helpers that keep every message inside Slack's limits."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

# Escaping lives with the rest of the mrkdwn rules; renderers import it from here as before.
from bot.domain.mrkdwn import Mrkdwn as Mrkdwn
from bot.domain.mrkdwn import escape as escape
from bot.domain.mrkdwn import md as md
from bot.domain.mrkdwn import mention as mention
from bot.domain.mrkdwn import person as person

SECTION_LIMIT = 3000
HEADER_LIMIT = 150
BUTTON_LIMIT = 75
FIELD_LIMIT = 2000
CONTEXT_LIMIT = 2000
MAX_BLOCKS = 50
# Slack documents no limit for a modal's `errors` text. The bot's longest refusal is under 200
# characters (the version rule, always sent whole); past this bound one is cut at a word.
FORM_ERROR_LIMIT = 500

_MENTION = re.compile(r"<([@#])([A-Z0-9]+)(?:\|[^>]*)?>")

STATE_LABELS: dict[str, str] = {
    "awaiting_approval": ":hourglass_flowing_sand: Awaiting approval",
    "approved": ":large_green_circle: Approved",
    "rejected": ":x: Rejected",
    "cancelled": ":no_entry_sign: Cancelled",
    "expired": ":alarm_clock: Expired",
    "deploying": ":rocket: Deploying",
    "paused": ":double_vertical_bar: Paused",
    "verifying": ":mag: Verifying",
    "released": ":white_check_mark: Released",
    "rolling_back": ":rewind: Rolling back",
    "rolled_back": ":leftwards_arrow_with_hook: Rolled back",
    "failed": ":rotating_light: Failed",
}


def clip(text: str, limit: int, pointer: str = "") -> str:
    """Cut `text` to `limit` characters, ending with `…` and a pointer to the full text."""
    if len(text) <= limit:
        return text
    tail = f"… {pointer}" if pointer else "…"
    return text[: max(0, limit - len(tail))] + tail


def form_error(message: str) -> str:
    """A refusal the bot wrote in mrkdwn, as the plain text a modal shows under a field:
    `&lt;` and friends as the characters they stand for, `<@U123>` as `@U123`."""
    text = _MENTION.sub(r"\1\2", message)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    if len(text) <= FORM_ERROR_LIMIT:
        return text
    cut = text[: FORM_ERROR_LIMIT - 1]
    return cut[: cut.rfind(" ")].rstrip() + "…" if " " in cut else cut + "…"


def when(value: datetime | None, tz: ZoneInfo, today: date | None = None) -> str:
    """A time as people in the team read it: `Tue 24 Nov 15:00 UTC`, and with its year
    (`Fri 01 Jan 2027 09:00 UTC`) when `today` is given and in another year."""
    if value is None:
        return "—"
    local = value.astimezone(tz)
    year = " %Y" if today is not None and local.year != today.year else ""
    return local.strftime(f"%a %d %b{year} %H:%M ") + (local.tzname() or str(tz))


def window(
    start: datetime | None, end: datetime | None, tz: ZoneInfo, today: date | None = None
) -> str:
    """`Tue 24 Nov 15:00 UTC → 17:00 UTC`, or `any time` for a plan without a window."""
    if start is None and end is None:
        return "any time"
    if end is None:
        return f"from {when(start, tz, today)}"
    if start is None:
        return f"until {when(end, tz, today)}"
    return f"{when(start, tz, today)} → {when(end, tz, today)}"
