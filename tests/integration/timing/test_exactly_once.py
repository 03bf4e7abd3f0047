"""Three runner processes on one PostgreSQL run 1,000 due jobs: each exactly once."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import select

from bot.store.db import Database, make_engine
from bot.store.models import AuditEvent, ScheduledJob
from bot.timing.scheduler import JobRunner, schedule
from console.testing import ManualClock
from tests.integration.timing.jobs_process import KIND, count

ROOT = Path(__file__).resolve().parents[3]


def _owe(db: Database, n: int, due: datetime) -> None:
    with db.session() as session:
        for index in range(n):
            schedule(session, kind=KIND, subject=f"thing:{index}", due_at=due)


def test_three_processes_run_each_of_1000_jobs_exactly_once(postgres_url: str) -> None:
    # Only PostgreSQL: with SQLite one process is assumed (README).
    database_url = postgres_url
    db = Database(make_engine(database_url))
    _owe(db, 1000, datetime.now(UTC) - timedelta(seconds=5))
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.integration.timing.jobs_process", database_url, f"p{i}"],
            cwd=ROOT,
        )
        for i in range(3)
    ]
    for worker in workers:
        assert worker.wait(timeout=90) == 0

    with db.session() as session:
        ran = Counter(
            e.detail["job"]
            for e in session.exec(select(AuditEvent).where(AuditEvent.action == "job.ran"))
        )
        jobs = session.exec(select(ScheduledJob)).all()
    assert len(jobs) == 1000
    assert all(j.done_at is not None for j in jobs)
    assert sorted(ran) == sorted(j.id or 0 for j in jobs)
    assert set(ran.values()) == {1}
    # The work really was shared.
    owners = Counter(j.lease_owner for j in jobs)
    assert len(owners) >= 2, owners
    db.engine.dispose()


def test_scheduling_twice_owes_one_job(db: Database) -> None:
    due = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    _owe(db, 3, due)
    _owe(db, 3, due)
    with db.session() as session:
        assert len(session.exec(select(ScheduledJob)).all()) == 3


def test_a_job_runs_once_however_often_the_runner_is_woken(db: Database) -> None:
    clock = ManualClock()
    _owe(db, 2, clock.now() + timedelta(minutes=1))
    runner = JobRunner(db=db, clock=clock, owner="only")
    runner.register(KIND, count)
    assert runner.run_due() == 0
    clock.advance(timedelta(minutes=1))
    assert runner.run_due() == 2
    assert runner.run_due() == 0
    with db.session() as session:
        assert len(session.exec(select(AuditEvent)).all()) == 2


def test_a_job_leased_by_a_crashed_process_is_run_after_its_lease(db: Database) -> None:
    clock = ManualClock()
    _owe(db, 1, clock.now())
    crashed = JobRunner(db=db, clock=clock, owner="crashed", lease=timedelta(minutes=5))
    crashed.register(KIND, count)
    assert crashed._claim(10)  # claimed, then the process died before running it
    survivor = JobRunner(db=db, clock=clock, owner="survivor")
    survivor.register(KIND, count)
    assert survivor.run_due() == 0
    clock.advance(timedelta(minutes=5, seconds=1))
    assert survivor.run_due() == 1
    with db.session() as session:
        [job] = session.exec(select(ScheduledJob)).all()
    assert (job.lease_owner, job.outcome) == ("survivor", "ran")


def test_a_stale_job_is_skipped_and_audited(db: Database) -> None:
    clock = ManualClock()
    _owe(db, 1, clock.now())
    runner = JobRunner(db=db, clock=clock, owner="late")
    runner.register(KIND, count, stale_after=timedelta(hours=1))
    clock.advance(timedelta(hours=2))
    assert runner.run_due() == 1
    with db.session() as session:
        [job] = session.exec(select(ScheduledJob)).all()
        events = session.exec(select(AuditEvent)).all()
    assert job.outcome is not None and job.outcome.startswith("skipped: test.count was due")
    assert [e.action for e in events] == ["job.skipped"]
