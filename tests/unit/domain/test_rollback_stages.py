"""What a rollback is for each strategy: back to the earlier release, or undo a first release.

A rollback never sends more traffic to the version it rolls back: with nothing released before,
every strategy asks for weight 0 (or turns its flag off) on the version being undone.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.config import parse_config
from bot.domain.context import DomainContext, StaticDirectory
from bot.domain.strategies import DEPLOY, FLAG, StagePlan, rollback_stages, rollback_words
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
flag = { provider = "launchdarkly", key = "new-shop" }
[strategies.canary]
steps = [{ weight = 10 }, { weight = 100 }]
[strategies.phased]
steps = [{ weight = 25 }, { weight = 100 }]
[strategies.dark]
kind = "feature_flag"
ramp = [50, 100]
"""


def _stages(
    strategy: str,
    previous: str | None,
    *,
    previous_colour: str | None = None,
    deployed_colour: str | None = None,
) -> list[StagePlan]:
    config = parse_config(CONFIG, path=Path("releasebot.toml"))
    ctx = DomainContext(config=config, clock=ManualClock(), directory=StaticDirectory())
    plan = ReleasePlan(
        id=3,
        service="shop",
        version="2.0",
        environment="staging",
        state="rolling_back",
        strategy=strategy,
        requester_id="U1",
        rollback_version=previous,
    )
    return rollback_stages(
        ctx, plan=plan, previous_colour=previous_colour, deployed_colour=deployed_colour
    )


@pytest.mark.parametrize("strategy", ["canary", "phased", "all_at_once"])
def test_weighted_strategies_undo_a_first_release_at_weight_0(strategy: str) -> None:
    assert _stages(strategy, None) == [StagePlan(0, "undo 2.0 (weight 0)", DEPLOY, 0)]
    assert _stages(strategy, "1.9") == [StagePlan(0, "roll back to 1.9", DEPLOY, 100)]


def test_blue_green_switches_back_or_takes_a_first_release_out_of_traffic() -> None:
    assert _stages("blue_green", None, deployed_colour="blue") == [
        StagePlan(0, "undo 2.0: take blue out of traffic", DEPLOY, 0, "blue")
    ]
    assert _stages("blue_green", "1.9", previous_colour="blue", deployed_colour="green") == [
        StagePlan(0, "switch traffic back to blue", DEPLOY, 100, "blue")
    ]


@pytest.mark.parametrize("previous", [None, "1.9"])
def test_a_feature_flag_rollback_turns_the_flag_off(previous: str | None) -> None:
    assert _stages("dark", previous) == [StagePlan(0, "turn the flag off", FLAG, 0)]


def test_a_long_version_still_fits_a_stage_name() -> None:
    [stage] = _stages("canary", "9" * 128)
    assert len(stage.name) == 100 and stage.name.startswith("roll back to 999")


def test_every_message_uses_the_same_words() -> None:
    assert rollback_words("1.4.2", None) == "nothing was released before; undoing 1.4.2"
    assert rollback_words("1.4.2", "1.4.1") == "rolling back to 1.4.1"
