"""GitHub Actions backend against recorded GitHub answers, checked against GitHub's OpenAPI."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import httpx
import pytest

from bot.domain.errors import BackendError, InvalidInput
from bot.ports.deploy import DeployRequest, DeployState
from console.testing import ManualClock
from integrations.deploy.github_actions import GitHubActionsBackend
from integrations.deploy.http import RetryPolicy

REPO = "/repos/acme/checkout"
DISPATCH = f"{REPO}/actions/workflows/deploy.yml/dispatches"
RUNS = f"{REPO}/actions/workflows/deploy.yml/runs"
RUN = f"{REPO}/actions/runs/22052017"
DEPLOYMENTS = f"{REPO}/deployments"
STATUSES = f"{REPO}/deployments/1890000421/statuses"


Recorded = Callable[[str], Any]


def ok(body: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=body)


def run(recorded: Recorded, **fields: Any) -> httpx.Response:
    return ok({**recorded("github/run.json"), **fields})


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 24, 15, 0, 0, tzinfo=UTC))


@pytest.fixture
def github(far_side: Any, retry: RetryPolicy, clock: ManualClock) -> GitHubActionsBackend:
    return GitHubActionsBackend(
        far_side.client(),
        repo="acme/checkout",
        workflow="deploy.yml",
        ref="main",
        ref_input="version",
        inputs={"environment": "{environment}", "weight": "{weight}"},
        token="ghp_test",
        retry=retry,
        clock=clock,
    )


@pytest.fixture
def happy(far_side: Any, recorded: Recorded) -> Any:
    far_side.on("GET", DEPLOYMENTS, ok([]))
    far_side.on("POST", DEPLOYMENTS, ok(recorded("github/deployment_created.json"), 201))
    far_side.on("POST", STATUSES, ok(recorded("github/deployment_status_created.json"), 201))
    far_side.on("POST", DISPATCH, ok(recorded("github/dispatch_run_details.json")))
    return far_side


def statuses_posted(far_side: Any) -> list[dict[str, Any]]:
    return [json.loads(r.content) for r in far_side.calls("POST", STATUSES)]


def assert_all_fit_the_description(far_side: Any, contract: ModuleType) -> list[str]:
    description = contract.load("github.openapi.json")
    return [description.check(r) for r in far_side.requests]


def test_dispatches_with_run_details_and_records_a_github_deployment(
    github: GitHubActionsBackend,
    happy: Any,
    recorded: Recorded,
    request_factory: Callable[..., DeployRequest],
    contract: ModuleType,
) -> None:
    handle = github.start(request_factory())

    assert handle.ref["run_id"] == 22052017
    assert handle.ref["deployment_id"] == 1890000421
    assert handle.url == "https://github.com/acme/checkout/actions/runs/22052017"
    (dispatch,) = happy.calls("POST", DISPATCH)
    assert dispatch.headers["authorization"] == "Bearer ghp_test"
    assert dispatch.headers["x-github-api-version"] == "2022-11-28"
    assert json.loads(dispatch.content) == {
        "ref": "main",
        "inputs": {
            "environment": "production",
            "weight": "10",
            "version": "1.4.2",
            "releasebot_key": "R-12:deploy:0",
        },
        "return_run_details": True,
    }
    (deployment,) = happy.calls("POST", DEPLOYMENTS)
    assert json.loads(deployment.content)["payload"]["releasebot_key"] == "R-12:deploy:0"
    assert statuses_posted(happy) == [
        {
            "state": "in_progress",
            "description": "canary 10%",
            "log_url": "https://github.com/acme/checkout/actions/runs/22052017",
        }
    ]
    assert assert_all_fit_the_description(happy, contract) == [
        "repos/list-deployments",
        "repos/create-deployment",
        "actions/create-workflow-dispatch",
        "repos/create-deployment-status",
    ]


def test_follows_the_run_and_reports_success_once(
    github: GitHubActionsBackend,
    happy: Any,
    recorded: Recorded,
    request_factory: Callable[..., DeployRequest],
    contract: ModuleType,
) -> None:
    handle = github.start(request_factory())
    happy.on(
        "GET",
        RUN,
        run(recorded, status="queued"),
        run(recorded),
        run(recorded, status="completed", conclusion="success"),
    )

    assert github.status(handle).state is DeployState.PENDING
    running = github.status(handle)
    done = github.status(handle)
    again = github.status(handle)

    assert running.state is DeployState.RUNNING
    assert running.message == "workflow run #562 is in progress"
    assert done.state is DeployState.SUCCEEDED
    assert again.state is DeployState.SUCCEEDED
    assert [s["state"] for s in statuses_posted(happy)] == ["in_progress", "success"]
    assert_all_fit_the_description(happy, contract)


def test_a_failed_run_fails_the_stage_and_the_github_deployment(
    github: GitHubActionsBackend,
    happy: Any,
    recorded: Recorded,
    request_factory: Callable[..., DeployRequest],
) -> None:
    handle = github.start(request_factory())
    happy.on("GET", RUN, run(recorded, status="completed", conclusion="failure"))

    status = github.status(handle)

    assert status.state is DeployState.FAILED
    assert status.message == "workflow run #562 finished: failure"
    assert status.url == "https://github.com/acme/checkout/actions/runs/22052017"
    assert statuses_posted(happy)[-1]["state"] == "failure"


def test_a_cancelled_run_is_reported_cancelled(
    github: GitHubActionsBackend,
    happy: Any,
    recorded: Recorded,
    request_factory: Callable[..., DeployRequest],
) -> None:
    handle = github.start(request_factory())
    happy.on("GET", RUN, run(recorded, status="completed", conclusion="cancelled"))

    assert github.status(handle).state is DeployState.CANCELLED


def test_a_204_answer_is_correlated_through_the_unique_input(
    github: GitHubActionsBackend,
    happy: Any,
    recorded: Recorded,
    request_factory: Callable[..., DeployRequest],
    sleeps: Any,
    contract: ModuleType,
) -> None:
    happy.on("POST", DISPATCH, httpx.Response(204))
    happy.on(
        "GET",
        RUNS,
        ok(recorded("github/runs_list_empty.json")),
        ok(recorded("github/runs_list.json")),
    )

    handle = github.start(request_factory())

    assert handle.ref["run_id"] == 22052017
    assert handle.url == "https://github.com/acme/checkout/actions/runs/22052017"
    lookups = happy.calls("GET", RUNS)
    assert len(lookups) == 2
    assert lookups[0].url.params["event"] == "workflow_dispatch"
    assert lookups[0].url.params["created"] == ">=2026-11-24T14:59:30Z"
    assert sleeps.delays == [1.0]  # injected: the test never waits
    assert_all_fit_the_description(happy, contract)


def test_a_204_run_that_never_appears_fails_after_the_wait(
    github: GitHubActionsBackend,
    happy: Any,
    recorded: Recorded,
    request_factory: Callable[..., DeployRequest],
    clock: ManualClock,
) -> None:
    happy.on("POST", DISPATCH, httpx.Response(204))
    happy.on("GET", RUNS, ok(recorded("github/runs_list_empty.json")))

    handle = github.start(request_factory())
    assert handle.ref["run_id"] == 0
    assert github.status(handle).state is DeployState.PENDING
    clock.advance(timedelta(minutes=11))
    status = github.status(handle)

    assert status.state is DeployState.FAILED
    assert status.message == "GitHub accepted the dispatch but no workflow run appeared"
    assert statuses_posted(happy)[-1]["state"] == "failure"


def test_a_422_quotes_github_and_marks_the_deployment_errored(
    github: GitHubActionsBackend,
    happy: Any,
    recorded: Recorded,
    request_factory: Callable[..., DeployRequest],
) -> None:
    happy.on("POST", DISPATCH, ok(recorded("github/error_422_no_dispatch_trigger.json"), 422))

    with pytest.raises(BackendError) as raised:
        github.start(request_factory())

    assert raised.value.message == (
        "GitHub answered 422: Workflow does not have 'workflow_dispatch' trigger"
    )
    assert len(happy.calls("POST", DISPATCH)) == 1
    assert statuses_posted(happy) == [
        {
            "state": "error",
            "description": f"could not start the workflow: {raised.value.message}"[:140],
        }
    ]


def test_a_404_says_what_to_check(
    github: GitHubActionsBackend,
    happy: Any,
    recorded: Recorded,
    request_factory: Callable[..., DeployRequest],
) -> None:
    happy.on("POST", DISPATCH, ok(recorded("github/error_404.json"), 404))

    with pytest.raises(
        BackendError, match=r"^GitHub answered 404: Not Found\. Check that acme/checkout"
    ):
        github.start(request_factory())


def test_polling_retries_5xx_and_timeouts_with_backoff(
    github: GitHubActionsBackend,
    happy: Any,
    recorded: Recorded,
    request_factory: Callable[..., DeployRequest],
    sleeps: Any,
) -> None:
    handle = github.start(request_factory())

    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("read timed out", request=request)

    happy.on("GET", RUN, ok({"message": "Server Error"}, 502), timeout, run(recorded))

    assert github.status(handle).state is DeployState.RUNNING
    assert len(happy.calls("GET", RUN)) == 3
    assert sleeps.delays == [0.5, 1.0]


def test_polling_gives_up_after_bounded_retries(
    github: GitHubActionsBackend,
    happy: Any,
    request_factory: Callable[..., DeployRequest],
) -> None:
    handle = github.start(request_factory())
    happy.on("GET", RUN, ok({"message": "Service Unavailable"}, 503))

    with pytest.raises(BackendError, match="GitHub answered 503: Service Unavailable"):
        github.status(handle)
    assert len(happy.calls("GET", RUN)) == 3


def test_rate_limits_honour_retry_after(
    github: GitHubActionsBackend,
    happy: Any,
    recorded: Recorded,
    request_factory: Callable[..., DeployRequest],
    sleeps: Any,
) -> None:
    handle = github.start(request_factory())
    limited = httpx.Response(
        403,
        headers={"Retry-After": "7"},
        json={"message": "You have exceeded a secondary rate limit"},
    )
    happy.on("GET", RUN, limited, run(recorded))

    assert github.status(handle).state is DeployState.RUNNING
    assert sleeps.delays == [7.0]


def test_the_dispatch_is_never_retried(
    github: GitHubActionsBackend,
    happy: Any,
    request_factory: Callable[..., DeployRequest],
) -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("read timed out", request=request)

    happy.on("POST", DISPATCH, timeout)
    with pytest.raises(BackendError, match="not retried because the call is not idempotent"):
        github.start(request_factory())
    assert len(happy.calls("POST", DISPATCH)) == 1

    happy.on("POST", DISPATCH, ok({"message": "Server Error"}, 500))
    with pytest.raises(BackendError, match="GitHub answered 500: Server Error"):
        github.start(request_factory())
    assert len(happy.calls("POST", DISPATCH)) == 2


def test_find_after_a_crash_returns_the_earlier_run_and_start_reuses_the_deployment(
    github: GitHubActionsBackend,
    happy: Any,
    recorded: Recorded,
    request_factory: Callable[..., DeployRequest],
    far_side: Any,
    retry: RetryPolicy,
    clock: ManualClock,
    contract: ModuleType,
) -> None:
    first = github.start(request_factory())
    happy.on("GET", RUNS, ok(recorded("github/runs_list.json")))
    happy.on("GET", DEPLOYMENTS, ok([recorded("github/deployment_created.json")]))
    restarted = GitHubActionsBackend(
        far_side.client(),
        repo="acme/checkout",
        workflow="deploy.yml",
        ref_input="version",
        token="ghp_test",
        retry=retry,
        clock=clock,
    )

    found = restarted.find(request_factory())
    missing = restarted.find(request_factory(idempotency_key="R-12:deploy:1"))

    assert found is not None
    assert (found.ref["run_id"], found.ref["deployment_id"]) == (
        first.ref["run_id"],
        first.ref["deployment_id"],
    )
    assert found.url == first.url
    assert missing is None
    restarted.start(request_factory())
    assert len(happy.calls("POST", DEPLOYMENTS)) == 1  # the GitHub Deployment is not duplicated
    assert_all_fit_the_description(happy, contract)


def test_cancel_cancels_the_run_and_tolerates_a_completed_one(
    github: GitHubActionsBackend,
    happy: Any,
    recorded: Recorded,
    request_factory: Callable[..., DeployRequest],
    contract: ModuleType,
) -> None:
    handle = github.start(request_factory())
    cancel = f"{RUN}/cancel"
    happy.on(
        "POST", cancel, ok({}, 202), ok(recorded("github/error_409_cancel_completed.json"), 409)
    )

    github.cancel(handle)
    github.cancel(handle)

    assert len(happy.calls("POST", cancel)) == 2
    assert_all_fit_the_description(happy, contract)


def test_without_ref_input_the_version_is_the_ref(
    far_side: Any,
    recorded: Recorded,
    request_factory: Callable[..., DeployRequest],
    retry: RetryPolicy,
) -> None:
    far_side.on("POST", DISPATCH, ok(recorded("github/dispatch_run_details.json")))
    backend = GitHubActionsBackend(
        far_side.client(),
        repo="acme/checkout",
        workflow="deploy.yml",
        token="t",
        record_deployment=False,
        correlation_input=None,
        retry=retry,
    )

    backend.start(request_factory(version="v1.4.2"))

    (dispatch,) = far_side.calls("POST", DISPATCH)
    assert json.loads(dispatch.content) == {
        "ref": "v1.4.2",
        "inputs": {},
        "return_run_details": True,
    }
    assert far_side.calls("GET", DEPLOYMENTS) == []


def test_the_token_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, far_side: Any
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    with pytest.raises(InvalidInput, match="set the GITHUB_TOKEN environment variable"):
        GitHubActionsBackend(far_side.client(), repo="acme/checkout", workflow="deploy.yml")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_env")
    backend = GitHubActionsBackend(far_side.client(), repo="acme/checkout", workflow="deploy.yml")
    assert backend.api.headers["Authorization"] == "Bearer ghp_env"


def test_the_contract_checker_catches_a_misspelt_field(contract: ModuleType) -> None:
    description = contract.load("github.openapi.json")
    bad = httpx.Request(
        "POST", f"https://api.github.com{DISPATCH}", json={"ref": "main", "return_run_detail": True}
    )
    with pytest.raises(Exception, match="return_run_detail"):
        description.check(bad)
    wrong_method = httpx.Request("GET", f"https://api.github.com{DISPATCH}")
    with pytest.raises(AssertionError, match="only allows"):
        description.check(wrong_method)


def _ghes_dispatch(recorded: Recorded, contract: ModuleType) -> Callable[[httpx.Request], Any]:
    """A GHES 3.19 dispatch endpoint: keys its published description lacks get its 422."""
    description = contract.load("github-ghes-3.19.openapi.json", base_path="/api/v3")
    operation = next(
        op for op in description.operations if op.operation_id == "actions/create-workflow-dispatch"
    )
    schema = operation.spec["requestBody"]["content"]["application/json"]["schema"]
    permitted = set(schema["properties"])

    def answer(request: httpx.Request) -> httpx.Response:
        if set(json.loads(request.content)) - permitted:
            return ok(recorded("github/error_422_ghes_return_run_details.json"), 422)
        description.check(request)
        return httpx.Response(204)

    return answer


GHES = "/api/v3"


def test_ghes_before_3_21_refuses_run_details_so_it_is_dispatched_once_more_without(
    far_side: Any,
    recorded: Recorded,
    request_factory: Callable[..., DeployRequest],
    retry: RetryPolicy,
    clock: ManualClock,
    contract: ModuleType,
) -> None:
    far_side.on("POST", GHES + DISPATCH, _ghes_dispatch(recorded, contract))
    far_side.on("GET", GHES + RUNS, ok(recorded("github/runs_list.json")))
    backend = GitHubActionsBackend(
        far_side.client(),
        repo="acme/checkout",
        workflow="deploy.yml",
        ref_input="version",
        token="t",
        api_url="https://ghes.example.com/api/v3",
        record_deployment=False,
        retry=retry,
        clock=clock,
    )

    handle = backend.start(request_factory())
    second = backend.start(request_factory(idempotency_key="R-12:deploy:1"))

    assert handle.ref["run_id"] == 22052017
    bodies = [json.loads(r.content) for r in far_side.calls("POST", GHES + DISPATCH)]
    assert [sorted(b) for b in bodies] == [
        ["inputs", "ref", "return_run_details"],
        ["inputs", "ref"],
        ["inputs", "ref"],  # the server's answer is remembered: one call for the next stage
    ]
    assert bodies[1]["inputs"] == {"version": "1.4.2", "releasebot_key": "R-12:deploy:0"}
    assert second.ref["key"] == "R-12:deploy:1"


def test_the_github_deployment_records_the_version_being_released(
    github: GitHubActionsBackend,
    happy: Any,
    request_factory: Callable[..., DeployRequest],
) -> None:
    github.start(request_factory())

    (deployment,) = happy.calls("POST", DEPLOYMENTS)
    assert json.loads(deployment.content)["ref"] == "1.4.2"
    (dispatch,) = happy.calls("POST", DISPATCH)
    assert json.loads(dispatch.content)["ref"] == "main"  # the workflow still runs from main


def test_every_request_fits_the_ghes_description_too(
    far_side: Any,
    recorded: Recorded,
    request_factory: Callable[..., DeployRequest],
    retry: RetryPolicy,
    clock: ManualClock,
    contract: ModuleType,
) -> None:
    far_side.on("POST", GHES + DISPATCH, _ghes_dispatch(recorded, contract))
    far_side.on("GET", GHES + RUNS, ok(recorded("github/runs_list.json")))
    far_side.on("GET", GHES + DEPLOYMENTS, ok([]))
    far_side.on("POST", GHES + DEPLOYMENTS, ok(recorded("github/deployment_created.json"), 201))
    far_side.on("POST", GHES + STATUSES, ok(recorded("github/deployment_status_created.json"), 201))
    far_side.on("GET", GHES + RUN, run(recorded, status="completed", conclusion="success"))
    far_side.on("POST", GHES + RUN + "/cancel", httpx.Response(202))
    backend = GitHubActionsBackend(
        far_side.client(),
        repo="acme/checkout",
        workflow="deploy.yml",
        ref_input="version",
        token="t",
        api_url="https://ghes.example.com/api/v3",
        retry=retry,
        clock=clock,
    )
    handle = backend.start(request_factory())
    assert backend.status(handle).state is DeployState.SUCCEEDED
    backend.cancel(handle)
    assert backend.find(request_factory()) is not None

    description = contract.load("github-ghes-3.19.openapi.json", base_path="/api/v3")
    checked = [
        description.check(r)
        for r in far_side.requests
        if "return_run_details" not in json.loads(r.content or b"{}")
    ]
    assert sorted(set(checked)) == [
        "actions/cancel-workflow-run",
        "actions/create-workflow-dispatch",
        "actions/get-workflow-run",
        "actions/list-workflow-runs",
        "repos/create-deployment",
        "repos/create-deployment-status",
        "repos/list-deployments",
    ]


def test_the_example_config_names_the_inputs_a_default_service_dispatches(
    far_side: Any,
    recorded: Recorded,
    request_factory: Callable[..., DeployRequest],
    retry: RetryPolicy,
) -> None:
    import re
    from pathlib import Path

    example = (Path(__file__).parents[4] / "releasebot.toml").read_text()
    comment = re.search(
        r'^# workflow = "deploy\.yml" +# dispatched with inputs \{(.*)\}', example, re.M
    )
    assert comment is not None
    claimed = {part.split("=")[0].strip() for part in comment.group(1).split(",")}
    far_side.on("POST", DISPATCH, ok(recorded("github/dispatch_run_details.json")))
    backend = GitHubActionsBackend(  # what the config gives a service without `inputs`
        far_side.client(),
        repo="acme/checkout",
        workflow="deploy.yml",
        ref_input="version",
        token="t",
        record_deployment=False,
        retry=retry,
    )

    backend.start(request_factory())

    (dispatch,) = far_side.calls("POST", DISPATCH)
    assert claimed == set(json.loads(dispatch.content)["inputs"])
