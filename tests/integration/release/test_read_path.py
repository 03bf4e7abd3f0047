"""`/release show` and `/release list` on the fast path answer exactly what the full path drew,
and a stored card never outlives a change to what it shows.

Every test runs both ways the reads are made: in a worker thread on the driver's cursor (as the
commands Bolt dispatches read) and awaited on an event loop (`releasebot serve`'s fast reads:
asyncpg on PostgreSQL, so a token stored after a psycopg read must match an asyncpg read).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import col, select, update

from bot.domain.lifecycle import Event
from bot.notify.outbox import Rendered, owe_card
from bot.release import plans
from bot.release.approvals import decide
from bot.release.checklists import tick
from bot.release.desk import Desk
from bot.release.gates import deploy_holds
from bot.release.snapshots import snapshot
from bot.store import plan_cards
from bot.store.async_reads import async_reads
from bot.store.db import Database
from bot.store.models import Decision, OutboxMessage, PlanCard, ReleasePlan
from commands import read_path
from commands.render import replies
from commands.render.card import card
from console.testing import ManualClock
from tests.helpers import LoopThread


def _drawn(desk: Desk, plan_id: int) -> str:
    """The card as the full path draws it from the database now."""
    with desk.db.session() as session:
        snap = snapshot(session, ctx=desk.ctx, plan_id=plan_id)
        return _as_json(card(snap, deploy_holds(session, ctx=desk.ctx, snap=snap)))


def _as_json(rendered: Rendered) -> str:
    return json.dumps({"text": rendered.text, "blocks": rendered.blocks}, ensure_ascii=False)


Show = Callable[[Desk, int], str]
List = Callable[[Desk, str | None, bool], str]
_READS: dict[str, tuple[Show, List]] = {}


@pytest.fixture(params=["in a thread", "on the event loop"], autouse=True)
def reads(request: pytest.FixtureRequest, desk: Desk) -> Iterator[str]:
    """Each test once per way of reading (`_shown` and `_listed` follow it)."""
    if request.param == "in a thread":
        _READS["now"] = (
            lambda d, plan_id: _as_json(read_path.show_card(plan_id, desk=d)),
            lambda d, env, every: _as_json(
                read_path.list_active(desk=d, environment=env, include_all=every)
            ),
        )
        yield request.param
        return
    runner = LoopThread()
    reader = read_path.EventLoopReads(desk, async_reads(desk.db))

    def show(d: Desk, plan_id: int) -> str:
        assert d is desk
        return _answered(runner.run(reader.card(plan_id)))

    def listed(d: Desk, env: str | None, every: bool) -> str:
        assert d is desk
        return _answered(runner.run(reader.plans(env, every)))

    _READS["now"] = (show, listed)
    try:
        yield request.param
    finally:
        runner.run(reader.close())
        runner.close()


def _answered(body: str) -> str:
    """An ack body as `_as_json` writes a Rendered, to compare with what the full path drew."""
    answer = json.loads(body)
    assert answer["response_type"] == "ephemeral"
    return json.dumps({"text": answer["text"], "blocks": answer["blocks"]}, ensure_ascii=False)


def _shown(desk: Desk, plan_id: int) -> str:
    return _READS["now"][0](desk, plan_id)


def _create(desk: Desk, **fields: object) -> ReleasePlan:
    new = plans.NewPlan(
        **{"service": "checkout", "version": "1.4.2", "environment": "staging", **fields}  # type: ignore[arg-type]
    )
    with desk.db.session() as session:
        return plans.create_plan(session, ctx=desk.ctx, actor="U0REQUESTER", new=new)


def _release(desk: Desk, plan: ReleasePlan) -> None:
    with desk.db.session() as session:
        row = plans.get_plan(session, plan_id=plan.id or 0, for_update=True)
        for event in (Event.DEPLOY, Event.STAGES_DONE, Event.CHECKS_PASSED):
            plans.transition(session, ctx=desk.ctx, plan=row, event=event, actor="U0REQUESTER")


def _deliver_cards(desk: Desk) -> None:
    """The dispatcher posted every owed card: nothing is pending any more."""
    with desk.db.session() as session:
        session.exec(
            update(OutboxMessage)  # type: ignore[call-overload]
            .where(col(OutboxMessage.delivered_at).is_(None))
            .values(delivered_at=desk.ctx.clock.now())
        )


def _stored(desk: Desk, plan_id: int) -> str | None:
    with desk.db.session() as session:
        row = session.get(PlanCard, plan_id)
        return row.body if row is not None else None


def _released_in_production(desk: Desk) -> ReleasePlan:
    _release(desk, _create(desk))
    plan = _create(desk, environment="production")
    for approver in ("U0APPROVER1", "U0APPROVER2"):
        with desk.db.session() as session:
            decide(
                session,
                ctx=desk.ctx,
                actor=approver,
                plan_id=plan.id or 0,
                decision=Decision.APPROVE,
                comment=None,
            )
    with desk.db.session() as session:
        tick(session, ctx=desk.ctx, actor="U0QA", plan_id=plan.id or 0, item="QA sign-off")
    _release(desk, plan)
    _deliver_cards(desk)
    return plan


def test_a_settled_plan_answers_the_drawn_card_then_the_same_card_stored(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = _released_in_production(desk)
    assert plan.id is not None
    expected = _drawn(desk, plan.id)
    assert _stored(desk, plan.id) is None
    assert _shown(desk, plan.id) == expected
    assert _stored(desk, plan.id) is not None

    def not_drawn(*_: object, **__: object) -> None:
        raise AssertionError("the stored card should have answered")

    monkeypatch.setattr(read_path, "snapshot", not_drawn)
    assert _shown(desk, plan.id) == expected


def test_ticking_an_item_after_the_release_shows_at_once(desk: Desk) -> None:
    plan = _released_in_production(desk)
    assert plan.id is not None
    before = _shown(desk, plan.id)
    assert "Smoke tests reviewed" in before
    with desk.db.session() as session:
        tick(session, ctx=desk.ctx, actor="U0QA", plan_id=plan.id, item="Smoke tests")
    _deliver_cards(desk)
    after = _shown(desk, plan.id)
    assert after != before
    assert after == _drawn(desk, plan.id)


def test_a_later_release_in_the_lane_shows_on_the_superseded_card(desk: Desk) -> None:
    first = _create(desk, version="1.4.1")
    _release(desk, first)
    _deliver_cards(desk)
    assert first.id is not None
    assert "Superseded" not in _shown(desk, first.id)
    _release(desk, _create(desk, version="1.4.2"))
    _release(desk, _create(desk, version="1.4.3"))
    _deliver_cards(desk)
    shown = _shown(desk, first.id)
    assert "Superseded by R-3" in shown
    assert shown == _drawn(desk, first.id)


def test_a_change_committed_while_a_card_is_drawn_is_not_hidden_by_it(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _create(desk, version="1.4.1")
    _release(desk, first)
    _deliver_cards(desk)
    assert first.id is not None
    keep = plan_cards.keep

    def change_then_keep(db: object, **kwargs: object) -> bool:
        # Another process releases 1.4.2 after this card was drawn, before it is stored.
        _release(desk, _create(desk, version="1.4.2"))
        _deliver_cards(desk)
        return keep(db, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(plan_cards, "keep", change_then_keep)
    assert "Superseded" not in _shown(desk, first.id)
    monkeypatch.setattr(plan_cards, "keep", keep)
    shown = _shown(desk, first.id)
    assert "Superseded by R-2" in shown
    assert shown == _drawn(desk, first.id)


def test_a_card_owed_but_not_yet_delivered_is_never_answered_from_the_store(desk: Desk) -> None:
    first = _create(desk, version="1.4.1")
    _release(desk, first)
    _deliver_cards(desk)
    assert first.id is not None
    _shown(desk, first.id)
    # A change that leaves no trace but the card it owes (the card row is all the token has).
    with desk.db.session() as session:
        session.exec(
            update(ReleasePlan)  # type: ignore[call-overload]
            .where(col(ReleasePlan.id) == first.id)
            .values(rollback_version="1.3.9")
        )
        owe_card(session, plan_id=first.id, channel="C0RELEASES", now=desk.ctx.clock.now())
    assert _shown(desk, first.id) == _drawn(desk, first.id)
    _deliver_cards(desk)
    assert _shown(desk, first.id) == _drawn(desk, first.id)


def test_a_new_year_shows_the_year_of_the_window(desk: Desk, clock: ManualClock) -> None:
    plan = _create(desk, window_start=clock.now() + timedelta(hours=1))
    _release(desk, plan)
    _deliver_cards(desk)
    assert plan.id is not None
    this_year = _shown(desk, plan.id)
    assert "2026" not in this_year
    clock.advance(timedelta(days=60))
    next_year = _shown(desk, plan.id)
    assert "2026" in next_year
    assert next_year == _drawn(desk, plan.id)


def test_plans_still_moving_are_drawn_every_time_and_never_stored(desk: Desk) -> None:
    plan = _create(desk)
    assert plan.id is not None
    _deliver_cards(desk)
    assert _shown(desk, plan.id) == _drawn(desk, plan.id)
    assert _stored(desk, plan.id) is None


def test_a_waiting_plan_of_a_service_taken_out_of_the_config_still_shows(
    desk: Desk, clock: ManualClock
) -> None:
    plan = _create(desk, window_start=clock.now() + timedelta(hours=1))
    assert plan.id is not None
    _deliver_cards(desk)
    assert "The window opens Tue 24 Nov 16:00 UTC: R-1 can deploy from then." in (
        _shown(desk, plan.id)
    )
    config = desk.ctx.config
    without = {name: s for name, s in config.services.items() if name != "checkout"}
    desk.ctx = replace(desk.ctx, config=config.model_copy(update={"services": without}))
    shown = _shown(desk, plan.id)
    assert "The window opens Tue 24 Nov 16:00 UTC: R-1 can deploy from then." in shown
    assert shown == _drawn(desk, plan.id)


def test_another_config_or_code_never_answers_a_card_stored_by_this_one() -> None:
    assert plan_cards.fingerprint('{"a": 1}') == plan_cards.fingerprint('{"a": 1}')
    assert plan_cards.fingerprint('{"a": 1}') != plan_cards.fingerprint('{"a": 2}')


def _listed_before(desk: Desk, *, environment: str | None, include_all: bool) -> str:
    """`/release list` as commands/plan_commands.py drew it before the fast path."""
    with desk.db.session() as session:
        found, total = plans.list_plans(session, environment=environment, include_all=include_all)
    scope = f" in {environment}" if environment else ""
    heading = ("All plans" if include_all else "Upcoming and active plans") + scope
    hint = "Use `/release history <service>` for one service's releases."
    return _as_json(
        replies.plan_list(
            found, total=total, heading=heading, tz=desk.ctx.config.tz, more_hint=hint
        )
    )


def _listed(desk: Desk, *, environment: str | None, include_all: bool) -> str:
    return _READS["now"][1](desk, environment, include_all)


def test_the_list_is_the_same_answer_for_every_scope(desk: Desk, clock: ManualClock) -> None:
    for scope in ((None, False), ("staging", False), (None, True)):
        empty = _listed(desk, environment=scope[0], include_all=scope[1])
        assert empty == _listed_before(desk, environment=scope[0], include_all=scope[1])
        assert "none." in empty
    _release(desk, _create(desk, version="1.0.0"))
    for n in range(1, 31):
        end = datetime(2026, 12, 1, tzinfo=UTC) + timedelta(hours=n) if n % 3 == 0 else None
        _create(
            desk, version=f"1.0.{n}", window_end=end, notes="*bold* <@U1> & co" if n == 7 else None
        )
    _create(desk, service="payments", version="2.0.0", environment="staging")
    with desk.db.session() as session:
        active = session.exec(select(ReleasePlan)).all()
    assert len(active) == 32
    for environment, include_all in (
        (None, False),
        ("staging", False),
        ("production", False),
        (None, True),
        ("staging", True),
    ):
        listed = _listed(desk, environment=environment, include_all=include_all)
        assert listed == _listed_before(desk, environment=environment, include_all=include_all)
    assert "Upcoming and active plans: 25 of 31" in _listed(
        desk, environment=None, include_all=False
    )


def test_a_show_does_not_wait_for_a_busy_database_to_store_its_card(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = _create(desk)
    _release(desk, plan)
    _deliver_cards(desk)
    assert plan.id is not None
    expected = _drawn(desk, plan.id)
    keep = plan_cards.keep
    waited: list[float] = []

    def keep_while_locked(db: Database, **kwargs: Any) -> bool:
        with db.engine.connect() as other:
            # Another writer holds what storing the card needs, longer than a show may wait.
            raw: Any = other.connection.dbapi_connection
            if other.dialect.name == "postgresql":
                other.exec_driver_sql("LOCK TABLE plan_card IN EXCLUSIVE MODE")
            else:
                raw.execute("BEGIN IMMEDIATE")
            started = time.monotonic()
            try:
                stored = keep(db, **kwargs)
            finally:
                waited.append(time.monotonic() - started)
                raw.rollback()
        return stored

    monkeypatch.setattr(plan_cards, "keep", keep_while_locked)
    assert _shown(desk, plan.id) == expected
    assert waited and waited[0] < 2
    assert _stored(desk, plan.id) is None
    monkeypatch.setattr(plan_cards, "keep", keep)
    assert _shown(desk, plan.id) == expected
    assert _stored(desk, plan.id) is not None
