"""The plan lifecycle of SPEC §2 as one explicit table; nothing else moves a plan's state."""

from __future__ import annotations

from enum import StrEnum

from bot.domain.errors import IllegalTransition
from bot.domain.states import PlanState, state_label

S = PlanState


class Event(StrEnum):
    """What happens to a plan; each maps some states to exactly one next state."""

    APPROVE = "approve"
    REJECT = "reject"
    CANCEL = "cancel"
    EDIT = "edit"
    DEPLOY = "deploy"
    PAUSE = "pause"
    RESUME = "resume"
    STAGES_DONE = "stages_done"
    CHECKS_PASSED = "checks_passed"
    ABORT = "abort"
    CHECK_FAILED = "check_failed"
    ROLLBACK = "rollback"
    ROLLBACK_DONE = "rollback_done"
    ROLLBACK_FAILED = "rollback_failed"
    EXPIRE = "expire"


TRANSITIONS: dict[Event, dict[PlanState, PlanState]] = {
    Event.APPROVE: {S.AWAITING_APPROVAL: S.APPROVED},
    Event.REJECT: {S.AWAITING_APPROVAL: S.REJECTED},
    Event.CANCEL: {S.AWAITING_APPROVAL: S.CANCELLED, S.APPROVED: S.CANCELLED},
    Event.EDIT: {S.APPROVED: S.AWAITING_APPROVAL},
    Event.DEPLOY: {S.APPROVED: S.DEPLOYING},
    # A failed check with on_failure = "pause" stops verification too, not only a rollout.
    Event.PAUSE: {S.DEPLOYING: S.PAUSED, S.VERIFYING: S.PAUSED},
    Event.RESUME: {S.PAUSED: S.DEPLOYING},
    Event.STAGES_DONE: {S.DEPLOYING: S.VERIFYING},
    Event.CHECKS_PASSED: {S.VERIFYING: S.RELEASED},
    Event.ABORT: {
        S.DEPLOYING: S.ROLLING_BACK,
        S.PAUSED: S.ROLLING_BACK,
        S.VERIFYING: S.ROLLING_BACK,
    },
    Event.CHECK_FAILED: {
        S.DEPLOYING: S.ROLLING_BACK,
        S.PAUSED: S.ROLLING_BACK,
        S.VERIFYING: S.ROLLING_BACK,
    },
    Event.ROLLBACK: {S.RELEASED: S.ROLLING_BACK},
    Event.ROLLBACK_DONE: {S.ROLLING_BACK: S.ROLLED_BACK},
    Event.ROLLBACK_FAILED: {S.ROLLING_BACK: S.FAILED},
    Event.EXPIRE: {S.AWAITING_APPROVAL: S.EXPIRED, S.APPROVED: S.EXPIRED},
}

# How a person would name each event in a refusal ("can't deploy R-3: …").
VERBS: dict[Event, str] = {
    Event.APPROVE: "approve",
    Event.REJECT: "reject",
    Event.CANCEL: "cancel",
    Event.EDIT: "edit",
    Event.DEPLOY: "deploy",
    Event.PAUSE: "pause",
    Event.RESUME: "resume",
    Event.STAGES_DONE: "finish the rollout of",
    Event.CHECKS_PASSED: "release",
    Event.ABORT: "abort",
    Event.CHECK_FAILED: "fail the checks of",
    Event.ROLLBACK: "roll back",
    Event.ROLLBACK_DONE: "finish rolling back",
    Event.ROLLBACK_FAILED: "fail the rollback of",
    Event.EXPIRE: "expire",
}

TERMINAL: frozenset[PlanState] = frozenset(
    {S.REJECTED, S.CANCELLED, S.EXPIRED, S.ROLLED_BACK, S.FAILED}
)
ACTIVE: frozenset[PlanState] = frozenset(
    {S.AWAITING_APPROVAL, S.APPROVED, S.DEPLOYING, S.PAUSED, S.VERIFYING, S.ROLLING_BACK}
)
IN_FLIGHT: frozenset[PlanState] = frozenset({S.DEPLOYING, S.PAUSED, S.VERIFYING, S.ROLLING_BACK})


def allowed_from(event: Event) -> tuple[PlanState, ...]:
    """The states in which `event` may happen."""
    return tuple(TRANSITIONS[event])


def next_state(current: str, event: Event, *, plan_ref: str) -> PlanState:
    """The state after `event`, or an IllegalTransition naming the current state."""
    state = PlanState(current)
    target = TRANSITIONS[event].get(state)
    if target is None:
        where = " or ".join(state_label(s) for s in allowed_from(event))
        raise IllegalTransition(
            f"can't {VERBS[event]} {plan_ref}: it is {state_label(state)} "
            f"(that works only while a plan is {where})"
        )
    return target


def can(current: str, event: Event) -> bool:
    """True when `event` is legal from `current` (used to pick the card's buttons)."""
    return PlanState(current) in TRANSITIONS[event]
