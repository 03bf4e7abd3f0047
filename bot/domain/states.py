"""The states and kinds a release moves through: plain enums the whole core shares."""

from __future__ import annotations

from enum import StrEnum


class PlanState(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    DEPLOYING = "deploying"
    PAUSED = "paused"
    VERIFYING = "verifying"
    RELEASED = "released"
    ROLLING_BACK = "rolling_back"
    ROLLED_BACK = "rolled_back"
    FAILED = "failed"


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class ChecklistPhase(StrEnum):
    PRE_DEPLOY = "pre_deploy"
    POST_RELEASE = "post_release"


class FreezeKind(StrEnum):
    MANUAL = "manual"
    ROLLBACK_LOCK = "rollback_lock"


class StageStatus(StrEnum):
    PENDING = "pending"  # planned, backend not called yet
    STARTING = "starting"  # persisted before the backend call; resolved on restart via find()
    RUNNING = "running"  # the backend accepted it; status is polled
    PAUSED_FOR = "pausing"  # backend done; waiting out the step's `pause`
    ANALYSING = "analysing"  # the step's checks are measuring
    AT_GATE = "at_gate"  # waiting for a person to Promote
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


def state_label(state: str) -> str:
    """A state as people read it: `rolling_back` → `rolling back`."""
    return state.replace("_", " ")
