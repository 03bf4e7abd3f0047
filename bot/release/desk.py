"""The release desk: the domain's dependencies in one object handed to the Slack surface."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TypeVar

from sqlmodel import Session

from bot.domain.context import DomainContext
from bot.domain.errors import PermissionDenied
from bot.ports.changelog import ChangelogSources
from bot.store import audit
from bot.store.db import Database
from bot.store.inbound import claim

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class Desk:
    """Database, context and the hook that wakes message delivery after a change."""

    db: Database
    ctx: DomainContext
    on_change: Callable[[], None] = field(default=lambda: None)
    # Set while a journalled command is carried out: its work joins the journal's transaction
    # (each act in a savepoint), so the effect and the entry's done mark commit together.
    joined: Session | None = None
    # Where `/release notes` reads each service's changelog (None: a rig that reads none).
    changelogs: ChangelogSources | None = None

    def joining(self, session: Session) -> Desk:
        """This desk, with every unit of work inside `session`'s transaction."""
        return replace(self, joined=session)

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One transaction; on commit, message delivery is woken for what it owes."""
        if self.joined is not None:
            # A refusal rolls back to the savepoint; the caller commits and wakes delivery.
            with self.joined.begin_nested():
                yield self.joined
            return
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
            with self._outside_work() as session:
                audit.record(
                    session,
                    at=self.ctx.clock.now(),
                    actor_id=actor,
                    action="permission.refused",
                    plan_id=refusal.plan_id,
                    reason=refusal.message,
                )
            raise

    @contextmanager
    def _outside_work(self) -> Iterator[Session]:
        """A transaction that outlives the work's rollback (the joined one, when joined)."""
        if self.joined is not None:
            yield self.joined
            return
        with self.db.session() as session:
            yield session
