"""One measurement of a check and how a measured value is judged (probes: bot/ports/probe.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.checks.expressions import (
    Condition,
    ConditionError,
    Measured,
    describe,
    format_result,
)


class Outcome(StrEnum):
    """What one measurement says (Argo's measurement phases)."""

    SUCCESS = "success"
    FAILURE = "failure"
    ERROR = "error"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class Measurement:
    """One stored measurement: the outcome, the number(s) measured and why, in words."""

    outcome: Outcome
    value: float | list[float] | None
    detail: str
    measured_at: datetime


def judge(
    value: Measured, success: Condition | None, failure: Condition | None
) -> tuple[Outcome, str]:
    """Argo's rules for a measured value: failure wins, a missed success fails, else undecided.

    With only a success condition, not meeting it is a failure; with only a failure condition,
    not meeting it is a success; with both and neither true the measurement is inconclusive.
    An evaluation error (an index past the end of an empty vector) is an ERROR, never a pass.
    """
    try:
        failed = failure.evaluate(value) if failure else None
        succeeded = success.evaluate(value) if success else None
    except ConditionError as error:
        return Outcome.ERROR, f"cannot evaluate the condition: {error.message}"
    if failure and failed:
        return Outcome.FAILURE, describe(failure, value, "failure")
    if success and succeeded:
        return Outcome.SUCCESS, describe(success, value, "success")
    if success and failure:
        return Outcome.INCONCLUSIVE, (
            f"{describe(success, value, 'success')} not met, nor failure condition '{failure.text}'"
        )
    if success:
        return Outcome.FAILURE, f"{describe(success, value, 'success')} not met"
    if failure:
        return Outcome.SUCCESS, f"{describe(failure, value, 'failure')} not met"
    return Outcome.SUCCESS, f"result {format_result(value)} (no condition set)"
