"""What every domain function needs besides its session: the config, the clock, who is who."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from bot.domain.clock import Clock

if TYPE_CHECKING:
    from bot.domain.config import ReleasebotConfig

BOT_ACTOR = "releasebot"
"""The actor id recorded for what the bot does by itself (timers, the engine, auto-deploys)."""


class Directory(Protocol):
    """Resolves `@handle` user groups to member ids (Slack's usergroups API behind a cache)."""

    def members(self, handle: str) -> frozenset[str]:
        """The user ids in the group `@handle` (empty when unknown)."""
        ...


class StaticDirectory:
    """A directory from a fixed mapping: for tests and for a workspace without user groups."""

    def __init__(self, groups: dict[str, Iterable[str]] | None = None) -> None:
        self._groups = {k.lstrip("@"): frozenset(v) for k, v in (groups or {}).items()}

    def members(self, handle: str) -> frozenset[str]:
        return self._groups.get(handle.lstrip("@"), frozenset())


@dataclass(frozen=True)
class DomainContext:
    """The domain's dependencies, built once by the composition root."""

    config: ReleasebotConfig
    clock: Clock
    directory: Directory

    def is_member(self, user_id: str, principals: Iterable[str]) -> bool:
        """True when `user_id` is one of `principals` (user ids, `@groups`, `admins`, `anyone`)."""
        for principal in principals:
            if principal in ("anyone", user_id):
                return True
            if principal == "admins" and self.is_admin(user_id):
                return True
            if principal.startswith("@") and user_id in self.directory.members(principal):
                return True
        return False

    def people(self, principals: Iterable[str]) -> set[str]:
        """The individual user ids behind `principals`: each `@group` expanded to its members."""
        found: set[str] = set()
        for principal in principals:
            found |= self.directory.members(principal) if principal.startswith("@") else {principal}
        return found

    def is_admin(self, user_id: str) -> bool:
        """True for the config's `admins` (ids or groups)."""
        return any(
            admin == user_id or (admin.startswith("@") and user_id in self.directory.members(admin))
            for admin in self.config.admins
        )
