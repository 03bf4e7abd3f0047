"""Unleash through its admin API: a flexibleRollout strategy and the environment switch.

Retried: GETs, the strategy PUT and the environment on/off POSTs (each sets absolute state).
Adding a strategy (POST) is not retried: repeating it would add a second strategy.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from bot.ports.flags import check_percentage
from integrations.deploy.http import ProviderHttp, RetryPolicy, secret_or_env

STRATEGY = "flexibleRollout"


class UnleashFlags:
    """Ramps feature flags of one project in one environment."""

    def __init__(
        self,
        http: httpx.Client,
        api_url: str,
        project: str,
        environment: str,
        token: str | None = None,
        *,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.project = project
        self.environment = environment
        api_token = secret_or_env(token, "UNLEASH_API_TOKEN", what="Unleash")
        self.api = ProviderHttp(
            http,
            provider="Unleash",
            base_url=api_url,
            headers={"Authorization": api_token, "User-Agent": "releasebot"},
            retry=retry,
        )

    def set_rollout(self, flag_key: str, percentage: int) -> None:
        check_percentage(percentage)
        strategies = self.api.json(self.api.request("GET", self._path(flag_key, "/strategies")))
        existing = next((s for s in strategies if s.get("name") == STRATEGY), None)
        parameters = dict((existing or {}).get("parameters") or {})
        body: dict[str, Any] = {
            "name": STRATEGY,
            "constraints": (existing or {}).get("constraints") or [],
            "parameters": {
                "rollout": str(percentage),
                "stickiness": parameters.get("stickiness") or "default",
                "groupId": parameters.get("groupId") or flag_key,
            },
        }
        if existing is not None:
            self.api.request(
                "PUT",
                self._path(flag_key, f"/strategies/{quote(str(existing['id']), safe='')}"),
                json=body,
                idempotent=True,
            )
        else:
            self.api.request("POST", self._path(flag_key, "/strategies"), json=body)
        self.api.request("POST", self._path(flag_key, "/on"), idempotent=True, expected=(200, 204))

    def turn_off(self, flag_key: str) -> None:
        self.api.request("POST", self._path(flag_key, "/off"), idempotent=True, expected=(200, 204))

    def _path(self, flag_key: str, rest: str) -> str:
        return (
            f"/api/admin/projects/{quote(self.project, safe='')}/features/"
            f"{quote(flag_key, safe='')}/environments/{quote(self.environment, safe='')}{rest}"
        )
