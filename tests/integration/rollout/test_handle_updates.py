"""What a backend learns while following a stage (a build number, a history id) is persisted."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.ports.deploy import DeployHandle, DeployRequest, DeployState, DeployStatus
from bot.release import plans
from bot.rollout import rollouts
from bot.store.models import DeploymentStage, PlanState
from tests.integration.rollout.conftest import Rig


class LearningBackend:
    """Like Jenkins: the start knows a queue id; a later poll learns the build number."""

    name = "jenkins"

    def __init__(self) -> None:
        self.polls = 0

    def find(self, request: DeployRequest) -> DeployHandle | None:
        return None

    def start(self, request: DeployRequest) -> DeployHandle:
        return DeployHandle(backend=self.name, ref={"key": "k", "queue_id": 7}, url=None)

    def status(self, handle: DeployHandle) -> DeployStatus:
        self.polls += 1
        if self.polls == 1:
            return DeployStatus(
                DeployState.RUNNING, "build #57 is running", ref={"build_number": 57}
            )
        return DeployStatus(DeployState.SUCCEEDED, f"done with {dict(handle.ref)}")

    def cancel(self, handle: DeployHandle) -> None:
        raise AssertionError("not cancelled")


@pytest.mark.parametrize("simple_strategy", ["all_at_once"])
def test_handle_fields_learned_while_polling_are_stored_with_the_stage(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = LearningBackend()
    monkeypatch.setattr(rig.engine._backends, "deployer", lambda service: backend)
    with rig.desk.db.session() as session:
        plans.create_plan(
            session,
            ctx=rig.desk.ctx,
            actor="U0REQUESTER",
            new=plans.NewPlan(service="simple", version="1.4.2", environment="staging"),
        )
    with rig.desk.db.session() as session:
        rollouts.deploy(session, ctx=rig.desk.ctx, actor="U0REQUESTER", plan_id=1)

    rig.drive(lambda p: p.state != PlanState.DEPLOYING or backend.polls >= 2)

    with rig.desk.db.session() as session:
        (stage,) = session.exec(select(DeploymentStage)).all()
        assert stage.handle == {"key": "k", "queue_id": 7, "build_number": 57}
        assert stage.message == "done with {'key': 'k', 'queue_id': 7, 'build_number': 57}"


class HistoryBackend:
    """Like Argo CD: a finished sync reports its history id; a rollback wants it back."""

    name = "argocd"

    def __init__(self) -> None:
        self.started: list[DeployRequest] = []

    def find(self, request: DeployRequest) -> DeployHandle | None:
        return None

    def start(self, request: DeployRequest) -> DeployHandle:
        self.started.append(request)
        ref = {"key": request.idempotency_key, "version": request.version}
        return DeployHandle(backend=self.name, ref=ref, url=None)

    def status(self, handle: DeployHandle) -> DeployStatus:
        if handle.ref["version"] == "1.5.0":
            return DeployStatus(DeployState.FAILED, "Degraded")
        learned = {"history_id": 40 + len(self.started)}
        return DeployStatus(DeployState.SUCCEEDED, "Synced and Healthy", ref=learned)

    def cancel(self, handle: DeployHandle) -> None:
        raise AssertionError("not cancelled")


@pytest.mark.parametrize("simple_strategy", ["all_at_once"])
def test_a_rollback_is_given_the_handle_of_the_stage_that_released_its_version(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = HistoryBackend()
    monkeypatch.setattr(rig.engine._backends, "deployer", lambda service: backend)
    for plan_id, version in ((1, "1.4.2"), (2, "1.5.0")):
        with rig.desk.db.session() as session:
            plans.create_plan(
                session,
                ctx=rig.desk.ctx,
                actor="U0REQUESTER",
                new=plans.NewPlan(service="simple", version=version, environment="staging"),
            )
        with rig.desk.db.session() as session:
            rollouts.deploy(session, ctx=rig.desk.ctx, actor="U0REQUESTER", plan_id=plan_id)
        rig.drive(
            lambda p: p.state not in (PlanState.DEPLOYING, PlanState.ROLLING_BACK),
            plan_id=plan_id,
        )

    assert [(r.action, r.version) for r in backend.started] == [
        ("deploy", "1.4.2"),
        ("deploy", "1.5.0"),
        ("rollback", "1.4.2"),
    ]
    assert backend.started[0].released is None
    released = backend.started[2].released
    assert released is not None and released["history_id"] == 41
    assert released["key"] == backend.started[0].idempotency_key
