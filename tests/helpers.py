"""Small steps many tests share."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from sqlmodel import Session

from bot.domain.config import ReleasebotConfig, parse_config
from bot.domain.context import DomainContext
from bot.domain.lifecycle import Event
from bot.release import plans
from bot.store.models import ReleasePlan

T = TypeVar("T")

BASE_CONFIG = Path(__file__).parent / "fixtures" / "releasebot.toml"
WITHOUT_STAGES = (Event.DEPLOY, Event.STAGES_DONE, Event.CHECKS_PASSED)


def walk_to_released(
    session: Session, *, ctx: DomainContext, plan: ReleasePlan, actor: str = "U0REQUESTER"
) -> None:
    """Move `plan` to released through the lifecycle, as the engine does for a rollout without
    stages (deploy, stages done, checks passed), so a later environment may plan its version."""
    for event in WITHOUT_STAGES:
        plans.transition(session, ctx=ctx, plan=plan, event=event, actor=actor)


def config_with(
    extra: str = "", *, replace: tuple[tuple[str, str], ...] = (), base: Path = BASE_CONFIG
) -> ReleasebotConfig:
    """The test config with text replaced and more TOML (e.g. a permissions table) appended."""
    text = base.read_text()
    for old, new in replace:
        assert old in text, old
        text = text.replace(old, new)
    return parse_config(text + "\n" + extra, path=base)


class LoopThread:
    """An event loop running on its own thread, for tests that await the bot's async reads.

    Not `asyncio.run` on the test's thread: Playwright's sync API (the browser tests) keeps an
    event loop running on the main thread for the whole session, and a worker may run those
    first. One loop serves a whole test, since connections belong to the loop that opened them.
    """

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, work: Coroutine[Any, Any, T], *, timeout: float = 60) -> T:
        """Await `work` on the loop and return what it returned (or raise what it raised)."""
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout)

    def close(self) -> None:
        """Stop the loop and its thread."""
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


def run_async(work: Coroutine[Any, Any, T]) -> T:
    """`work` awaited on a fresh LoopThread (see there why not `asyncio.run`)."""
    loop = LoopThread()
    try:
        return loop.run(work)
    finally:
        loop.close()
