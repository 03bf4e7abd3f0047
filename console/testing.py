"""Run an ASGI app on a real local port for tests (a fake far side, not a mock)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import uvicorn
from slack_sdk import signature as slack_signature
from starlette.types import ASGIApp

from bot.domain.clock import ensure_utc
from console.models import JsonDict, Message
from console.payloads import Sender, block_actions
from console.settings import ConsoleSettings
from console.workspace import Workspace

T = TypeVar("T")

STARTUP_DEADLINE_SECONDS = 10.0
SHUTDOWN_DEADLINE_SECONDS = 10.0


class _ServerThatSignals(uvicorn.Server):
    """uvicorn.Server that tells a waiting thread when startup has finished (or failed)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.startup_done = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets=sockets)
        finally:
            self.startup_done.set()


@contextmanager
def running_server(
    app: ASGIApp, *, host: str = "127.0.0.1", listener: socket.socket | None = None
) -> Iterator[str]:
    """Serve `app` on `host`, a free port, in a background thread; yield its base URL.

    Pass a bound `listener` when the app must know its own port before it is built.
    """
    if listener is None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, 0))
    host, port = listener.getsockname()[:2]
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="auto",
        ws="none",
        http="h11",
        # In-flight requests (a held "timeout" fault, an event stream) must not stall teardown.
        timeout_graceful_shutdown=1,
    )
    server = _ServerThatSignals(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name=f"uvicorn-{port}", daemon=True
    )
    thread.start()
    try:
        if not server.startup_done.wait(STARTUP_DEADLINE_SECONDS) or not server.started:
            raise RuntimeError(f"the test server on {host}:{port} did not start")
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(SHUTDOWN_DEADLINE_SECONDS)
        listener.close()
        if thread.is_alive():
            raise RuntimeError(f"the test server on {host}:{port} did not stop")


class ManualClock:
    """A clock that stands still until a test moves it (satisfies bot.domain.clock.Clock)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = ensure_utc(start or datetime(2026, 11, 24, 15, 0, tzinfo=UTC))
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The frozen time."""
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> None:
        """Move time forward."""
        with self._lock:
            self._now += delta

    def for_slack_sdk(self) -> slack_signature.Clock:
        """This clock as slack_sdk's SignatureVerifier reads one: epoch seconds."""
        return _EpochSeconds(self)


class _EpochSeconds(slack_signature.Clock):
    def __init__(self, clock: ManualClock) -> None:
        self._clock = clock

    def now(self) -> float:
        return self._clock.now().timestamp()


def wait_until(
    workspace: Workspace, predicate: Callable[[], T | None], *, timeout: float = 5.0
) -> T:
    """Block until `predicate()` is truthy, re-checking on every workspace change; its value.

    Woken by the workspace's listeners rather than by sleeping, so tests wait exactly as long
    as the far side takes, and fail with a clear message at the deadline.
    """
    changed = threading.Event()

    def wake(kind: str) -> None:
        # Never block here: the workspace calls listeners while holding its lock.
        changed.set()

    stop = workspace.add_listener(wake)
    deadline = time.monotonic() + timeout
    try:
        while True:
            changed.clear()
            value = predicate()
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"gave up after {timeout} s waiting for {predicate}")
            changed.wait(remaining)
    finally:
        stop()


@dataclass
class ConsoleRun:
    """A running console: its URL, its workspace and settings, and helpers to drive it."""

    url: str
    workspace: Workspace
    settings: ConsoleSettings

    def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        """POST a JSON body to a console endpoint."""
        return httpx.post(self.url + path, json=body, timeout=10)

    def state(self, user_id: str) -> dict[str, Any]:
        """What the page shows `user_id`."""
        answer = httpx.get(self.url + "/console/state", params={"user_id": user_id})
        answer.raise_for_status()
        return dict(answer.json())


def sender_in(workspace: Workspace, user_id: str) -> Sender:
    """Who a signed request comes from, as Slack names a member of `workspace`."""
    return Sender(
        user_id=user_id,
        user_name=user_id.lower(),
        team_id=workspace.team_id,
        team_domain=workspace.team_domain,
        api_app_id=workspace.app_id,
    )


def click_payload(
    workspace: Workspace, *, user_id: str, message: Message, action: JsonDict, api_url: str
) -> JsonDict:
    """The block_actions payload Slack sends when `user_id` clicks `action` on `message`."""
    channel = workspace.channel(message.channel)
    return block_actions(
        sender_in(workspace, user_id),
        action=action,
        trigger_id=workspace.issue_trigger_id(user_id),
        channel=(channel.id, channel.name),
        message={
            "type": "message",
            "ts": message.ts,
            "text": message.text,
            "blocks": message.blocks,
        },
        response_url=workspace.issue_response_url(
            base_url=api_url, channel_id=channel.id, user_id=user_id, source_ts=message.ts
        ),
    )
