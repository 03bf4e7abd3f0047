"""Argo CD backend: sync an Application to a revision, wait for Synced + Healthy, roll back
by history id, and move an Argo Rollout canary through Argo CD's resource actions.

Model: the version is a Git revision of the app's source, and the app's targetRevision must
resolve to the same commit (Argo CD compares the app with its targetRevision); when it does not,
the stage fails as soon as the sync finishes instead of waiting for a Synced that never comes.
A finished sync reports the history id Argo CD recorded for it (DeployStatus.ref, persisted in
the stage's handle); a rollback returns to that id, or, for a release made elsewhere, resolves
the version to a commit through the app's repository (GetManifests) and finds it in the history.
Resource actions use /resource/actions/v2 (Argo CD 3.1+) and fall back to v1 once per process;
the Rollout's namespace is the configured one, else where Argo CD lists the Rollout, else the
app's destination. Degraded reasons come from status.resources (2.x) or the resource tree (3.x).

Retried: GET and DELETE (terminate operation). Sync, rollback and resource actions are POSTs
Argo CD does not document as idempotent, so they are sent once. Each sync carries the
idempotency key as an operation `info` entry (`releasebot-key`), which `find` looks for after a
restart. Refusals are turned into next steps: "another operation is already in progress" and
auto-sync conflicts each get a clear message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import Field

from bot.domain.clock import Clock, SystemClock
from bot.domain.config import BackendSettings
from bot.domain.config.values import EnvVarName, Text, Url
from bot.domain.errors import BackendError
from bot.ports.deploy import DeployHandle, DeployRequest, DeployState, DeployStatus
from integrations.deploy.http import ProviderHttp, RetryPolicy, describe_error, secret_or_env
from integrations.deploy.registration import BackendDeps, register_backend

INFO_NAME = "releasebot-key"
_ANY_STATUS = range(200, 600)


def _no_such_route(response: httpx.Response) -> bool:
    """Argo CD's gateway has no such endpoint (a server older than the call)."""
    if response.status_code in (405, 501):
        return True
    return response.status_code == 404 and describe_error(response).strip().lower() in (
        "not found",
        "404 page not found",
        "",
    )


def _epoch_of(text: str | None) -> float | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class ArgoCDBackend:
    """Drives one Argo CD Application (`app`), optionally with an Argo Rollout (`rollout`)."""

    name = "argocd"

    def __init__(
        self,
        http: httpx.Client,
        *,
        argocd_url: str,
        app: str,
        rollout: str | None = None,
        namespace: str | None = None,
        token: str | None = None,
        token_env: str = "ARGOCD_TOKEN",
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.argocd_url = argocd_url.rstrip("/")
        self.app = app
        self.rollout = rollout
        self.namespace = namespace  # the Rollout's Kubernetes namespace; None: ask Argo CD
        self._actions_v2 = True  # until the server shows it predates /resource/actions/v2
        self.clock = clock or SystemClock()
        bearer = secret_or_env(token, token_env, what="Argo CD")
        self.api = ProviderHttp(
            http,
            provider="Argo CD",
            base_url=self.argocd_url,
            headers={"Authorization": f"Bearer {bearer}", "User-Agent": "releasebot"},
            retry=retry,
        )

    @property
    def app_url(self) -> str:
        return f"{self.argocd_url}/applications/{self.app}"

    def _path(self, rest: str = "") -> str:
        return f"/api/v1/applications/{quote(self.app, safe='')}{rest}"

    # -- DeployBackend -------------------------------------------------------------------

    def start(self, request: DeployRequest) -> DeployHandle:
        if request.undoes:
            # Argo CD rolls back to a revision in its history; the first release has none
            # before it, and syncing this one again would only redeploy what failed.
            raise BackendError(
                f"Argo CD cannot undo {request.version} of {self.app}: nothing was released "
                "before it, so its history has no earlier revision to roll back to. Take it out "
                f"of service in Argo CD by hand ({self.app_url})."
            )
        if request.action == "rollback":
            history_id = self._rollback_id(request)
            self._refusable("POST", "/rollback", "roll back", {"name": self.app, "id": history_id})
            return self._handle(request, "rollback", history_id=history_id)
        if self.rollout and request.stage_index > 0:
            # Later canary stages: the Application already runs the new revision; move the
            # Rollout on to its next step.
            self._rollout_action("resume")
            return self._handle(request, "promote")
        body = {
            "name": self.app,
            "revision": request.version,
            "prune": False,
            "infos": [{"name": INFO_NAME, "value": request.idempotency_key}],
        }
        self._refusable("POST", "/sync", "sync", body)
        return self._handle(request, "sync")

    def find(self, request: DeployRequest) -> DeployHandle | None:
        if request.undoes:
            return None  # never started: `start` refuses it
        app = self._get()
        if request.action == "rollback":
            # Argo CD runs a rollback as a sync to the history entry's revision.
            history_id = self._rollback_id(request)
            entries = app.get("status", {}).get("history") or []
            revision = next((h.get("revision") for h in entries if h.get("id") == history_id), None)
            op_state = app.get("status", {}).get("operationState") or {}
            for operation in (app.get("operation"), op_state.get("operation")):
                if (
                    isinstance(operation, dict)
                    and revision
                    and ((operation.get("sync") or {}).get("revision") == revision)
                ):
                    return self._handle(request, "rollback", history_id=history_id)
            return None
        if self.rollout and request.stage_index > 0:
            return None  # a resume leaves no trace to recognise; see the report note
        operations = [
            app.get("operation"),
            app.get("status", {}).get("operationState", {}).get("operation"),
        ]
        for operation in operations:
            if isinstance(operation, dict) and self._key_of(operation) == request.idempotency_key:
                return self._handle(request, "sync")
        return None

    def status(self, handle: DeployHandle) -> DeployStatus:
        app = self._get()
        status = app.get("status", {})
        health = status.get("health", {})
        health_status = str(health.get("status", "Unknown"))
        sync_status = str(status.get("sync", {}).get("status", "Unknown"))
        url = self.app_url
        if health_status == "Degraded":
            return DeployStatus(DeployState.FAILED, self._degraded(status), url)
        if handle.ref["kind"] == "promote":
            return self._promote_status(health, handle, url)
        op_state = status.get("operationState")
        other = self._key_of((op_state or {}).get("operation", {}))
        requested = self._key_of(app.get("operation") or {})
        if not op_state or (requested == handle.ref["key"] and other != requested):
            # Requested but the controller has not picked it up yet (operationState is older).
            return DeployStatus(DeployState.PENDING, "waiting for Argo CD to start the sync", url)
        if handle.ref["kind"] == "sync" and other and other != handle.ref["key"]:
            return DeployStatus(
                DeployState.FAILED, f"another sync of {self.app} ({other}) replaced this one", url
            )
        phase = str(op_state.get("phase"))
        message = str(op_state.get("message") or "").strip()
        if phase in ("Running", "Terminating"):
            return DeployStatus(
                DeployState.RUNNING, f"sync {phase.lower()}: {message}".rstrip(": "), url
            )
        if phase in ("Failed", "Error"):
            return DeployStatus(DeployState.FAILED, f"Argo CD sync {phase.lower()}: {message}", url)
        if handle.ref["kind"] == "rollback":
            return self._rollback_status(app, handle, phase, health_status, url)
        learned = self._history_of_sync(status) if phase == "Succeeded" else {}
        compared = str(status.get("sync", {}).get("revision") or "")
        synced = str(learned.get("synced_revision") or "")
        if (
            handle.ref["kind"] == "sync"
            and sync_status != "Synced"
            and synced
            and compared
            and synced != compared
        ):
            # The controller compares with spec.source.targetRevision: an app whose target
            # resolves elsewhere will never report Synced for this sync.
            target = (
                status.get("sync", {}).get("comparedTo", {}).get("source", {}).get("targetRevision")
                or self._target_revision()
            )
            return DeployStatus(
                DeployState.FAILED,
                f"Argo CD synced {self.app} to {handle.ref['revision']} ({synced[:12]}) but "
                f"compares it with its target revision {target} ({compared[:12]}), so it will "
                f"never report Synced. Point the app's targetRevision at the release "
                f"(argocd app set {self.app} --revision {handle.ref['revision']}) or release "
                "the revision the app tracks",
                url,
                ref=learned,
            )
        if sync_status == "Synced" and health_status == "Healthy":
            revision = compared[:12]
            return DeployStatus(
                DeployState.SUCCEEDED, f"Synced and Healthy at {revision}", url, ref=learned
            )
        if sync_status == "Synced" and health_status == "Suspended" and self.rollout:
            return DeployStatus(
                DeployState.SUCCEEDED, "the rollout paused at its canary step", url, ref=learned
            )
        return DeployStatus(
            DeployState.RUNNING,
            f"waiting for Synced + Healthy (now {sync_status} + {health_status})",
            url,
        )

    def cancel(self, handle: DeployHandle) -> None:
        if handle.ref["kind"] == "promote":
            self.abort(handle)
            return
        response = self.api.request("DELETE", self._path("/operation"), expected=(200, 400, 404))
        detail = describe_error(response) if response.status_code != 200 else ""
        if response.status_code != 200 and "no operation is in progress" not in detail.lower():
            raise BackendError(f"Argo CD answered {response.status_code}: {detail}")

    # -- TrafficControl ------------------------------------------------------------------

    def promote(self, handle: DeployHandle) -> None:
        self._rollout_action("resume")

    def abort(self, handle: DeployHandle) -> None:
        self._rollout_action("abort")

    # -- internals -----------------------------------------------------------------------

    def _target_revision(self) -> str:
        source = self._get().get("spec", {}).get("source") or {}
        return str(source.get("targetRevision") or "HEAD")

    def _get(self) -> dict[str, Any]:
        app = self.api.json(self.api.request("GET", self._path()))
        if not isinstance(app, dict):
            raise BackendError(f"Argo CD sent an unexpected answer for application {self.app}")
        return app

    def _refusable(self, method: str, rest: str, verb: str, body: Any) -> None:
        response = self.api.request(method, self._path(rest), json=body, expected=_ANY_STATUS)
        if response.status_code < 300:
            return
        detail = describe_error(response)
        lowered = detail.lower()
        if "another operation is already in progress" in lowered:
            raise BackendError(
                f"Argo CD refused to {verb} {self.app}: another operation is already in progress. "
                f"Wait for it to finish or terminate it (argocd app terminate-op {self.app})."
            )
        if "auto-sync" in lowered:
            raise BackendError(
                f"Argo CD refused to {verb} {self.app}: {detail}. Auto-sync keeps the app on its "
                f"Git target; turn it off (argocd app set {self.app} --sync-policy none) "
                "or change the target revision in Git."
            )
        raise BackendError(f"Argo CD answered {response.status_code}: {detail}")

    def _rollout_action(self, action: str) -> None:
        if not self.rollout:
            raise BackendError(f"{self.app} has no Argo Rollout configured; set `rollout`")
        # Argo CD finds the resource in the app's tree by group, kind, namespace and name,
        # exactly: an empty namespace is "not found as part of application".
        target = {
            "namespace": self.namespace or self._rollout_namespace(),
            "resourceName": self.rollout,
            "version": "v1alpha1",
            "group": "argoproj.io",
            "kind": "Rollout",
        }
        response: httpx.Response | None = None
        if self._actions_v2:
            response = self.api.request(
                "POST",
                self._path("/resource/actions/v2"),
                json={"name": self.app, "action": action, **target},
                expected=_ANY_STATUS,
            )
            if _no_such_route(response):
                # Argo CD before 3.1 has only the (now deprecated) v1 endpoint.
                self._actions_v2 = False
                response = None
        if response is None:
            response = self.api.request(
                "POST",
                self._path("/resource/actions"),
                params=target,
                content=json.dumps(action).encode(),
                headers={"Content-Type": "application/json"},
                expected=_ANY_STATUS,
            )
        if response.status_code >= 300:
            raise BackendError(
                f"Argo CD could not {action} rollout {self.rollout}: {describe_error(response)}"
            )

    def _rollback_status(
        self,
        app: Mapping[str, Any],
        handle: DeployHandle,
        phase: str,
        health_status: str,
        url: str,
    ) -> DeployStatus:
        """A rollback is Argo CD syncing the history entry's commit; the app then stays
        OutOfSync with its Git target until Git changes, so success is that sync plus health."""
        status = app.get("status", {})
        history_id = int(handle.ref.get("history_id", 0))
        target = next(
            (h.get("revision") for h in status.get("history") or [] if h.get("id") == history_id),
            None,
        )
        op_state = status.get("operationState") or {}
        running = ((op_state.get("operation") or {}).get("sync") or {}).get("revision")
        if app.get("operation") or (target and running != target):
            return DeployStatus(
                DeployState.PENDING, "waiting for Argo CD to start the rollback", url
            )
        if phase == "Succeeded" and health_status == "Healthy":
            return DeployStatus(
                DeployState.SUCCEEDED,
                f"rolled back to history {history_id} ({str(target or '')[:12]}) and Healthy",
                url,
            )
        return DeployStatus(
            DeployState.RUNNING, f"rollback {phase.lower()}, health {health_status}", url
        )

    def _rollout_namespace(self) -> str:
        """Where the Rollout lives: from the app's resources, else its destination."""
        app = self._get()
        for resource in app.get("status", {}).get("resources") or []:
            if (resource.get("group"), resource.get("kind"), resource.get("name")) == (
                "argoproj.io",
                "Rollout",
                self.rollout,
            ) and resource.get("namespace"):
                return str(resource["namespace"])
        destination = str(app.get("spec", {}).get("destination", {}).get("namespace") or "")
        if not destination:
            raise BackendError(
                f"Argo CD does not list Rollout {self.rollout} among {self.app}'s resources and "
                "the app has no destination namespace; set `namespace` for the service"
            )
        return destination

    def _rollback_id(self, request: DeployRequest) -> int:
        """The history id to roll back to for `request.version`.

        Argo CD's history records the resolved commit and the app's source (`targetRevision`
        such as HEAD), never the version. A release made through releasebot recorded its
        history id when its sync completed; otherwise the version is resolved to a commit the
        way Argo CD does (through the app's repository) and looked up by that commit.
        """
        app = self._get()
        history = app.get("status", {}).get("history") or []
        ids = {int(h["id"]): h for h in history if "id" in h}
        released = request.released or {}
        same = released.get("revision") in (None, request.version)
        recorded = released.get("history_id") if same else None
        if recorded and int(recorded) in ids:
            return int(recorded)
        revision = self._resolve(request.version)
        for entry in reversed(history):
            if revision in (entry.get("revision"), *(entry.get("revisions") or [])):
                return int(entry["id"])
        kept = ", ".join(f"{h.get('id')} ({str(h.get('revision', ''))[:12]})" for h in history)
        why = (
            f"the history id {recorded} releasebot recorded is no longer in it"
            if recorded
            else f"{request.version} resolves to {revision[:12]}, which it never deployed"
        )
        raise BackendError(
            f"Argo CD cannot roll {self.app} back to {request.version}: {why} "
            f"(its history keeps {kept or 'nothing'})"
        )

    def _resolve(self, version: str) -> str:
        """The commit Argo CD resolves `version` to in the app's repository."""
        response = self.api.request(
            "GET", self._path("/manifests"), params={"revision": version}, expected=_ANY_STATUS
        )
        if response.status_code >= 300:
            raise BackendError(
                f"Argo CD cannot roll {self.app} back to {version}: it could not resolve "
                f"{version} in the app's repository ({describe_error(response)})"
            )
        return str(self.api.json(response).get("revision") or version)

    def _history_of_sync(self, status: Mapping[str, Any]) -> dict[str, str | int]:
        """The history entry Argo CD wrote for the operation that just succeeded."""
        op_state = status.get("operationState") or {}
        revision = str((op_state.get("syncResult") or {}).get("revision") or "")
        started = op_state.get("startedAt")
        for entry in reversed(status.get("history") or []):
            if (started and entry.get("deployStartedAt") == started) or (
                not entry.get("deployStartedAt") and entry.get("revision") == revision
            ):
                return {"history_id": int(entry["id"]), "synced_revision": revision}
        return {"synced_revision": revision} if revision else {}

    def _promote_status(
        self, health: Mapping[str, Any], handle: DeployHandle, url: str
    ) -> DeployStatus:
        status = str(health.get("status", "Unknown"))
        changed = _epoch_of(health.get("lastTransitionTime"))
        moved = changed is None or changed >= int(handle.ref["started_at"])
        if status == "Healthy":
            return DeployStatus(
                DeployState.SUCCEEDED, f"rollout {self.rollout} is fully promoted", url
            )
        if status == "Suspended" and moved:
            return DeployStatus(
                DeployState.SUCCEEDED, f"rollout {self.rollout} paused at its next step", url
            )
        return DeployStatus(
            DeployState.RUNNING, f"rollout {self.rollout} is moving ({status})", url
        )

    def _degraded(self, status: Mapping[str, Any]) -> str:
        # Argo CD 2.x keeps per-resource health in status.resources; 3.x (by default) only in
        # the resource tree, so ask the tree when the app's resources carry none.
        nodes: list[Mapping[str, Any]] = [
            r for r in status.get("resources") or [] if (r.get("health") or {}).get("status")
        ]
        if not nodes:
            response = self.api.request("GET", self._tree_path(), expected=_ANY_STATUS)
            if response.status_code == 200:
                nodes = list(self.api.json(response).get("nodes") or [])
        reasons = [
            f"{r.get('kind')}/{r.get('name')}: {r['health'].get('message') or 'Degraded'}"
            for r in nodes
            if (r.get("health") or {}).get("status") == "Degraded"
        ]
        base = f"{self.app} is Degraded"
        return f"{base}: {'; '.join(reasons)}" if reasons else base

    def _tree_path(self) -> str:
        return f"/api/v1/applications/{quote(self.app, safe='')}/resource-tree"

    @staticmethod
    def _key_of(operation: Mapping[str, Any]) -> str | None:
        for info in operation.get("info") or []:
            if info.get("name") == INFO_NAME:
                return str(info.get("value"))
        return None

    def _handle(self, request: DeployRequest, kind: str, **extra: str | int) -> DeployHandle:
        return DeployHandle(
            backend=self.name,
            ref={
                "app": self.app,
                "kind": kind,
                "key": request.idempotency_key,
                "revision": request.version,
                "started_at": int(self.clock.now().timestamp()),
                **extra,
            },
            url=self.app_url,
        )


class ArgoCdSettings(BackendSettings):
    """Sync an Argo CD Application (and drive an Argo Rollout when named)."""

    argocd_url: Url = Field(description="the Argo CD server URL")
    app: Text = Field(description="the Argo CD Application name")
    rollout: Text | None = None
    namespace: Text | None = None
    token_env: EnvVarName = "ARGOCD_TOKEN"


def _build(settings: ArgoCdSettings, deps: BackendDeps) -> ArgoCDBackend:
    return ArgoCDBackend(
        deps.http,
        argocd_url=settings.argocd_url,
        app=settings.app,
        rollout=settings.rollout,
        namespace=settings.namespace,
        token=deps.environ.get(settings.token_env),
        token_env=settings.token_env,
    )


register_backend("argocd", ArgoCdSettings, _build)
