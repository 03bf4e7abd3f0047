"""An Argo Rollouts-style analysis as a pure function of the measurements taken so far.

Semantics follow Argo's `assessMetricStatus`: a measurement that errored is not counted
toward `count` and only the run of consecutive errors matters; limits are breached when
exceeded (`failures > failure_limit`), checked in the order failures, inconclusives,
consecutive errors, then `count` reached. Once a verdict is reached, later measurements are
ignored, so appending measurements never turns a decided analysis back into a running one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.checks.measurement import Measurement, Outcome
from bot.domain.clock import ensure_utc
from bot.domain.config import Check
from bot.domain.durations import format_duration
from bot.domain.errors import InvalidInput


@dataclass(frozen=True)
class AnalysisSpec:
    """How often to measure, how many times, and how much failure to tolerate."""

    initial_delay: timedelta
    interval: timedelta
    count: int
    failure_limit: int = 0
    consecutive_error_limit: int = 4  # Argo's default
    inconclusive_limit: int = 0

    def __post_init__(self) -> None:
        if self.count < 1:
            raise InvalidInput(f"count must be at least 1, not {self.count}")
        for name in ("failure_limit", "consecutive_error_limit", "inconclusive_limit"):
            if getattr(self, name) < 0:
                raise InvalidInput(f"{name} cannot be negative")
        if self.initial_delay < timedelta(0) or self.interval < timedelta(0):
            raise InvalidInput("initial_delay and interval cannot be negative")


def analysis_spec(check: Check) -> AnalysisSpec:
    """The schedule and tolerances of a configured check."""
    return AnalysisSpec(
        initial_delay=check.initial_delay,
        interval=check.interval,
        count=check.count,
        failure_limit=check.failure_limit,
        consecutive_error_limit=check.consecutive_error_limit,
        inconclusive_limit=check.inconclusive_limit,
    )


class Verdict(StrEnum):
    """Where an analysis stands."""

    RUNNING = "running"
    SUCCESSFUL = "successful"
    FAILED = "failed"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class AnalysisState:
    """The verdict, why, when to measure next, and the counters behind it.

    `measurements_taken` counts measurements that were not errors (Argo's `count`);
    `errors` counts all errors and `consecutive_errors` the current run of them.
    """

    verdict: Verdict
    reason: str
    next_due: datetime | None
    measurements_taken: int
    failures: int
    errors: int
    consecutive_errors: int
    inconclusives: int


def _plural(number: int, word: str) -> str:
    return f"{number} {word}" if number == 1 else f"{number} {word}s"


def _breach(
    spec: AnalysisSpec, taken: int, failures: int, inconclusives: int, consecutive: int, detail: str
) -> tuple[Verdict, str] | None:
    """The verdict once a limit is exceeded or `count` is reached, in Argo's order."""
    if failures > spec.failure_limit:
        return Verdict.FAILED, (
            f"{failures} of {_plural(taken, 'measurement')} failed, limit "
            f"{spec.failure_limit}: {detail}"
        )
    if inconclusives > spec.inconclusive_limit:
        return Verdict.INCONCLUSIVE, (
            f"{_plural(inconclusives, 'inconclusive measurement')}, limit "
            f"{spec.inconclusive_limit}: {detail}"
        )
    if consecutive > spec.consecutive_error_limit:
        return Verdict.FAILED, (
            f"{consecutive} consecutive errors, limit {spec.consecutive_error_limit}: {detail}"
        )
    if taken >= spec.count:
        tolerated = f", {failures} failed (limit {spec.failure_limit})" if failures else ""
        return Verdict.SUCCESSFUL, f"{taken} of {spec.count} measurements passed{tolerated}"
    return None


def assess(
    spec: AnalysisSpec, started_at: datetime, measurements: Sequence[Measurement]
) -> AnalysisState:
    """The state of an analysis given its measurements in the order they were taken."""
    taken = failures = errors = consecutive = inconclusives = 0
    for measurement in measurements:
        if measurement.outcome is Outcome.ERROR:
            errors += 1
            consecutive += 1
        else:
            taken += 1
            consecutive = 0
            if measurement.outcome is Outcome.FAILURE:
                failures += 1
            elif measurement.outcome is Outcome.INCONCLUSIVE:
                inconclusives += 1
        decided = _breach(spec, taken, failures, inconclusives, consecutive, measurement.detail)
        if decided is not None:
            verdict, reason = decided
            return AnalysisState(
                verdict, reason, None, taken, failures, errors, consecutive, inconclusives
            )
    if measurements:
        next_due = ensure_utc(measurements[-1].measured_at) + spec.interval
        reason = f"{taken} of {spec.count} measurements taken"
        if consecutive:
            reason += (
                f"; {_plural(consecutive, 'consecutive error')} "
                f"(limit {spec.consecutive_error_limit}): {measurements[-1].detail}"
            )
    else:
        next_due = ensure_utc(started_at) + spec.initial_delay
        delay = spec.initial_delay
        reason = "no measurement yet" + (
            f"; the first after {format_duration(delay)}" if delay else ""
        )
    return AnalysisState(
        Verdict.RUNNING, reason, next_due, taken, failures, errors, consecutive, inconclusives
    )
