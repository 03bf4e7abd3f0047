"""Approval rules: quorum, listed approvers only, never the requester, a rejection rejects."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.domain.errors import InvalidInput, PermissionDenied
from bot.release import plans
from bot.release.approvals import approval_status, decide
from bot.release.desk import Desk
from bot.store.models import Approval, AuditEvent, Decision, PlanState, ReleasePlan
from tests.helpers import walk_to_released


@pytest.fixture
def awaiting(desk: Desk) -> ReleasePlan:
    """A production plan of checkout 1.4.2 (released to staging first), awaiting approval."""
    with desk.db.session() as session:
        staging = plans.create_plan(
            session,
            ctx=desk.ctx,
            actor="U0REQUESTER",
            new=plans.NewPlan(service="checkout", version="1.4.2", environment="staging"),
        )
        walk_to_released(session, ctx=desk.ctx, plan=staging)
    with desk.db.session() as session:
        return plans.create_plan(
            session,
            ctx=desk.ctx,
            actor="U0REQUESTER",
            new=plans.NewPlan(service="checkout", version="1.4.2", environment="production"),
        )


def _decide(
    desk: Desk,
    plan: ReleasePlan,
    actor: str,
    decision: Decision = Decision.APPROVE,
    comment: str | None = None,
    round_seen: int | None = None,
) -> ReleasePlan:
    with desk.db.session() as session:
        return decide(
            session,
            ctx=desk.ctx,
            actor=actor,
            plan_id=plan.id or 0,
            decision=decision,
            comment=comment,
            round_seen=round_seen,
        )


def test_two_approvals_approve(desk: Desk, awaiting: ReleasePlan) -> None:
    assert _decide(desk, awaiting, "U0APPROVER1").state == PlanState.AWAITING_APPROVAL
    # U0APPROVER4 counts through the @sre group.
    assert _decide(desk, awaiting, "U0APPROVER4").state == PlanState.APPROVED
    with desk.db.session() as session:
        actions = session.exec(
            select(AuditEvent.action).where(AuditEvent.plan_id == awaiting.id)
        ).all()
    assert actions[-3:] == ["approval.approve", "approval.approve", "plan.approve"]


@pytest.mark.parametrize(
    ("actor", "message"),
    [
        ("U0STRANGER", "you are not an approver for production"),
        # The requester is not listed either, but hears the rule that is about them.
        ("U0REQUESTER", "you requested R-2, and production does not count a requester's own"),
    ],
)
def test_decisions_the_policy_does_not_count(
    desk: Desk, awaiting: ReleasePlan, actor: str, message: str
) -> None:
    with pytest.raises(PermissionDenied, match=message):
        _decide(desk, awaiting, actor)
    with desk.db.session() as session:
        assert session.exec(select(Approval)).all() == []


def test_an_approver_who_requested_does_not_count_toward_the_quorum(
    desk: Desk, awaiting: ReleasePlan
) -> None:
    with desk.db.session() as session:
        own = plans.create_plan(
            session,
            ctx=desk.ctx,
            actor="U0APPROVER1",
            new=plans.NewPlan(service="checkout", version="1.4.2", environment="production"),
        )
    with pytest.raises(PermissionDenied, match="does not count a requester's own approval"):
        _decide(desk, own, "U0APPROVER1")


def test_one_rejection_rejects_and_needs_a_reason(desk: Desk, awaiting: ReleasePlan) -> None:
    with pytest.raises(InvalidInput, match="needs a reason"):
        _decide(desk, awaiting, "U0APPROVER1", Decision.REJECT)
    _decide(desk, awaiting, "U0APPROVER1")
    rejected = _decide(desk, awaiting, "U0APPROVER2", Decision.REJECT, "error budget is spent")
    assert rejected.state == PlanState.REJECTED


def test_deciding_twice_is_refused(desk: Desk, awaiting: ReleasePlan) -> None:
    _decide(desk, awaiting, "U0APPROVER1")
    with pytest.raises(InvalidInput, match="you already approved R-2"):
        _decide(desk, awaiting, "U0APPROVER1")


def test_a_stale_card_does_not_count(desk: Desk, awaiting: ReleasePlan) -> None:
    with desk.db.session() as session:
        plans.edit_plan(
            session,
            ctx=desk.ctx,
            actor="U0REQUESTER",
            plan_id=awaiting.id or 0,
            edit=plans.PlanEdit(window_start=desk.ctx.clock.now() + timedelta(hours=1)),
        )
    with pytest.raises(InvalidInput, match="changed after this card was drawn"):
        _decide(desk, awaiting, "U0APPROVER1", round_seen=1)


def test_approvals_of_an_earlier_round_stop_counting(desk: Desk, awaiting: ReleasePlan) -> None:
    _decide(desk, awaiting, "U0APPROVER1")
    with desk.db.session() as session:
        edited = plans.edit_plan(
            session,
            ctx=desk.ctx,
            actor="U0REQUESTER",
            plan_id=awaiting.id or 0,
            edit=plans.PlanEdit(window_start=desk.ctx.clock.now() + timedelta(hours=1)),
        )
        assert approval_status(session, ctx=desk.ctx, plan=edited).approvals == ()


def test_concurrent_clicks_give_one_decision_each_and_one_approval(
    desk: Desk, awaiting: ReleasePlan
) -> None:
    """Three approvers, each double-clicking, all at once: two count, one is too late."""
    barrier = threading.Barrier(6)
    outcomes: list[str] = []
    lock = threading.Lock()

    def click(actor: str) -> None:
        barrier.wait()
        try:
            plan = _decide(desk, awaiting, actor)
            result = f"ok:{plan.state}"
        except InvalidInput as refused:
            result = f"refused:{refused.message}"
        with lock:
            outcomes.append(result)

    actors = [
        "U0APPROVER1",
        "U0APPROVER1",
        "U0APPROVER2",
        "U0APPROVER2",
        "U0APPROVER3",
        "U0APPROVER3",
    ]
    threads = [threading.Thread(target=click, args=(a,)) for a in actors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    with desk.db.session() as session:
        approvals = session.exec(select(Approval).where(Approval.plan_id == awaiting.id)).all()
        transitions = session.exec(
            select(AuditEvent).where(
                AuditEvent.plan_id == awaiting.id, AuditEvent.action == "plan.approve"
            )
        ).all()
        final = plans.get_plan(session, plan_id=awaiting.id or 0)
    assert len(approvals) == 2
    assert len({a.approver_id for a in approvals}) == 2
    assert len(transitions) == 1
    assert final.state == PlanState.APPROVED
    assert sum(o.startswith("ok:") for o in outcomes) == 2
    assert len(outcomes) == 6
