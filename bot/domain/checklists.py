"""Checklist rules (SPEC §2): when an item may be ticked, and which item a typed name means."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from bot.domain.errors import InvalidInput, NotFound
from bot.domain.states import ChecklistPhase, PlanState


class Item(Protocol):
    """What the rules read of a checklist item."""

    @property
    def name(self) -> str: ...

    @property
    def phase(self) -> str: ...

    @property
    def ticked_at(self) -> datetime | None: ...


ItemT = TypeVar("ItemT", bound=Item)

S = PlanState
# A pre-deploy item matters until the plan starts; a post-release one from the rollout on.
TICKABLE_IN: dict[str, frozenset[str]] = {
    ChecklistPhase.PRE_DEPLOY: frozenset({S.AWAITING_APPROVAL, S.APPROVED}),
    ChecklistPhase.POST_RELEASE: frozenset({S.DEPLOYING, S.PAUSED, S.VERIFYING, S.RELEASED}),
}


def tickable(state: str, item: Item) -> bool:
    """True when `item` is open and may be ticked while its plan is in `state`."""
    return item.ticked_at is None and state in TICKABLE_IN.get(item.phase, frozenset())


def find_item(items: Sequence[ItemT], text: str, *, plan_ref: str) -> ItemT:
    """The item named `text`: case-insensitively by its whole name, else by a unique prefix."""
    wanted = " ".join(text.split()).casefold()
    exact = [i for i in items if i.name.casefold() == wanted]
    if exact:
        return exact[0]
    prefixed = [i for i in items if wanted and i.name.casefold().startswith(wanted)]
    if len(prefixed) == 1:
        return prefixed[0]
    names = ", ".join(f"'{i.name}'" for i in (prefixed or items))
    if prefixed:
        raise InvalidInput(f"'{text}' matches several items of {plan_ref}: {names}; say which")
    if not items:
        raise NotFound(f"{plan_ref} has no checklist")
    raise NotFound(f"{plan_ref} has no checklist item '{text}'; its items are {names}")
