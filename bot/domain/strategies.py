"""Strategies are data: this turns a plan's strategy into the stages the engine runs.

Adding a strategy means adding a case here; the backends only ever see single stages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from bot.domain.context import DomainContext

DEPLOY = "deploy"
FLAG = "flag"
COLOURS = ("blue", "green")
# A stage's name is stored in 100 characters; versions may be longer.
NAME_LIMIT = 100


class PlanFields(Protocol):
    """The fields of a release plan that decide its stages (the stored plan has them)."""

    @property
    def service(self) -> str: ...

    @property
    def version(self) -> str: ...

    @property
    def strategy(self) -> str: ...

    @property
    def rollback_version(self) -> str | None: ...


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
    ctx: DomainContext, *, plan: PlanFields, live_colour: str | None = None
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


def rollback_words(version: str, previous: str | None) -> str:
    """What a rollback of `version` does, in the words the card, thread and alerts all use."""
    if previous:
        return f"rolling back to {previous}"
    return f"nothing was released before; undoing {version}"


def rollback_stages(
    ctx: DomainContext,
    *,
    plan: PlanFields,
    previous_colour: str | None = None,
    deployed_colour: str | None = None,
) -> list[StagePlan]:
    """The stages that undo `plan`; none of them sends more traffic to the version undone.

    With a release before it, the service goes back to that: blue-green switches traffic back
    to the colour still running it, a flag is turned off, anything else redeploys it at 100 %.
    With none (`plan.rollback_version` empty), the backend is asked to undo the version itself
    at weight 0: blue-green takes its colour out of traffic, canary and phased go to weight 0,
    a flag is turned off.
    """
    strategy = ctx.config.strategy_for(plan.service, plan.strategy)
    if strategy.kind == "feature_flag":
        return [StagePlan(0, "turn the flag off", FLAG, 0)]
    target = plan.rollback_version
    if target is None:
        if strategy.kind == "blue_green":
            name = f"undo {plan.version}: take {deployed_colour or 'it'} out of traffic"
            return [StagePlan(0, name[:NAME_LIMIT], DEPLOY, 0, deployed_colour)]
        return [StagePlan(0, f"undo {plan.version} (weight 0)"[:NAME_LIMIT], DEPLOY, 0)]
    if strategy.kind == "blue_green" and previous_colour is not None:
        # The old colour still runs the previous version: switching back is instant.
        return [
            StagePlan(0, f"switch traffic back to {previous_colour}", DEPLOY, 100, previous_colour)
        ]
    return [StagePlan(0, f"roll back to {target}"[:NAME_LIMIT], DEPLOY, 100)]
