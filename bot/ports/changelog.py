"""What a changelog is, whichever source it came from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Commit:
    """One commit as an announcement shows it."""

    sha: str
    subject: str
    author: str
    url: str | None


@dataclass(frozen=True)
class Changelog:
    """The commits from `base` (exclusive) to `head`, newest first.

    `truncated` says there were more commits than the source's limit; the newest are kept.
    `base` is None for a first release, where the changelog is the last commits up to `head`.
    """

    commits: tuple[Commit, ...]
    compare_url: str | None
    truncated: bool
    base: str | None
    head: str


class ChangelogSource(Protocol):
    """Where a service's changelog comes from: a local git repository or GitHub."""

    def changelog(self, base: str | None, head: str) -> Changelog:
        """The changelog from `base` to `head`; BackendError names an unknown ref."""
        ...


class ChangelogSources(Protocol):
    """Finds where each service's changelog comes from (built by the composition root)."""

    def source_for(self, service: str) -> ChangelogSource | None:
        """`service`'s changelog source, or None when its config names no repository."""
        ...


def subject_of(message: str) -> str:
    """The first line of a commit message."""
    lines = message.strip().splitlines()
    return lines[0].strip() if lines else ""
