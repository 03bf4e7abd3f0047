"""Action, block and view ids: one enum, so listeners and renderers cannot drift apart."""

from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    APPROVE = "plan_approve"
    REJECT = "plan_reject"
    DEPLOY = "plan_deploy"
    PROMOTE = "plan_promote"
    PAUSE = "plan_pause"
    RESUME = "plan_resume"
    ABORT = "plan_abort"
    ROLLBACK = "plan_rollback"
    CANCEL = "plan_cancel"
    TICK = "plan_tick"
    OVERRIDE_APPROVE = "plan_override_approve"
    REPLAN = "plan_replan"


class ViewId(StrEnum):
    NEW_PLAN = "plan_new"
    REJECT_REASON = "plan_reject_reason"


class BlockId(StrEnum):
    ACTIONS = "plan_actions"
    CHECKLIST = "plan_checklist"
    SERVICE = "new_service"
    VERSION = "new_version"
    ENVIRONMENT = "new_environment"
    WINDOW_START = "new_window_start"
    WINDOW_END = "new_window_end"
    STRATEGY = "new_strategy"
    AFTER = "new_after"
    NOTES = "new_notes"
    RISKS = "new_risks"
    STAKEHOLDERS = "new_stakeholders"
    REASON = "reject_reason"


def button_value(plan_id: int, approval_round: int) -> str:
    """What a plan button carries: which plan, and which approval round it was drawn for."""
    return f"{plan_id}:{approval_round}"


def parse_button_value(value: object) -> tuple[int, int] | None:
    """The (plan id, round) a button carries, or None for a value we did not write."""
    if not isinstance(value, str):
        return None  # a signed payload still may carry anything where our string was
    plan, _, round_ = value.partition(":")
    if not (plan.isdigit() and round_.isdigit()) or len(value) > 40:
        return None
    return int(plan), int(round_)


def tick_value(plan_id: int, item_id: int) -> str:
    """What a tick option carries: the plan, and (in place of a round) the checklist item id."""
    return f"{plan_id}:{item_id}"
