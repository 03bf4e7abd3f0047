"""The journal runner's transaction: effect and done mark together, retried after a database
failure inside it, a refusal final, an internal error given up on with an answer that says so."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select

from bot.domain.errors import PermissionDenied
from bot.notify.outbox import OutboxMessage, Rendered
from bot.release import plans
from bot.release.desk import Desk
from bot.store.journal import Asked
from bot.store.models import AuditEvent, JournalEntry, ReleasePlan
from commands.journal_runner import JournalRunner
from commands.render import replies
from console.testing import ManualClock

URL = "https://hooks.slack.test/actions/T0/1/response"
KIND = "test"


class ResponseUrl:
    """Records what the runner posts to a response_url (Slack accepts it)."""

    def __init__(self) -> None:
        self.posted: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, url: str, body: dict[str, Any]) -> bool:
        self.posted.append((url, body))
        return True

    @property
    def texts(self) -> list[str]:
        return [str(body["text"]) for _, body in self.posted]


def _runner(
    desk: Desk, execute: Callable[[Desk, Asked], Rendered | None]
) -> tuple[JournalRunner, ResponseUrl]:
    slack = ResponseUrl()
    runner = JournalRunner(desk=desk, owner="this-process", post_response=slack)
    runner.register(KIND, execute=execute, describe=lambda asked: "`/release test`")
    return runner, slack


def _record(runner: JournalRunner) -> int:
    return runner.record(
        kind=KIND, delivery_key="command:1", user_id="U0REQUESTER", request={}, response_url=URL
    )


def _plan_it(desk: Desk, asked: Asked) -> Rendered | None:
    def work(session: Session) -> Rendered:
        created = plans.create_plan(
            session,
            ctx=desk.ctx,
            actor=asked.user_id,
            new=plans.NewPlan(service="checkout", version="1.4.2", environment="staging"),
        )
        return replies.notice(f"Planned {created.ref}.")

    return desk.act(actor=asked.user_id, request_key=asked.delivery_key, work=work)


def _break_the_connection(session: Session) -> None:
    """A real database failure inside the open transaction (the server's own error)."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA query_only = ON")
        try:
            connection.exec_driver_sql("UPDATE release_plan SET notes = 'x'")
        finally:
            connection.exec_driver_sql("PRAGMA query_only = OFF")  # a passing fault
    else:
        connection.exec_driver_sql("SELECT pg_terminate_backend(pg_backend_pid())")


def _entry(desk: Desk) -> JournalEntry:
    with desk.db.session() as session:
        return session.exec(select(JournalEntry)).one()


def _count(desk: Desk, model: type[Any]) -> int:
    with desk.db.session() as session:
        return len(session.exec(select(model)).all())


def test_a_database_failure_inside_the_carrying_transaction_rolls_back_and_is_retried(
    desk: Desk, clock: ManualClock
) -> None:
    breaks = [True]

    def plan_then_fail_once(desk: Desk, asked: Asked) -> Rendered | None:
        answer = _plan_it(desk, asked)
        if breaks:
            breaks.pop()
            assert desk.joined is not None
            _break_the_connection(desk.joined)
        return answer

    runner, slack = _runner(desk, plan_then_fail_once)
    entry_id = _record(runner)
    runner.carry_out(entry_id, response_url=URL)

    dialect = desk.db.engine.dialect.name
    reason = "the database is read-only" if dialect == "sqlite" else "the database is unreachable"
    assert slack.texts == [
        f":hourglass: Recorded, not done yet: releasebot hit a problem carrying it out ({reason})."
        " It retries by itself and answers here when it is done."
    ]
    assert _count(desk, ReleasePlan) == 0  # the plan rolled back with the failed transaction
    failed = _entry(desk)
    assert failed.done_at is None and failed.attempts == 1 and failed.last_error
    assert runner.recover() == 0  # backing off

    clock.advance(timedelta(seconds=3))
    assert runner.recover() == 1
    # PostgreSQL does not hand out again a plan id taken by a rolled-back insert.
    assert re.fullmatch(r"Done late: Planned R-[12]\.", slack.texts[1])
    assert _count(desk, ReleasePlan) == 1
    clock.advance(timedelta(minutes=5))
    assert runner.recover() == 0
    assert _count(desk, ReleasePlan) == 1
    done = _entry(desk)
    assert (done.outcome, done.answered_via, done.attempts) == ("done", "response_url", 2)


def test_a_refusal_is_a_final_answer_audited_once(desk: Desk, clock: ManualClock) -> None:
    def refused(desk: Desk, asked: Asked) -> Rendered | None:
        def work(session: Session) -> Rendered:
            raise PermissionDenied("only admins freeze production")

        return desk.act(actor=asked.user_id, request_key=asked.delivery_key, work=work)

    runner, slack = _runner(desk, refused)
    runner.carry_out(_record(runner), response_url=URL)
    clock.advance(timedelta(minutes=5))
    assert runner.recover() == 0

    assert slack.texts == ["only admins freeze production"]
    with desk.db.session() as session:
        refusals = session.exec(
            select(AuditEvent).where(AuditEvent.action == "permission.refused")
        ).all()
        assert [(e.actor_id, e.reason) for e in refusals] == [
            ("U0REQUESTER", "only admins freeze production")
        ]
    assert _entry(desk).outcome == "refused"


def test_an_internal_error_is_retried_then_answered_as_not_done(
    desk: Desk, clock: ManualClock
) -> None:
    calls: list[int] = []

    def broken(desk: Desk, asked: Asked) -> Rendered | None:
        _plan_it(desk, asked)
        calls.append(asked.attempts)
        raise KeyError("a bug")

    runner, slack = _runner(desk, broken)
    runner.carry_out(_record(runner), response_url=URL)
    for _ in range(10):
        clock.advance(timedelta(minutes=1))
        runner.recover()

    assert calls == [1, 2, 3, 4, 5]
    assert _count(desk, ReleasePlan) == 0
    assert slack.texts == [
        ":hourglass: Recorded, not done yet: releasebot hit a problem carrying it out (an internal "
        "error, logged for the operator). It retries by itself and answers here when it is done.",
        "Late answer: Not done: `/release test` failed 5 times inside releasebot (KeyError); "
        "nothing changed. It is logged for the operator.",
    ]
    assert _entry(desk).outcome == "failed"


def test_an_answer_that_slack_will_not_take_is_owed_as_a_dm(desk: Desk) -> None:
    runner = JournalRunner(desk=desk, owner="this-process", post_response=lambda url, body: False)
    runner.register(KIND, execute=_plan_it, describe=lambda asked: "`/release test`")
    runner.carry_out(_record(runner), response_url=URL)

    with desk.db.session() as session:
        [dm] = session.exec(
            select(OutboxMessage).where(col(OutboxMessage.channel) == "U0REQUESTER")
        ).all()
        assert dm.payload["text"] == "Planned R-1."
        assert "About `/release test`, which you asked for at" in str(dm.payload["blocks"])
    assert _entry(desk).answered_via == "dm"
