"""Jenkins backend: buildWithParameters → queue item → build, against Jenkins' documented API."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from bot.domain.errors import BackendError
from bot.ports.deploy import DeployHandle, DeployRequest, DeployState
from integrations.deploy.http import RetryPolicy
from integrations.deploy.jenkins import JenkinsBackend

JOB = "/job/deploy-checkout"
QUEUE = "/queue/item/1337/api/json"
BUILD = f"{JOB}/57/api/json"
Recorded = Callable[[str], Any]


@pytest.fixture
def jenkins(far_side: Any, retry: RetryPolicy) -> JenkinsBackend:
    return JenkinsBackend(
        far_side.client(),
        jenkins_url="https://jenkins.acme.test",
        job="deploy-checkout",
        parameters={"VERSION": "{version}", "TARGET": "{environment}", "WEIGHT": "{weight}"},
        user="releasebot",
        token="api-token",
        retry=retry,
    )


def queued() -> httpx.Response:
    return httpx.Response(201, headers={"Location": "https://jenkins.acme.test/queue/item/1337/"})


def ok(body: Any) -> httpx.Response:
    return httpx.Response(200, json=body)


def fits(far_side: Any, contract: ModuleType) -> list[str]:
    description = contract.load("jenkins.endpoints.json")
    return [description.check(r) for r in far_side.requests]


def test_queues_a_build_and_follows_it_to_its_result(
    jenkins: JenkinsBackend,
    far_side: Any,
    recorded: Recorded,
    request_factory: Callable[..., DeployRequest],
    contract: ModuleType,
) -> None:
    far_side.on("POST", f"{JOB}/buildWithParameters", queued())
    far_side.on(
        "GET",
        QUEUE,
        ok(recorded("jenkins/queue_item_waiting.json")),
        ok(recorded("jenkins/queue_item_left.json")),
    )
    build = recorded("jenkins/build.json")
    far_side.on("GET", BUILD, ok(build), ok({**build, "building": False, "result": "SUCCESS"}))

    handle = jenkins.start(request_factory())
    states = [jenkins.status(handle) for _ in range(3)]

    (post,) = far_side.calls("POST", f"{JOB}/buildWithParameters")
    assert (
        post.headers["authorization"]
        == "Basic " + base64.b64encode(b"releasebot:api-token").decode()
    )
    assert dict(parse_qsl(post.content.decode())) == {
        "VERSION": "1.4.2",
        "TARGET": "production",
        "WEIGHT": "10",
        "RELEASEBOT_KEY": "R-12:deploy:0",
    }
    assert handle.ref["queue_id"] == 1337
    assert [(s.state, s.message) for s in states] == [
        (DeployState.PENDING, "queued: In the quiet period. Expires in 4.8 sec"),
        (DeployState.RUNNING, "build #57 is running"),
        (DeployState.SUCCEEDED, "build #57 succeeded"),
    ]
    assert states[2].url == "https://jenkins.acme.test/job/deploy-checkout/57/"
    assert "crumbIssuer" not in str([r.url for r in far_side.requests])  # API tokens need none
    assert fits(far_side, contract)[0] == "jenkins/build-with-parameters"


def test_a_failed_build_carries_its_console_tail(
    jenkins: JenkinsBackend,
    far_side: Any,
    recorded: Recorded,
    request_factory: Callable[..., DeployRequest],
    contract: ModuleType,
) -> None:
    far_side.on("POST", f"{JOB}/buildWithParameters", queued())
    far_side.on("GET", QUEUE, ok(recorded("jenkins/queue_item_left.json")))
    far_side.on(
        "GET", BUILD, ok({**recorded("jenkins/build.json"), "building": False, "result": "FAILURE"})
    )
    console = (
        "\n".join(f"step {i}" for i in range(60))
        + "\nERROR: helm upgrade failed\nFinished: FAILURE\n"
    )
    far_side.on("GET", f"{JOB}/57/consoleText", httpx.Response(200, text=console))

    status = jenkins.status(jenkins.start(request_factory()))

    assert (status.state, status.message) == (DeployState.FAILED, "build #57 finished: FAILURE")
    assert status.output_tail is not None
    assert status.output_tail.endswith("ERROR: helm upgrade failed\nFinished: FAILURE")
    assert len(status.output_tail.splitlines()) == 40
    fits(far_side, contract)


def test_a_cancelled_queue_item_is_reported_cancelled(
    jenkins: JenkinsBackend,
    far_side: Any,
    recorded: Recorded,
    request_factory: Callable[..., DeployRequest],
) -> None:
    far_side.on("POST", f"{JOB}/buildWithParameters", queued())
    far_side.on("GET", QUEUE, ok(recorded("jenkins/queue_item_cancelled.json")))

    status = jenkins.status(jenkins.start(request_factory()))

    assert (status.state, status.message) == (
        DeployState.CANCELLED,
        "Jenkins cancelled the queued build",
    )


def test_fetches_a_crumb_only_when_jenkins_asks_for_one(
    jenkins: JenkinsBackend,
    far_side: Any,
    recorded: Recorded,
    request_factory: Callable[..., DeployRequest],
    contract: ModuleType,
) -> None:
    refusal = (Path(__file__).parent / "fixtures/jenkins/no_crumb_403.html").read_text()
    far_side.on(
        "POST",
        f"{JOB}/buildWithParameters",
        httpx.Response(403, text=refusal, headers={"Content-Type": "text/html"}),
        queued(),
    )
    far_side.on("GET", "/crumbIssuer/api/json", ok(recorded("jenkins/crumb.json")))

    handle = jenkins.start(request_factory())

    posts = far_side.calls("POST", f"{JOB}/buildWithParameters")
    assert "jenkins-crumb" not in posts[0].headers
    assert posts[1].headers["jenkins-crumb"] == "5e8a0c1d2b3f4a5b6c7d8e9f0a1b2c3d"
    assert handle.ref["queue_id"] == 1337
    fits(far_side, contract)


def test_a_permission_refusal_quotes_jenkins(
    jenkins: JenkinsBackend, far_side: Any, request_factory: Callable[..., DeployRequest]
) -> None:
    far_side.on(
        "POST",
        f"{JOB}/buildWithParameters",
        httpx.Response(
            403,
            text="<html><body><h2>releasebot is missing the Job/Build permission</h2></body>",
            headers={"Content-Type": "text/html"},
        ),
    )

    with pytest.raises(
        BackendError, match="Jenkins answered 403: releasebot is missing the Job/Build"
    ):
        jenkins.start(request_factory())


def test_triggering_is_never_retried_but_polling_is(
    jenkins: JenkinsBackend,
    far_side: Any,
    recorded: Recorded,
    request_factory: Callable[..., DeployRequest],
    sleeps: Any,
) -> None:
    far_side.on("POST", f"{JOB}/buildWithParameters", httpx.Response(502, text="Bad Gateway"))
    with pytest.raises(BackendError, match="Jenkins answered 502: Bad Gateway"):
        jenkins.start(request_factory())
    assert len(far_side.calls("POST", f"{JOB}/buildWithParameters")) == 1

    far_side.on("POST", f"{JOB}/buildWithParameters", queued())
    handle = jenkins.start(request_factory())
    far_side.on("GET", QUEUE, httpx.Response(503), ok(recorded("jenkins/queue_item_waiting.json")))
    assert jenkins.status(handle).state is DeployState.PENDING
    assert sleeps.delays == [0.5]


def test_find_after_a_crash_finds_the_build_by_its_key_parameter(
    jenkins: JenkinsBackend,
    far_side: Any,
    recorded: Recorded,
    request_factory: Callable[..., DeployRequest],
    contract: ModuleType,
) -> None:
    far_side.on("GET", f"{JOB}/api/json", ok(recorded("jenkins/job_builds.json")))
    far_side.on("GET", "/queue/api/json", ok({"items": []}))

    found = jenkins.find(request_factory())
    missing = jenkins.find(request_factory(idempotency_key="R-13:deploy:0"))

    assert found is not None and found.ref["build_number"] == 57
    assert found.url == "https://jenkins.acme.test/job/deploy-checkout/57/"
    assert missing is None
    assert set(fits(far_side, contract)) == {"jenkins/job", "jenkins/queue"}


def test_a_forgotten_queue_item_is_resolved_through_the_builds(
    jenkins: JenkinsBackend,
    far_side: Any,
    recorded: Recorded,
    request_factory: Callable[..., DeployRequest],
) -> None:
    far_side.on("POST", f"{JOB}/buildWithParameters", queued())
    far_side.on("GET", QUEUE, httpx.Response(404, text="Not Found"))
    far_side.on("GET", f"{JOB}/api/json", ok(recorded("jenkins/job_builds.json")))
    far_side.on("GET", BUILD, ok(recorded("jenkins/build.json")))

    status = jenkins.status(jenkins.start(request_factory()))

    assert (status.state, status.message) == (DeployState.RUNNING, "build #57 is running")


def test_cancel_stops_the_build_or_the_queue_item(
    jenkins: JenkinsBackend,
    far_side: Any,
    recorded: Recorded,
    request_factory: Callable[..., DeployRequest],
    contract: ModuleType,
) -> None:
    far_side.on("POST", f"{JOB}/buildWithParameters", queued())
    far_side.on("POST", "/queue/cancelItem", httpx.Response(204))
    far_side.on(
        "POST",
        f"{JOB}/57/stop",
        httpx.Response(302, headers={"Location": "/job/deploy-checkout/57/"}),
    )
    far_side.on("GET", QUEUE, ok(recorded("jenkins/queue_item_waiting.json")))
    handle = jenkins.start(request_factory())

    jenkins.cancel(handle)
    far_side.on("GET", QUEUE, ok(recorded("jenkins/queue_item_left.json")))
    far_side.on("GET", BUILD, ok(recorded("jenkins/build.json")))
    jenkins.status(handle)
    jenkins.cancel(handle)

    (cancel_item,) = far_side.calls("POST", "/queue/cancelItem")
    assert cancel_item.url.params["id"] == "1337"
    assert len(far_side.calls("POST", f"{JOB}/57/stop")) == 1
    fits(far_side, contract)


def test_folder_jobs_use_nested_job_paths(far_side: Any, retry: RetryPolicy) -> None:
    backend = JenkinsBackend(
        far_side.client(),
        jenkins_url="https://jenkins.acme.test",
        job="payments/deploy checkout",
        user="u",
        token="t",
        retry=retry,
    )
    assert backend.job_path == "/job/payments/job/deploy%20checkout"


class FakeJenkins:
    """Jenkins core's queue as Queue.java has it: an item waits, gets `executable.number` when
    it leaves, is kept as a LeftItem for minutes and then answers 404; `cancelItem` answers 204
    for a waiting item and 404 for one that is gone; `/stop` aborts a running build. Every
    request must fit the vendored endpoint description."""

    def __init__(self, contract: ModuleType) -> None:
        self.description = contract.load("jenkins.endpoints.json")
        self.waiting: dict[int, dict[str, str]] = {}  # queue id -> parameters
        self.left: dict[int, int] = {}  # queue id -> build number (the LeftItem cache)
        self.builds: dict[int, dict[str, Any]] = {}
        self.next_queue_id, self.next_build = 1337, 57

    def schedule(self) -> None:
        for queue_id, parameters in list(self.waiting.items()):
            self.builds[self.next_build] = {"parameters": parameters, "result": None}
            self.left[queue_id] = self.next_build
            del self.waiting[queue_id]
            self.next_build += 1

    def forget_left_items(self) -> None:
        self.left.clear()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.description.check(request)
        path, method = request.url.path, request.method
        if method == "POST" and path == f"{JOB}/buildWithParameters":
            queue_id, self.next_queue_id = self.next_queue_id, self.next_queue_id + 1
            self.waiting[queue_id] = dict(parse_qsl(request.content.decode()))
            location = f"https://jenkins.acme.test/queue/item/{queue_id}/"
            return httpx.Response(201, headers={"Location": location})
        if method == "GET" and path.startswith("/queue/item/"):
            queue_id = int(path.split("/")[3])
            if queue_id in self.waiting:
                return ok({"id": queue_id, "why": "Waiting for next available executor"})
            if queue_id in self.left:
                number = self.left[queue_id]
                return ok({"id": queue_id, "cancelled": False, "executable": {"number": number}})
            return httpx.Response(404, text="Not Found")
        if method == "POST" and path == "/queue/cancelItem":
            queue_id = int(request.url.params["id"])
            if self.waiting.pop(queue_id, None) is not None:
                return httpx.Response(204)
            return httpx.Response(404, text=f"Provided id ({queue_id}) not found")
        if method == "GET" and path == f"{JOB}/api/json":
            return ok(
                {
                    "builds": [
                        {
                            "number": n,
                            "actions": [
                                {"parameters": [{"name": k, "value": v}]}
                                for k, v in b["parameters"].items()
                            ],
                        }
                        for n, b in sorted(self.builds.items(), reverse=True)
                    ]
                }
            )
        number = int(path.split("/")[3]) if path.count("/") >= 4 else 0
        if number in self.builds and method == "GET" and path.endswith("/api/json"):
            result = self.builds[number]["result"]
            return ok({"number": number, "building": result is None, "result": result})
        if number in self.builds and method == "POST" and path.endswith("/stop"):
            if self.builds[number]["result"] is None:
                self.builds[number]["result"] = "ABORTED"
            return httpx.Response(302, headers={"Location": f"{JOB}/{number}/"})
        return httpx.Response(404, text="Not Found")


def _jenkins(fake: FakeJenkins, retry: RetryPolicy) -> JenkinsBackend:
    return JenkinsBackend(
        httpx.Client(transport=httpx.MockTransport(fake)),
        jenkins_url="https://jenkins.acme.test",
        job="deploy-checkout",
        parameters={"VERSION": "{version}"},
        user="releasebot",
        token="api-token",
        retry=retry,
    )


def test_the_build_number_is_persisted_so_a_restarted_bot_stops_the_build(
    retry: RetryPolicy, request_factory: Callable[..., DeployRequest], contract: ModuleType
) -> None:
    fake = FakeJenkins(contract)
    before = _jenkins(fake, retry)
    handle = before.start(request_factory())
    fake.schedule()
    status = before.status(handle)
    assert status.state is DeployState.RUNNING
    persisted = {**handle.ref, **(status.ref or {})}  # what the engine stores
    assert persisted["build_number"] == 57
    fake.forget_left_items()

    after = _jenkins(fake, retry)  # a fresh process: nothing in memory
    after.cancel(DeployHandle(backend="jenkins", ref=persisted, url=handle.url))

    assert fake.builds[57]["result"] == "ABORTED"


def test_cancel_from_another_replica_stops_the_build_the_queue_item_became(
    retry: RetryPolicy, request_factory: Callable[..., DeployRequest], contract: ModuleType
) -> None:
    fake = FakeJenkins(contract)
    handle = _jenkins(fake, retry).start(request_factory())  # build_number 0 in the handle
    fake.schedule()
    fake.forget_left_items()

    _jenkins(fake, retry).cancel(handle)

    assert fake.builds[57]["result"] == "ABORTED"


def test_cancel_of_a_waiting_item_cancels_it_and_a_lost_build_is_said_plainly(
    retry: RetryPolicy, request_factory: Callable[..., DeployRequest], contract: ModuleType
) -> None:
    fake = FakeJenkins(contract)
    backend = _jenkins(fake, retry)
    handle = backend.start(request_factory())
    backend.cancel(handle)
    assert fake.waiting == {} and fake.builds == {}

    gone = DeployHandle(backend="jenkins", ref={"key": "R-9:deploy:0", "queue_id": 9}, url=None)
    with pytest.raises(BackendError, match="Jenkins knows no queue item 9 or build"):
        backend.cancel(gone)
