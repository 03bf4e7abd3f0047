"""Argo CD backend against recorded Argo CD answers, checked against Argo CD's swagger."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import httpx
import pytest

from bot.errors import BackendError
from integrations.deploy.argocd import ArgoCDBackend
from integrations.deploy.base import DeployRequest, DeployState
from integrations.deploy.http import RetryPolicy

APP = "/api/v1/applications/checkout-prod"
Recorded = Callable[[str], Any]


class FrozenClock:
    def now(self) -> datetime:
        return datetime(2026, 11, 24, 15, 2, 0, tzinfo=UTC)


@pytest.fixture
def argocd(far_side: Any, retry: RetryPolicy) -> ArgoCDBackend:
    return ArgoCDBackend(
        far_side.client(),
        argocd_url="https://argocd.acme.test",
        app="checkout-prod",
        rollout="checkout",
        namespace="checkout",
        token="argo-token",
        retry=retry,
        clock=FrozenClock(),
    )


def app_answer(recorded: Recorded, **changes: Any) -> httpx.Response:
    """The recorded app with dotted-path changes, e.g. health="Degraded"."""
    app = copy.deepcopy(recorded("argocd/app_synced_healthy.json"))
    status = app["status"]
    for key, value in changes.items():
        if key == "health":
            status["health"]["status"] = value
        elif key == "sync":
            status["sync"]["status"] = value
        elif key == "phase":
            status["operationState"]["phase"] = value
        elif key == "message":
            status["operationState"]["message"] = value
        elif key == "key":
            status["operationState"]["operation"]["info"][0]["value"] = value
        elif key == "operation":
            app["operation"] = value
        elif key == "transition":
            status["health"]["lastTransitionTime"] = value
        elif key == "automated":
            app["spec"]["syncPolicy"] = {"automated": {"prune": True}}
        else:
            raise KeyError(key)
    return httpx.Response(200, json=app)


def fits(far_side: Any, contract: ModuleType) -> list[str]:
    description = contract.load("argocd.swagger.json")
    return [description.check(r) for r in far_side.requests]


def test_syncs_to_the_version_and_waits_for_synced_and_healthy(
    argocd: ArgoCDBackend,
    far_side: Any,
    recorded: Recorded,
    request_factory: Callable[..., DeployRequest],
    contract: ModuleType,
) -> None:
    far_side.on("POST", f"{APP}/sync", httpx.Response(200, json={}))
    requested = {
        "sync": {"revision": "1.4.2"},
        "info": [{"name": "releasebot-key", "value": "R-12:deploy:0"}],
    }
    far_side.on(
        "GET",
        APP,
        app_answer(recorded, key="R-11:deploy:0", operation=requested),
        app_answer(
            recorded, phase="Running", message="waiting for healthy state of apps/Deployment"
        ),
        app_answer(recorded, health="Progressing"),
        app_answer(recorded),
    )

    handle = argocd.start(request_factory())
    states = [argocd.status(handle) for _ in range(4)]

    (sync,) = far_side.calls("POST", f"{APP}/sync")
    assert sync.headers["authorization"] == "Bearer argo-token"
    assert json.loads(sync.content) == {
        "name": "checkout-prod",
        "revision": "1.4.2",
        "prune": False,
        "infos": [{"name": "releasebot-key", "value": "R-12:deploy:0"}],
    }
    assert [s.state for s in states] == [
        DeployState.PENDING,
        DeployState.RUNNING,
        DeployState.RUNNING,
        DeployState.SUCCEEDED,
    ]
    assert states[1].message == "sync running: waiting for healthy state of apps/Deployment"
    assert states[2].message == "waiting for Synced + Healthy (now Synced + Progressing)"
    assert states[3].message == "Synced and Healthy at 9f2c1e4b7a3d"
    assert handle.url == "https://argocd.acme.test/applications/checkout-prod"
    assert fits(far_side, contract)[0] == "ApplicationService_Sync"


def test_degraded_health_fails_with_the_resources_own_words(
    argocd: ArgoCDBackend,
    far_side: Any,
    recorded: Recorded,
    request_factory: Callable[..., DeployRequest],
) -> None:
    far_side.on("POST", f"{APP}/sync", httpx.Response(200, json={}))
    degraded = json.loads(app_answer(recorded, health="Degraded").content)
    degraded["status"]["resources"][0]["health"] = {
        "status": "Degraded",
        "message": "RolloutAborted: Rollout aborted update to revision 7",
    }
    far_side.on("GET", APP, httpx.Response(200, json=degraded))

    status = argocd.status(argocd.start(request_factory()))

    assert status.state is DeployState.FAILED
    assert status.message == (
        "checkout-prod is Degraded: "
        "Rollout/checkout: RolloutAborted: Rollout aborted update to revision 7"
    )


def test_a_failed_sync_operation_quotes_argo_cd(
    argocd: ArgoCDBackend,
    far_side: Any,
    recorded: Recorded,
    request_factory: Callable[..., DeployRequest],
) -> None:
    far_side.on("POST", f"{APP}/sync", httpx.Response(200, json={}))
    far_side.on(
        "GET",
        APP,
        app_answer(
            recorded,
            phase="Failed",
            sync="OutOfSync",
            message="one or more objects failed to apply",
        ),
    )

    status = argocd.status(argocd.start(request_factory()))

    assert (status.state, status.message) == (
        DeployState.FAILED,
        "Argo CD sync failed: one or more objects failed to apply",
    )


def test_another_operation_in_progress_is_a_clear_refusal_not_retried(
    argocd: ArgoCDBackend,
    far_side: Any,
    recorded: Recorded,
    request_factory: Callable[..., DeployRequest],
) -> None:
    far_side.on(
        "POST",
        f"{APP}/sync",
        httpx.Response(400, json=recorded("argocd/error_operation_in_progress.json")),
    )

    with pytest.raises(BackendError) as raised:
        argocd.start(request_factory())

    assert raised.value.message == (
        "Argo CD refused to sync checkout-prod: another operation is already in progress. "
        "Wait for it to finish or terminate it (argocd app terminate-op checkout-prod)."
    )
    assert len(far_side.calls("POST", f"{APP}/sync")) == 1


def test_auto_sync_refusals_say_what_to_change(
    argocd: ArgoCDBackend,
    far_side: Any,
    recorded: Recorded,
    request_factory: Callable[..., DeployRequest],
) -> None:
    far_side.on(
        "POST", f"{APP}/sync", httpx.Response(400, json=recorded("argocd/error_sync_autosync.json"))
    )
    far_side.on("GET", APP, app_answer(recorded, automated=True))
    far_side.on(
        "POST",
        f"{APP}/rollback",
        httpx.Response(400, json=recorded("argocd/error_rollback_autosync.json")),
    )

    with pytest.raises(
        BackendError,
        match=r"^Argo CD refused to sync checkout-prod: Cannot sync to 1\.4\.2: "
        r"auto-sync currently set to main\. Auto-sync keeps",
    ):
        argocd.start(request_factory())
    with pytest.raises(
        BackendError,
        match=r"refused to roll back checkout-prod: rollback cannot be initiated "
        r"when auto-sync is enabled.*--sync-policy none",
    ):
        argocd.start(request_factory(action="rollback", version="1.4.1"))


def test_rolls_back_by_history_id(
    argocd: ArgoCDBackend,
    far_side: Any,
    recorded: Recorded,
    request_factory: Callable[..., DeployRequest],
    contract: ModuleType,
) -> None:
    far_side.on("GET", APP, app_answer(recorded))
    far_side.on("POST", f"{APP}/rollback", httpx.Response(200, json={}))

    handle = argocd.start(
        request_factory(action="rollback", version="1.4.1", idempotency_key="R-12:rollback")
    )

    (rollback,) = far_side.calls("POST", f"{APP}/rollback")
    assert json.loads(rollback.content) == {"name": "checkout-prod", "id": 41}
    assert handle.ref["kind"] == "rollback"
    assert fits(far_side, contract) == ["ApplicationService_Get", "ApplicationService_Rollback"]
    with pytest.raises(BackendError, match=r"no deployment of 0\.9\.0 in checkout-prod's history"):
        argocd.start(request_factory(action="rollback", version="0.9.0"))


def test_undoing_a_first_release_is_refused_rather_than_synced_again(
    argocd: ArgoCDBackend,
    far_side: Any,
    recorded: Recorded,
    request_factory: Callable[..., DeployRequest],
) -> None:
    far_side.on("GET", APP, app_answer(recorded))
    undo = request_factory(
        action="rollback", version="1.4.2", weight=0, idempotency_key="R-12:rollback:0:4"
    )

    assert argocd.find(undo) is None
    with pytest.raises(BackendError, match=r"Argo CD cannot undo 1\.4\.2 of checkout-prod"):
        argocd.start(undo)
    assert far_side.requests == []  # nothing synced, nothing rolled back to the failing version


def test_canary_steps_resume_and_abort_the_argo_rollout(
    argocd: ArgoCDBackend,
    far_side: Any,
    recorded: Recorded,
    request_factory: Callable[..., DeployRequest],
    contract: ModuleType,
) -> None:
    actions = f"{APP}/resource/actions"
    far_side.on("POST", actions, httpx.Response(200, json={}))
    far_side.on(
        "GET",
        APP,
        app_answer(recorded, health="Suspended", transition="2026-11-24T14:00:00Z"),
        app_answer(recorded, health="Suspended", transition="2026-11-24T15:02:30Z"),
    )

    handle = argocd.start(request_factory(stage_index=1, stage_name="canary 50%", weight=50))
    before = argocd.status(handle)
    after = argocd.status(handle)
    argocd.abort(handle)

    assert before.state is DeployState.RUNNING
    assert (after.state, after.message) == (
        DeployState.SUCCEEDED,
        "rollout checkout paused at its next step",
    )
    calls = far_side.calls("POST", actions)
    assert [json.loads(c.content) for c in calls] == ["resume", "abort"]
    assert dict(calls[0].url.params) == {
        "namespace": "checkout",
        "resourceName": "checkout",
        "version": "v1alpha1",
        "group": "argoproj.io",
        "kind": "Rollout",
    }
    assert "ApplicationService_RunResourceAction" in fits(far_side, contract)


def test_status_reads_are_retried_but_syncs_are_not(
    argocd: ArgoCDBackend,
    far_side: Any,
    recorded: Recorded,
    request_factory: Callable[..., DeployRequest],
    sleeps: Any,
) -> None:
    far_side.on("POST", f"{APP}/sync", httpx.Response(503, text="upstream connect error"))
    with pytest.raises(BackendError, match="Argo CD answered 503: upstream connect error"):
        argocd.start(request_factory())
    assert len(far_side.calls("POST", f"{APP}/sync")) == 1

    far_side.on("POST", f"{APP}/sync", httpx.Response(200, json={}))
    handle = argocd.start(request_factory())
    far_side.on("GET", APP, httpx.Response(502), app_answer(recorded))
    assert argocd.status(handle).state is DeployState.SUCCEEDED
    assert sleeps.delays == [0.5]


def test_find_after_a_crash_recognises_its_own_sync(
    argocd: ArgoCDBackend,
    far_side: Any,
    recorded: Recorded,
    request_factory: Callable[..., DeployRequest],
) -> None:
    far_side.on("GET", APP, app_answer(recorded))

    found = argocd.find(request_factory())

    assert found is not None
    assert (found.ref["kind"], found.ref["key"]) == ("sync", "R-12:deploy:0")
    assert argocd.find(request_factory(idempotency_key="R-13:deploy:0")) is None


def test_cancel_terminates_the_operation_and_tolerates_none_running(
    argocd: ArgoCDBackend,
    far_side: Any,
    recorded: Recorded,
    request_factory: Callable[..., DeployRequest],
    contract: ModuleType,
) -> None:
    far_side.on("POST", f"{APP}/sync", httpx.Response(200, json={}))
    handle = argocd.start(request_factory())
    far_side.on(
        "DELETE",
        f"{APP}/operation",
        httpx.Response(200, json={}),
        httpx.Response(400, json=recorded("argocd/error_no_operation.json")),
    )

    argocd.cancel(handle)
    argocd.cancel(handle)

    assert len(far_side.calls("DELETE", f"{APP}/operation")) == 2
    assert fits(far_side, contract)[-1] == "ApplicationService_TerminateOperation"


def test_a_missing_token_names_the_variable_the_config_and_readme_use(
    monkeypatch: pytest.MonkeyPatch, far_side: Any
) -> None:
    monkeypatch.delenv("ARGOCD_TOKEN", raising=False)
    with pytest.raises(Exception, match="set the ARGOCD_TOKEN environment variable"):
        ArgoCDBackend(far_side.client(), argocd_url="https://argocd.acme.test", app="checkout")
    monkeypatch.setenv("ARGOCD_TOKEN", "from-env")
    backend = ArgoCDBackend(far_side.client(), argocd_url="https://argocd.acme.test", app="c")
    assert backend.api.headers["Authorization"] == "Bearer from-env"
