"""Each scheduled job the bot runs is one log line naming its plan; an idle poll is none."""

from __future__ import annotations

import logging

import pytest

from bot.store.db import Database
from bot.timing.scheduler import JobRunner, schedule
from console.testing import ManualClock
from tests.integration.timing.jobs_process import KIND, count


def test_a_job_is_one_line_with_its_plan_and_an_idle_poll_is_silent(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock()
    runner = JobRunner(db=db, clock=clock, owner="only")
    runner.register(KIND, count)
    with caplog.at_level(logging.DEBUG, logger="bot.timing.scheduler"):
        assert runner.run_due() == 0
        assert caplog.records == []
        with db.session() as session:
            schedule(session, kind=KIND, subject="plan:7:reminder", due_at=clock.now())
        assert runner.run_due() == 1
    [line] = caplog.records
    assert (getattr(line, "plan_id", None), getattr(line, "event", None)) == (7, f"job.{KIND}")
    assert line.getMessage() == f"{KIND} plan:7:reminder: ran"
