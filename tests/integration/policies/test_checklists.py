"""Checklists: ticked by the assignee (or a member of its group) or an admin, in the right phase."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from bot.domain.errors import InvalidInput, NotFound, PermissionDenied
from bot.domain.lifecycle import Event
from bot.release import checklists, gates, plans
from bot.release.desk import Desk
from bot.store.db import Database
from bot.store.models import AuditEvent, ChecklistItem, OutboxMessage, ReleasePlan
from console.testing import ManualClock
from tests.integration.policies.conftest import approved_production_plan, config_with, desk_for


def _tick(desk: Desk, plan: ReleasePlan, actor: str, item: str) -> ChecklistItem:
    result = desk.act(
        actor=actor,
        request_key=None,
        work=lambda s: checklists.tick(
            s, ctx=desk.ctx, actor=actor, plan_id=plan.id or 0, item=item
        ),
    )
    assert result is not None
    return result


def _walk(desk: Desk, plan: ReleasePlan, *events: Event) -> None:
    with desk.db.session() as session:
        fresh = plans.get_plan(session, plan_id=plan.id or 0, for_update=True)
        for event in events:
            plans.transition(session, ctx=desk.ctx, plan=fresh, event=event, actor="U0REQUESTER")


def test_the_assignee_ticks_and_the_deploy_gate_opens(desk: Desk, approved: ReleasePlan) -> None:
    with desk.db.session() as session, pytest.raises(InvalidInput) as refused:
        gates.ensure_deployable(session, ctx=desk.ctx, plan=approved, actor="U0REQUESTER")
    assert refused.value.message == (
        "R-2 can't deploy until it is ticked: QA sign-off — waiting on <@U0QA>, "
        "who can `/release tick R-2 QA sign-off`"
    )

    with desk.db.session() as session:  # as if everything owed so far had been delivered
        for owed in session.exec(select(OutboxMessage)).all():
            owed.delivered_at = desk.ctx.clock.now()
            session.add(owed)
    item = _tick(desk, approved, "U0QA", "QA sign-off")
    assert (item.ticked_by, item.ticked_at) == ("U0QA", desk.ctx.clock.now())
    with desk.db.session() as session:
        gates.ensure_deployable(session, ctx=desk.ctx, plan=approved, actor="U0REQUESTER")
        ticked = session.exec(
            select(AuditEvent).where(AuditEvent.action == "checklist.ticked")
        ).one()
        replies = session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.kind == "thread")
            .order_by(col(OutboxMessage.id))
        ).all()
        cards = session.exec(
            select(OutboxMessage).where(
                OutboxMessage.kind == "card", col(OutboxMessage.delivered_at).is_(None)
            )
        ).all()
    assert (ticked.actor_id, ticked.plan_id, ticked.reason) == ("U0QA", 2, "QA sign-off")
    assert replies[-1].payload["text"] == (
        ":ballot_box_with_check: <@U0QA> ticked 'QA sign-off' on R-2. "
        "All required pre-deploy items are ticked."
    )
    assert [c.plan_id for c in cards] == [2]


@pytest.mark.parametrize("text", ["QA sign-off", "qa SIGN-OFF", "  qa   sign-off ", "qa", "QA s"])
def test_items_are_found_by_name_or_unique_prefix_in_any_case(
    desk: Desk, approved: ReleasePlan, text: str
) -> None:
    assert _tick(desk, approved, "U0QA", text).name == "QA sign-off"


def test_an_admin_may_tick_for_the_assignee(desk: Desk, approved: ReleasePlan) -> None:
    assert _tick(desk, approved, "U0ADMIN", "QA").ticked_by == "U0ADMIN"


def test_anyone_else_is_refused_and_the_refusal_is_audited(
    desk: Desk, approved: ReleasePlan
) -> None:
    with pytest.raises(PermissionDenied) as refused:
        _tick(desk, approved, "U0APPROVER1", "QA")
    assert refused.value.message == (
        "only the item's assignee (<@U0QA>) or an admin may tick 'QA sign-off' on R-2"
    )
    with desk.db.session() as session:
        item = session.exec(select(ChecklistItem).where(ChecklistItem.name == "QA sign-off")).one()
        audited = session.exec(
            select(AuditEvent).where(AuditEvent.action == "permission.refused")
        ).one()
    assert item.ticked_at is None
    assert (audited.actor_id, audited.plan_id) == ("U0APPROVER1", 2)


def test_a_group_assignee_means_any_member(db: Database, clock: ManualClock) -> None:
    config = config_with(
        replace=(
            (
                '{ item = "QA sign-off", assignee = "U0QA"',
                '{ item = "QA sign-off", assignee = "@sre"',
            ),
        )
    )
    desk = desk_for(db, config, clock)
    plan = approved_production_plan(desk)
    with pytest.raises(PermissionDenied, match=r"assignee \(@sre\)"):
        _tick(desk, plan, "U0QA", "QA")
    assert _tick(desk, plan, "U0APPROVER4", "QA").ticked_by == "U0APPROVER4"


def test_ticking_twice_says_it_is_ticked_already(desk: Desk, approved: ReleasePlan) -> None:
    _tick(desk, approved, "U0QA", "QA")
    with pytest.raises(InvalidInput) as again:
        _tick(desk, approved, "U0QA", "qa sign-off")
    assert again.value.message == (
        "'QA sign-off' on R-2 is already ticked (by <@U0QA>, Tue 24 Nov 15:00 UTC)"
    )


def test_unknown_and_ambiguous_items_list_the_candidates(desk: Desk, approved: ReleasePlan) -> None:
    with pytest.raises(NotFound) as unknown:
        _tick(desk, approved, "U0QA", "UAT")
    assert unknown.value.message == (
        "R-2 has no checklist item 'UAT'; its items are 'QA sign-off', 'Smoke tests reviewed'"
    )
    items = [
        ChecklistItem(plan_id=2, name=n, assignee="U0QA", phase="pre_deploy")
        for n in ("Smoke A", "Smoke B")
    ]
    with pytest.raises(InvalidInput) as ambiguous:
        checklists.find_item(items, "smoke", plan_ref="R-2")
    assert ambiguous.value.message == (
        "'smoke' matches several items of R-2: 'Smoke A', 'Smoke B'; say which"
    )


def test_post_release_items_wait_for_the_rollout_and_hold_verifying(
    desk: Desk, approved: ReleasePlan
) -> None:
    with pytest.raises(InvalidInput) as early:
        _tick(desk, approved, "U0QA", "Smoke")
    assert early.value.message == (
        "'Smoke tests reviewed' is ticked once the plan is deploying; R-2 is approved"
    )
    _tick(desk, approved, "U0QA", "QA")
    _walk(desk, approved, Event.DEPLOY, Event.STAGES_DONE)
    with desk.db.session() as session:
        assert [i.name for i in checklists.post_release_open(session, plan_id=2)] == [
            "Smoke tests reviewed"
        ]
    _tick(desk, approved, "U0QA", "Smoke")
    with desk.db.session() as session:
        assert checklists.post_release_open(session, plan_id=2) == []
        plan = plans.get_plan(session, plan_id=2)
    # The engine is asked to look at the plan at once: nothing holds it in verifying now.
    assert plan.next_step_at == desk.ctx.clock.now()


def test_pre_deploy_items_close_when_the_rollout_starts(desk: Desk, approved: ReleasePlan) -> None:
    _walk(desk, approved, Event.DEPLOY)  # as if an earlier gate had let it through
    with pytest.raises(InvalidInput) as late:
        _tick(desk, approved, "U0QA", "QA")
    assert late.value.message == (
        "'QA sign-off' is ticked before the plan starts deploying; R-2 is deploying"
    )


def test_a_closed_plan_has_a_closed_checklist(desk: Desk, approved: ReleasePlan) -> None:
    with desk.db.session() as session:
        plans.cancel_plan(session, ctx=desk.ctx, actor="U0REQUESTER", plan_id=2, reason=None)
    with pytest.raises(InvalidInput, match="R-2 is cancelled"):
        _tick(desk, approved, "U0QA", "QA")


def test_a_menu_value_naming_another_plans_item_is_refused(
    desk: Desk, approved: ReleasePlan
) -> None:
    with desk.db.session() as session:
        item_of_r2 = session.exec(select(ChecklistItem).where(ChecklistItem.plan_id == 2)).first()
        assert item_of_r2 is not None and item_of_r2.id is not None
        with pytest.raises(InvalidInput, match="does not belong"):
            checklists.tick_by_id(
                session, ctx=desk.ctx, actor="U0ADMIN", plan_id=1, item_id=item_of_r2.id
            )
