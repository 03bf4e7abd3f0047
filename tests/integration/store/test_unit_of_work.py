"""Domain events: recorded by the use cases, handled inside the transaction just before it commits.

What a person would notice: a plan's reminders are owed exactly when the plan is, never one
without the other; a change rolled back owes nothing; and a bot whose wiring was forgotten refuses
the change instead of silently never reminding anyone.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.app.bootstrap import SlackCredentials, build
from bot.app.settings import Settings
from bot.app.wiring import wire_defaults
from bot.domain.config import ReleasebotConfig
from bot.domain.context import DomainContext, StaticDirectory
from bot.domain.events import PlanChanged
from bot.release import freezes, plans
from bot.release.desk import Desk
from bot.store import unit_of_work
from bot.store.models import PlanState, ReleasePlan, ScheduledJob
from bot.timing import auto_deploy, reminders, scheduler
from console.testing import ManualClock


@pytest.fixture
def rewired() -> Iterator[None]:
    """Lets a test change the process-wide subscriptions; the defaults are back afterwards."""
    yield
    unit_of_work.unsubscribe_all()
    wire_defaults()


def _windowed(ctx: DomainContext) -> plans.NewPlan:
    start = ctx.clock.now() + timedelta(hours=3)
    return plans.NewPlan(
        service="checkout",
        version="1.4.2",
        environment="staging",
        window_start=start,
        window_end=start + timedelta(hours=2),
    )


def _jobs(session: Session) -> list[tuple[str, str]]:
    return [(job.kind, job.subject) for job in scheduler.pending(session)]


def test_a_plan_owes_its_reminders_when_its_transaction_commits(desk: Desk) -> None:
    with desk.db.session() as session:
        plan = plans.create_plan(
            session, ctx=desk.ctx, actor="U0REQUESTER", new=_windowed(desk.ctx)
        )
        assert plan.id is not None
        # Recorded, not yet handled: the reminders are computed from the plan as committed.
        assert unit_of_work.pending(session) == [PlanChanged(plan.id)]
        assert _jobs(session) == []
    with desk.db.session() as session:
        owed = _jobs(session)
    subject = reminders.plan_subject(plan.id)
    assert (reminders.EXPIRE, subject) in owed
    assert (reminders.DEPLOY_NUDGE, subject) in owed
    assert [kind for kind, _ in owed].count(reminders.WINDOW_SOON) >= 1


def test_a_failing_subscriber_takes_the_plan_with_it(desk: Desk, rewired: None) -> None:
    def crash(session: Session, ctx: DomainContext, event: PlanChanged) -> None:
        raise RuntimeError("the process died while owing the reminders")

    unit_of_work.subscribe(PlanChanged, crash)
    with pytest.raises(RuntimeError, match="process died"), desk.db.session() as session:
        plans.create_plan(session, ctx=desk.ctx, actor="U0REQUESTER", new=_windowed(desk.ctx))
    with desk.db.session() as session:
        assert session.exec(select(ReleasePlan)).all() == []
        assert session.exec(select(ScheduledJob)).all() == []


def test_an_event_nobody_hears_refuses_the_change(desk: Desk, rewired: None) -> None:
    unit_of_work.unsubscribe_all()
    with (
        pytest.raises(unit_of_work.NoSubscriber, match="wire_defaults"),
        desk.db.session() as session,
    ):
        plans.create_plan(session, ctx=desk.ctx, actor="U0REQUESTER", new=_windowed(desk.ctx))
    with desk.db.session() as session:
        assert session.exec(select(ReleasePlan)).all() == []


def test_a_rolled_back_savepoint_drops_its_events_and_a_released_one_keeps_them(
    desk: Desk, rewired: None
) -> None:
    heard: list[int] = []
    unit_of_work.subscribe(PlanChanged, lambda s, c, event: heard.append(event.plan_id))
    with desk.db.session() as session:
        kept = plans.create_plan(
            session, ctx=desk.ctx, actor="U0REQUESTER", new=_windowed(desk.ctx)
        )
        assert kept.id is not None
        with pytest.raises(ValueError), session.begin_nested():
            unit_of_work.record(session, PlanChanged(kept.id + 1000), ctx=desk.ctx)
            raise ValueError("refused")
        with session.begin_nested():
            unit_of_work.record(session, PlanChanged(kept.id + 2000), ctx=desk.ctx)
        # Released, but the transaction around it has not committed: nothing handled yet.
        assert heard == []
        # A savepoint still open when the transaction commits is released by that commit.
        session.begin_nested()
        unit_of_work.record(session, PlanChanged(kept.id + 3000), ctx=desk.ctx)
    assert heard == [kept.id, kept.id + 2000, kept.id + 3000]


def test_a_rolled_back_transaction_forgets_its_events(desk: Desk, rewired: None) -> None:
    heard: list[int] = []
    unit_of_work.subscribe(PlanChanged, lambda s, c, event: heard.append(event.plan_id))
    with Session(desk.db.engine, expire_on_commit=False) as session:
        plans.create_plan(session, ctx=desk.ctx, actor="U0REQUESTER", new=_windowed(desk.ctx))
        session.rollback()
        # The same session goes on with other work: the rolled-back plan owes nothing.
        freezes.freeze(
            session,
            ctx=desk.ctx,
            actor="U0ADMIN",
            environment="staging",
            until=desk.ctx.clock.now() + timedelta(hours=1),
            reason="load test",
        )
        session.commit()
    assert heard == []
    with desk.db.session() as session:
        assert [kind for kind, _ in _jobs(session)] == [
            reminders.FREEZE_END,
            reminders.FREEZE_HOLDS,
        ]


def test_a_freeze_owes_its_end_notice_through_its_event(desk: Desk) -> None:
    with desk.db.session() as session:
        freeze = freezes.freeze(
            session,
            ctx=desk.ctx,
            actor="U0ADMIN",
            environment="staging",
            until=desk.ctx.clock.now() + timedelta(hours=1),
            reason="load test",
        )
    with desk.db.session() as session:
        assert sorted(_jobs(session)) == [
            (reminders.FREEZE_END, f"freeze:{freeze.id}"),
            (reminders.FREEZE_HOLDS, f"freeze:{freeze.id}"),
        ]
    with desk.db.session() as session:
        freezes.unfreeze(session, ctx=desk.ctx, actor="U0ADMIN", environment="staging")
    with desk.db.session() as session:
        assert _jobs(session) == []


def test_the_composition_root_wires_the_reminders(
    database_url: str,
    config: ReleasebotConfig,
    clock: ManualClock,
    tmp_path: Path,
    rewired: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    unit_of_work.unsubscribe_all()
    monkeypatch.setattr(auto_deploy, "_deploy", None)
    bot = build(
        Settings(DATABASE_URL=database_url, RELEASEBOT_STATE_DIR=str(tmp_path / "state")),
        credentials=SlackCredentials(
            bot_token="xoxb-test", signing_secret="secret", api_url="http://127.0.0.1:9/api/"
        ),
        config=config,
        clock=clock,
        directory=StaticDirectory({}),
    )
    try:
        with bot.desk.unit_of_work() as session:
            plan = plans.create_plan(
                session, ctx=bot.desk.ctx, actor="U0REQUESTER", new=_windowed(bot.desk.ctx)
            )
        with bot.db.session() as session:
            assert (reminders.EXPIRE, f"plan:{plan.id}") in _jobs(session)
        # And the bot can start a plan by itself (what a window opening or a cleared hold does).
        new = plans.NewPlan(service="checkout", version="1.4.3", environment="staging")
        with bot.desk.unit_of_work() as session:
            waiting = plans.create_plan(session, ctx=bot.desk.ctx, actor="U0REQUESTER", new=new)
            refusal = auto_deploy.start(session, ctx=bot.desk.ctx, plan=waiting, because=None)
        assert refusal is None
        assert waiting.state == PlanState.DEPLOYING
    finally:
        bot.close()
