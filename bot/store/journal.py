"""The command journal: a write asked for in Slack is recorded before the ack, then carried out
exactly once — right after the ack, or by the recovery pass after a crash or a database outage.

Recording is one short transaction; if it fails the ack itself says "not done" and why. Carrying
out locks the entry and commits the command's effect together with `done_at`, so a retry after a
failure finds either nothing done or everything done. Several processes may share PostgreSQL:
leases (taken with `FOR UPDATE SKIP LOCKED`) keep them from working on one entry at once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from bot.domain.mrkdwn import Mrkdwn
from bot.notify import outbox
from bot.notify.outbox import Rendered
from bot.store.db import Database
from bot.store.models import JournalEntry, JournalOutcome

log = logging.getLogger(__name__)

# Slack gives up on an ack after 3 s: a database busy for longer than this is a "not done".
RECORD_WAIT = timedelta(seconds=1)
# Who acked (or claimed) an entry carries it out; the others leave it alone this long. It can
# be short: the entry's row lock, not the lease, is what keeps a command from running twice.
LEASE = timedelta(seconds=30)
MAX_RETRY_DELAY = timedelta(minutes=1)
# Unexpected (non-database) failures of one entry before the person is told it failed.
MAX_FAILURES = 5
NOT_DONE = (
    "Not done: releasebot can't write to its database right now ({reason}). "
    "Nothing changed; try again in a minute."
)
OUTAGES = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.InternalError,
    sa_exc.TimeoutError,
    sa_exc.DisconnectionError,
    OSError,
)


class JournalUnavailable(Exception):
    """The database could not take the record: the command is not done, and `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    @property
    def not_done(self) -> str:
        """What the person reads in the ack."""
        return NOT_DONE.format(reason=self.reason)


def is_outage(error: BaseException) -> bool:
    """True for a database that is down, read-only, full or busy: worth trying again later."""
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, OUTAGES)


def fault_words(error: BaseException) -> str:
    """A database failure in words a person reads (never the driver's text: it names hosts)."""
    detail = str(getattr(error, "orig", None) or error).lower()
    for needles, words in (
        (("read-only", "readonly"), "the database is read-only"),
        (("disk is full", "disk full", "no space left"), "the disk is full"),
        (
            ("database is locked", "lock timeout", "could not obtain lock", "statement timeout"),
            "the database is busy",
        ),
        (("unable to open database",), "the database file cannot be opened"),
    ):
        if any(needle in detail for needle in needles):
            return words
    if isinstance(error, OUTAGES):
        return "the database is unreachable"
    return "the database refused the write"


@dataclass(frozen=True)
class Asked:
    """One journalled request as the Slack surface needs it to carry it out and answer."""

    entry_id: int
    delivery_key: str
    kind: str
    user_id: str
    request: dict[str, Any]
    response_url: str | None
    received_at: datetime
    attempts: int
    done: bool
    outcome: str | None
    late: bool
    answer: Rendered | None


def record(
    db: Database,
    *,
    delivery_key: str,
    kind: str,
    user_id: str,
    request: dict[str, Any],
    response_url: str | None,
    now: datetime,
    owner: str,
) -> int:
    """Record a request before the ack (a redelivery finds its entry); return the entry id.

    Raises JournalUnavailable when the database cannot take it.
    """
    values = {
        "delivery_key": delivery_key,
        "kind": kind,
        "user_id": user_id,
        "request": request,
        "response_url": response_url,
        "received_at": now,
        "attempts": 0,
        "late": False,
        "lease_owner": owner,
        "lease_until": now + LEASE,
    }
    try:
        with (
            db.engine.connect() as connection,
            _waiting_at_most(connection, RECORD_WAIT),
            Session(connection) as session,
        ):
            postgres = connection.dialect.name == "postgresql"
            if postgres:
                wait = f"{int(RECORD_WAIT.total_seconds() * 1000)}ms"
                session.execute(text(f"SET LOCAL lock_timeout = '{wait}'"))
                session.execute(text(f"SET LOCAL statement_timeout = '{wait}'"))
            insert = pg_insert if postgres else sqlite_insert
            session.execute(
                insert(JournalEntry)
                .values(**values)
                .on_conflict_do_nothing(index_elements=["delivery_key"])
            )
            entry_id = session.exec(
                select(JournalEntry.id).where(JournalEntry.delivery_key == delivery_key)
            ).one()
            session.commit()
    except (sa_exc.SQLAlchemyError, OSError) as failure:
        reason = fault_words(failure)
        log.warning("could not record %s (%s): %s", delivery_key, reason, failure)
        raise JournalUnavailable(reason) from failure
    assert entry_id is not None
    return entry_id


@contextmanager
def _waiting_at_most(connection: Connection, wait: timedelta) -> Iterator[None]:
    """SQLite waits for a busy database this long (not its usual 30 s) while it records."""
    if connection.dialect.name != "sqlite":
        yield
        return
    # Set on the driver's connection before SQLAlchemy's BEGIN IMMEDIATE, which is what waits.
    raw = connection.connection.driver_connection
    assert raw is not None
    usual = raw.execute("PRAGMA busy_timeout").fetchone()[0]
    raw.execute(f"PRAGMA busy_timeout = {int(wait.total_seconds() * 1000)}")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA busy_timeout = {int(usual)}")


def claim(db: Database, *, entry_id: int, owner: str, now: datetime) -> Asked | None:
    """Lease one entry to carry it out or answer it; None when it is answered or leased
    by another process."""
    with db.session() as session:
        statement = select(JournalEntry).where(
            JournalEntry.id == entry_id,
            col(JournalEntry.answered_at).is_(None),
            (col(JournalEntry.lease_owner) == owner)
            | col(JournalEntry.lease_until).is_(None)
            | (col(JournalEntry.lease_until) < now),
        )
        entry = session.exec(_skip_locked(session, statement)).first()
        return _lease(session, entry, owner=owner, now=now) if entry is not None else None


def claim_open(db: Database, *, owner: str, now: datetime, limit: int) -> list[Asked]:
    """Lease entries not answered yet whose lease ran out: what a crash or an outage left."""
    with db.session() as session:
        statement = (
            select(JournalEntry)
            .where(
                col(JournalEntry.answered_at).is_(None),
                col(JournalEntry.lease_until).is_(None) | (col(JournalEntry.lease_until) < now),
            )
            .order_by(col(JournalEntry.id))
            .limit(limit)
        )
        entries = session.exec(_skip_locked(session, statement)).all()
        return [_lease(session, entry, owner=owner, now=now) for entry in entries]


def lock_undone(session: Session, *, entry_id: int) -> JournalEntry | None:
    """Inside the carrying transaction: the entry, locked; None when it is done already."""
    statement = select(JournalEntry).where(
        JournalEntry.id == entry_id, col(JournalEntry.done_at).is_(None)
    )
    # Wait rather than skip: whoever holds it commits soon, and then it is done.
    return session.exec(statement.with_for_update()).first()


def finish(
    session: Session,
    entry: JournalEntry,
    *,
    outcome: JournalOutcome,
    answer: Rendered | None,
    now: datetime,
    late: bool,
) -> None:
    """Mark the entry done in the transaction that holds its effect, with the answer owed."""
    entry.done_at = now
    entry.outcome = outcome
    entry.late = late
    entry.answer = {"text": answer.text, "blocks": answer.blocks} if answer is not None else None
    session.add(entry)


def failed(db: Database, *, entry_id: int, error: BaseException, now: datetime) -> None:
    """Note a failed attempt; the entry is tried again once its lease (a backoff) runs out."""
    with db.session() as session:
        entry = session.get(JournalEntry, entry_id)
        if entry is None or entry.done_at is not None:
            return
        entry.last_error = f"{type(error).__name__}: {error}"[:2000]
        entry.lease_until = now + min(timedelta(seconds=2**entry.attempts), MAX_RETRY_DELAY)
        session.add(entry)


def give_up(db: Database, *, entry_id: int, answer: Rendered, now: datetime, late: bool) -> bool:
    """Close an entry that kept failing, with an answer that says so; False if it got done."""
    with db.session() as session:
        entry = lock_undone(session, entry_id=entry_id)
        if entry is None:
            return False
        finish(session, entry, outcome=JournalOutcome.FAILED, answer=answer, now=now, late=late)
    return True


def answered(db: Database, *, entry_id: int, via: str, now: datetime) -> None:
    """The person has the answer (or there was none to give)."""
    with db.session() as session:
        entry = session.get(JournalEntry, entry_id)
        if entry is not None and entry.answered_at is None:
            entry.answered_at = now
            entry.answered_via = via
            entry.lease_owner = entry.lease_until = None
            session.add(entry)


def answer_by_dm(db: Database, *, entry_id: int, message: Rendered, now: datetime) -> None:
    """Owe the answer as a DM through the outbox, and mark it answered, in one transaction."""
    with db.session() as session:
        entry = session.get(JournalEntry, entry_id)
        if entry is None or entry.answered_at is not None:
            return
        outbox.owe_message(
            session,
            channel=entry.user_id,
            message=message,
            now=now,
            dedupe_key=f"journal-answer:{entry_id}",
        )
        entry.answered_at = now
        entry.answered_via = "dm"
        entry.lease_owner = entry.lease_until = None
        session.add(entry)


def asked_of(entry: JournalEntry) -> Asked:
    """The plain values of an entry, safe to use after its session closed."""
    assert entry.id is not None
    answer = entry.answer
    return Asked(
        entry_id=entry.id,
        delivery_key=entry.delivery_key,
        kind=entry.kind,
        user_id=entry.user_id,
        request=dict(entry.request),
        response_url=entry.response_url,
        received_at=entry.received_at,
        attempts=entry.attempts,
        done=entry.done_at is not None,
        outcome=entry.outcome,
        late=entry.late,
        answer=(
            # Stored as rendered (escaped) when it was decided.
            Rendered(Mrkdwn(answer.get("text", "")), list(answer.get("blocks", [])))
            if answer is not None
            else None
        ),
    )


def _lease(session: Session, entry: JournalEntry, *, owner: str, now: datetime) -> Asked:
    entry.lease_owner = owner
    entry.lease_until = now + LEASE
    if entry.done_at is None:
        entry.attempts += 1
    session.add(entry)
    return asked_of(entry)


def _skip_locked(
    session: Session, statement: SelectOfScalar[JournalEntry]
) -> SelectOfScalar[JournalEntry]:
    # Rows another process is leasing right now are skipped, not waited for.
    if session.get_bind().dialect.name == "postgresql":
        return statement.with_for_update(skip_locked=True)
    return statement
