"""What the core needs from Slack to deliver the messages it owes (the outbox's sender).

The slack_sdk adapter (commands/slack_port.py WebApiSlack) implements it; the console and the
tests give fakes. The errors say how delivery goes on: retry later, give up, or post without
looking for an earlier copy.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol


class SlackUnavailable(Exception):
    """Slack said 'later' (429, 5xx, timeout): keep the message and try again."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class SlackRefused(Exception):
    """Slack refused the message for good (invalid_blocks, channel_not_found): do not retry."""


class SlackLookupImpossible(Exception):
    """Slack will not let us look for an earlier copy (a scope not granted, not in the channel)."""


class SlackPort(Protocol):
    """Posts, finds and edits messages: what delivery needs from Slack."""

    def post(
        self,
        *,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]],
        thread_ts: str | None,
        metadata: dict[str, Any] | None = None,
    ) -> tuple[str, str]:
        """Post a message (with Slack message `metadata`); return (channel id, ts)."""
        ...

    def find(
        self, *, channel: str, thread_ts: str | None, key: dict[str, Any], oldest: datetime
    ) -> tuple[str, str] | None:
        """(channel id, ts) of a message posted since `oldest` carrying metadata `key`.

        Raises SlackLookupImpossible when Slack refuses to show the conversation.
        """
        ...

    def update(self, *, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        """Edit a message in place."""
        ...
