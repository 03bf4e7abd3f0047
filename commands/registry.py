"""Every `/release` sub-command, collected from the declarations next to their handlers.

A handler module is any `commands/*_commands.py`; it lists its declarations in `SUBCOMMANDS`.
Adding a sub-command is one `SubCommand(...)` there plus its handler: the grammar, `/release
help`, dispatch and the journal's re-runs find it here. `help` itself is declared below, as it
answers from this registry.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import commands
from bot.notify.outbox import Rendered
from bot.release.desk import Desk
from commands.grammar import Command, Grammar, Help
from commands.grammar.parser import parse_help
from commands.render import replies
from commands.subcommand import Kind, SubCommand

HANDLER_MODULE_SUFFIX = "_commands"


def help_text(cmd: Help, *, desk: Desk, user_id: str) -> Rendered:
    """`/release help [sub-command]`."""
    return replies.usage(usage_for(cmd.topic))


HELP = SubCommand(
    name="help",
    command=Help,
    parse=parse_help,
    usage=(
        "`/release help [sub-command]`\n"
        "Lists every sub-command, or explains one.\n"
        "Example: `/release help plan`"
    ),
    synopsis="`/release help <sub-command>` explains one with an example.",
    listed=(1000, 1),
    kind=Kind.READ,
    handler=help_text,
)


def _declared() -> Iterator[SubCommand]:
    yield HELP
    for module in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if module.name.endswith(HANDLER_MODULE_SUFFIX):
            handlers = importlib.import_module(f"{commands.__name__}.{module.name}")
            yield from getattr(handlers, "SUBCOMMANDS", ())  # buttons only: none


def _in_help_order(entry: SubCommand) -> tuple[bool, int, int]:
    line, place = entry.listed or (0, 0)
    return (entry.listed is None, line, place)


REGISTRY: tuple[SubCommand, ...] = tuple(sorted(_declared(), key=_in_help_order))
"""Every sub-command, in the order `/release help` lists them; those it names inline last."""

GRAMMAR = Grammar(REGISTRY)
NAMES: tuple[str, ...] = GRAMMAR.names


def _by_command(entries: tuple[SubCommand, ...]) -> dict[type[Command], SubCommand]:
    found: dict[type[Command], SubCommand] = {}
    for entry in entries:
        other = found.setdefault(entry.command, entry)
        if (other.kind, other.handler) != (entry.kind, entry.handler):
            raise ValueError(
                f"`{other.name}` and `{entry.name}` parse into {entry.command.__name__} "
                "but are carried out differently"
            )
    return found


BY_COMMAND: dict[type[Command], SubCommand] = _by_command(REGISTRY)
"""The declaration a parsed command came from (its kind and handler)."""


def parse_command(text: str, *, now: datetime, tz: ZoneInfo) -> Command:
    """Parse the text after `/release` (see `Grammar.parse`)."""
    return GRAMMAR.parse(text, now=now, tz=tz)


def usage_for(subcommand: str | None) -> str:
    """The usage text of one sub-command; None gives the overview of all of them."""
    return GRAMMAR.usage_for(subcommand)


def declaration_of(parsed: Command) -> SubCommand:
    """The declaration `parsed` came from."""
    return BY_COMMAND[type(parsed)]
