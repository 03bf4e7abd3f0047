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

from bot.domain.errors import BackendError
from bot.ports.deploy import DeployRequest, DeployState
from console.testing import ManualClock
from integrations.deploy.argocd import ArgoCDBackend
from integrations.deploy.http import RetryPolicy

APP = "/api/v1/applications/checkout-prod"
Recorded = Callable[[str], Any]


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
        clock=ManualClock(datetime(2026, 11, 24, 15, 2, 0, tzinfo=UTC)),
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
    far_side.on("GET", f"{APP}/manifests", httpx.Response(200, json={"revision": "1" * 40}))
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
    far_side.on("GET", f"{APP}/manifests", httpx.Response(200, json={"revision": "1" * 40}))
    far_side.on("POST", f"{APP}/rollback", httpx.Response(200, json={}))

    handle = argocd.start(
        request_factory(action="rollback", version="1.4.1", idempotency_key="R-12:rollback")
    )

    (rollback,) = far_side.calls("POST", f"{APP}/rollback")
    assert json.loads(rollback.content) == {"name": "checkout-prod", "id": 41}
    assert handle.ref["kind"] == "rollback"
    assert fits(far_side, contract) == [
        "ApplicationService_Get",
        "ApplicationService_GetManifests",
        "ApplicationService_Rollback",
    ]


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
    actions = f"{APP}/resource/actions/v2"
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
    assert [json.loads(c.content)["action"] for c in calls] == ["resume", "abort"]
    assert json.loads(calls[0].content) == {
        "name": "checkout-prod",
        "action": "resume",
        "namespace": "checkout",
        "resourceName": "checkout",
        "version": "v1alpha1",
        "group": "argoproj.io",
        "kind": "Rollout",
    }
    assert "ApplicationService_RunResourceActionV2" in fits(far_side, contract)


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


# -- a stateful Argo CD that enforces the server's rules --------------------------------------

REPO_URL = "https://github.com/acme/checkout-deploy.git"
SWAGGER = {  # assets/swagger.json of each Argo CD release, trimmed (api/SOURCES.md)
    (2, 9): "argocd-2.9.0.swagger.json",
    (2, 14): "argocd-2.14.0.swagger.json",
    (3, 0): "argocd-3.0.0.swagger.json",
    (3, 1): "argocd-3.1.0.swagger.json",
    (3, 6): "argocd.swagger.json",
}
TAGS = {  # the app's repository: what Argo CD's repo-server resolves each revision to
    "main": "9f2c1e4b7a3d5c6e8f9a0b1c2d3e4f5a6b7c8d9e",
    "HEAD": "9f2c1e4b7a3d5c6e8f9a0b1c2d3e4f5a6b7c8d9e",
    "1.4.2": "9f2c1e4b7a3d5c6e8f9a0b1c2d3e4f5a6b7c8d9e",
    "1.4.1": "1111111111111111111111111111111111111111",
    "1.5.0": "5555555555555555555555555555555555555555",
}


class FakeArgoCD:
    """Argo CD's application API as server/application/application.go behaves.

    - resource actions find the resource in the app's tree by group, kind, namespace and name,
      exactly (`tree.FindNode`), else 400 "... not found as part of application ...";
    - /resource/actions/v2 exists from 3.1 on; older servers answer the gateway's 404;
    - rollback takes a history id (400 "does not have deployment with id" otherwise) and runs
      a sync to that entry's revision and source;
    - a sync resolves the revision (tag → commit), records a history entry with the commit and
      the app's source (targetRevision as in the spec), and the controller then compares the
      live state with spec.source.targetRevision;
    - 3.x keeps per-resource health only in the resource tree, 2.x also in status.resources.
    """

    def __init__(
        self, contract: ModuleType, *, version: tuple[int, int] = (3, 6), target: str = "main"
    ) -> None:
        # Every request must fit the description of the server version it talks to.
        self.description = contract.load(SWAGGER.get(version, "argocd.swagger.json"))
        self.unrouted: list[str] = []
        self.version = version
        self.target = target
        self.actions: list[tuple[str, str, dict[str, Any]]] = []  # (endpoint, action, params)
        self.requests: list[httpx.Request] = []
        self.degraded: str | None = None
        self.history: list[dict[str, Any]] = [
            self._entry(41, "1.4.1", "2026-11-20T10:00:00Z"),
        ]
        self.op_state: dict[str, Any] | None = None
        self.synced_to = TAGS["1.4.1"]

    def _entry(self, id_: int, revision: str, started: str) -> dict[str, Any]:
        source = {"repoURL": REPO_URL, "path": "k8s/prod", "targetRevision": self.target}
        return {
            "id": id_,
            "revision": TAGS.get(revision, revision),
            "deployStartedAt": started,
            "deployedAt": started,
            "source": source,
            "initiatedBy": {"username": "releasebot"},
        }

    def app(self) -> dict[str, Any]:
        compared = TAGS[self.target]
        resources = []
        for node in self.tree()["nodes"]:
            keys = ("group", "version", "kind", "namespace", "name")
            resource = {k: node[k] for k in keys if k in node}
            resource["status"] = "Synced"
            if self.version < (3, 0):
                resource["health"] = node["health"]
            resources.append(resource)
        status: dict[str, Any] = {
            "sync": {
                "status": "Synced" if self.synced_to == compared else "OutOfSync",
                "revision": compared,
                "comparedTo": {
                    "source": {
                        "repoURL": REPO_URL,
                        "path": "k8s/prod",
                        "targetRevision": self.target,
                    },
                    "destination": {
                        "server": "https://kubernetes.default.svc",
                        "namespace": "checkout",
                    },
                },
            },
            "health": {"status": "Degraded" if self.degraded else "Healthy"},
            "resources": resources,
            "history": self.history,
        }
        if self.op_state:
            status["operationState"] = self.op_state
        return {
            "metadata": {"name": "checkout-prod", "namespace": "argocd"},
            "spec": {
                "project": "default",
                "source": {"repoURL": REPO_URL, "path": "k8s/prod", "targetRevision": self.target},
                "destination": {
                    "server": "https://kubernetes.default.svc",
                    "namespace": "checkout",
                },
            },
            "status": status,
        }

    def tree(self) -> dict[str, Any]:
        rollout_health = {"status": "Healthy"}
        if self.degraded:
            rollout_health = {"status": "Degraded", "message": self.degraded}
        return {
            "nodes": [
                {
                    "group": "argoproj.io",
                    "version": "v1alpha1",
                    "kind": "Rollout",
                    "namespace": "checkout",
                    "name": "checkout",
                    "uid": "4b1c7f0e-2a11-4f0b-9c55-6a1f1e0d2b33",
                    "health": rollout_health,
                },
                {
                    "version": "v1",
                    "kind": "Service",
                    "namespace": "checkout",
                    "name": "checkout",
                    "uid": "8d2e4a10-7b3c-4e1f-a9d2-0c5b6e7f8a91",
                    "health": {"status": "Healthy"},
                },
            ]
        }

    def _run(self, revision: str, info: list[dict[str, str]]) -> httpx.Response:
        """The controller runs the operation to completion at once."""
        started = f"2026-11-24T15:02:{30 + len(self.history):02d}Z"
        commit = TAGS.get(revision, revision)
        entry = self._entry(max(h["id"] for h in self.history) + 1, commit, started)
        self.history.append(entry)
        self.synced_to = commit
        self.op_state = {
            "operation": {"sync": {"revision": revision}, "info": info},
            "phase": "Succeeded",
            "message": "successfully synced (all tasks run)",
            "syncResult": {"revision": commit},
            "startedAt": started,
            "finishedAt": started,
        }
        return httpx.Response(200, json=self.app())

    def _find_node(self, params: dict[str, Any]) -> bool:
        return any(
            (n.get("group", ""), n["kind"], n["namespace"], n["name"])
            == (
                params.get("group", ""),
                params.get("kind"),
                params.get("namespace"),
                params.get("resourceName"),
            )
            for n in self.tree()["nodes"]
        )

    def _refuse(self, message: str, code: int = 3, status: int = 400) -> httpx.Response:
        return httpx.Response(status, json={"error": message, "code": code, "message": message})

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path, method = request.url.path, request.method
        if path.endswith("/resource/actions/v2") and self.version < (3, 1):
            self.unrouted.append(path)
            return httpx.Response(404, json={"code": 5, "message": "Not Found"})
        self.description.check(request)
        if method == "GET" and path == APP:
            return httpx.Response(200, json=self.app())
        if method == "GET" and path == f"{APP}/resource-tree":
            return httpx.Response(200, json=self.tree())
        if method == "GET" and path == f"{APP}/manifests":
            revision = request.url.params.get("revision") or self.target
            if revision not in TAGS:
                return self._refuse(
                    f"Unable to resolve '{revision}' to a commit SHA", code=2, status=500
                )
            return httpx.Response(
                200, json={"manifests": [], "revision": TAGS[revision], "sourceType": "Directory"}
            )
        if method == "POST" and path == f"{APP}/sync":
            body = json.loads(request.content)
            return self._run(body["revision"], body.get("infos") or [])
        if method == "POST" and path == f"{APP}/rollback":
            body = json.loads(request.content)
            entry = next((h for h in self.history if h["id"] == body.get("id")), None)
            if entry is None:
                return self._refuse(
                    "application argocd/checkout-prod does not have deployment with id "
                    f"{body.get('id')}"
                )
            return self._run(entry["revision"], [])
        if method == "DELETE" and path == f"{APP}/operation":
            # The controller finished every operation at once: nothing left to terminate.
            return self._refuse("Unable to terminate operation. No operation is in progress")
        if method == "POST" and path == f"{APP}/resource/actions/v2":
            body = json.loads(request.content)
            return self._action("v2", body["action"], body)
        if method == "POST" and path == f"{APP}/resource/actions":
            return self._action("v1", json.loads(request.content), dict(request.url.params))
        return httpx.Response(404, json={"code": 5, "message": "Not Found"})

    def _action(self, endpoint: str, action: str, params: dict[str, Any]) -> httpx.Response:
        if not self._find_node(params):
            return self._refuse(
                f"{params.get('kind')} {params.get('group')} {params.get('resourceName')} "
                "not found as part of application checkout-prod"
            )
        self.actions.append((endpoint, action, params))
        return httpx.Response(200, json=self.app())


def _backend(fake: FakeArgoCD, retry: RetryPolicy, **config: Any) -> ArgoCDBackend:
    return ArgoCDBackend(
        httpx.Client(transport=httpx.MockTransport(fake)),
        argocd_url="https://argocd.acme.test",
        app="checkout-prod",
        token="argo-token",
        retry=retry,
        clock=ManualClock(datetime(2026, 11, 24, 15, 2, 0, tzinfo=UTC)),
        **config,
    )


@pytest.mark.parametrize("server", [(3, 6), (3, 1), (3, 0), (2, 14)])
def test_rollout_actions_without_a_configured_namespace_use_the_rollouts_own(
    server: tuple[int, int],
    retry: RetryPolicy,
    request_factory: Callable[..., DeployRequest],
    contract: ModuleType,
) -> None:
    fake = FakeArgoCD(contract, version=server)
    argocd = _backend(fake, retry, rollout="checkout")  # as the example config: no namespace

    handle = argocd.start(request_factory(stage_index=1, stage_name="canary 50%", weight=50))
    argocd.abort(handle)

    endpoint = "v2" if server >= (3, 1) else "v1"
    assert [(e, a, p["namespace"]) for e, a, p in fake.actions] == [
        (endpoint, "resume", "checkout"),
        (endpoint, "abort", "checkout"),
    ]
    description = contract.load("argocd.swagger.json")
    checked = {description.check(r) for r in fake.requests}
    # The deprecated v1 endpoint only where the server has no v2, and asked once for that.
    assert ("ApplicationService_RunResourceAction" in checked) is (server < (3, 1))
    v2_calls = [r for r in fake.requests if r.url.path.endswith("/resource/actions/v2")]
    assert len(v2_calls) == (2 if server >= (3, 1) else 1)


def test_rollback_goes_to_the_history_id_releasebot_recorded_at_its_own_sync(
    retry: RetryPolicy, request_factory: Callable[..., DeployRequest], contract: ModuleType
) -> None:
    fake = FakeArgoCD(contract)
    argocd = _backend(fake, retry)
    release = request_factory(version="1.4.2", idempotency_key="R-12:rollout:0:1")
    handle = argocd.start(release)
    done = argocd.status(handle)
    assert done.state is DeployState.SUCCEEDED
    recorded = {**handle.ref, **(done.ref or {})}  # what the engine persists
    assert recorded["history_id"] == 42
    assert recorded["synced_revision"] == TAGS["1.4.2"]
    argocd.start(request_factory(version="1.5.0", idempotency_key="R-13:rollout:0:1"))

    back = request_factory(
        action="rollback", version="1.4.2", idempotency_key="R-13:rollback:0:1", released=recorded
    )
    rollback = argocd.start(back)

    assert json.loads(fake.requests[-1].content) == {"name": "checkout-prod", "id": 42}
    assert fake.history[-1]["revision"] == TAGS["1.4.2"]
    assert (argocd.status(rollback).state, argocd.status(rollback).message) == (
        DeployState.SUCCEEDED,
        "rolled back to history 42 (9f2c1e4b7a3d) and Healthy",
    )
    other = request_factory(action="rollback", version="1.4.1", released=recorded)
    argocd.start(other)  # a handle recorded for 1.4.2 is not used for 1.4.1
    assert json.loads(fake.requests[-1].content) == {"name": "checkout-prod", "id": 41}


def test_rollback_to_a_release_made_elsewhere_resolves_the_version_like_argo_cd(
    retry: RetryPolicy, request_factory: Callable[..., DeployRequest], contract: ModuleType
) -> None:
    fake = FakeArgoCD(
        contract
    )  # 1.4.1 was synced by hand: history 41 records its commit, not "1.4.1"
    argocd = _backend(fake, retry)
    argocd.start(request_factory(version="1.4.2"))

    rollback = argocd.start(
        request_factory(action="rollback", version="1.4.1", idempotency_key="R-12:rb")
    )
    assert json.loads(fake.requests[-1].content) == {"name": "checkout-prod", "id": 41}
    assert fake.synced_to == TAGS["1.4.1"]
    # Live again, though Argo CD shows OutOfSync with main until Git changes.
    assert fake.app()["status"]["sync"]["status"] == "OutOfSync"
    assert argocd.status(rollback).state is DeployState.SUCCEEDED

    with pytest.raises(
        BackendError,
        match=r"cannot roll checkout-prod back to 1\.5\.0: 1\.5\.0 resolves to 555555555555, "
        r"which it never deployed \(its history keeps 41 \(111111111111\), 42 \(9f2c1e4b7a3d\)",
    ):
        argocd.start(request_factory(action="rollback", version="1.5.0"))
    with pytest.raises(BackendError, match=r"could not resolve 0\.9\.0 in the app's repository"):
        argocd.start(request_factory(action="rollback", version="0.9.0"))


def test_a_sync_the_controller_will_never_call_synced_fails_at_once(
    retry: RetryPolicy, request_factory: Callable[..., DeployRequest], contract: ModuleType
) -> None:
    fake = FakeArgoCD(contract, target="HEAD")
    argocd = _backend(fake, retry)

    handle = argocd.start(request_factory(version="1.4.1"))
    status = argocd.status(handle)

    assert status.state is DeployState.FAILED
    assert status.message.startswith(
        "Argo CD synced checkout-prod to 1.4.1 (111111111111) but compares it with its target "
        "revision HEAD (9f2c1e4b7a3d), so it will never report Synced."
    )
    assert "argocd app set checkout-prod --revision 1.4.1" in status.message


@pytest.mark.parametrize("server", [(3, 0), (2, 14)])
def test_degraded_reasons_come_from_where_the_server_keeps_resource_health(
    server: tuple[int, int],
    retry: RetryPolicy,
    request_factory: Callable[..., DeployRequest],
    contract: ModuleType,
) -> None:
    fake = FakeArgoCD(contract, version=server)
    argocd = _backend(fake, retry)
    handle = argocd.start(request_factory())
    fake.degraded = 'Rollout aborted update to revision 3: Metric "error-rate" assessed Failed'

    status = argocd.status(handle)

    assert status.state is DeployState.FAILED
    assert status.message == (
        "checkout-prod is Degraded: Rollout/checkout: Rollout aborted update to revision 3: "
        'Metric "error-rate" assessed Failed'
    )


@pytest.mark.parametrize("server", sorted(SWAGGER))
def test_every_request_fits_that_servers_published_description(
    server: tuple[int, int],
    retry: RetryPolicy,
    request_factory: Callable[..., DeployRequest],
    contract: ModuleType,
) -> None:
    fake = FakeArgoCD(contract, version=server)  # checks each request against its swagger
    argocd = _backend(fake, retry, rollout="checkout")

    first = argocd.start(request_factory())
    recorded = {**first.ref, **(argocd.status(first).ref or {})}
    argocd.find(request_factory())
    canary = argocd.start(request_factory(stage_index=1, stage_name="canary 50%", weight=50))
    argocd.promote(canary)
    argocd.abort(canary)
    fake.degraded = "pods crash-looping"
    argocd.status(first)
    back = request_factory(action="rollback", version="1.4.1")  # released by hand: resolved
    argocd.find(back)
    argocd.start(back)
    argocd.start(request_factory(action="rollback", version="1.4.2", released=recorded))
    argocd.cancel(first)

    description = contract.load(SWAGGER[server])
    used = {description.check(r) for r in fake.requests if r.url.path not in fake.unrouted}
    expected = {
        "ApplicationService_Get",
        "ApplicationService_Sync",
        "ApplicationService_GetManifests",
        "ApplicationService_Rollback",
        "ApplicationService_TerminateOperation",
    }
    actions = (
        "ApplicationService_RunResourceActionV2"
        if server >= (3, 1)
        else "ApplicationService_RunResourceAction"
    )
    if server >= (3, 0):
        expected.add("ApplicationService_ResourceTree")  # health lives only in the tree
    assert used == expected | {actions}
    assert len(fake.unrouted) == (0 if server >= (3, 1) else 1)  # v2 asked once, then v1
