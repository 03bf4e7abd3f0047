"""How a `/release` sub-command is declared: once, next to its handler.

A declaration names the sub-command, how its arguments parse, its usage text and its line in
`/release help`, whether it reads or writes, and the handler that carries it out. The grammar,
help, dispatch (`commands/release.py`), the journal's re-runs after a crash and the plan form
all read the declarations collected in `commands/registry.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from commands.grammar import Arguments, Command


class Kind(Enum):
    """How `/release` answers a sub-command, which decides the handler's signature."""

    READ = "read"
    """Answered inside the ack, only to the caller: `handler(cmd, *, desk, user_id) -> Rendered`."""
    SLOW_READ = "slow read"
    """Acked empty, answered through response_url (git, GitHub): the same signature as READ."""
    WRITE = "write"
    """Journalled before an empty ack, carried out after it (or after a crash):
    `handler(cmd, *, desk, user_id, request_key) -> Rendered | None`."""
    FORM = "form"
    """Opens a modal within Slack's 3 s: `handler(client, *, desk, trigger_id, channel_id)`."""


@dataclass(frozen=True, kw_only=True)
class SubCommand:
    """One `/release` sub-command."""

    name: str
    command: type[Command]
    """The typed command `parse` returns (several names may share one, like promote|pause)."""
    parse: Callable[[Arguments], Command]
    usage: str
    """`/release help <name>` and the usage shown under an error."""
    synopsis: str | None
    """Its part of the `/release help` overview; None when another's synopsis names it."""
    listed: tuple[int, int] | None
    """(line, place) of the synopsis in the overview: synopses on one line share the number."""
    kind: Kind
    handler: Callable[..., Any]
