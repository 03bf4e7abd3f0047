"""A stand-alone `releasebot serve`-like job runner process for the exactly-once test."""

from __future__ import annotations

import sys
import time
from datetime import datetime

from sqlmodel import Session, col, select

from bot.domain.clock import SystemClock
from bot.store import audit
from bot.store.db import Database, make_engine
from bot.store.models import ScheduledJob
from bot.timing.scheduler import JobResult, JobRunner, done

KIND = "test.count"


def count(session: Session, job: ScheduledJob, now: datetime) -> JobResult:
    """The job's effect: one audit row naming it, in the job's own transaction."""
    audit.record(session, at=now, actor_id="releasebot", action="job.ran", detail={"job": job.id})
    return done("ran")


def main() -> None:
    url, owner, deadline = sys.argv[1], sys.argv[2], time.monotonic() + 60
    db = Database(make_engine(url))
    # Small claims so the three processes interleave on the same rows.
    runner = JobRunner(db=db, clock=SystemClock(), owner=owner, batch=7)
    runner.register(KIND, count)
    while time.monotonic() < deadline:
        runner.run_due()
        with db.session() as session:
            left = session.exec(
                select(ScheduledJob.id).where(col(ScheduledJob.done_at).is_(None)).limit(1)
            ).first()
        if left is None:
            break
    db.engine.dispose()


if __name__ == "__main__":
    main()
