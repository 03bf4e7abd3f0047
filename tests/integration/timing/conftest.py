"""Scheduling fixtures: the scenario bot (real Slack stand-in) plus helpers that move time."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from bot.release.plans import get_plan
from bot.store.models import ReleasePlan, ScheduledJob
from tests.helpers import walk_to_released

# Every scenario fixture (the bot, the Slack stand-in, the far sides it needs) is shared here.
from tests.scenario.conftest import *  # noqa: F403
from tests.scenario.driver import SlackDriver


def advance(slack: SlackDriver, delta: timedelta, *, step: timedelta | None = None) -> None:
    """Let `delta` pass on the fake clock, running due jobs and delivering as a server would."""
    step = step or delta
    remaining = delta
    while remaining > timedelta(0):
        move = min(step, remaining)
        slack.clock.advance(move)
        remaining -= move
        slack.bot.scheduler.runner.run_due()
    slack.settle()


def jobs(slack: SlackDriver, kind: str | None = None) -> list[ScheduledJob]:
    """Every scheduled job, soonest first."""
    with slack.bot.db.session() as session:
        statement = select(ScheduledJob).order_by(col(ScheduledJob.due_at), col(ScheduledJob.id))
        if kind is not None:
            statement = statement.where(ScheduledJob.kind == kind)
        return list(session.exec(statement).all())


def release_to_staging(slack: SlackDriver, version: str = "1.4.2") -> None:
    """Put a version through staging by the lifecycle, so production may plan it."""
    slack.command("U0REQUESTER", f"plan checkout {version} to staging")
    with slack.bot.db.session() as session:
        plan_id = session.exec(
            select(ReleasePlan.id)
            .where(ReleasePlan.version == version)
            .order_by(col(ReleasePlan.id))
        ).all()[-1]
        assert plan_id is not None
        plan = get_plan(session, plan_id=plan_id, for_update=True)
        walk_to_released(session, ctx=slack.bot.desk.ctx, plan=plan)
