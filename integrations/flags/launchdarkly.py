"""LaunchDarkly through its semantic-patch API (turnFlagOn + fallthrough rollout weights).

Retried: the GET and the semantic PATCHes — each sets absolute state (on, weights), so
applying one twice leaves the flag exactly as applying it once.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from bot.domain.errors import BackendError
from bot.ports.flags import check_percentage
from integrations.deploy.http import ProviderHttp, RetryPolicy, secret_or_env

SEMANTIC_PATCH = "application/json; domain-model=launchdarkly.semanticpatch"
FULL = 100_000  # LaunchDarkly rollout weights are thousandths of a percent


class LaunchDarklyFlags:
    """Ramps boolean flags in one project/environment."""

    def __init__(
        self,
        http: httpx.Client,
        project: str,
        environment: str,
        token: str | None = None,
        api_url: str = "https://app.launchdarkly.com",
        *,
        retry: RetryPolicy | None = None,
        comment: str = "releasebot feature_flag rollout",
    ) -> None:
        self.project = project
        self.environment = environment
        self.comment = comment
        api_key = secret_or_env(token, "LAUNCHDARKLY_API_TOKEN", what="LaunchDarkly")
        self.api = ProviderHttp(
            http,
            provider="LaunchDarkly",
            base_url=api_url,
            headers={"Authorization": api_key, "User-Agent": "releasebot"},
            retry=retry,
        )

    def set_rollout(self, flag_key: str, percentage: int) -> None:
        check_percentage(percentage)
        on, off = self._boolean_variations(flag_key)
        weight = percentage * 1000
        self._patch(
            flag_key,
            [
                {"kind": "turnFlagOn"},
                {
                    "kind": "updateFallthroughVariationOrRollout",
                    "rolloutWeights": {on: weight, off: FULL - weight},
                },
            ],
        )

    def turn_off(self, flag_key: str) -> None:
        self._patch(flag_key, [{"kind": "turnFlagOff"}])

    def _path(self, flag_key: str) -> str:
        return f"/api/v2/flags/{quote(self.project, safe='')}/{quote(flag_key, safe='')}"

    def _boolean_variations(self, flag_key: str) -> tuple[str, str]:
        """The ids of the `true` and `false` variations, which the weights are keyed by."""
        flag = self.api.json(
            self.api.request("GET", self._path(flag_key), params={"env": self.environment})
        )
        ids = {v.get("value"): v.get("_id") for v in flag.get("variations") or []}
        if flag.get("kind") != "boolean" or not ids.get(True) or not ids.get(False):
            raise BackendError(
                f"LaunchDarkly flag {flag_key} is not a boolean flag; "
                "releasebot can only ramp true/false flags"
            )
        return str(ids[True]), str(ids[False])

    def _patch(self, flag_key: str, instructions: list[dict[str, Any]]) -> None:
        self.api.request(
            "PATCH",
            self._path(flag_key),
            json={
                "environmentKey": self.environment,
                "comment": self.comment,
                "instructions": instructions,
            },
            headers={"Content-Type": SEMANTIC_PATCH},
            idempotent=True,
        )
