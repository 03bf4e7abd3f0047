"""The release desk: the domain's dependencies in one object handed to the Slack surface."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from sqlmodel import Session

from bot import audit
from bot.context import DomainContext
from bot.db import Database
from bot.errors import PermissionDenied
from bot.inbound import claim

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class Desk:
    """Database, context and the hook that wakes message delivery after a change."""

    db: Database
    ctx: DomainContext
    on_change: Callable[[], None] = field(default=lambda: None)

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One transaction; on commit, message delivery is woken for what it owes."""
        with self.db.session() as session:
            yield session
        self.on_change()

    def act(self, *, actor: str, request_key: str | None, work: Callable[[Session], T]) -> T | None:
        """Run `work` once per Slack delivery; a permission refusal is audited even though
        the work's own transaction rolls back. Returns None for a repeated delivery."""
        try:
            with self.unit_of_work() as session:
                if request_key is not None and not claim(
                    session, key=request_key, now=self.ctx.clock.now()
                ):
                    log.info("repeated delivery %s ignored", request_key)
                    return None
                return work(session)
        except PermissionDenied as refusal:
            with self.db.session() as session:
                audit.record(
                    session,
                    at=self.ctx.clock.now(),
                    actor_id=actor,
                    action="permission.refused",
                    plan_id=refusal.plan_id,
                    reason=refusal.message,
                )
            raise
