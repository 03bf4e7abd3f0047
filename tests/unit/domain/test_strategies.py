"""Which stages a rollout runs for each strategy: names, weights, pauses, checks and gates.

No database: the stage plan comes from the config and the plan alone.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain.config import parse_config
from bot.domain.context import DomainContext, StaticDirectory
from bot.domain.errors import InvalidInput
from bot.domain.strategies import DEPLOY, FLAG, StagePlan, rollout_stages
from bot.store.models import ReleasePlan
from console.testing import ManualClock

CONFIG = """
timezone = "UTC"
[channels]
releases = "C0RELEASES"
[environments.staging]
approvals = { required = 0 }
[services.shop]
backend = "command"
command = ["./deploy.sh"]
strategy = "canary"
checks = ["health"]
flag = { provider = "launchdarkly", key = "new-shop" }
[services.plain]
backend = "command"
command = ["./deploy.sh"]
[strategies.canary]
steps = [
  { weight = 10, pause = "5m", analysis = ["health"] },
  { weight = 50, gate = "manual" },
  { weight = 100 },
]
[strategies.phased]
steps = [{ weight = 25 }, { weight = 100, pause = "1h" }]
[strategies.dark]
kind = "feature_flag"
ramp = [20, 100]
[checks.health]
type = "http"
url = "http://127.0.0.1:8080/healthz"
"""


def _stages(
    strategy: str | None, *, service: str = "shop", live_colour: str | None = None
) -> list[StagePlan]:
    config = parse_config(CONFIG, path=Path("releasebot.toml"))
    ctx = DomainContext(config=config, clock=ManualClock(), directory=StaticDirectory())
    plan = ReleasePlan(
        id=3,
        service=service,
        version="2.0",
        environment="staging",
        state="approved",
        strategy=strategy,
        requester_id="U1",
    )
    return rollout_stages(ctx, plan=plan, live_colour=live_colour)


def test_the_services_canary_runs_its_steps_with_their_pauses_checks_and_gate() -> None:
    assert _stages(None) == [
        StagePlan(0, "canary 10%", DEPLOY, 10, pause=timedelta(minutes=5), analysis=("health",)),
        StagePlan(1, "canary 50%", DEPLOY, 50, gate=True),
        StagePlan(2, "canary 100%", DEPLOY, 100),
    ]


def test_a_plans_own_strategy_replaces_the_services() -> None:
    assert _stages("phased") == [
        StagePlan(0, "phased 25%", DEPLOY, 25),
        StagePlan(1, "phased 100%", DEPLOY, 100, pause=timedelta(hours=1)),
    ]


def test_a_service_without_a_strategy_deploys_all_at_once() -> None:
    assert _stages(None, service="plain") == [StagePlan(0, "all at once", DEPLOY, 100)]


@pytest.mark.parametrize(("live", "idle"), [(None, "blue"), ("blue", "green"), ("green", "blue")])
def test_blue_green_deploys_to_the_idle_colour_checks_it_then_switches(
    live: str | None, idle: str
) -> None:
    assert _stages("blue_green", live_colour=live) == [
        StagePlan(0, f"deploy to {idle}", DEPLOY, 0, idle, analysis=("health",)),
        StagePlan(1, f"switch traffic to {idle}", DEPLOY, 100, idle),
    ]


def test_a_feature_flag_deploys_dark_then_turns_the_flag_up_step_by_step() -> None:
    assert _stages("dark") == [
        StagePlan(0, "deploy dark", DEPLOY, 0),
        StagePlan(1, "flag on for 20%", FLAG, 20),
        StagePlan(2, "flag on for 100%", FLAG, 100),
    ]


def test_a_feature_flag_strategy_on_a_service_without_a_flag_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        _stages("dark", service="plain")
    assert refused.value.message == (
        "strategy 'dark' turns on a feature flag, but service 'plain' has no flag configured"
    )
