"""Strategies are data: this turns a plan's strategy into the stages the engine runs.

Adding a strategy means adding a case here; the backends only ever see single stages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from bot.context import DomainContext
from bot.models import ReleasePlan

DEPLOY = "deploy"
FLAG = "flag"
COLOURS = ("blue", "green")


@dataclass(frozen=True)
class StagePlan:
    """One stage to run: a backend call (deploy) or a feature-flag change (flag)."""

    index: int
    name: str
    kind: str
    weight: int | None
    colour: str | None = None
    pause: timedelta | None = None
    analysis: tuple[str, ...] = field(default_factory=tuple)
    gate: bool = False


def other_colour(colour: str | None) -> str:
    """The idle colour when `colour` is live (blue when nothing is)."""
    return "green" if colour == "blue" else "blue"


def rollout_stages(
    ctx: DomainContext, *, plan: ReleasePlan, live_colour: str | None = None
) -> list[StagePlan]:
    """The stages that take `plan` from nothing to fully released."""
    service = ctx.config.service(plan.service)
    strategy = ctx.config.strategy_for(plan.service, plan.strategy)
    if strategy.kind == "blue_green":
        idle = other_colour(live_colour)
        return [
            StagePlan(0, f"deploy to {idle}", DEPLOY, 0, idle, analysis=tuple(service.checks)),
            StagePlan(1, f"switch traffic to {idle}", DEPLOY, 100, idle),
        ]
    if strategy.kind == "feature_flag":
        stages = [StagePlan(0, "deploy dark", DEPLOY, 0)]
        for step in strategy.stages:
            stages.append(
                StagePlan(
                    len(stages),
                    f"flag on for {step.weight}%",
                    FLAG,
                    step.weight,
                    pause=step.pause,
                    analysis=tuple(step.analysis),
                    gate=step.gate == "manual",
                )
            )
        return stages
    if strategy.kind == "all_at_once":
        return [StagePlan(0, "all at once", DEPLOY, 100)]
    return [
        StagePlan(
            index,
            f"{strategy.kind} {step.weight}%",
            DEPLOY,
            step.weight,
            pause=step.pause,
            analysis=tuple(step.analysis),
            gate=step.gate == "manual",
        )
        for index, step in enumerate(strategy.stages)
    ]


def rollback_stages(
    ctx: DomainContext, *, plan: ReleasePlan, previous_colour: str | None = None
) -> list[StagePlan]:
    """The stages that undo `plan`: switch back, turn the flag off, or redeploy the target."""
    strategy = ctx.config.strategy_for(plan.service, plan.strategy)
    if strategy.kind == "blue_green" and previous_colour is not None:
        # The old colour still runs the previous version: switching back is instant.
        return [
            StagePlan(0, f"switch traffic back to {previous_colour}", DEPLOY, 100, previous_colour)
        ]
    if strategy.kind == "feature_flag":
        return [StagePlan(0, "turn the flag off", FLAG, 0)]
    target = plan.rollback_version or "the previous version"
    return [StagePlan(0, f"roll back to {target}", DEPLOY, 100)]
