"""Checklist rules: when an item may be ticked, and which item a typed name means.

No database: the rules read items and plan states as they are handed over.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain.checklists import find_item, tickable
from bot.domain.errors import InvalidInput, NotFound
from bot.domain.states import ChecklistPhase, PlanState
from bot.store.models import ChecklistItem

PRE, POST = ChecklistPhase.PRE_DEPLOY, ChecklistPhase.POST_RELEASE


def item(name: str, phase: str = PRE, *, ticked: bool = False) -> ChecklistItem:
    return ChecklistItem(
        plan_id=2,
        name=name,
        assignee="U0QA",
        phase=phase,
        ticked_by="U0QA" if ticked else None,
        ticked_at=datetime(2026, 11, 24, 15, tzinfo=UTC) if ticked else None,
    )


TICKABLE = {
    PRE: {PlanState.AWAITING_APPROVAL, PlanState.APPROVED},
    POST: {PlanState.DEPLOYING, PlanState.PAUSED, PlanState.VERIFYING, PlanState.RELEASED},
}


@pytest.mark.parametrize("state", list(PlanState))
@pytest.mark.parametrize("phase", [PRE, POST])
def test_a_pre_deploy_item_is_ticked_before_the_deploy_a_post_release_one_after(
    phase: str, state: PlanState
) -> None:
    assert tickable(state, item("QA sign-off", phase)) == (state in TICKABLE[phase])


def test_a_ticked_item_is_not_ticked_again() -> None:
    assert not tickable(PlanState.APPROVED, item("QA sign-off", ticked=True))


ITEMS = [item("QA sign-off"), item("Smoke A", POST), item("Smoke B", POST)]


@pytest.mark.parametrize(
    ("typed", "found"),
    [("qa sign-off", "QA sign-off"), ("  QA   Sign-off ", "QA sign-off"), ("QA", "QA sign-off")],
)
def test_an_item_is_found_by_its_name_or_a_unique_start(typed: str, found: str) -> None:
    assert find_item(ITEMS, typed, plan_ref="R-2").name == found


def test_an_exact_name_wins_over_a_longer_one_it_starts() -> None:
    items = [item("Smoke"), item("Smoke tests reviewed", POST)]
    assert find_item(items, "smoke", plan_ref="R-2").name == "Smoke"


def test_an_ambiguous_start_asks_which() -> None:
    with pytest.raises(InvalidInput) as refused:
        find_item(ITEMS, "smoke", plan_ref="R-2")
    assert refused.value.message == (
        "'smoke' matches several items of R-2: 'Smoke A', 'Smoke B'; say which"
    )


def test_an_unknown_item_lists_the_items_there_are() -> None:
    with pytest.raises(NotFound) as missing:
        find_item(ITEMS, "security review", plan_ref="R-2")
    assert missing.value.message == (
        "R-2 has no checklist item 'security review'; "
        "its items are 'QA sign-off', 'Smoke A', 'Smoke B'"
    )


def test_a_plan_without_a_checklist_says_so() -> None:
    with pytest.raises(NotFound) as missing:
        find_item([], "QA", plan_ref="R-2")
    assert missing.value.message == "R-2 has no checklist"
