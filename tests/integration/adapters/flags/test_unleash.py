"""Unleash admin API: flexibleRollout strategy and environment switch, checked against its spec."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from bot.domain.errors import BackendError
from integrations.deploy.http import RetryPolicy
from integrations.flags import UnleashFlags

ENV = "/api/admin/projects/web/features/new-checkout/environments/production"
# Shape of Unleash's featureStrategySchema as the admin API returns it.
EXISTING = {
    "id": "6b5157cb-343a-41e7-bfa3-7b4ec3044840",
    "name": "flexibleRollout",
    "featureName": "new-checkout",
    "title": "",
    "disabled": False,
    "sortOrder": 0,
    "constraints": [{"contextName": "region", "operator": "IN", "values": ["eu"]}],
    "parameters": {"rollout": "10", "stickiness": "userId", "groupId": "checkout-2026"},
    "variants": [],
    "segments": [],
}


def client(far_side: Any, retry: RetryPolicy) -> UnleashFlags:
    return UnleashFlags(
        far_side.client(),
        "https://unleash.acme.test",
        "web",
        "production",
        "*:*.token",
        retry=retry,
    )


def test_updates_the_existing_rollout_strategy_then_enables_the_environment(
    far_side: Any, retry: RetryPolicy, described: Callable[[str], Any]
) -> None:
    far_side.answer(
        httpx.Response(200, json=[EXISTING]),
        httpx.Response(200, json={**EXISTING, "parameters": {"rollout": "50"}}),
        httpx.Response(200),
    )

    client(far_side, retry).set_rollout("new-checkout", 50)

    get, put, on = far_side.requests
    assert put.url.path == f"{ENV}/strategies/{EXISTING['id']}"
    assert json.loads(put.content) == {
        "name": "flexibleRollout",
        "constraints": EXISTING["constraints"],
        "parameters": {"rollout": "50", "stickiness": "userId", "groupId": "checkout-2026"},
    }
    assert (on.method, on.url.path) == ("POST", f"{ENV}/on")
    assert get.headers["authorization"] == "*:*.token"
    description = described("unleash.openapi.json")
    assert [description.check(r) for r in far_side.requests] == [
        "getFeatureStrategies",
        "updateFeatureStrategy",
        "toggleFeatureEnvironmentOn",
    ]


def test_adds_a_rollout_strategy_when_there_is_none(
    far_side: Any, retry: RetryPolicy, described: Callable[[str], Any]
) -> None:
    far_side.answer(
        httpx.Response(200, json=[]), httpx.Response(200, json=EXISTING), httpx.Response(200)
    )

    client(far_side, retry).set_rollout("new-checkout", 5)

    _, post, _ = far_side.requests
    assert (post.method, post.url.path) == ("POST", f"{ENV}/strategies")
    assert json.loads(post.content)["parameters"] == {
        "rollout": "5",
        "stickiness": "default",
        "groupId": "new-checkout",
    }
    description = described("unleash.openapi.json")
    assert description.check(post) == "addFeatureStrategy"


def test_adding_a_strategy_is_not_retried(far_side: Any, retry: RetryPolicy) -> None:
    far_side.answer(httpx.Response(200, json=[]), httpx.Response(502, text="Bad Gateway"))

    with pytest.raises(BackendError, match="Unleash answered 502: Bad Gateway"):
        client(far_side, retry).set_rollout("new-checkout", 5)
    assert len(far_side.requests) == 2


def test_turn_off_is_retried(
    far_side: Any, retry: RetryPolicy, sleeps: list[float], described: Callable[[str], Any]
) -> None:
    far_side.answer(httpx.Response(503), httpx.Response(200))

    client(far_side, retry).turn_off("new-checkout")

    assert [r.url.path for r in far_side.requests] == [f"{ENV}/off"] * 2
    assert sleeps == [0.5]
    assert (
        described("unleash.openapi.json").check(far_side.requests[-1])
        == "toggleFeatureEnvironmentOff"
    )
