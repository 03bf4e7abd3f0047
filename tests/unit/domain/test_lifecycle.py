"""SPEC §2 lifecycle: every legal transition lands where the spec says; all others are refused."""

from __future__ import annotations

import itertools

import pytest

from bot.domain.errors import IllegalTransition
from bot.domain.lifecycle import TRANSITIONS, Event, can, next_state
from bot.domain.states import PlanState as S

# SPEC §2's diagram, written out by hand so the table in bot/domain/lifecycle.py
# is checked against it.
SPEC_EDGES = {
    (S.AWAITING_APPROVAL, Event.APPROVE): S.APPROVED,
    (S.AWAITING_APPROVAL, Event.REJECT): S.REJECTED,
    (S.AWAITING_APPROVAL, Event.CANCEL): S.CANCELLED,
    (S.APPROVED, Event.CANCEL): S.CANCELLED,
    (S.APPROVED, Event.EDIT): S.AWAITING_APPROVAL,
    (S.APPROVED, Event.DEPLOY): S.DEPLOYING,
    (S.DEPLOYING, Event.PAUSE): S.PAUSED,
    (S.VERIFYING, Event.PAUSE): S.PAUSED,
    (S.PAUSED, Event.RESUME): S.DEPLOYING,
    (S.DEPLOYING, Event.STAGES_DONE): S.VERIFYING,
    (S.VERIFYING, Event.CHECKS_PASSED): S.RELEASED,
    (S.DEPLOYING, Event.ABORT): S.ROLLING_BACK,
    (S.PAUSED, Event.ABORT): S.ROLLING_BACK,
    (S.VERIFYING, Event.ABORT): S.ROLLING_BACK,
    (S.DEPLOYING, Event.CHECK_FAILED): S.ROLLING_BACK,
    (S.PAUSED, Event.CHECK_FAILED): S.ROLLING_BACK,
    (S.VERIFYING, Event.CHECK_FAILED): S.ROLLING_BACK,
    (S.ROLLING_BACK, Event.ROLLBACK_DONE): S.ROLLED_BACK,
    (S.ROLLING_BACK, Event.ROLLBACK_FAILED): S.FAILED,
    (S.RELEASED, Event.ROLLBACK): S.ROLLING_BACK,
    (S.AWAITING_APPROVAL, Event.EXPIRE): S.EXPIRED,
    (S.APPROVED, Event.EXPIRE): S.EXPIRED,
}


@pytest.mark.parametrize(("state", "event"), list(itertools.product(S, Event)))
def test_every_state_and_event(state: S, event: Event) -> None:
    expected = SPEC_EDGES.get((state, event))
    if expected is not None:
        assert next_state(state, event, plan_ref="R-1") == expected
        assert can(state, event)
    else:
        with pytest.raises(IllegalTransition) as refused:
            next_state(state, event, plan_ref="R-1")
        assert state.value.replace("_", " ") in refused.value.message
        assert "R-1" in refused.value.message
        assert not can(state, event)


def test_the_table_has_no_edge_the_spec_lacks() -> None:
    table_edges = {(s, e) for e, moves in TRANSITIONS.items() for s in moves}
    assert table_edges == set(SPEC_EDGES)


def test_refusal_says_what_state_would_allow_it() -> None:
    with pytest.raises(IllegalTransition) as refused:
        next_state("released", Event.CANCEL, plan_ref="R-7")
    assert refused.value.message == (
        "can't cancel R-7: it is released "
        "(that works only while a plan is awaiting approval or approved)"
    )
