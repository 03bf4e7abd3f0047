"""A real command backend (a script in tmp_path), checks against an httpx MockTransport."""

from __future__ import annotations

import json
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from bot.domain.config import ReleasebotConfig, load_config
from bot.domain.context import DomainContext, StaticDirectory
from bot.release.desk import Desk
from bot.release.plans import get_plan
from bot.rollout.engine import RolloutEngine
from bot.store.db import Database
from bot.store.models import ReleasePlan
from console.testing import ManualClock
from integrations.checks.registry import ProbeFactory
from integrations.deploy.registry import ConfiguredBackends

POLL_STEP = timedelta(seconds=5)
DEPLOY_SCRIPT = """#!/bin/sh
# Records every call; fails a deploy at <weight> when fail-<weight> exists, or any call
# of an action when fail-<action> exists.
here="$(dirname "$0")"
format='{"argv": "%s", "action": "%s", "version": "%s", "weight": "%s", "key": "%s", '
format="$format"'"colour": "%s", "previous": "%s"}\\n'
printf "$format" \\
  "$*" "$RELEASE_ACTION" "$RELEASE_VERSION" "$RELEASE_WEIGHT" "$RELEASE_IDEMPOTENCY_KEY" \\
  "$RELEASE_COLOUR" "$RELEASE_PREVIOUS_VERSION" >> "$here/calls.jsonl"
echo "deploying $1 $2 to $3 at ${4:-?}%"
if { [ "$RELEASE_ACTION" = deploy ] && [ -e "$here/fail-$RELEASE_WEIGHT" ]; } \\
  || [ -e "$here/fail-$RELEASE_ACTION" ]; then
  echo "error: pods crash-looping" >&2
  exit 3
fi
"""

CONFIG = """
timezone = "UTC"
admins = ["U0ADMIN"]

[channels]
releases = "C0RELEASES"
announcements = "C0ANNOUNCE"
oncall = "C0ONCALL"

[environments.staging]
order = 1
approvals = {{ required = 0 }}

[services.checkout]
backend = "command"
command = ["./deploy.sh", "{{service}}", "{{version}}", "{{environment}}", "{{weight}}"]
strategy = "canary"
checks = ["checkout-health"]
on_failure = "{on_failure}"

[services.flagged]
backend = "command"
command = ["./deploy.sh", "{{service}}", "{{version}}", "{{environment}}", "{{weight}}"]
strategy = "dark-launch"
on_failure = "{on_failure}"
flag = {{ provider = "launchdarkly", key = "new-checkout", project = "shop" }}

[strategies.dark-launch]
kind = "feature_flag"
ramp = [25, 100]

[services.simple]
backend = "command"
on_failure = "{on_failure}"
command = ["./deploy.sh", "{{service}}", "{{version}}", "{{environment}}"]
strategy = "{simple_strategy}"

[strategies.canary]
steps = [
  {{ weight = 10, pause = "1m", analysis = ["checkout-health"] }},
  {{ weight = 50, gate = "manual" }},
  {{ weight = 100 }},
]

[checks.checkout-health]
type = "http"
url = "http://checkout.internal/healthz"
expect_status = 200
interval = "30s"
count = 2
failure_limit = 0
"""


@dataclass
class Health:
    """The far sides: the http check (healthy or not) and LaunchDarkly (flag changes)."""

    healthy: bool = True
    asked: int = 0
    flag_changes: list[list[str]] = field(default_factory=list)

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "app.launchdarkly.com":
            return self._launchdarkly(request)
        self.asked += 1
        return httpx.Response(200 if self.healthy else 503, text="ok" if self.healthy else "down")

    def _launchdarkly(self, request: httpx.Request) -> httpx.Response:
        # Shapes from LaunchDarkly's REST API: GET a flag, PATCH it with a semantic patch.
        if request.method == "GET":
            variations = [{"_id": "var-on", "value": True}, {"_id": "var-off", "value": False}]
            return httpx.Response(
                200, json={"key": "new-checkout", "kind": "boolean", "variations": variations}
            )
        body = json.loads(request.content)
        self.flag_changes.append(
            [
                f"{i['kind']}{i.get('rolloutWeights', {}).get('var-on', '')}"
                for i in body["instructions"]
            ]
        )
        return httpx.Response(200, json={"key": "new-checkout"})


@dataclass
class Rig:
    """The engine with its real command backend, and the means to drive time."""

    desk: Desk
    engine: RolloutEngine
    clock: ManualClock
    folder: Path
    health: Health
    make_engine: Callable[[], RolloutEngine] = field(repr=False)

    def calls(self) -> list[dict[str, str]]:
        path = self.folder / "calls.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    def plan(self, plan_id: int = 1) -> ReleasePlan:
        with self.desk.db.session() as session:
            return get_plan(session, plan_id=plan_id)

    def drive(
        self, until: Callable[[ReleasePlan], bool], *, plan_id: int = 1, seconds: float = 20
    ) -> ReleasePlan:
        """Run the engine, moving the fake clock to each next step, until `until(plan)`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.engine.run_due()
            plan = self.plan(plan_id)
            if until(plan):
                return plan
            if plan.next_step_at is not None and plan.next_step_at > self.clock.now():
                # Real processes need real time; everything else waits on the fake clock.
                step = min(plan.next_step_at - self.clock.now(), POLL_STEP)
                self.clock.advance(step)
            time.sleep(0.02)  # a real child process is running; poll it with a deadline
        raise AssertionError(f"R-{plan_id} stuck in {self.plan(plan_id).state}")


@pytest.fixture
def on_failure() -> str:
    return "rollback"


@pytest.fixture
def simple_strategy() -> str:
    return "all_at_once"


@pytest.fixture
def rig_config(tmp_path: Path, on_failure: str, simple_strategy: str) -> ReleasebotConfig:
    script = tmp_path / "deploy.sh"
    script.write_text(DEPLOY_SCRIPT)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    path = tmp_path / "releasebot.toml"
    path.write_text(CONFIG.format(on_failure=on_failure, simple_strategy=simple_strategy))
    return load_config(path)


@pytest.fixture
def rig(
    db: Database,
    rig_config: ReleasebotConfig,
    clock: ManualClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Rig]:
    monkeypatch.setenv("LAUNCHDARKLY_API_TOKEN", "api-test-token")
    health = Health()
    http = httpx.Client(transport=httpx.MockTransport(health.handler))
    ctx = DomainContext(config=rig_config, clock=clock, directory=StaticDirectory())

    def make_engine() -> RolloutEngine:
        backends = ConfiguredBackends(
            config=rig_config,
            http=http,
            state_dir=tmp_path / "state",
            public_url="http://127.0.0.1:3000",
            callback_lookup=lambda token: None,
        )
        return RolloutEngine(
            db=db,
            ctx=ctx,
            backends=backends,
            probes=ProbeFactory(config=rig_config, http=http, clock=clock),
            poll_interval=timedelta(seconds=1),
        )

    yield Rig(Desk(db=db, ctx=ctx), make_engine(), clock, tmp_path, health, make_engine)
    http.close()
