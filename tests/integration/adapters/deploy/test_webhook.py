"""Webhook backend: signed POSTs, status by polling or by verified callbacks."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from bot.domain.errors import BackendError, InvalidInput
from bot.ports.deploy import DeployRequest, DeployState
from console.testing import ManualClock
from integrations.deploy.http import RetryPolicy
from integrations.deploy.webhook import (
    CallbackRefused,
    WebhookBackend,
    callback_token,
    sign,
    verify_callback,
)

HOOK = "https://deploy.acme.test/releasebot"
STATUS = "https://deploy.acme.test/deploys/R-12%3Adeploy%3A0"
SECRET = "s3cret"
NOW = datetime(2026, 11, 24, 15, 0, 0, tzinfo=UTC)


def polling(far_side: Any, retry: RetryPolicy) -> WebhookBackend:
    return WebhookBackend(
        far_side.client(),
        url=HOOK,
        secret=SECRET,
        status_url="https://deploy.acme.test/deploys/{idempotency_key}",
        retry=retry,
        clock=ManualClock(NOW),
    )


def assert_signed(request: httpx.Request) -> None:
    """What a receiver does: recompute the HMAC over '<timestamp>.<body>'."""
    timestamp = request.headers["x-releasebot-timestamp"]
    assert timestamp == str(int(NOW.timestamp()))
    assert request.headers["x-releasebot-signature"] == sign(SECRET, timestamp, request.content)


def test_posts_signed_json_with_an_idempotency_key(
    far_side: Any, retry: RetryPolicy, request_factory: Callable[..., DeployRequest]
) -> None:
    far_side.on(
        "POST", "/releasebot", httpx.Response(202, json={"url": "https://deploy.acme.test/d/9"})
    )
    backend = polling(far_side, retry)

    handle = backend.start(request_factory())

    (post,) = far_side.requests
    assert_signed(post)
    assert post.headers["idempotency-key"] == "R-12:deploy:0"
    assert post.headers["content-type"] == "application/json"
    assert json.loads(post.content) == {
        "release_id": "R-12",
        "service": "checkout",
        "version": "1.4.2",
        "environment": "production",
        "action": "deploy",
        "stage": "canary 10%",
        "stage_index": 0,
        "weight": 10,
        "colour": None,
        "previous_version": None,
        "idempotency_key": "R-12:deploy:0",
        "callback_url": None,
    }
    assert handle.url == "https://deploy.acme.test/d/9"


def test_status_is_polled_from_the_status_url(
    far_side: Any, retry: RetryPolicy, request_factory: Callable[..., DeployRequest]
) -> None:
    far_side.on("POST", "/releasebot", httpx.Response(204))
    far_side.on(
        "GET",
        "/deploys/R-12:deploy:0",
        httpx.Response(404),
        httpx.Response(200, json={"state": "running", "message": "rolling 3/10 pods"}),
        httpx.Response(
            200,
            json={"state": "failed", "message": "readiness probe failed", "url": "https://d/9"},
        ),
    )
    backend = polling(far_side, retry)
    handle = backend.start(request_factory())

    assert backend.status(handle).state is DeployState.PENDING
    running = backend.status(handle)
    failed = backend.status(handle)

    assert (running.state, running.message) == (DeployState.RUNNING, "rolling 3/10 pods")
    assert (failed.state, failed.message, failed.url) == (
        DeployState.FAILED,
        "readiness probe failed",
        "https://d/9",
    )
    status_calls = far_side.calls("GET", "/deploys/R-12:deploy:0")
    assert str(status_calls[0].url) == STATUS
    assert_signed(status_calls[0])


def test_callbacks_feed_status_through_the_engines_lookup(
    far_side: Any, retry: RetryPolicy, request_factory: Callable[..., DeployRequest]
) -> None:
    received: dict[str, dict[str, Any]] = {}
    far_side.on("POST", "/releasebot", httpx.Response(200))
    backend = WebhookBackend(
        far_side.client(),
        url=HOOK,
        secret=SECRET,
        callback_url="https://releasebot.acme.test",
        callback_lookup=received.get,
        retry=retry,
        clock=ManualClock(NOW),
    )
    handle = backend.start(request_factory())
    token = callback_token(SECRET, "R-12:deploy:0")
    sent = json.loads(far_side.requests[0].content)
    assert sent["callback_url"] == f"https://releasebot.acme.test/hooks/deploy/{token}"
    assert backend.status(handle).state is DeployState.PENDING

    # The lead's endpoint verifies the callback, then stores it under the token from the URL.
    body = json.dumps({"state": "succeeded", "message": "all pods ready", "sequence": 1}).encode()
    timestamp = str(int(NOW.timestamp()))
    received[token] = verify_callback(
        SECRET, timestamp, body, sign(SECRET, timestamp, body), now=NOW + timedelta(seconds=3)
    )

    status = backend.status(handle)
    assert (status.state, status.message) == (DeployState.SUCCEEDED, "all pods ready")
    assert backend.find(request_factory()) == handle


def test_verify_callback_rejects_bad_signatures_and_stale_timestamps() -> None:
    body = b'{"state": "succeeded", "sequence": 7}'
    fresh = str(int(NOW.timestamp()))
    good = sign(SECRET, fresh, body)

    assert verify_callback(SECRET, fresh, body, good, now=NOW) == {
        "state": "succeeded",
        "sequence": 7,
    }
    with pytest.raises(BackendError, match="signature does not match"):
        verify_callback(SECRET, fresh, body, sign("wrong", fresh, body), now=NOW)
    with pytest.raises(BackendError, match="signature does not match"):
        verify_callback(SECRET, fresh, b'{"state": "failed", "sequence": 7}', good, now=NOW)
    stale = str(int((NOW - timedelta(minutes=5, seconds=1)).timestamp()))
    with pytest.raises(BackendError, match="more than 5 minutes"):
        verify_callback(SECRET, stale, body, sign(SECRET, stale, body), now=NOW)
    with pytest.raises(BackendError, match="not a Unix time"):
        verify_callback(SECRET, "yesterday", body, good, now=NOW)
    odd = b'{"state": "done", "sequence": 7}'
    with pytest.raises(BackendError, match="state must be one of"):
        verify_callback(SECRET, fresh, odd, sign(SECRET, fresh, odd), now=NOW)


@pytest.mark.parametrize(
    "sequence", ["absent", None, -1, 1.5, "7", True], ids=lambda s: f"sequence={s!r}"
)
def test_a_callback_needs_a_sequence_that_can_order_it(sequence: object) -> None:
    payload: dict[str, object] = {"state": "succeeded"}
    if sequence != "absent":
        payload["sequence"] = sequence
    body = json.dumps(payload).encode()
    fresh = str(int(NOW.timestamp()))
    with pytest.raises(CallbackRefused, match="`sequence` must be a non-negative integer") as no:
        verify_callback(SECRET, fresh, body, sign(SECRET, fresh, body), now=NOW)
    assert no.value.status == 400


def test_the_post_is_retried_with_the_same_idempotency_key(
    far_side: Any,
    retry: RetryPolicy,
    sleeps: Any,
    request_factory: Callable[..., DeployRequest],
) -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("read timed out", request=request)

    far_side.on("POST", "/releasebot", httpx.Response(503), timeout, httpx.Response(202))
    polling(far_side, retry).start(request_factory())

    keys = [r.headers["idempotency-key"] for r in far_side.requests]
    assert keys == ["R-12:deploy:0"] * 3
    assert sleeps.delays == [0.5, 1.0]


def test_a_refusal_quotes_the_deploy_service(
    far_side: Any, retry: RetryPolicy, request_factory: Callable[..., DeployRequest]
) -> None:
    far_side.on(
        "POST", "/releasebot", httpx.Response(400, json={"error": "unknown service checkout"})
    )

    with pytest.raises(
        BackendError, match="the deploy webhook answered 400: unknown service checkout"
    ):
        polling(far_side, retry).start(request_factory())
    assert len(far_side.requests) == 1


def test_find_after_a_crash_asks_the_status_url(
    far_side: Any, retry: RetryPolicy, request_factory: Callable[..., DeployRequest]
) -> None:
    far_side.on("POST", "/releasebot", httpx.Response(202))
    backend = polling(far_side, retry)
    handle = backend.start(request_factory())
    far_side.on("GET", "/deploys/R-12:deploy:0", httpx.Response(200, json={"state": "running"}))
    far_side.on("GET", "/deploys/R-12:deploy:1", httpx.Response(404))

    assert polling(far_side, retry).find(request_factory()) == handle
    assert polling(far_side, retry).find(request_factory(idempotency_key="R-12:deploy:1")) is None


def test_cancel_is_a_signed_post_with_its_own_key(
    far_side: Any, retry: RetryPolicy, request_factory: Callable[..., DeployRequest]
) -> None:
    far_side.on("POST", "/releasebot", httpx.Response(202))
    backend = polling(far_side, retry)
    backend.cancel(backend.start(request_factory()))

    cancel = far_side.requests[-1]
    assert_signed(cancel)
    assert cancel.headers["idempotency-key"] == "R-12:deploy:0:cancel"
    assert json.loads(cancel.content) == {"action": "cancel", "idempotency_key": "R-12:deploy:0"}


def test_needs_a_way_to_learn_the_outcome(far_side: Any) -> None:
    with pytest.raises(InvalidInput, match="needs a status_url"):
        WebhookBackend(far_side.client(), url=HOOK, secret=SECRET)
