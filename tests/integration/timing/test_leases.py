"""A restarted process takes back its own owed messages and jobs at once; leases of a live
other process, and Slack's backoffs, are still honoured (issue 9.11)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.notify import outbox
from bot.notify.outbox import OutboxDispatcher, Rendered
from bot.store.db import Database
from bot.store.models import OutboxMessage, ScheduledJob
from bot.timing.scheduler import JobRunner, schedule
from commands.slack_port import WebApiSlack, renderer
from console.testing import ManualClock
from tests.integration.timing.jobs_process import KIND, count
from tests.scenario.driver import SlackDriver

SLOT = "deploy-host:3000"


class Killed(BaseException):
    """The process died while Slack was answering."""


class DiesWhilePosting:
    """A SlackPort whose post reaches Slack, and whose process dies before the answer."""

    def __init__(self, real: WebApiSlack) -> None:
        self.real = real

    def post(self, **kwargs: Any) -> tuple[str, str]:
        self.real.post(**kwargs)
        raise Killed

    def update(self, **kwargs: Any) -> None:
        self.real.update(**kwargs)

    def find(self, **kwargs: Any) -> tuple[str, str] | None:
        return self.real.find(**kwargs)


def _dispatcher(slack: SlackDriver, owner: str, port: Any = None) -> OutboxDispatcher:
    return OutboxDispatcher(
        db=slack.bot.db,
        slack=port or WebApiSlack(slack.bot.client),
        render=renderer(slack.bot.desk.ctx),
        clock=slack.clock,
        owner=owner,
    )


def _owe_and_die_sending(slack: SlackDriver) -> None:
    with slack.bot.db.session() as session:
        outbox.owe_message(
            session, channel="C0RELEASES", message=Rendered("once"), now=slack.clock.now()
        )
    dying = _dispatcher(slack, SLOT, DiesWhilePosting(WebApiSlack(slack.bot.client)))
    with pytest.raises(Killed):
        dying.deliver_due()


def _undelivered(slack: SlackDriver) -> list[OutboxMessage]:
    with slack.bot.db.session() as session:
        statement = select(OutboxMessage).where(OutboxMessage.delivered_at == None)  # noqa: E711
        return list(session.exec(statement).all())


def test_a_restarted_process_delivers_its_own_message_at_once_and_once(
    slack: SlackDriver,
) -> None:
    _owe_and_die_sending(slack)
    restarted = _dispatcher(slack, SLOT)
    assert restarted.deliver_due() == 0  # the dead process's lease...
    assert restarted.take_back() == 1  # ...is ours: no need to wait it out
    assert restarted.deliver_due() == 1
    assert _undelivered(slack) == []
    # It was found in Slack by its metadata, not posted a second time.
    assert [m.text for m in slack.workspace.history("C0RELEASES")] == ["once"]
    assert len(slack.workspace.calls_to("chat.postMessage")) == 1


def test_a_live_other_process_keeps_its_message(slack: SlackDriver) -> None:
    _owe_and_die_sending(slack)
    other = _dispatcher(slack, "deploy-host:3001")
    assert other.take_back() == 0
    assert other.deliver_due() == 0
    assert len(_undelivered(slack)) == 1


def test_a_slack_backoff_survives_a_restart(slack: SlackDriver) -> None:
    with slack.bot.db.session() as session:
        outbox.owe_message(
            session, channel="C0RELEASES", message=Rendered("later"), now=slack.clock.now()
        )
    slack.workspace.fail_next("chat.postMessage", 429)
    first = _dispatcher(slack, SLOT)
    assert first.deliver_due() == 0
    restarted = _dispatcher(slack, SLOT)
    assert restarted.take_back() == 0  # Retry-After is Slack's rule, not our lease
    assert restarted.deliver_due() == 0
    slack.clock.advance(timedelta(seconds=1))
    assert restarted.deliver_due() == 1


def _runner(db: Database, clock: ManualClock, owner: str) -> JobRunner:
    runner = JobRunner(db=db, clock=clock, owner=owner)
    runner.register(KIND, count)
    return runner


def _claimed_by_a_dead_process(db: Database, clock: ManualClock) -> None:
    with db.session() as session:
        schedule(session, kind=KIND, subject="thing:1", due_at=clock.now())
    assert _runner(db, clock, SLOT)._claim(10)  # claimed, then the process died


def test_a_restarted_process_runs_its_own_claimed_job_at_once(db: Database) -> None:
    clock = ManualClock()
    _claimed_by_a_dead_process(db, clock)
    restarted = _runner(db, clock, SLOT)
    assert restarted.run_due() == 0
    assert restarted.take_back() == 1
    assert restarted.run_due() == 1
    with db.session() as session:
        [job] = session.exec(select(ScheduledJob)).all()
    assert job.outcome == "ran"


def test_a_live_other_process_keeps_its_job(db: Database) -> None:
    clock = ManualClock()
    _claimed_by_a_dead_process(db, clock)
    other = _runner(db, clock, "deploy-host:3001")
    assert other.take_back() == 0
    assert other.run_due() == 0
