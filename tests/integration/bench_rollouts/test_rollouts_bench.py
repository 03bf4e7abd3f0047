"""Issue 5's benchmark parts: the slow deploy service speaks the real webhook protocol."""

from __future__ import annotations

import httpx
import pytest

from bench.rollouts_in_flight import SECTION, rewrite_section
from bench.slow_deployer import FIND, POLL, REFUSED, START, SlowDeployer, deploy_url, status_url
from bot.domain.errors import BackendError
from bot.ports.deploy import DeployRequest, DeployState
from console.testing import running_server
from integrations.deploy.http import RetryPolicy
from integrations.deploy.webhook import WebhookBackend

SECRET = "bench-test-secret"
REQUEST = DeployRequest(
    release_id="R-7",
    service="bench",
    version="1.0.7",
    environment="staging",
    action="deploy",
    stage_index=0,
    stage_name="phased 34%",
    weight=34,
    colour=None,
    idempotency_key="R-7:rollout:0:1",
)


def _backend(base_url: str, client: httpx.Client, secret: str = SECRET) -> WebhookBackend:
    return WebhookBackend(
        client,
        url=deploy_url(base_url),
        secret=secret,
        status_url=status_url(base_url),
        retry=RetryPolicy(attempts=1),
    )


def test_a_stage_is_unknown_then_running_then_succeeded_on_its_third_poll() -> None:
    deployer = SlowDeployer(secret=SECRET, min_delay=0, max_delay=0)
    with running_server(deployer.app()) as base_url, httpx.Client(timeout=5) as client:
        backend = _backend(base_url, client)
        assert backend.find(REQUEST) is None
        handle = backend.start(REQUEST)
        states = [backend.status(handle).state for _ in range(3)]
    assert states == [DeployState.RUNNING, DeployState.RUNNING, DeployState.SUCCEEDED]
    assert deployer.snapshot() == {FIND: 1, START: 1, POLL: 3}
    assert set(deployer.followed(0, float("inf"))) == {"R-7"}


def test_a_wrongly_signed_call_is_refused() -> None:
    deployer = SlowDeployer(secret=SECRET, min_delay=0, max_delay=0)
    with (
        running_server(deployer.app()) as base_url,
        httpx.Client(timeout=5) as client,
        pytest.raises(BackendError),
    ):
        _backend(base_url, client, secret="not-the-secret").start(REQUEST)
    assert deployer.snapshot() == {REFUSED: 1}


def test_rewriting_the_section_keeps_the_other_benchmarks() -> None:
    document = "# Benchmarks\n\n## Ack latency (issue 2)\n\nold ack figures\n"
    once = rewrite_section(document, f"{SECTION}\n\nfirst run\n")
    twice = rewrite_section(once, f"{SECTION}\n\nsecond run\n")
    assert "old ack figures" in twice
    assert "second run" in twice and "first run" not in twice
    assert twice.count(SECTION) == 1
