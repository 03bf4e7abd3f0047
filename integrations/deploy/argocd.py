"""Argo CD backend: sync an Application to a revision, wait for Synced + Healthy, roll back
by history id, and move an Argo Rollout canary through Argo CD's resource actions.

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

from bot.clock import Clock, SystemClock
from bot.errors import BackendError
from integrations.deploy.base import DeployHandle, DeployRequest, DeployState, DeployStatus
from integrations.deploy.http import ProviderHttp, RetryPolicy, describe_error, secret_or_env

INFO_NAME = "releasebot-key"
_ANY_STATUS = range(200, 600)


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
        self.namespace = namespace  # the Rollout's Kubernetes namespace
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
            history_id = self._history_id(request.version)
            self._refusable("POST", "/rollback", "roll back", {"name": self.app, "id": history_id})
            return self._handle(request, "rollback")
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
            target = self._history_entry(app, request.version)
            synced = app.get("status", {}).get("operationState", {}).get("syncResult", {})
            if target is not None and synced.get("revision") == target.get("revision"):
                return self._handle(request, "rollback")
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
        if sync_status == "Synced" and health_status == "Healthy":
            revision = str(status.get("sync", {}).get("revision", ""))[:12]
            return DeployStatus(DeployState.SUCCEEDED, f"Synced and Healthy at {revision}", url)
        if sync_status == "Synced" and health_status == "Suspended" and self.rollout:
            return DeployStatus(DeployState.SUCCEEDED, "the rollout paused at its canary step", url)
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
        params = {
            "namespace": self.namespace or "",
            "resourceName": self.rollout,
            "version": "v1alpha1",
            "group": "argoproj.io",
            "kind": "Rollout",
        }
        response = self.api.request(
            "POST",
            self._path("/resource/actions"),
            params=params,
            content=json.dumps(action).encode(),
            headers={"Content-Type": "application/json"},
            expected=_ANY_STATUS,
        )
        if response.status_code >= 300:
            raise BackendError(
                f"Argo CD could not {action} rollout {self.rollout}: {describe_error(response)}"
            )

    def _history_entry(self, app: Mapping[str, Any], version: str) -> dict[str, Any] | None:
        history = app.get("status", {}).get("history") or []
        for entry in reversed(history):
            source = entry.get("source") or {}
            if version in (entry.get("revision"), source.get("targetRevision")):
                return dict(entry)
        return None

    def _history_id(self, version: str) -> int:
        app = self._get()
        entry = self._history_entry(app, version)
        if entry is None:
            known = [
                str(h.get("revision", ""))[:12] for h in app.get("status", {}).get("history") or []
            ]
            raise BackendError(
                f"Argo CD has no deployment of {version} in {self.app}'s history to roll back to "
                f"(it has {', '.join(known) or 'none'})"
            )
        return int(entry["id"])

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
        reasons = [
            f"{r.get('kind')}/{r.get('name')}: {r['health'].get('message') or 'Degraded'}"
            for r in status.get("resources") or []
            if (r.get("health") or {}).get("status") == "Degraded"
        ]
        base = f"{self.app} is Degraded"
        return f"{base}: {'; '.join(reasons)}" if reasons else base

    @staticmethod
    def _key_of(operation: Mapping[str, Any]) -> str | None:
        for info in operation.get("info") or []:
            if info.get("name") == INFO_NAME:
                return str(info.get("value"))
        return None

    def _handle(self, request: DeployRequest, kind: str) -> DeployHandle:
        return DeployHandle(
            backend=self.name,
            ref={
                "app": self.app,
                "kind": kind,
                "key": request.idempotency_key,
                "revision": request.version,
                "started_at": int(self.clock.now().timestamp()),
            },
            url=self.app_url,
        )
