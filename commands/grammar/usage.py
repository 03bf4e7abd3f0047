"""The `/release help` overview, built from the declared sub-commands (mrkdwn with backticks).

Each sub-command's own usage text lives in its declaration (`commands/registry.py`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

TIMES = (
    "Times: `2026-11-24T15:00` (team time zone) or with an offset (`2026-11-24T15:00Z`, "
    '`2026-11-24T15:00+01:00`, `"2026-11-24 15:00"`), `now`, or from now: '
    "`+30m`, `+2h`, `+1d`, `+1h30m`."
)

_HEADING = "*`/release` sub-commands*"
_BETWEEN = "   "  # between synopses that share an overview line


class Listed(Protocol):
    """How a sub-command appears in the overview."""

    @property
    def name(self) -> str: ...

    @property
    def synopsis(self) -> str | None: ...

    @property
    def listed(self) -> tuple[int, int] | None: ...


def overview(entries: Iterable[Listed]) -> str:
    """Heading, one line per `listed` line number (synopses in place order), times, then help.

    `help` closes the overview after the times, wherever it is declared; an entry without
    `listed` is named by another's synopsis (`promote|pause|resume|abort`).
    """
    lines: dict[int, list[tuple[int, str]]] = {}
    closing: list[str] = []
    for entry in entries:
        if entry.synopsis is None or entry.listed is None:
            continue
        if entry.name == "help":
            closing.append(entry.synopsis)
            continue
        line, place = entry.listed
        lines.setdefault(line, []).append((place, entry.synopsis))
    body = [_BETWEEN.join(text for _, text in sorted(lines[line])) for line in sorted(lines)]
    return "\n".join([_HEADING, *body, TIMES, *closing])
