"""Signed POSTs to the bot, given up after 3 seconds as Slack gives up."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from console.payloads import signed_headers
from console.settings import ConsoleSettings


@dataclass(frozen=True)
class BotReply:
    """The bot's synchronous answer (an ack, maybe with a body)."""

    status: int
    text: str
    content_type: str

    def json(self) -> dict[str, Any] | None:
        """The body as a JSON object, or None when it is empty or not JSON."""
        if not self.text.strip():
            return None
        try:
            parsed = json.loads(self.text)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None


class BotUnreachable(Exception):
    """The bot did not acknowledge in time or at all; `error` is Slack's word for it."""

    def __init__(self, error: str, detail: str) -> None:
        super().__init__(f"{error}: {detail}")
        self.error = error
        self.message = detail


class BotLink:
    """Sends what Slack would send to the bot's request URL."""

    def __init__(self, settings: ConsoleSettings) -> None:
        self._settings = settings

    async def post(self, body: str) -> BotReply:
        """POST a signed form body; BotUnreachable after the timeout or on any failure."""
        settings = self._settings
        headers = signed_headers(settings.signing_secret, body, settings.clock.now())
        try:
            async with httpx.AsyncClient(
                transport=settings.bot_transport, timeout=settings.bot_timeout_seconds
            ) as client:
                answer = await client.post(settings.bot_events_url, content=body, headers=headers)
        except httpx.TimeoutException as error:
            raise BotUnreachable("operation_timeout", "the app did not respond in 3 s") from error
        except httpx.HTTPError as error:
            raise BotUnreachable("dispatch_failed", f"the app could not be reached: {error}") from (
                error
            )
        if answer.status_code >= 400:
            raise BotUnreachable("dispatch_failed", f"the app answered HTTP {answer.status_code}")
        return BotReply(answer.status_code, answer.text, answer.headers.get("content-type", ""))
