"""The rollout engine with a real command backend: strategies, gates, failures, restarts."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from bot.domain.errors import InvalidInput
from bot.release import plans
from bot.rollout import rollouts
from bot.store.models import (
    AuditEvent,
    DeploymentStage,
    Freeze,
    Measurement,
    OutboxMessage,
    PlanState,
    ReleasePlan,
)
from tests.integration.rollout.conftest import Rig


def _plan(rig: Rig, service: str = "checkout", version: str = "1.4.2") -> ReleasePlan:
    with rig.desk.db.session() as session:
        return plans.create_plan(
            session,
            ctx=rig.desk.ctx,
            actor="U0REQUESTER",
            new=plans.NewPlan(service=service, version=version, environment="staging"),
        )


def _do(
    rig: Rig, step, plan_id: int = 1, actor: str = "U0REQUESTER", **kwargs: object
) -> ReleasePlan:  # type: ignore[no-untyped-def]
    with rig.desk.db.session() as session:
        return step(session, ctx=rig.desk.ctx, actor=actor, plan_id=plan_id, **kwargs)  # type: ignore[no-any-return]


def _stages(rig: Rig, plan_id: int = 1) -> list[tuple[str, str, int | None, str]]:
    with rig.desk.db.session() as session:
        rows = session.exec(select(DeploymentStage).where(DeploymentStage.plan_id == plan_id)).all()
        return [(r.phase, r.name, r.weight, r.status) for r in sorted(rows, key=lambda r: r.seq)]


def _transitions(session: Session, plan_id: int = 1) -> list[str | None]:
    return list(
        session.exec(
            select(AuditEvent.to_state).where(
                AuditEvent.plan_id == plan_id,
                AuditEvent.to_state.is_not(None),  # type: ignore[union-attr]
            )
        ).all()
    )


def test_a_canary_goes_through_its_steps_gate_and_checks_to_released(rig: Rig) -> None:
    _plan(rig)
    _do(rig, rollouts.deploy)
    plan = rig.drive(lambda p: any(s[3] == "at_gate" for s in _stages(rig)))
    assert plan.state == PlanState.DEPLOYING
    assert _stages(rig) == [
        ("rollout", "canary 10%", 10, "succeeded"),
        ("rollout", "canary 50%", 50, "at_gate"),
        ("rollout", "canary 100%", 100, "pending"),
    ]
    # The 10% step waited out its 1m pause and measured checkout-health twice before moving on.
    assert rig.health.asked == 2
    _do(rig, rollouts.promote)
    plan = rig.drive(lambda p: p.state == PlanState.RELEASED)
    assert [c["weight"] for c in rig.calls()] == ["10", "50", "100"]
    assert {c["action"] for c in rig.calls()} == {"deploy"}
    assert rig.calls()[0]["argv"] == "checkout 1.4.2 staging 10"
    assert rig.health.asked == 4  # two for the 10% step, two for post-release verification
    with rig.desk.db.session() as session:
        assert _transitions(session) == ["approved", "deploying", "verifying", "released"]
        owed = session.exec(select(OutboxMessage.channel, OutboxMessage.payload)).all()
    assert ("C0ANNOUNCE", {"template": "release_announcement"}) in [(c, p) for c, p in owed]


def test_promote_is_refused_while_a_step_is_running(rig: Rig) -> None:
    _plan(rig)
    _do(rig, rollouts.deploy)
    with pytest.raises(InvalidInput, match="not waiting at a gate or a pause"):
        _do(rig, rollouts.promote)


def test_a_failing_step_rolls_back_and_locks_the_service(rig: Rig) -> None:
    _plan(rig, version="1.4.1")
    _do(rig, rollouts.deploy)
    rig.drive(lambda p: any(s[3] == "at_gate" for s in _stages(rig)))
    _do(rig, rollouts.promote)
    rig.drive(lambda p: p.state == PlanState.RELEASED)

    _plan(rig, version="1.4.2")
    (rig.folder / "fail-10").touch()
    _do(rig, rollouts.deploy, plan_id=2)
    plan = rig.drive(lambda p: p.state == PlanState.ROLLED_BACK, plan_id=2)
    assert plan.rollback_version == "1.4.1"
    rollback_calls = [c for c in rig.calls() if c["action"] == "rollback"]
    assert [(c["version"], c["weight"]) for c in rollback_calls] == [("1.4.1", "100")]
    with rig.desk.db.session() as session:
        lock = session.exec(select(Freeze)).one()
        alerts = session.exec(
            select(OutboxMessage.channel, OutboxMessage.payload).where(OutboxMessage.plan_id == 2)
        ).all()
        stage = session.exec(
            select(DeploymentStage).where(
                DeploymentStage.plan_id == 2, DeploymentStage.status == "failed"
            )
        ).one()
    assert (lock.kind, lock.service, lock.environment) == ("rollback_lock", "checkout", "staging")
    alert_channels = [c for c, p in alerts if p.get("template") == "rollback_alert"]
    assert sorted(alert_channels) == ["C0ONCALL", "C0RELEASES"]
    assert "pods crash-looping" in (stage.output_tail or "")


def test_a_failed_check_during_a_step_rolls_back_with_its_measurements_kept(rig: Rig) -> None:
    _plan(rig)
    rig.health.healthy = False
    _do(rig, rollouts.deploy)
    plan = rig.drive(lambda p: p.state == PlanState.ROLLED_BACK)
    assert plan.state == PlanState.ROLLED_BACK
    with rig.desk.db.session() as session:
        measured = session.exec(select(Measurement)).all()
        reasons = session.exec(
            select(AuditEvent.reason).where(AuditEvent.to_state == "rolling_back")
        ).all()
    assert [m.outcome for m in measured] == ["failure"]
    assert "HTTP 503" in measured[0].detail
    assert reasons and "check checkout-health failed at canary 10%" in (reasons[0] or "")


@pytest.mark.parametrize("on_failure", ["pause"])
def test_on_failure_pause_holds_and_resume_retries_the_step(rig: Rig) -> None:
    _plan(rig, service="simple")
    (rig.folder / "fail-100").touch()
    _do(rig, rollouts.deploy)
    plan = rig.drive(lambda p: p.state == PlanState.PAUSED)
    assert _stages(rig)[-1][3] == "failed"
    (rig.folder / "fail-100").unlink()
    _do(rig, rollouts.resume)
    plan = rig.drive(lambda p: p.state == PlanState.RELEASED)
    keys = [c["key"] for c in rig.calls()]
    assert len(keys) == 2 and keys[0] != keys[1]  # a retry is a new idempotency key
    assert plan.state == PlanState.RELEASED


def test_abort_at_the_gate_rolls_back(rig: Rig) -> None:
    _plan(rig)
    _do(rig, rollouts.deploy)
    rig.drive(lambda p: any(s[3] == "at_gate" for s in _stages(rig)))
    _do(rig, rollouts.abort, reason="error rate up")
    plan = rig.drive(lambda p: p.state == PlanState.ROLLED_BACK)
    # Nothing was released before: the rollback undoes 1.4.2 at weight 0, never redeploys it.
    assert _stages(rig)[-1] == ("rollback", "undo 1.4.2 (weight 0)", 0, "succeeded")
    assert [(c["action"], c["version"], c["weight"], c["previous"]) for c in rig.calls()][-1] == (
        "rollback",
        "1.4.2",
        "0",
        "",
    )
    assert plan.state == PlanState.ROLLED_BACK


@pytest.mark.parametrize("simple_strategy", ["blue_green"])
def test_blue_green_undoes_a_first_release_by_taking_its_colour_out_of_traffic(rig: Rig) -> None:
    _plan(rig, service="simple", version="1.0.0")
    _do(rig, rollouts.deploy)
    rig.drive(lambda p: p.state == PlanState.RELEASED)
    _do(rig, rollouts.rollback, reason="latency")
    rig.drive(lambda p: p.state == PlanState.ROLLED_BACK)
    assert _stages(rig)[-1] == ("rollback", "undo 1.0.0: take blue out of traffic", 0, "succeeded")
    undo = rig.calls()[-1]
    assert (undo["action"], undo["version"], undo["weight"], undo["colour"]) == (
        "rollback",
        "1.0.0",
        "0",
        "blue",
    )
    assert undo["previous"] == ""


@pytest.mark.parametrize("simple_strategy", ["blue_green"])
def test_blue_green_deploys_idle_switches_and_switches_back_on_rollback(rig: Rig) -> None:
    _plan(rig, service="simple", version="1.0.0")
    _do(rig, rollouts.deploy)
    rig.drive(lambda p: p.state == PlanState.RELEASED)
    assert [s[1] for s in _stages(rig)] == ["deploy to blue", "switch traffic to blue"]
    _plan(rig, service="simple", version="1.1.0")
    _do(rig, rollouts.deploy, plan_id=2)
    rig.drive(lambda p: p.state == PlanState.RELEASED, plan_id=2)
    assert [s[1] for s in _stages(rig, 2)] == ["deploy to green", "switch traffic to green"]
    _do(rig, rollouts.rollback, plan_id=2, reason="latency")
    rig.drive(lambda p: p.state == PlanState.ROLLED_BACK, plan_id=2)
    assert _stages(rig, 2)[-1][1] == "switch traffic back to blue"
    assert [(c["weight"], c["action"]) for c in rig.calls()][-1] == ("100", "rollback")


def test_a_restart_between_persisting_and_calling_the_backend_runs_the_step_once(rig: Rig) -> None:
    _plan(rig, service="simple")
    _do(rig, rollouts.deploy)
    # The process dies right after marking the stage STARTING (before or after the backend call).
    with rig.desk.db.session() as session:
        plan = plans.get_plan(session, plan_id=1, for_update=True)
        work = rig.engine._step(session, plan)
    assert work is not None
    work()  # the backend call happened ...
    with rig.desk.db.session() as session:
        # ... but its answer was never recorded: put the row back as the crash left it.
        stage = session.exec(select(DeploymentStage)).one()
        stage.status, stage.handle = "starting", {}
    fresh = rig.make_engine()
    rig.engine = fresh
    with rig.desk.db.session() as session:
        plans.get_plan(session, plan_id=1, for_update=True).next_step_at = rig.clock.now()
    plan = rig.drive(lambda p: p.state == PlanState.RELEASED)
    assert len(rig.calls()) == 1
    assert plan.state == PlanState.RELEASED


def test_a_feature_flag_rollout_deploys_dark_then_ramps_the_flag_and_turns_it_off_on_rollback(
    rig: Rig,
) -> None:
    _plan(rig, service="flagged")
    _do(rig, rollouts.deploy)
    rig.drive(lambda p: p.state == PlanState.RELEASED)
    assert [s[1] for s in _stages(rig)] == ["deploy dark", "flag on for 25%", "flag on for 100%"]
    assert [c["weight"] for c in rig.calls()] == ["0"]  # the code ships dark
    assert rig.health.flag_changes == [
        ["turnFlagOn", "updateFallthroughVariationOrRollout25000"],
        ["turnFlagOn", "updateFallthroughVariationOrRollout100000"],
    ]
    _do(rig, rollouts.rollback, reason="conversion dropped")
    rig.drive(lambda p: p.state == PlanState.ROLLED_BACK)
    assert rig.health.flag_changes[-1] == ["turnFlagOff"]
    assert len(rig.calls()) == 1  # turning the flag off needs no redeploy


@pytest.mark.parametrize("failing_weight", ["10", "50", "100"])
def test_a_failure_at_any_step_rolls_back(rig: Rig, failing_weight: str) -> None:
    _plan(rig)
    (rig.folder / f"fail-{failing_weight}").touch()
    _do(rig, rollouts.deploy)
    plan = rig.drive(
        lambda p: p.state == PlanState.ROLLED_BACK or any(s[3] == "at_gate" for s in _stages(rig))
    )
    if plan.state != PlanState.ROLLED_BACK:
        _do(rig, rollouts.promote)
        plan = rig.drive(lambda p: p.state == PlanState.ROLLED_BACK)
    weights = [c["weight"] for c in rig.calls() if c["action"] == "deploy"]
    assert weights == ["10", "50", "100"][: ["10", "50", "100"].index(failing_weight) + 1]
    assert [c["action"] for c in rig.calls()][-1] == "rollback"
    with rig.desk.db.session() as session:
        assert _transitions(session)[-2:] == ["rolling_back", "rolled_back"]
