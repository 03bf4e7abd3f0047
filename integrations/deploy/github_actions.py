"""GitHub Actions backend: workflow_dispatch, follow the run, record a GitHub Deployment.

API version 2022-11-28 (the version whose description documents `return_run_details`).
GitHub Enterprise Server before 3.21 (3.17-3.19 checked) refuses that key with a 422; the
dispatch is then sent once more without it and the run correlated as for a 204.
Retried: the GETs only. Dispatch, deployment creation, status posts and cancel are POSTs GitHub
does not document as idempotent, so a timeout there fails the stage instead of repeating it.

Correlation: GitHub returns the run id when asked (`return_run_details`); older servers answer
204, and then the run is found again by the `correlation_input` (default `releasebot_key`),
which carries the idempotency key. Give the workflow that input and put it in its run name,
e.g. `run-name: deploy ${{ inputs.version }} (${{ inputs.releasebot_key }})`, so both the 204
fallback and `find` after a restart can recognise the run. With `correlation_input=None` the
204 fallback takes the newest workflow_dispatch run created since the dispatch.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import httpx
from pydantic import Field

from bot.domain.clock import Clock, SystemClock
from bot.domain.config import BackendSettings
from bot.domain.config.commands import DeployTemplate
from bot.domain.config.values import EnvVarName, GithubRepo, Text, Url
from bot.domain.errors import BackendError, InvalidInput
from bot.domain.placeholders import check_templates, render, values_for
from bot.ports.deploy import DeployHandle, DeployRequest, DeployState, DeployStatus
from integrations.deploy.http import ProviderHttp, RetryPolicy, describe_error, secret_or_env
from integrations.deploy.registration import BackendDeps, register_backend

API_VERSION = "2022-11-28"
_PENDING = frozenset({"queued", "requested", "waiting", "pending"})
# Attempts (spaced by the retry policy's backoff) to see a 204-dispatched run appear.
_CORRELATION_ATTEMPTS = 5


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _refuses_run_details(response: httpx.Response) -> bool:
    """GHES before 3.21: 422 `"return_run_details" is not a permitted key`."""
    detail = describe_error(response).lower()
    return "return_run_details" in detail and "not a permitted key" in detail


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class GitHubActionsBackend:
    """Deploys by dispatching a workflow; `repo` is `owner/name`, `workflow` a file or id."""

    name = "github_actions"

    def __init__(
        self,
        http: httpx.Client,
        *,
        repo: str,
        workflow: str,
        ref: str = "main",
        ref_input: str | None = None,
        inputs: Mapping[str, str] | None = None,
        token: str | None = None,
        api_url: str = "https://api.github.com",
        correlation_input: str | None = "releasebot_key",
        record_deployment: bool = True,
        run_wait: timedelta = timedelta(minutes=10),
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
    ) -> None:
        owner, _, name = repo.partition("/")
        if not owner or not name or "/" in name:
            raise InvalidInput(f"github_actions repo must look like owner/name, not {repo!r}")
        self.inputs = dict(inputs or {})
        check_templates(self.inputs.values(), where="github_actions inputs")
        self.repo = repo
        self.workflow = workflow
        self.ref = ref
        self.ref_input = ref_input
        self.correlation_input = correlation_input
        self.record_deployment = record_deployment
        self.run_wait = run_wait
        self.clock = clock or SystemClock()
        self.api = ProviderHttp(
            http,
            provider="GitHub",
            base_url=api_url,
            headers={
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {secret_or_env(token, 'GITHUB_TOKEN', what='GitHub')}",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": "releasebot",
            },
            retry=retry,
        )
        self._run_ids: dict[str, int] = {}  # key -> run id found after a 204 dispatch
        self._reported: set[tuple[int, str]] = set()  # deployment statuses already posted
        # GitHub Enterprise Server before 3.21 refuses `return_run_details` with a 422; once a
        # server has said so, this process dispatches without it.
        self._run_details = True

    # -- DeployBackend -------------------------------------------------------------------

    def start(self, request: DeployRequest) -> DeployHandle:
        deployment_id = 0
        if self.record_deployment:
            deployment_id = self._find_deployment(request) or self._create_deployment(request)
        dispatched_at = self.clock.now()
        try:
            run_id, run_url = self._dispatch(request)
        except BackendError as exc:
            # Nothing half-recorded: the GitHub Deployment says the deploy never started.
            self._report(deployment_id, "error", f"could not start the workflow: {exc.message}")
            raise
        if not run_id:
            run_id, run_url = self._correlate(request.idempotency_key, dispatched_at, wait=True)
        self._report(deployment_id, "in_progress", request.stage_name, log_url=run_url)
        return self._handle(request.idempotency_key, run_id, deployment_id, dispatched_at, run_url)

    def find(self, request: DeployRequest) -> DeployHandle | None:
        if not self.correlation_input:
            return None  # without a correlation input a past dispatch cannot be recognised
        run = self._find_run(request.idempotency_key, since=None)
        if run is None:
            return None
        deployment_id = self._find_deployment(request) if self.record_deployment else 0
        created = _parse_time(str(run["created_at"]))
        return self._handle(
            request.idempotency_key, int(run["id"]), deployment_id or 0, created, run["html_url"]
        )

    def status(self, handle: DeployHandle) -> DeployStatus:
        key = str(handle.ref["key"])
        deployment_id = int(handle.ref.get("deployment_id", 0))
        run_id = int(handle.ref.get("run_id", 0)) or self._run_ids.get(key, 0)
        if not run_id:
            dispatched = datetime.fromtimestamp(
                int(handle.ref["dispatched_at"]), self.clock.now().tzinfo
            )
            run_id, _ = self._correlate(key, dispatched, wait=False)
            if not run_id:
                if self.clock.now() - dispatched > self.run_wait:
                    message = "GitHub accepted the dispatch but no workflow run appeared"
                    self._report(deployment_id, "failure", message)
                    return DeployStatus(DeployState.FAILED, message, handle.url)
                return DeployStatus(
                    DeployState.PENDING, "waiting for GitHub to start the workflow run", handle.url
                )
        run = self.api.json(self.api.request("GET", self._repo_path(f"actions/runs/{run_id}")))
        return self._run_status(run, deployment_id)

    def cancel(self, handle: DeployHandle) -> None:
        key = str(handle.ref["key"])
        run_id = int(handle.ref.get("run_id", 0)) or self._run_ids.get(key, 0)
        if not run_id:
            dispatched = datetime.fromtimestamp(
                int(handle.ref["dispatched_at"]), self.clock.now().tzinfo
            )
            run_id, _ = self._correlate(key, dispatched, wait=False)
        if not run_id:
            return  # no run to cancel (yet); status will report it if one appears
        # 409: the run already completed, which is what cancel wanted anyway.
        self.api.request(
            "POST", self._repo_path(f"actions/runs/{run_id}/cancel"), expected=(202, 409)
        )

    # -- workflow runs -------------------------------------------------------------------

    def _dispatch(self, request: DeployRequest) -> tuple[int, str | None]:
        values = values_for(request)
        inputs = {name: render(template, values) for name, template in self.inputs.items()}
        if self.ref_input:
            inputs[self.ref_input] = request.version
        if self.correlation_input:
            inputs[self.correlation_input] = request.idempotency_key
        body: dict[str, Any] = {"ref": self._dispatch_ref(request), "inputs": inputs}
        if self._run_details:
            body["return_run_details"] = True
        response = self._post_dispatch(body)
        if response.status_code == 422 and _refuses_run_details(response):
            # GHES < 3.21: the dispatch was refused before anything ran, so sending it again
            # without the field cannot start the workflow twice.
            self._run_details = False
            body.pop("return_run_details")
            response = self._post_dispatch(body)
        if response.status_code == 422:
            raise BackendError(f"GitHub answered 422: {describe_error(response)}")
        if response.status_code == 204:
            return 0, None
        details = self.api.json(response)
        return int(details["workflow_run_id"]), str(details["html_url"])

    def _post_dispatch(self, body: Mapping[str, Any]) -> httpx.Response:
        return self.api.request(
            "POST",
            self._workflow_path("dispatches"),
            json=body,
            expected=(200, 204, 422),
            hints={
                404: f"Check that {self.repo} and workflow {self.workflow!r} exist and that the "
                "token may run workflows there",
            },
        )

    def _dispatch_ref(self, request: DeployRequest) -> str:
        # With ref_input the version travels as an input; otherwise it is the ref to run at.
        return self.ref if self.ref_input else request.version

    def _correlate(self, key: str, since: datetime, *, wait: bool) -> tuple[int, str | None]:
        attempts = _CORRELATION_ATTEMPTS if wait else 1
        for attempt in range(attempts):
            run = self._find_run(key, since=since)
            if run is not None:
                self._run_ids[key] = int(run["id"])
                return int(run["id"]), str(run["html_url"])
            if attempt + 1 < attempts:
                self.api.retry.sleep(self.api.retry.backoff(attempt + 1))
        return 0, None

    def _find_run(self, key: str, *, since: datetime | None) -> dict[str, Any] | None:
        params: dict[str, str | int] = {"event": "workflow_dispatch", "per_page": 50}
        if since is not None:
            # A little slack for clock skew between releasebot and GitHub.
            floor = since - timedelta(seconds=30)
            params["created"] = f">={floor.strftime('%Y-%m-%dT%H:%M:%SZ')}"
        page = self.api.json(self.api.request("GET", self._workflow_path("runs"), params=params))
        runs: list[dict[str, Any]] = list(page.get("workflow_runs", []))
        if self.correlation_input:
            for run in runs:
                if key in str(run.get("display_title", "")) or key in str(run.get("name", "")):
                    return run
            return None
        if since is None:
            return None
        fresh = [
            r for r in runs if _parse_time(str(r["created_at"])) >= since - timedelta(seconds=5)
        ]
        return min(fresh, key=lambda r: _parse_time(str(r["created_at"])), default=None)

    def _run_status(self, run: Mapping[str, Any], deployment_id: int) -> DeployStatus:
        url = str(run.get("html_url") or "") or None
        number = run.get("run_number", run.get("id"))
        status = str(run.get("status"))
        if status != "completed":
            state = DeployState.PENDING if status in _PENDING else DeployState.RUNNING
            return DeployStatus(state, f"workflow run #{number} is {status.replace('_', ' ')}", url)
        conclusion = str(run.get("conclusion"))
        if conclusion == "success":
            self._report(deployment_id, "success", f"run #{number} succeeded", log_url=url)
            return DeployStatus(DeployState.SUCCEEDED, f"workflow run #{number} succeeded", url)
        message = f"workflow run #{number} finished: {conclusion.replace('_', ' ')}"
        self._report(deployment_id, "failure", message, log_url=url)
        if conclusion == "cancelled":
            return DeployStatus(DeployState.CANCELLED, f"workflow run #{number} was cancelled", url)
        return DeployStatus(DeployState.FAILED, message, url)

    # -- GitHub Deployments --------------------------------------------------------------

    def _find_deployment(self, request: DeployRequest) -> int:
        params: dict[str, str | int] = {
            "environment": request.environment,
            "task": request.action,
            "per_page": 30,
        }
        found = self.api.json(
            self.api.request("GET", self._repo_path("deployments"), params=params)
        )
        for deployment in found:
            payload = deployment.get("payload")
            if (
                isinstance(payload, dict)
                and payload.get("releasebot_key") == request.idempotency_key
            ):
                return int(deployment["id"])
        return 0

    def _create_deployment(self, request: DeployRequest) -> int:
        body = {
            # What is deployed: the version (a tag) — not the branch the workflow runs from.
            "ref": request.version,
            "task": request.action,
            "auto_merge": False,
            "required_contexts": [],  # the workflow does its own checks; do not block on CI
            "environment": request.environment,
            "description": f"{request.release_id} {request.service} {request.version}: "
            f"{request.stage_name}"[:140],
            "payload": {
                "releasebot_key": request.idempotency_key,
                "release_id": request.release_id,
                "version": request.version,
                "stage": request.stage_name,
            },
            "production_environment": request.environment == "production",
        }
        response = self.api.request(
            "POST", self._repo_path("deployments"), json=body, expected=(201,)
        )
        return int(self.api.json(response)["id"])

    def _report(
        self, deployment_id: int, state: str, description: str, *, log_url: str | None = None
    ) -> None:
        """Post a deployment status once per (deployment, state) in this process."""
        if not deployment_id or (deployment_id, state) in self._reported:
            return
        body: dict[str, str] = {"state": state, "description": description[:140]}
        if log_url:
            body["log_url"] = log_url
        self.api.request(
            "POST",
            self._repo_path(f"deployments/{deployment_id}/statuses"),
            json=body,
            expected=(201,),
        )
        self._reported.add((deployment_id, state))

    # -- paths and handles ---------------------------------------------------------------

    def _repo_path(self, rest: str) -> str:
        return f"/repos/{self.repo}/{rest}"

    def _workflow_path(self, rest: str) -> str:
        return self._repo_path(f"actions/workflows/{self.workflow}/{rest}")

    def _handle(
        self, key: str, run_id: int, deployment_id: int, at: datetime, url: str | None
    ) -> DeployHandle:
        fallback = f"https://github.com/{self.repo}/actions/workflows/{self.workflow}"
        return DeployHandle(
            backend=self.name,
            ref={
                "key": key,
                "run_id": run_id,
                "deployment_id": deployment_id,
                "dispatched_at": _epoch(at),
            },
            url=url or fallback,
        )


class GithubActionsSettings(BackendSettings):
    """Dispatch a workflow and follow its run."""

    repo: GithubRepo = Field(description='the GitHub repository, "owner/name"')
    workflow: Text = Field(description='the workflow file, e.g. "deploy.yml"')
    ref: Text = Field("main", description="default main")
    ref_input: Text = Field("version", description="default version")
    inputs: dict[str, DeployTemplate] = Field(default_factory=dict)
    token_env: EnvVarName = "GITHUB_TOKEN"
    api_url: Url = Field("https://api.github.com", description="default https://api.github.com")


def _build(settings: GithubActionsSettings, deps: BackendDeps) -> GitHubActionsBackend:
    return GitHubActionsBackend(
        deps.http,
        repo=settings.repo,
        workflow=settings.workflow,
        ref=settings.ref,
        ref_input=settings.ref_input,
        inputs=settings.inputs,
        token=deps.environ.get(settings.token_env),
        api_url=settings.api_url,
    )


register_backend("github_actions", GithubActionsSettings, _build)
