"""LaunchDarkly semantic patches, checked against LaunchDarkly's API description."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from bot.domain.errors import BackendError, InvalidInput
from integrations.deploy.http import RetryPolicy
from integrations.flags import LaunchDarklyFlags

FLAG = "/api/v2/flags/web/new-checkout"
# Trimmed from LaunchDarkly's documented flag representation (boolean flag, two variations).
FLAG_ANSWER = {
    "name": "New checkout",
    "kind": "boolean",
    "key": "new-checkout",
    "_version": 7,
    "variations": [
        {"value": True, "name": "true", "_id": "86208e6e-468f-4425-b334-7f318397f95c"},
        {"value": False, "name": "false", "_id": "7b32de80-f346-4276-bb77-28dfa7ddc2d8"},
    ],
    "defaults": {"onVariation": 0, "offVariation": 1},
    "environments": {"production": {"on": False, "_version": 3}},
}


def client(far_side: Any, retry: RetryPolicy) -> LaunchDarklyFlags:
    return LaunchDarklyFlags(far_side.client(), "web", "production", "api-key", retry=retry)


def test_ramps_with_turn_on_and_fallthrough_weights_in_thousandths(
    far_side: Any, retry: RetryPolicy, described: Callable[[str], Any]
) -> None:
    far_side.answer(httpx.Response(200, json=FLAG_ANSWER), httpx.Response(200, json=FLAG_ANSWER))

    client(far_side, retry).set_rollout("new-checkout", 25)

    get, patch = far_side.requests
    assert (get.method, get.url.path, get.url.params["env"]) == ("GET", FLAG, "production")
    assert patch.headers["authorization"] == "api-key"
    assert (
        patch.headers["content-type"] == "application/json; domain-model=launchdarkly.semanticpatch"
    )
    assert json.loads(patch.content) == {
        "environmentKey": "production",
        "comment": "releasebot feature_flag rollout",
        "instructions": [
            {"kind": "turnFlagOn"},
            {
                "kind": "updateFallthroughVariationOrRollout",
                "rolloutWeights": {
                    "86208e6e-468f-4425-b334-7f318397f95c": 25000,
                    "7b32de80-f346-4276-bb77-28dfa7ddc2d8": 75000,
                },
            },
        ],
    }
    description = described("launchdarkly.openapi.json")
    assert [description.check(r) for r in far_side.requests] == [
        "getFeatureFlag",
        "patchFeatureFlag",
    ]


def test_turn_off(far_side: Any, retry: RetryPolicy, described: Callable[[str], Any]) -> None:
    far_side.answer(httpx.Response(200, json=FLAG_ANSWER))

    client(far_side, retry).turn_off("new-checkout")

    (patch,) = far_side.requests
    assert json.loads(patch.content)["instructions"] == [{"kind": "turnFlagOff"}]
    described("launchdarkly.openapi.json").check(patch)


def test_patches_are_retried_because_they_set_absolute_state(
    far_side: Any, retry: RetryPolicy, sleeps: list[float]
) -> None:
    far_side.answer(httpx.Response(503), httpx.Response(200, json=FLAG_ANSWER))

    client(far_side, retry).turn_off("new-checkout")

    assert len(far_side.requests) == 2
    assert sleeps == [0.5]


def test_refusals_quote_launchdarkly(far_side: Any, retry: RetryPolicy) -> None:
    far_side.answer(
        httpx.Response(
            400, json={"code": "invalid_request", "message": "rollout weights must sum to 100000"}
        )
    )
    with pytest.raises(BackendError, match="LaunchDarkly answered 400: rollout weights must sum"):
        client(far_side, retry).turn_off("new-checkout")


def test_only_boolean_flags_and_sane_percentages(far_side: Any, retry: RetryPolicy) -> None:
    with pytest.raises(InvalidInput, match="between 0 and 100"):
        client(far_side, retry).set_rollout("new-checkout", 101)
    assert far_side.requests == []
    far_side.answer(httpx.Response(200, json={**FLAG_ANSWER, "kind": "multivariate"}))
    with pytest.raises(BackendError, match="not a boolean flag"):
        client(far_side, retry).set_rollout("new-checkout", 10)
