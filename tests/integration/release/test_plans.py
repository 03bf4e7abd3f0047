"""Plans: created from config and history, edited, cancelled, listed — each change audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.domain.errors import IllegalTransition, InvalidInput, NotFound, PermissionDenied
from bot.domain.lifecycle import Event
from bot.release import plans
from bot.release.desk import Desk
from bot.store.models import AuditEvent, ChecklistItem, OutboxMessage, PlanState, ReleasePlan
from tests.helpers import walk_to_released


def _create(desk: Desk, actor: str = "U0REQUESTER", **fields: object) -> ReleasePlan:
    new = plans.NewPlan(
        **{"service": "checkout", "version": "1.4.2", "environment": "staging", **fields}  # type: ignore[arg-type]
    )
    with desk.db.session() as session:
        return plans.create_plan(session, ctx=desk.ctx, actor=actor, new=new)


def _release(desk: Desk, plan: ReleasePlan) -> None:
    """Walk a plan to released the way the rollout engine will."""
    with desk.db.session() as session:
        row = plans.get_plan(session, plan_id=plan.id or 0, for_update=True)
        walk_to_released(session, ctx=desk.ctx, plan=row)


def test_a_staging_plan_needs_no_approval_and_owes_its_card(desk: Desk) -> None:
    plan = _create(desk)
    assert plan.ref == "R-1"
    assert plan.state == PlanState.APPROVED
    assert plan.strategy == "canary"
    with desk.db.session() as session:
        trail = session.exec(select(AuditEvent)).all()
        owed = session.exec(select(OutboxMessage)).all()
    assert [(e.action, e.to_state, e.actor_id) for e in trail] == [
        ("plan.created", "approved", "U0REQUESTER")
    ]
    assert [(m.kind, m.channel) for m in owed] == [("card", "C0RELEASES")]


def test_production_waits_for_approval_asks_approvers_and_gets_its_checklist(desk: Desk) -> None:
    _release(desk, _create(desk))
    plan = _create(desk, environment="production")
    assert plan.state == PlanState.AWAITING_APPROVAL
    assert plan.rollback_version is None
    with desk.db.session() as session:
        items = session.exec(select(ChecklistItem).where(ChecklistItem.plan_id == plan.id)).all()
        dms = session.exec(
            select(OutboxMessage.channel).where(
                OutboxMessage.plan_id == plan.id, OutboxMessage.kind == "post"
            )
        ).all()
    assert [(i.name, i.phase) for i in items] == [
        ("QA sign-off", "pre_deploy"),
        ("Smoke tests reviewed", "post_release"),
    ]
    # The listed approvers plus the members of @sre; the requester is never asked.
    assert sorted(dms) == ["U0ADMIN", "U0APPROVER1", "U0APPROVER2", "U0APPROVER3", "U0APPROVER4"]


def test_production_requires_the_version_released_to_staging_first(desk: Desk) -> None:
    with pytest.raises(PermissionDenied, match="released to staging first"):
        _create(desk, environment="production")
    with desk.db.session() as session:
        assert session.exec(select(ReleasePlan)).all() == []


def test_the_rollback_target_is_the_last_released_version(desk: Desk) -> None:
    _release(desk, _create(desk, version="1.4.1"))
    plan = _create(desk, version="1.4.2")
    assert plan.rollback_version == "1.4.1"


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"service": "cart"}, NotFound, "unknown service 'cart'"),
        ({"environment": "prod"}, NotFound, "unknown environment 'prod'"),
        ({"strategy": "yolo"}, NotFound, "unknown strategy 'yolo'"),
        ({"after": (99,)}, NotFound, "there is no plan R-99"),
    ],
)
def test_bad_plans_are_refused_and_write_nothing(
    desk: Desk, fields: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        _create(desk, **fields)
    with desk.db.session() as session:
        assert session.exec(select(ReleasePlan)).all() == []
        assert session.exec(select(AuditEvent)).all() == []


def test_a_window_that_ends_before_it_starts_or_in_the_past_is_refused(desk: Desk) -> None:
    now = desk.ctx.clock.now()
    with pytest.raises(InvalidInput, match="ends before it starts"):
        _create(desk, window_start=now + timedelta(hours=2), window_end=now + timedelta(hours=1))
    with pytest.raises(InvalidInput, match="already ended"):
        _create(desk, window_end=now - timedelta(minutes=1))


def test_a_window_that_started_in_the_past_is_refused_with_the_way_out(desk: Desk) -> None:
    now = desk.ctx.clock.now()
    # A year typed wrong would make the plan deployable at once: refused, nothing created.
    with pytest.raises(InvalidInput) as refused:
        _create(desk, window_start=now - timedelta(days=365))
    assert str(refused.value) == (
        "the window would start in the past (2025-11-24 15:00 UTC); "
        "give `at now` to open it now, or a later time"
    )
    with desk.db.session() as session:
        assert session.exec(select(ReleasePlan)).all() == []
    # `at 15:00` typed a minute or two late is the window meant.
    assert _create(desk, window_start=now - timedelta(minutes=2)).id is not None


def test_editing_the_version_of_an_approved_plan_asks_again(desk: Desk) -> None:
    _release(desk, _create(desk))
    plan = _create(desk, environment="production")
    with desk.db.session() as session:
        row = plans.get_plan(session, plan_id=plan.id or 0, for_update=True)
        plans.transition(session, ctx=desk.ctx, plan=row, event=Event.APPROVE, actor="U0APPROVER1")
    with desk.db.session() as session:
        edited = plans.edit_plan(
            session,
            ctx=desk.ctx,
            actor="U0REQUESTER",
            plan_id=plan.id or 0,
            edit=plans.PlanEdit(window_start=desk.ctx.clock.now() + timedelta(hours=1)),
        )
    assert edited.state == PlanState.AWAITING_APPROVAL
    assert edited.approval_round == 2


def test_notes_edits_keep_approvals(desk: Desk) -> None:
    plan = _create(desk)
    with desk.db.session() as session:
        edited = plans.edit_plan(
            session,
            ctx=desk.ctx,
            actor="U0REQUESTER",
            plan_id=plan.id or 0,
            edit=plans.PlanEdit(notes="DB migration runs first"),
        )
    assert (edited.state, edited.approval_round, edited.notes) == (
        PlanState.APPROVED,
        1,
        "DB migration runs first",
    )


def test_only_the_requester_or_an_admin_cancels(desk: Desk) -> None:
    plan = _create(desk)
    with pytest.raises(PermissionDenied, match="only the requester"), desk.db.session() as session:
        plans.cancel_plan(
            session, ctx=desk.ctx, actor="U0STRANGER", plan_id=plan.id or 0, reason=None
        )
    with desk.db.session() as session:
        cancelled = plans.cancel_plan(
            session, ctx=desk.ctx, actor="U0ADMIN", plan_id=plan.id or 0, reason="wrong version"
        )
    assert cancelled.state == PlanState.CANCELLED
    with pytest.raises(IllegalTransition, match="it is cancelled"), desk.db.session() as session:
        plans.cancel_plan(session, ctx=desk.ctx, actor="U0ADMIN", plan_id=plan.id or 0, reason=None)


def test_list_shows_active_plans_unless_all(desk: Desk) -> None:
    first = _create(desk, version="1.0.0")
    _create(desk, version="1.0.1")
    with desk.db.session() as session:
        plans.cancel_plan(
            session, ctx=desk.ctx, actor="U0REQUESTER", plan_id=first.id or 0, reason=None
        )
    with desk.db.session() as session:
        active, active_total = plans.list_plans(session, environment=None, include_all=False)
        everything, total = plans.list_plans(session, environment="staging", include_all=True)
    assert [p.version for p in active] == ["1.0.1"] and active_total == 1
    assert [p.version for p in everything] == ["1.0.0", "1.0.1"] and total == 2
