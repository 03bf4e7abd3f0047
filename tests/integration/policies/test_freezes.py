"""Ad-hoc freezes, rollback locks and break-glass overrides at the deploy gate."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from bot.domain.errors import InvalidInput, PermissionDenied
from bot.release import checklists, freezes, gates, plans
from bot.release.approvals import approval_status, decide
from bot.release.desk import Desk
from bot.store.models import Approval, AuditEvent, Decision, Freeze, OutboxMessage, ReleasePlan
from console.testing import ManualClock
from tests.integration.policies.conftest import released_to_staging


@pytest.fixture
def ready(desk: Desk, approved: ReleasePlan) -> ReleasePlan:
    """R-2, approved, QA sign-off ticked: deployable unless something is frozen."""
    assert approved.id is not None
    with desk.db.session() as session:
        checklists.tick(session, ctx=desk.ctx, actor="U0QA", plan_id=approved.id, item="QA")
    return approved


def _deploy(desk: Desk, plan: ReleasePlan, actor: str = "U0REQUESTER") -> None:
    with desk.db.session() as session:
        fresh = plans.get_plan(session, plan_id=plan.id or 0)
        gates.ensure_deployable(session, ctx=desk.ctx, plan=fresh, actor=actor)


def _freeze(desk: Desk, *, env: str = "production", until: timedelta | None = None) -> Freeze:
    with desk.db.session() as session:
        return freezes.freeze(
            session,
            ctx=desk.ctx,
            actor="U0ADMIN",
            environment=env,
            until=desk.ctx.clock.now() + until if until else None,
            reason="Black Friday",
        )


def _actions(desk: Desk) -> list[str]:
    with desk.db.session() as session:
        return [e.action for e in session.exec(select(AuditEvent).order_by(col(AuditEvent.id)))]


def _posts(desk: Desk, since: int = 0) -> list[tuple[str, str]]:
    with desk.db.session() as session:
        rows = session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.kind != "card", col(OutboxMessage.id) > since)
            .order_by(col(OutboxMessage.id))
        ).all()
    return [(r.channel, r.payload.get("template") or r.payload["text"]) for r in rows]


def test_a_freeze_refuses_deploys_until_it_ends(
    desk: Desk, ready: ReleasePlan, clock: ManualClock
) -> None:
    _deploy(desk, ready)
    _freeze(desk, until=timedelta(hours=2))
    with pytest.raises(PermissionDenied) as refused:
        _deploy(desk, ready)
    assert refused.value.message == (
        "production is frozen: Black Friday (ad-hoc freeze by <@U0ADMIN>, until Tue 24 Nov "
        "17:00 UTC). To deploy anyway, deploy with "
        '`/release deploy R-2 --override "&lt;reason&gt;"`: '
        "an admin must approve the override"
    )
    assert refused.value.plan_id == ready.id
    assert _actions(desk)[-1] == "freeze.started"
    assert (
        "C0RELEASES",
        ":snowflake: <@U0ADMIN> froze *production* until Tue 24 Nov 17:00 UTC: Black Friday. "
        'Deploys there need `--override "&lt;reason&gt;"` and an admin\'s approval.',
    ) in _posts(desk)
    clock.advance(timedelta(hours=2))
    _deploy(desk, ready)


def test_a_freeze_of_staging_leaves_production_alone(desk: Desk, ready: ReleasePlan) -> None:
    _freeze(desk, env="staging")
    _deploy(desk, ready)


def test_a_freeze_that_would_be_over_already_is_refused(desk: Desk) -> None:
    with desk.db.session() as session, pytest.raises(InvalidInput, match="already be over"):
        freezes.freeze(
            session,
            ctx=desk.ctx,
            actor="U0ADMIN",
            environment="production",
            until=desk.ctx.clock.now(),
            reason="x",
        )


def test_a_new_freeze_replaces_the_running_one(desk: Desk, clock: ManualClock) -> None:
    _freeze(desk, until=timedelta(hours=1))
    extended = _freeze(desk, until=timedelta(hours=5))
    with desk.db.session() as session:
        active = freezes.active_freezes(
            session, ctx=desk.ctx, environment="production", at=clock.now()
        )
    assert [(w.kind, w.ends_at) for w in active] == [("manual", extended.ends_at)]
    assert _actions(desk) == ["freeze.started", "freeze.lifted", "freeze.started"]


def test_unfreeze_lifts_freezes_but_not_rollback_locks(
    desk: Desk, ready: ReleasePlan, clock: ManualClock
) -> None:
    _freeze(desk)
    with desk.db.session() as session:
        freezes.lock_after_rollback(
            session,
            ctx=desk.ctx,
            plan=ready,
            actor="releasebot",
            reason="error rate",
            rolled_back_by="releasebot",
        )
    with desk.db.session() as session:
        lifted = freezes.unfreeze(session, ctx=desk.ctx, actor="U0ADMIN", environment="production")
    assert [w.kind for w in lifted] == ["manual"]
    assert _actions(desk)[-1] == "freeze.lifted"
    with pytest.raises(PermissionDenied, match="checkout is locked in production"):
        _deploy(desk, ready)
    with desk.db.session() as session, pytest.raises(InvalidInput) as nothing:
        freezes.unfreeze(session, ctx=desk.ctx, actor="U0ADMIN", environment="production")
    assert nothing.value.message == (
        "production has no ad-hoc freeze to lift; checkout is locked in production: R-2 (1.4.2) "
        "was rolled back: error rate (automatically) (until a new plan of a version other than "
        "1.4.2 is approved, or an admin runs "
        '`/release unlock checkout production "&lt;reason&gt;"`). '
        "`/release unfreeze` does not lift rollback locks"
    )


def test_unfreeze_cannot_lift_a_recurring_freeze_and_says_what_to_do(
    desk: Desk, clock: ManualClock
) -> None:
    clock.advance(timedelta(days=3, hours=3))  # Friday 18:00 UTC: the weekend freeze holds
    with desk.db.session() as session, pytest.raises(InvalidInput) as refused:
        freezes.unfreeze(session, ctx=desk.ctx, actor="U0ADMIN", environment="production")
    assert refused.value.message == (
        "production has no ad-hoc freeze to lift; production is frozen: "
        "Weekend freeze (environments.production.freezes[0], until Mon 30 Nov 08:00 UTC): "
        'change it in releasebot.toml, or deploy with `--override "&lt;reason&gt;"`'
    )


def test_a_rollback_lock_holds_its_service_until_a_new_plan_is_approved(
    desk: Desk, ready: ReleasePlan
) -> None:
    with desk.db.session() as session:
        lock = freezes.lock_after_rollback(
            session,
            ctx=desk.ctx,
            plan=ready,
            actor="releasebot",
            reason="error rate 7%",
            rolled_back_by="releasebot",
        )
    with desk.db.session() as session:
        again = freezes.lock_after_rollback(
            session,
            ctx=desk.ctx,
            plan=ready,
            actor="releasebot",
            reason="twice",
            rolled_back_by="releasebot",
        )
    assert again.id == lock.id
    with pytest.raises(PermissionDenied) as refused:
        _deploy(desk, ready)
    assert refused.value.message.startswith(
        "checkout is locked in production: R-2 (1.4.2) was rolled back: error rate 7% "
        "(automatically) (until a new plan of a version other than 1.4.2 is approved, or an "
        'admin runs `/release unlock checkout production "&lt;reason&gt;"`). R-2 cannot lift the '
        "lock: it is the version that was rolled back (1.4.2)."
    )
    with desk.db.session() as session:
        others = freezes.active_freezes(
            session, ctx=desk.ctx, environment="production", service="payments", at=lock.starts_at
        )
    assert others == ()
    released_to_staging(desk, version="1.4.3")
    with desk.db.session() as session:
        replanned = plans.create_plan(
            session,
            ctx=desk.ctx,
            actor="U0REQUESTER",
            new=plans.NewPlan(service="checkout", version="1.4.3", environment="production"),
        )
    assert replanned.risks == [
        "The last release was rolled back: R-2 (1.4.2) was rolled back: error rate 7%"
    ]
    with pytest.raises(PermissionDenied, match="checkout is locked"):
        _deploy(desk, ready)  # planned, not approved yet: the lock holds
    for approver in ("U0APPROVER1", "U0APPROVER2"):
        with desk.db.session() as session:
            decide(
                session,
                ctx=desk.ctx,
                actor=approver,
                plan_id=replanned.id or 0,
                decision=Decision.APPROVE,
                comment=None,
            )
    assert _actions(desk)[-1] == "lock.lifted"
    _deploy(desk, ready)


# -- break-glass overrides --------------------------------------------------------------------


def _request(
    desk: Desk, plan: ReleasePlan, actor: str = "U0REQUESTER"
) -> gates.OverrideStatus | None:
    with desk.db.session() as session:
        return gates.request_override(
            session, ctx=desk.ctx, actor=actor, plan_id=plan.id or 0, reason="payment outage fix"
        )


def _approve(desk: Desk, plan: ReleasePlan, actor: str = "U0ADMIN") -> gates.OverrideStatus:
    with desk.db.session() as session:
        fresh = plans.get_plan(session, plan_id=plan.id or 0)
        return gates.approve_override(
            session,
            ctx=desk.ctx,
            actor=actor,
            plan_id=plan.id or 0,
            round_seen=fresh.approval_round,
        )


def test_an_override_needs_an_admin_and_then_lets_the_deploy_through(
    desk: Desk, ready: ReleasePlan
) -> None:
    _freeze(desk)
    status = _request(desk, ready)
    assert status is not None and status.fresh and status.asked == ("U0ADMIN",)
    assert not status.approved
    assert ("U0ADMIN", "override_request") in _posts(desk)
    with pytest.raises(InvalidInput) as waiting:
        _deploy(desk, ready)
    assert waiting.value.message.endswith(
        "R-2 is waiting for an admin to approve the override <@U0REQUESTER> asked for"
    )

    again = _request(desk, ready)  # asking twice asks nobody twice
    assert again is not None and not again.fresh
    assert [p for p in _posts(desk) if p[1] == "override_request"] == [
        ("U0ADMIN", "override_request")
    ]

    before = len(_posts(desk))
    approved = _approve(desk, ready)
    assert approved.approved_by == "U0ADMIN"
    announcement = (
        ":rotating_light: Break-glass: <@U0ADMIN> approved deploying checkout `1.4.2` to "
        "production (R-2) through a freeze, as <@U0REQUESTER> asked: payment outage fix"
    )
    posted = _posts(desk)[before:]
    assert ("C0RELEASES", announcement) in posted
    assert ("C0ANNOUNCE", announcement) in posted
    assert any(c == "U0REQUESTER" and "approved your override of R-2" in t for c, t in posted)
    _deploy(desk, ready)  # the plain Deploy passes now
    assert _request(desk, ready) is None

    with desk.db.session() as session:
        plan = plans.get_plan(session, plan_id=ready.id or 0)
        assert plan.override_reason == "payment outage fix"
        status_now = approval_status(session, ctx=desk.ctx, plan=plan)
        overrides = session.exec(select(Approval).where(col(Approval.is_override).is_(True))).all()
    assert len(status_now.approvals) == 2  # the override never counts toward the quorum
    assert [(o.approver_id, o.decision) for o in overrides] == [("U0ADMIN", "approve")]
    trail = _actions(desk)
    assert trail.index("override.requested") < trail.index("override.approved")


def test_without_a_freeze_an_override_is_not_needed(desk: Desk, ready: ReleasePlan) -> None:
    assert _request(desk, ready) is None
    assert "override.requested" not in _actions(desk)


def test_an_override_is_asked_only_for_a_plan_that_could_deploy_otherwise(
    desk: Desk, approved: ReleasePlan
) -> None:
    _freeze(desk)
    with pytest.raises(InvalidInput, match="can't deploy until it is ticked: QA sign-off"):
        _request(desk, approved)


def test_nobody_approves_their_own_override(desk: Desk, ready: ReleasePlan) -> None:
    _freeze(desk)
    status = _request(desk, ready, actor="U0ADMIN")
    assert status is not None and status.asked == ()  # the only admin asked for it
    with pytest.raises(PermissionDenied, match="another admin must approve it"):
        _approve(desk, ready, actor="U0ADMIN")


def test_only_admins_approve_an_override(desk: Desk, ready: ReleasePlan) -> None:
    _freeze(desk)
    _request(desk, ready)
    with pytest.raises(PermissionDenied) as refused:
        _approve(desk, ready, actor="U0APPROVER1")
    assert refused.value.message == (
        "you may not override in production: "
        "environments.production.permissions.override allows admins"
    )


def test_an_approver_of_the_plan_cannot_also_be_its_override(desk: Desk) -> None:
    released_to_staging(desk)
    with desk.db.session() as session:
        plan = plans.create_plan(
            session,
            ctx=desk.ctx,
            actor="U0REQUESTER",
            new=plans.NewPlan(service="checkout", version="1.4.2", environment="production"),
        )
    for approver in ("U0APPROVER1", "U0ADMIN"):  # the admin approves as a member of @sre
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
        checklists.tick(session, ctx=desk.ctx, actor="U0QA", plan_id=plan.id or 0, item="QA")
    _freeze(desk)
    _request(desk, plan)
    with pytest.raises(InvalidInput, match="already decided on R-2 as an approver"):
        _approve(desk, plan)


def test_editing_the_plan_drops_its_override(desk: Desk, ready: ReleasePlan) -> None:
    _freeze(desk)
    _request(desk, ready)
    _approve(desk, ready)
    released_to_staging(desk, version="1.4.3")
    with desk.db.session() as session:
        plans.edit_plan(
            session,
            ctx=desk.ctx,
            actor="U0REQUESTER",
            plan_id=ready.id or 0,
            edit=plans.PlanEdit(version="1.4.3"),
        )
    with desk.db.session() as session:
        plan = plans.get_plan(session, plan_id=ready.id or 0)
        assert gates.override_status(session, plan=plan) is None
    with desk.db.session() as session, pytest.raises(InvalidInput, match="changed after"):
        gates.approve_override(
            session, ctx=desk.ctx, actor="U0ADMIN", plan_id=ready.id or 0, round_seen=1
        )
