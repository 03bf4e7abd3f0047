"""Durable scheduled work: the database says what is due and what has run; APScheduler only wakes.

A job is unique per (kind, subject, due time), so scheduling is idempotent. Several
`releasebot serve` processes may share one PostgreSQL: each claims due rows with
`FOR UPDATE SKIP LOCKED` and a lease, then runs every job in its own transaction that re-locks
the row and sets `done_at` together with the job's effects (owed messages, transitions), so a
job's effects are committed exactly once. On SQLite a single process is assumed (README).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from bot.domain.clock import Clock
from bot.domain.context import BOT_ACTOR
from bot.domain.durations import format_duration
from bot.domain.errors import ReleasebotError
from bot.store import audit
from bot.store.db import Database
from bot.store.leases import process_owner
from bot.store.models import ScheduledJob

log = logging.getLogger(__name__)

ACTOR = BOT_ACTOR
# Outcomes starting with this were cancelled by a change (a window moved); scheduling the same
# (kind, subject, due time) again revives them instead of colliding with the unique key.
SUPERSEDED = "superseded"
SKIPPED = "skipped"
DEFAULT_LEASE = timedelta(minutes=5)
MAX_FAILURES = 5


@dataclass(frozen=True)
class JobResult:
    """What a handler did: an outcome for the row, and whether it was a (audited) skip."""

    outcome: str
    skipped: bool = False


def done(outcome: str = "done") -> JobResult:
    """The job did its work."""
    return JobResult(outcome)


def skipped(reason: str) -> JobResult:
    """The job had nothing useful left to do (a misfire, a plan that moved on)."""
    return JobResult(f"{SKIPPED}: {reason}", skipped=True)


def not_needed(reason: str) -> JobResult:
    """The job is moot because its subject moved on (not audited: nothing was missed)."""
    return JobResult(f"not needed: {reason}")


# A handler runs inside the job's transaction; what it owes commits with `done_at`.
JobHandler = Callable[[Session, ScheduledJob, datetime], JobResult]


@dataclass(frozen=True)
class JobKind:
    """A registered kind: its handler, and how late it may run before it is useless."""

    name: str
    handler: JobHandler
    stale_after: timedelta | None = None  # None: run however late (checks run late)


def schedule(
    session: Session,
    *,
    kind: str,
    subject: str,
    due_at: datetime,
    payload: dict[str, Any] | None = None,
) -> None:
    """Owe a job at `due_at`; a no-op when the same (kind, subject, due time) exists already.

    A job superseded earlier (its window moved away and back) is revived.
    """
    values = {
        "kind": kind,
        "subject": subject,
        "due_at": due_at,
        "payload": payload or {},
    }
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(ScheduledJob)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["kind", "subject", "due_at"])
    )
    session.execute(statement)
    session.execute(
        update(ScheduledJob)
        .where(
            col(ScheduledJob.kind) == kind,
            col(ScheduledJob.subject) == subject,
            col(ScheduledJob.due_at) == due_at,
            col(ScheduledJob.done_at).is_not(None),
            col(ScheduledJob.outcome).startswith(SUPERSEDED),
        )
        .values(
            done_at=None, outcome=None, lease_owner=None, lease_until=None, payload=payload or {}
        )
    )


def pending(
    session: Session, *, subject: str | None = None, kind: str | None = None
) -> Sequence[ScheduledJob]:
    """Jobs not run yet, soonest first (optionally of one subject and/or kind)."""
    statement = select(ScheduledJob).where(col(ScheduledJob.done_at).is_(None))
    if subject is not None:
        statement = statement.where(ScheduledJob.subject == subject)
    if kind is not None:
        statement = statement.where(ScheduledJob.kind == kind)
    return session.exec(statement.order_by(col(ScheduledJob.due_at))).all()


def supersede(session: Session, job: ScheduledJob, *, reason: str, now: datetime) -> None:
    """Mark a pending job as no longer wanted because what it was about changed."""
    job.done_at = now
    job.outcome = f"{SUPERSEDED}: {reason}"
    job.lease_owner = job.lease_until = None
    session.add(job)


def default_owner() -> str:
    """A lease owner name unique to this process."""
    return process_owner()


class JobRunner:
    """Claims due jobs and runs each once through its kind's handler."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        owner: str | None = None,
        lease: timedelta = DEFAULT_LEASE,
        batch: int = 200,
        workers: int | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        # Each job is its own short transaction, mostly waiting on database round trips, so on
        # PostgreSQL a few run side by side (one at a time was ~400 jobs/s, short of 500/s).
        # SQLite takes one writer at a time: more threads would only queue on its lock.
        sqlite = db.engine.dialect.name == "sqlite"
        self._workers = workers if workers is not None else (1 if sqlite else 4)
        self.owner = owner or default_owner()
        self._lease = lease
        self._batch = batch
        self._kinds: dict[str, JobKind] = {}
        self._lock = threading.Lock()  # one pass at a time per process
        self.after_pass: Callable[[], None] = lambda: None

    def register(
        self, kind: str, handler: JobHandler, *, stale_after: timedelta | None = None
    ) -> None:
        """Run jobs of `kind` with `handler`; skip (and audit) them once `stale_after` late."""
        self._kinds[kind] = JobKind(kind, handler, stale_after)

    @property
    def kinds(self) -> frozenset[str]:
        """The kinds this runner can run."""
        return frozenset(self._kinds)

    def take_back(self) -> int:
        """Free the jobs this slot's previous process had claimed; how many there were."""
        now = self._clock.now()
        with self._db.session() as session:
            taken = session.connection().execute(
                update(ScheduledJob)
                .where(
                    col(ScheduledJob.lease_owner) == self.owner,
                    col(ScheduledJob.done_at).is_(None),
                    col(ScheduledJob.lease_until) > now,
                )
                .values(lease_until=None)
            )
        if taken.rowcount:
            log.info("took back %d job(s) leased before a restart", taken.rowcount)
        return int(taken.rowcount)

    def run_due(self, *, limit: int | None = None) -> int:
        """Run every job due now (at most `limit`); return how many were finished here."""
        finished = 0
        with self._lock:
            while limit is None or finished < limit:
                claimed = self._claim(self._batch if limit is None else min(self._batch, limit))
                if not claimed:
                    break
                if self._workers > 1 and len(claimed) > 1:
                    with ThreadPoolExecutor(self._workers, thread_name_prefix="jobs") as pool:
                        finished += sum(pool.map(self._run_one, claimed))
                else:
                    finished += sum(self._run_one(job_id) for job_id in claimed)
        if finished:
            self.after_pass()
        return finished

    def next_due_at(self) -> datetime | None:
        """When the soonest pending job of a known kind is due."""
        with self._db.session() as session:
            return session.exec(
                select(ScheduledJob.due_at)
                .where(
                    col(ScheduledJob.done_at).is_(None),
                    col(ScheduledJob.kind).in_(sorted(self._kinds)),
                )
                .order_by(col(ScheduledJob.due_at))
                .limit(1)
            ).first()

    def _claim(self, limit: int) -> list[int]:
        now = self._clock.now()
        with self._db.session() as session:
            statement = (
                select(ScheduledJob)
                .where(
                    col(ScheduledJob.done_at).is_(None),
                    col(ScheduledJob.due_at) <= now,
                    col(ScheduledJob.kind).in_(sorted(self._kinds)),
                    (col(ScheduledJob.lease_until).is_(None))
                    | (col(ScheduledJob.lease_until) < now),
                )
                .order_by(col(ScheduledJob.due_at), col(ScheduledJob.id))
                .limit(limit)
            )
            if session.get_bind().dialect.name == "postgresql":
                # Rows another process is claiming right now are skipped, not waited for.
                statement = statement.with_for_update(skip_locked=True)
            jobs = session.exec(statement).all()
            for job in jobs:
                job.lease_owner = self.owner
                job.lease_until = now + self._lease
                session.add(job)
            return [job.id for job in jobs if job.id is not None]

    def _run_one(self, job_id: int) -> int:
        now = self._clock.now()
        try:
            with self._db.session() as session:
                statement = select(ScheduledJob).where(
                    ScheduledJob.id == job_id,
                    col(ScheduledJob.done_at).is_(None),
                    ScheduledJob.lease_owner == self.owner,
                )
                # Wait for the row rather than skip it: a claim that briefly holds it commits
                # quickly, and the lease check decides whose it is.
                job = session.exec(statement.with_for_update()).first()
                if job is None:
                    return 0  # our lease ran out and someone else has (or had) it
                result = self._result(session, job, now)
                job.done_at = now
                job.outcome = result.outcome[:2000]
                job.lease_until = None
                session.add(job)
                if result.skipped:
                    audit.record(
                        session,
                        at=now,
                        actor_id=ACTOR,
                        action="job.skipped",
                        plan_id=_plan_id(job.subject),
                        reason=result.outcome,
                        detail={"kind": job.kind, "subject": job.subject, "due_at": _iso(job)},
                    )
                kind, subject = job.kind, job.subject
        except Exception as failure:
            log.exception("scheduled job %s failed", job_id)
            self._record_failure(job_id, failure, now)
            return 0
        # One line per job acted on, once its effects are committed (issue 9.12).
        log.info(
            "%s %s: %s",
            kind,
            subject,
            result.outcome,
            extra={"event": f"job.{kind}", "plan_id": _plan_id(subject)},
        )
        return 1

    def _result(self, session: Session, job: ScheduledJob, now: datetime) -> JobResult:
        kind = self._kinds[job.kind]
        late = now - job.due_at
        if kind.stale_after is not None and late > kind.stale_after:
            return skipped(
                f"{job.kind} was due {_iso(job)} and is {_ago(late)} late; "
                f"it is useful for {_ago(kind.stale_after)}"
            )
        try:
            # A savepoint: a refused domain action undoes its partial writes, not the job's row.
            with session.begin_nested():
                return kind.handler(session, job, now)
        except ReleasebotError as refusal:
            return JobResult(f"refused: {refusal.message}")

    def _record_failure(self, job_id: int, failure: Exception, now: datetime) -> None:
        with self._db.session() as session:
            job = session.get(ScheduledJob, job_id)
            if job is None or job.done_at is not None:
                return
            failures = int(job.payload.get("_failures", 0)) + 1
            job.payload = {**job.payload, "_failures": failures}
            if failures >= MAX_FAILURES:
                job.done_at = now
                job.outcome = f"failed {failures} times: {type(failure).__name__}: {failure}"[:2000]
            else:
                # Retry after the lease-style backoff; the row stays the truth of what is owed.
                # No owner: a backoff, not a lease, so a restart does not cut it short.
                job.lease_until = now + timedelta(seconds=30 * 2**failures)
                job.lease_owner = None
            session.add(job)


class Scheduler:
    """APScheduler 3 in the background: wakes the job runner, and runs the lead's interval work."""

    def __init__(
        self, *, runner: JobRunner, poll_seconds: float = 0.5, jobstore_timezone: str = "UTC"
    ) -> None:
        self.runner = runner
        self._poll = poll_seconds
        self._aps = BackgroundScheduler(timezone=jobstore_timezone)
        self._planners: list[Callable[[], None]] = []

    def add_interval(
        self, fn: Callable[[], object], seconds: float, *, name: str | None = None
    ) -> None:
        """Run `fn` every `seconds` (never two at once; a late run is coalesced into one)."""
        self._aps.add_job(
            _logged(fn),
            "interval",
            seconds=seconds,
            id=name or f"interval-{getattr(fn, '__name__', 'fn')}-{len(self._aps.get_jobs())}",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )

    def kick(self) -> None:
        """Run due jobs now rather than at the next poll."""
        if self._aps.running:
            self._aps.add_job(_logged(self.runner.run_due), max_instances=1)

    def start(self) -> None:
        """Poll for due jobs every `poll_seconds`; run every interval job once at start too."""
        if self._aps.running:
            return
        self.runner.take_back()
        self.add_interval(self.runner.run_due, self._poll, name="job-runner")
        for job in self._aps.get_jobs():
            job.modify(next_run_time=datetime.now(job.trigger.timezone))
        self._aps.start()

    def stop(self) -> None:
        """Stop polling; jobs in hand finish, pending ones stay owed in the database."""
        if self._aps.running:
            self._aps.shutdown(wait=True)


def _logged(fn: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        try:
            fn()
        except Exception:
            log.exception("background work %s failed", getattr(fn, "__name__", fn))

    return run


def _plan_id(subject: str) -> int | None:
    # Subjects of plan jobs are "plan:<id>" (optionally ":<more>").
    parts = subject.split(":")
    if len(parts) >= 2 and parts[0] == "plan" and parts[1].isdigit():
        return int(parts[1])
    return None


def _iso(job: ScheduledJob) -> str:
    return job.due_at.isoformat()


def _ago(delta: timedelta) -> str:
    return format_duration(
        delta, largest="h", smallest="m" if delta >= timedelta(minutes=1) else "s"
    )
