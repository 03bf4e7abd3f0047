"""Jenkins backend: buildWithParameters → queue item → build number → building/result.

Auth is user + API token (HTTP basic), which Jenkins exempts from CSRF crumbs; a crumb is
fetched only when Jenkins refuses a POST for the lack of one. Retried: the GETs only — a
queued build is never triggered twice. The idempotency key is passed as a build parameter
(`key_parameter`, default RELEASEBOT_KEY; declare it on the job) so `find` can recognise the
build, or its queue item, after a restart. The build number is reported (DeployStatus.ref) as
soon as the queue item has one, so the stage's persisted handle carries it; cancel stops that
build, and without it finds the build through the queue item or the key parameter (Jenkins
answers 404 for a queue item that has left the queue).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Annotated, Any
from urllib.parse import quote

import httpx
from pydantic import BeforeValidator, Field

from bot.domain.config import BackendSettings
from bot.domain.config.commands import DeployTemplate
from bot.domain.config.values import EnvVarName, Text, Url
from bot.domain.errors import BackendError
from bot.domain.placeholders import check_templates, render, values_for
from bot.ports.deploy import DeployHandle, DeployRequest, DeployState, DeployStatus
from integrations.deploy.http import ProviderHttp, RetryPolicy, describe_error, secret_or_env
from integrations.deploy.registration import BackendDeps, register_backend

_QUEUE_ITEM = re.compile(r"/queue/item/(\d+)/?$")
_BUILDS_TREE = "builds[number,url,actions[parameters[name,value]]]{0,50}"
_QUEUE_TREE = "items[id,actions[parameters[name,value]]]"
# Queue.doCancelItem: 204 cancelled (302 on older cores), 404 once the item left the queue,
# 422 not cancellable, 500 could not cancel (a left item).
_CANCEL_ANSWERS = (200, 204, 302, 404, 422, 500)
TAIL_LINES = 40
TAIL_CHARS = 3000


def _parameters(node: Mapping[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for action in node.get("actions") or []:
        for parameter in (action or {}).get("parameters") or []:
            found[str(parameter.get("name"))] = str(parameter.get("value"))
    return found


class JenkinsBackend:
    """Triggers `job` (folders as `folder/job`) with `parameters` (placeholders allowed)."""

    name = "jenkins"

    def __init__(
        self,
        http: httpx.Client,
        *,
        jenkins_url: str,
        job: str,
        parameters: Mapping[str, str] | None = None,
        user: str | None = None,
        token: str | None = None,
        key_parameter: str = "RELEASEBOT_KEY",
        retry: RetryPolicy | None = None,
    ) -> None:
        self.parameters = dict(parameters or {})
        check_templates(self.parameters.values(), where="jenkins parameters")
        self.jenkins_url = jenkins_url.rstrip("/")
        self.job = job
        self.key_parameter = key_parameter
        self.job_path = "".join(
            f"/job/{quote(part, safe='')}" for part in job.strip("/").split("/")
        )
        auth = (
            secret_or_env(user, "JENKINS_USER", what="Jenkins"),
            secret_or_env(token, "JENKINS_TOKEN", what="Jenkins"),
        )
        self.api = ProviderHttp(
            http, provider="Jenkins", base_url=self.jenkins_url, auth=auth, retry=retry
        )
        self._builds: dict[int, int] = {}  # queue id -> build number, once Jenkins says

    # -- DeployBackend -------------------------------------------------------------------

    def start(self, request: DeployRequest) -> DeployHandle:
        values = values_for(request)
        form = {name: render(template, values) for name, template in self.parameters.items()}
        form[self.key_parameter] = request.idempotency_key
        path = f"{self.job_path}/buildWithParameters"
        response = self.api.request("POST", path, data=form, expected=(201, 403))
        if response.status_code == 403:
            if "crumb" not in response.text.lower():
                raise BackendError(f"Jenkins answered 403: {describe_error(response)}")
            # Refused before queueing, so sending it again with a crumb cannot build twice.
            response = self.api.request(
                "POST", path, data=form, headers=self._crumb(), expected=(201,)
            )
        match = _QUEUE_ITEM.search(response.headers.get("location", ""))
        if match is None:
            raise BackendError(
                f"Jenkins queued the build but sent no queue item location "
                f"({response.headers.get('location')!r})"
            )
        return self._handle(request.idempotency_key, int(match.group(1)), 0)

    def find(self, request: DeployRequest) -> DeployHandle | None:
        key = request.idempotency_key
        builds = self.api.json(
            self.api.request("GET", f"{self.job_path}/api/json", params={"tree": _BUILDS_TREE})
        )
        for build in builds.get("builds") or []:
            if _parameters(build).get(self.key_parameter) == key:
                return self._handle(key, 0, int(build["number"]))
        queue = self.api.json(
            self.api.request("GET", "/queue/api/json", params={"tree": _QUEUE_TREE})
        )
        for item in queue.get("items") or []:
            if _parameters(item).get(self.key_parameter) == key:
                return self._handle(key, int(item["id"]), 0)
        return None

    def status(self, handle: DeployHandle) -> DeployStatus:
        number = int(handle.ref.get("build_number", 0))
        if number:
            return self._build_status(number)
        waiting = self._follow_queue(int(handle.ref["queue_id"]), str(handle.ref["key"]))
        if isinstance(waiting, DeployStatus):
            return waiting
        # Persist the number now: after a restart the queue item may be gone (Jenkins keeps
        # left items for minutes only) and cancel must still find the build to stop.
        return replace(self._build_status(waiting), ref={"build_number": waiting})

    def cancel(self, handle: DeployHandle) -> None:
        key = str(handle.ref["key"])
        queue_id = int(handle.ref.get("queue_id", 0))
        number = int(handle.ref.get("build_number", 0)) or self._builds.get(queue_id, 0)
        if not number and queue_id:
            found = self._follow_queue(queue_id, key)
            if isinstance(found, int):
                number = found
            elif found.state is DeployState.CANCELLED:
                return
            elif found.state is DeployState.PENDING:
                response = self.api.request(
                    "POST", "/queue/cancelItem", params={"id": queue_id}, expected=_CANCEL_ANSWERS
                )
                if response.status_code != 404 and response.status_code < 400:
                    return
                # 404: the item left the queue between the two calls; its build is running.
                found = self._follow_queue(queue_id, key)
                if isinstance(found, int):
                    number = found
        if not number:
            number = self._build_by_key(key)
        if not number:
            raise BackendError(
                f"Jenkins knows no queue item {queue_id} or build with {self.key_parameter}={key}"
                f"; check {self.jenkins_url}{self.job_path}/ and stop it there if it runs"
            )
        self.api.request("POST", f"{self.job_path}/{number}/stop", expected=(200, 302))

    # -- internals -----------------------------------------------------------------------

    def _follow_queue(self, queue_id: int, key: str) -> int | DeployStatus:
        """The build number a queue item became, or the status while it has none."""
        if queue_id in self._builds:
            return self._builds[queue_id]
        response = self.api.request("GET", f"/queue/item/{queue_id}/api/json", expected=(200, 404))
        if response.status_code == 404:
            # Jenkins forgets left queue items after a few minutes; look for the build itself.
            number = self._build_by_key(key)
            if not number:
                return DeployStatus(
                    DeployState.FAILED,
                    f"Jenkins no longer knows queue item {queue_id} or its build",
                )
            self._builds[queue_id] = number
            return number
        item = self.api.json(response)
        if item.get("cancelled"):
            return DeployStatus(DeployState.CANCELLED, "Jenkins cancelled the queued build")
        executable = item.get("executable")
        if executable:
            self._builds[queue_id] = int(executable["number"])
            return self._builds[queue_id]
        why = str(item.get("why") or "waiting in the queue")
        return DeployStatus(DeployState.PENDING, f"queued: {why}")

    def _build_by_key(self, key: str) -> int:
        """The build whose key parameter is `key`, from the job's recent builds; 0 if none."""
        builds = self.api.json(
            self.api.request("GET", f"{self.job_path}/api/json", params={"tree": _BUILDS_TREE})
        )
        for build in builds.get("builds") or []:
            if _parameters(build).get(self.key_parameter) == key:
                return int(build["number"])
        return 0

    def _build_status(self, number: int) -> DeployStatus:
        build = self.api.json(
            self.api.request(
                "GET",
                f"{self.job_path}/{number}/api/json",
                params={"tree": "number,url,building,result,displayName"},
            )
        )
        url = str(build.get("url") or f"{self.jenkins_url}{self.job_path}/{number}/")
        result = build.get("result")
        if build.get("building") or result is None:
            return DeployStatus(DeployState.RUNNING, f"build #{number} is running", url)
        if result == "SUCCESS":
            return DeployStatus(DeployState.SUCCEEDED, f"build #{number} succeeded", url)
        if result == "ABORTED":
            return DeployStatus(DeployState.CANCELLED, f"build #{number} was aborted", url)
        return DeployStatus(
            DeployState.FAILED,
            f"build #{number} finished: {result}",
            url,
            self._console_tail(number),
        )

    def _crumb(self) -> dict[str, str]:
        crumb = self.api.json(self.api.request("GET", "/crumbIssuer/api/json"))
        return {str(crumb["crumbRequestField"]): str(crumb["crumb"])}

    def _console_tail(self, number: int) -> str | None:
        response = self.api.request(
            "GET", f"{self.job_path}/{number}/consoleText", expected=(200, 404)
        )
        if response.status_code != 200 or not response.text:
            return None
        lines = response.text.rstrip("\n").splitlines()[-TAIL_LINES:]
        return "\n".join(lines)[-TAIL_CHARS:]

    def _handle(self, key: str, queue_id: int, build_number: int) -> DeployHandle:
        url = (
            f"{self.jenkins_url}{self.job_path}/{build_number}/"
            if build_number
            else f"{self.jenkins_url}{self.job_path}/"
        )
        return DeployHandle(
            backend=self.name,
            ref={"key": key, "queue_id": queue_id, "build_number": build_number},
            url=url,
        )


def _to_parameter(value: object) -> object:
    # Jenkins parameters travel as text; let admins write `DRY_RUN = false` naturally.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return value


class JenkinsSettings(BackendSettings):
    """Trigger a parameterised Jenkins job and follow its build."""

    jenkins_url: Url = Field(description="the Jenkins base URL")
    job: Text = Field(description='the job path, e.g. "deploy/checkout"')
    parameters: dict[str, Annotated[DeployTemplate, BeforeValidator(_to_parameter)]] = Field(
        default_factory=dict
    )
    user_env: EnvVarName = "JENKINS_USER"
    token_env: EnvVarName = "JENKINS_TOKEN"


def _build(settings: JenkinsSettings, deps: BackendDeps) -> JenkinsBackend:
    return JenkinsBackend(
        deps.http,
        jenkins_url=settings.jenkins_url,
        job=settings.job,
        parameters=settings.parameters,
        user=deps.environ.get(settings.user_env),
        token=deps.environ.get(settings.token_env),
    )


register_backend("jenkins", JenkinsSettings, _build)
