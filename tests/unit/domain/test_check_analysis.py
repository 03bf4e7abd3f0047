"""Argo-style analyses: every verdict, the counters behind it and when to measure next."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.checks.analysis import AnalysisSpec, Verdict, assess
from bot.domain.checks.measurement import Measurement, Outcome
from bot.domain.errors import InvalidInput

OK, FAIL, ERR, INC = Outcome.SUCCESS, Outcome.FAILURE, Outcome.ERROR, Outcome.INCONCLUSIVE
INTERVAL = timedelta(seconds=30)
DELAY = timedelta(minutes=1)
START = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def spec(
    count: int = 5,
    failure_limit: int = 1,
    consecutive_error_limit: int = 2,
    inconclusive_limit: int = 0,
) -> AnalysisSpec:
    return AnalysisSpec(
        DELAY, INTERVAL, count, failure_limit, consecutive_error_limit, inconclusive_limit
    )


def taken(*outcomes: Outcome) -> list[Measurement]:
    """Measurements at the due times, each saying which one it was."""
    return [
        Measurement(o, 1.0, f"measurement {i + 1} {o}", START + DELAY + i * INTERVAL)
        for i, o in enumerate(outcomes)
    ]


@pytest.mark.parametrize(
    ("outcomes", "verdict", "reason", "counters"),
    [
        ((), Verdict.RUNNING, "no measurement yet; the first after 1m", (0, 0, 0, 0, 0)),
        ((OK, OK), Verdict.RUNNING, "2 of 5 measurements taken", (2, 0, 0, 0, 0)),
        ((OK, FAIL), Verdict.RUNNING, "2 of 5 measurements taken", (2, 1, 0, 0, 0)),
        ((OK, OK, OK, OK, OK), Verdict.SUCCESSFUL, "5 of 5 measurements passed", (5, 0, 0, 0, 0)),
        ((OK, FAIL, OK, OK, OK), Verdict.SUCCESSFUL,
         "5 of 5 measurements passed, 1 failed (limit 1)", (5, 1, 0, 0, 0)),
        ((OK, FAIL, FAIL), Verdict.FAILED,
         "2 of 3 measurements failed, limit 1: measurement 3 failure", (3, 2, 0, 0, 0)),
        ((ERR, ERR, ERR), Verdict.FAILED, "3 consecutive errors, limit 2: measurement 3 error",
         (0, 0, 3, 3, 0)),
        ((OK, ERR, ERR), Verdict.RUNNING,
         "1 of 5 measurements taken; 2 consecutive errors (limit 2): measurement 3 error",
         (1, 0, 2, 2, 0)),
        ((ERR, ERR, OK, ERR, ERR, OK, OK, OK, OK), Verdict.SUCCESSFUL, "5 of 5 measurements passed",
         (5, 0, 4, 0, 0)),
        ((OK, INC), Verdict.INCONCLUSIVE,
         "1 inconclusive measurement, limit 0: measurement 2 inconclusive", (2, 0, 0, 0, 1)),
        ((FAIL, FAIL, OK, OK), Verdict.FAILED,
         "2 of 2 measurements failed, limit 1: measurement 2 failure", (2, 2, 0, 0, 0)),
    ],
)  # fmt: skip
def test_verdicts(
    outcomes: tuple[Outcome, ...], verdict: Verdict, reason: str, counters: tuple[int, ...]
) -> None:
    state = assess(spec(), START, taken(*outcomes))
    assert (state.verdict, state.reason) == (verdict, reason)
    assert counters == (
        state.measurements_taken,
        state.failures,
        state.errors,
        state.consecutive_errors,
        state.inconclusives,
    )


def test_errors_do_not_count_toward_count() -> None:
    state = assess(spec(count=2), START, taken(OK, ERR, ERR))
    assert state.verdict is Verdict.RUNNING
    assert state.measurements_taken == 1
    assert assess(spec(count=2), START, taken(OK, ERR, ERR, OK)).verdict is Verdict.SUCCESSFUL


def test_limits_are_breached_only_when_exceeded() -> None:
    assert assess(spec(failure_limit=0), START, taken(FAIL)).verdict is Verdict.FAILED
    assert assess(spec(failure_limit=2), START, taken(FAIL, FAIL)).verdict is Verdict.RUNNING
    assert assess(spec(inconclusive_limit=1), START, taken(INC)).verdict is Verdict.RUNNING
    assert assess(spec(consecutive_error_limit=0), START, taken(ERR)).verdict is Verdict.FAILED


def test_failure_is_checked_before_count_on_the_last_measurement() -> None:
    # The fifth measurement both completes the count and breaches the failure limit.
    state = assess(spec(failure_limit=0), START, taken(OK, OK, OK, OK, FAIL))
    assert state.verdict is Verdict.FAILED


def test_next_due_waits_the_initial_delay_then_the_interval() -> None:
    assert assess(spec(), START, []).next_due == START + DELAY
    measurements = taken(OK, ERR)
    assert assess(spec(), START, measurements).next_due == measurements[-1].measured_at + INTERVAL
    assert assess(spec(), START, taken(*[OK] * 5)).next_due is None


def test_zero_initial_delay_measures_at_once() -> None:
    state = assess(AnalysisSpec(timedelta(0), INTERVAL, 1), START, [])
    assert (state.next_due, state.reason) == (START, "no measurement yet")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"count": 0}, "count must be at least 1, not 0"),
        ({"failure_limit": -1}, "failure_limit cannot be negative"),
        ({"interval": timedelta(seconds=-1)}, "initial_delay and interval cannot be negative"),
    ],
)
def test_nonsense_specs_are_refused(kwargs: dict[str, object], message: str) -> None:
    values: dict[str, object] = {"initial_delay": DELAY, "interval": INTERVAL, "count": 3} | kwargs
    with pytest.raises(InvalidInput, match=message):
        AnalysisSpec(**values)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(
    outcomes=st.lists(st.sampled_from([OK, FAIL, ERR, INC]), max_size=25),
    count=st.integers(1, 8),
    failure_limit=st.integers(0, 3),
    consecutive_error_limit=st.integers(0, 4),
    inconclusive_limit=st.integers(0, 3),
)
def test_a_decided_verdict_never_goes_back_to_running(
    outcomes: list[Outcome],
    count: int,
    failure_limit: int,
    consecutive_error_limit: int,
    inconclusive_limit: int,
) -> None:
    analysis = spec(count, failure_limit, consecutive_error_limit, inconclusive_limit)
    measurements = taken(*outcomes)
    decided = None
    for end in range(len(measurements) + 1):
        state = assess(analysis, START, measurements[:end])
        if decided is not None:
            assert state == decided
        elif state.verdict is not Verdict.RUNNING:
            decided = state
            assert state.next_due is None
        else:
            assert state.next_due is not None
            assert state.measurements_taken < count
