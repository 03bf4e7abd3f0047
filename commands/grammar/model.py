"""The typed commands that `/release` text parses into, one frozen dataclass per sub-command.

A sub-command declared outside the grammar (see `commands/registry.py`) subclasses `Command`
next to its handler.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

RolloutVerb = Literal["promote", "pause", "resume", "abort"]


class Command:
    """What `/release` text parses into; each sub-command declares its own subclass."""

    __slots__ = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class Help(Command):
    """`help [sub-command]`; topic None means the overview."""

    topic: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class New(Command):
    """`new`: open the plan modal."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Plan(Command):
    """`plan <service> <version> to <env> …`: a new release plan."""

    service: str
    version: str
    environment: str
    start: datetime | None = None
    end: datetime | None = None
    strategy: str | None = None
    after: tuple[int, ...] = ()
    notes: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ListPlans(Command):
    """`list [<env>] [--all]`."""

    environment: str | None = None
    include_all: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class Show(Command):
    """`show R-<n>`."""

    plan_id: int


@dataclass(frozen=True, kw_only=True, slots=True)
class Edit(Command):
    """`edit R-<n> …`: exactly one of window, version, notes, risk or after is set.

    An empty `notes`/`risk` string means "clear it", an empty `after` "after nothing";
    None means "not this edit".
    """

    plan_id: int
    window_start: datetime | None = None
    window_end: datetime | None = None
    version: str | None = None
    notes: str | None = None
    risk: str | None = None
    after: tuple[int, ...] | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Approve(Command):
    """`approve R-<n> [comment]`."""

    plan_id: int
    comment: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Reject(Command):
    """`reject R-<n> <reason>`."""

    plan_id: int
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Deploy(Command):
    """`deploy R-<n> [--override "<reason>"]`."""

    plan_id: int
    override_reason: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class RolloutAction(Command):
    """`promote|pause|resume|abort R-<n>`."""

    action: RolloutVerb
    plan_id: int


@dataclass(frozen=True, kw_only=True, slots=True)
class Rollback(Command):
    """`rollback R-<n> [reason]`."""

    plan_id: int
    reason: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Cancel(Command):
    """`cancel R-<n> [reason]`."""

    plan_id: int
    reason: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Freeze(Command):
    """`freeze <env> [until <time>] reason "<text>"`."""

    environment: str
    until: datetime | None = None
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Unfreeze(Command):
    """`unfreeze <env>`."""

    environment: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Unlock(Command):
    """`unlock <service> <env> "<reason>"`: an admin lifts a rollback lock."""

    service: str
    environment: str
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Freezes(Command):
    """`freezes`: list active and upcoming freezes."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Tick(Command):
    """`tick R-<n> <item>`: tick a checklist item."""

    plan_id: int
    item: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Checks(Command):
    """`checks R-<n>`."""

    plan_id: int


@dataclass(frozen=True, kw_only=True, slots=True)
class Notes(Command):
    """`notes R-<n>`: the release notes."""

    plan_id: int


@dataclass(frozen=True, kw_only=True, slots=True)
class Audit(Command):
    """`audit R-<n>`."""

    plan_id: int


@dataclass(frozen=True, kw_only=True, slots=True)
class History(Command):
    """`history <service> [<env>]`."""

    service: str
    environment: str | None = None
