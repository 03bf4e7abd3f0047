"""Stateful stand-ins for LaunchDarkly and Unleash that keep each environment's flag apart.

Served through `httpx.MockTransport`, they enforce the rules the vendors publish:
- LaunchDarkly REST API v2, "Update feature flag" with a semantic patch
  (https://launchdarkly.com/docs/api/feature-flags/patch-feature-flag): the Content-Type must
  carry `domain-model=launchdarkly.semanticpatch`; `instructions` is required; turnFlagOn,
  turnFlagOff and updateFallthroughVariationOrRollout need `environmentKey`; rollout weights
  are keyed by variation `_id` in thousandths of a percent and sum to 100000. The documentation
  does not give the status for an environment key the project lacks; any 4xx refuses the
  change, and this fake answers 400 with LaunchDarkly's `{code, message}` error shape.
- Unleash admin API (unleash-server src/lib/features/feature-toggle/feature-toggle-service.ts):
  a feature outside the project is 404; toggling an environment the feature lacks is 404
  "Could not find environment ..."; adding a strategy to an environment the project lacks is
  400 "You have not added the current environment to the project"; updating a strategy by id
  checks its project and feature but not its environment; turning an environment on with no
  enabled strategy adds the default strategy (a 100% flexibleRollout).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import httpx

SEMANTIC_PATCH = "application/json; domain-model=launchdarkly.semanticpatch"
FULL = 100_000
ON_ID, OFF_ID = "86208e6e-468f-4425-b334-7f318397f95c", "7b32de80-f346-4276-bb77-28dfa7ddc2d8"
_ENVIRONMENT_KINDS = {"turnFlagOn", "turnFlagOff", "updateFallthroughVariationOrRollout"}


def _error(status: int, code: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"code": code, "message": message})


@dataclass
class LdEnvironment:
    """One environment's targeting of the flag."""

    on: bool = False
    # variation _id -> weight; the flag starts serving `false` to everyone.
    weights: dict[str, int] = field(default_factory=lambda: {ON_ID: 0, OFF_ID: FULL})

    @property
    def percent_on(self) -> int:
        """Percent of traffic served `true` while the flag is on (0 when off)."""
        return self.weights[ON_ID] // 1000 if self.on else 0


class FakeLaunchDarkly:
    """One boolean flag in one project, with its own state per environment."""

    def __init__(
        self, *, token: str, project: str, flag: str, environments: tuple[str, ...]
    ) -> None:
        self.token, self.project, self.flag = token, project, flag
        self.environments = {name: LdEnvironment() for name in environments}
        # (method, environment) of every request that got through authentication.
        self.calls: list[tuple[str, str | None]] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") != self.token:
            return _error(401, "unauthorized", "Invalid access token")
        parts = request.url.path.split("/")
        if parts[:4] != ["", "api", "v2", "flags"] or len(parts) != 6:
            return _error(404, "not_found", "Invalid resource identifier")
        if (unquote(parts[4]), unquote(parts[5])) != (self.project, self.flag):
            return _error(404, "not_found", "Unknown resource")
        if request.method == "GET":
            env = request.url.params.get("env")
            self.calls.append(("GET", env))
            return httpx.Response(200, json=self._representation(env))
        if request.method == "PATCH":
            return self._patch(request)
        return _error(405, "method_not_allowed", "Method not allowed")

    def _representation(self, env: str | None) -> dict[str, Any]:
        shown = {k: v for k, v in self.environments.items() if env is None or k == env}
        return {
            "key": self.flag,
            "kind": "boolean",
            "variations": [
                {"_id": ON_ID, "value": True, "name": "true"},
                {"_id": OFF_ID, "value": False, "name": "false"},
            ],
            "environments": {
                name: {
                    "on": state.on,
                    "fallthrough": {
                        "rollout": {
                            "variations": [
                                {"variation": 0, "weight": state.weights[ON_ID]},
                                {"variation": 1, "weight": state.weights[OFF_ID]},
                            ]
                        }
                    },
                }
                for name, state in shown.items()
            },
        }

    def _patch(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("content-type") != SEMANTIC_PATCH:
            # Without the domain model the body is read as a JSON patch, which this is not.
            return _error(400, "invalid_request", "Invalid JSON patch: expected an array")
        body = json.loads(request.content)
        instructions = body.get("instructions")
        if not isinstance(instructions, list) or not instructions:
            return _error(400, "invalid_request", "instructions is required")
        env = body.get("environmentKey")
        self.calls.append(("PATCH", env))
        staged = {
            name: LdEnvironment(s.on, dict(s.weights)) for name, s in self.environments.items()
        }
        for instruction in instructions:
            kind = instruction.get("kind")
            if kind not in _ENVIRONMENT_KINDS:
                return _error(400, "invalid_request", f"unsupported instruction kind {kind}")
            if not env:
                return _error(400, "invalid_request", f"environmentKey is required for {kind}")
            if env not in staged:
                return _error(400, "invalid_request", f"Unknown environment key: {env}")
            if kind == "updateFallthroughVariationOrRollout":
                weights = instruction.get("rolloutWeights")
                if not isinstance(weights, dict) or set(weights) - {ON_ID, OFF_ID}:
                    return _error(400, "invalid_request", "rolloutWeights must name variations")
                if sum(weights.values()) != FULL:
                    return _error(400, "invalid_request", "rollout weights must sum to 100000")
                staged[env].weights = {ON_ID: 0, OFF_ID: 0, **weights}
            else:
                staged[env].on = kind == "turnFlagOn"
        self.environments = staged  # a semantic patch applies all its instructions or none
        return httpx.Response(200, json=self._representation(None))


@dataclass
class UnleashEnvironment:
    """One environment of the feature: on or off, and its activation strategies."""

    enabled: bool = False
    strategies: list[dict[str, Any]] = field(default_factory=list)

    @property
    def percent_on(self) -> int:
        """The flexibleRollout percentage while enabled (0 when off)."""
        if not self.enabled:
            return 0
        rollouts = [s for s in self.strategies if s["name"] == "flexibleRollout"]
        return max((int(s["parameters"]["rollout"]) for s in rollouts), default=0)


class FakeUnleash:
    """One feature in one project; the project has some environments, the feature the same."""

    def __init__(
        self, *, token: str, project: str, feature: str, environments: tuple[str, ...]
    ) -> None:
        self.token, self.project, self.feature = token, project, feature
        self.environments = {name: UnleashEnvironment() for name in environments}
        # (method, environment path segment, what) of every authenticated request.
        self.calls: list[tuple[str, str, str]] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") != self.token:
            return httpx.Response(401, json={"message": "You must log in to use Unleash."})
        parts = [unquote(p) for p in request.url.path.split("/")]
        prefix = ["", "api", "admin", "projects"]
        if parts[:4] != prefix or len(parts) < 9 or parts[5] != "features":
            return httpx.Response(404, json={"message": "Not found"})
        project, feature, env, rest = parts[4], parts[6], parts[8], parts[9:]
        if parts[7] != "environments":
            return httpx.Response(404, json={"message": "Not found"})
        self.calls.append((request.method, env, "/".join(rest)))
        if (project, feature) != (self.project, self.feature):
            return httpx.Response(
                404,
                json={"message": f'There\'s no feature named "{feature}" in project "{project}".'},
            )
        match request.method, rest:
            case "GET", ["strategies"]:
                state = self.environments.get(env)
                return httpx.Response(200, json=state.strategies if state else [])
            case "POST", ["strategies"]:
                return self._add_strategy(env, json.loads(request.content))
            case "PUT", ["strategies", strategy_id]:
                return self._update_strategy(strategy_id, json.loads(request.content))
            case "POST", ["on" | "off" as switch]:
                return self._switch(env, on=switch == "on")
        return httpx.Response(404, json={"message": "Not found"})

    def _add_strategy(self, env: str, body: dict[str, Any]) -> httpx.Response:
        state = self.environments.get(env)
        if state is None:
            message = "You have not added the current environment to the project"
            return httpx.Response(400, json={"message": message})
        strategy = {"id": str(uuid.uuid4()), "disabled": False, **body}
        state.strategies.append(strategy)
        return httpx.Response(200, json=strategy)

    def _update_strategy(self, strategy_id: str, body: dict[str, Any]) -> httpx.Response:
        # Unleash finds the strategy by id alone: the environment in the path is not checked.
        for state in self.environments.values():
            for strategy in state.strategies:
                if strategy["id"] == strategy_id:
                    strategy.update(body)
                    return httpx.Response(200, json=strategy)
        return httpx.Response(
            404, json={"message": f"Could not find strategy with id {strategy_id}"}
        )

    def _switch(self, env: str, *, on: bool) -> httpx.Response:
        state = self.environments.get(env)
        if state is None:
            message = f"Could not find environment {env} for feature: {self.feature}"
            return httpx.Response(404, json={"message": message})
        if on and not any(not s.get("disabled") for s in state.strategies):
            state.strategies.append(
                {
                    "id": str(uuid.uuid4()),
                    "name": "flexibleRollout",
                    "disabled": False,
                    "constraints": [],
                    "parameters": {
                        "rollout": "100",
                        "stickiness": "default",
                        "groupId": self.feature,
                    },
                }
            )
        state.enabled = on
        return httpx.Response(200)


def routed(routes: dict[str, Any], fallback: Any) -> httpx.MockTransport:
    """One transport for the bot's shared client: each vendor host to its fake."""

    def handle(request: httpx.Request) -> httpx.Response:
        handler = routes.get(request.url.host, fallback)
        response: httpx.Response = handler(request)
        return response

    return httpx.MockTransport(handle)
