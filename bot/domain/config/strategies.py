"""Rollout strategies: how a deployment is split into weighted, checked stages."""

from __future__ import annotations

from typing import Literal, Self, get_args

from pydantic import Field, model_validator

from bot.domain.config.base import ConfigModel, Loc, raise_problems
from bot.domain.config.values import Name, PositiveDuration

StrategyKind = Literal["all_at_once", "canary", "phased", "blue_green", "feature_flag"]
STRATEGY_KINDS: tuple[StrategyKind, ...] = get_args(StrategyKind)
_STEPPED: tuple[StrategyKind, ...] = ("canary", "phased")


class Step(ConfigModel):
    """Deploy at `weight` percent, wait `pause`, run `analysis`, then maybe wait for Promote."""

    weight: int = Field(ge=1, le=100, description="percent of traffic or instances, 1 to 100")
    pause: PositiveDuration | None = None
    analysis: list[Name] = Field(default_factory=list, description="names of [checks.<name>]")
    gate: Literal["manual"] | None = None


class Strategy(ConfigModel):
    """One `[strategies.<name>]` table (or a built-in)."""

    kind: StrategyKind = Field(
        description="all_at_once, canary, phased, blue_green or feature_flag "
        "(inferred when the table is named after one)"
    )
    steps: list[Step] = Field(default_factory=list)
    ramp: list[int] | None = Field(None, description="feature_flag rollout percentages")

    @property
    def stages(self) -> list[Step]:
        """The stages a deployment goes through, in order; the last one is at 100%."""
        if self.steps:
            return list(self.steps)
        if self.ramp:
            return [Step(weight=weight) for weight in self.ramp]
        return [Step(weight=100)]

    @model_validator(mode="after")
    def _steps_fit_the_kind(self) -> Self:
        problems: list[tuple[Loc, str]] = []
        if self.kind in _STEPPED and not self.steps:
            problems.append((("steps",), f"a {self.kind} strategy needs at least one step"))
        if self.kind in ("all_at_once", "blue_green") and self.steps:
            problems.append((("steps",), f"a {self.kind} strategy has no steps"))
        if self.ramp is not None and self.kind != "feature_flag":
            problems.append((("ramp",), "ramp is only for feature_flag strategies; use steps"))
        if self.ramp is not None and self.steps:
            problems.append((("ramp",), "use either ramp or steps, not both"))
        problems += _climbing(("steps",), [step.weight for step in self.steps], ("weight",))
        if self.ramp is not None:
            problems += _climbing(("ramp",), self.ramp, ())
        raise_problems("Strategy", problems)
        return self


def _climbing(where: Loc, weights: list[int], leaf: Loc) -> list[tuple[Loc, str]]:
    """Weights must stay within 1..100, never decrease, and end at 100."""
    problems: list[tuple[Loc, str]] = []
    for index, weight in enumerate(weights):
        loc = (*where, index, *leaf)
        if not 1 <= weight <= 100:
            problems.append((loc, f"{weight} is not a percentage from 1 to 100"))
        elif index and weight < weights[index - 1]:
            problems.append(
                (
                    loc,
                    f"{weight} is lower than the previous {weights[index - 1]}; "
                    "weights must not decrease",
                )
            )
    if weights and weights[-1] != 100:
        problems.append(
            (
                (*where, len(weights) - 1, *leaf),
                f"the last stage is at {weights[-1]}; it must reach 100 to finish the rollout",
            )
        )
    return problems


BUILTIN_STRATEGIES: dict[str, Strategy] = {
    "all_at_once": Strategy(kind="all_at_once"),
    "blue_green": Strategy(kind="blue_green"),
}
