"""Deployment backends and flag clients whose words are redacted before the bot records or
posts them."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from bot.domain.errors import ReleasebotError
from bot.ports.deploy import DeployBackend, DeployHandle, DeployRequest, DeployStatus
from bot.ports.flags import FlagClient

Redact = Callable[[str], str]


class RedactedBackend:
    """Wraps a backend: statuses, output tails and error messages come out redacted."""

    def __init__(self, backend: DeployBackend, redact: Redact) -> None:
        self.backend = backend
        self.name = backend.name
        self._redact = redact

    def start(self, request: DeployRequest) -> DeployHandle:
        with _redacted_errors(self._redact):
            return self.backend.start(request)

    def find(self, request: DeployRequest) -> DeployHandle | None:
        with _redacted_errors(self._redact):
            return self.backend.find(request)

    def status(self, handle: DeployHandle) -> DeployStatus:
        with _redacted_errors(self._redact):
            status = self.backend.status(handle)
        tail = status.output_tail
        return dataclasses.replace(
            status,
            message=self._redact(status.message),
            output_tail=None if tail is None else self._redact(tail),
        )

    def cancel(self, handle: DeployHandle) -> None:
        with _redacted_errors(self._redact):
            self.backend.cancel(handle)


class RedactedFlags:
    """Wraps a flag client: its errors (the flag service's own words) come out redacted."""

    def __init__(self, client: FlagClient, redact: Redact) -> None:
        self.client = client
        self._redact = redact

    def set_rollout(self, flag_key: str, percentage: int) -> None:
        with _redacted_errors(self._redact):
            self.client.set_rollout(flag_key, percentage)

    def turn_off(self, flag_key: str) -> None:
        with _redacted_errors(self._redact):
            self.client.turn_off(flag_key)


@contextmanager
def _redacted_errors(redact: Redact) -> Iterator[None]:
    """A ReleasebotError raised inside keeps its type, with its message redacted: the engine
    posts `failure.message` to the thread."""
    try:
        yield
    except ReleasebotError as error:
        error.message = redact(error.message)
        error.args = (error.message,)
        raise
