"""Checklists (SPEC §2): milestones a named person ticks before deploy or before `released`."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from bot.domain.context import DomainContext
from bot.domain.errors import InvalidInput, NotFound, PermissionDenied
from bot.domain.mrkdwn import md, person
from bot.domain.states import state_label
from bot.notify import outbox
from bot.notify.thread import say
from bot.release import holds
from bot.release.freezes import local_time
from bot.release.plans import get_plan
from bot.store import audit
from bot.store.models import ChecklistItem, ChecklistPhase, PlanState, ReleasePlan

S = PlanState
# A pre-deploy item matters until the plan starts; a post-release one from the rollout on.
TICKABLE_IN: dict[str, frozenset[str]] = {
    ChecklistPhase.PRE_DEPLOY: frozenset({S.AWAITING_APPROVAL, S.APPROVED}),
    ChecklistPhase.POST_RELEASE: frozenset({S.DEPLOYING, S.PAUSED, S.VERIFYING, S.RELEASED}),
}


def tickable(state: str, item: ChecklistItem) -> bool:
    """True when `item` is open and may be ticked while its plan is in `state`."""
    return item.ticked_at is None and state in TICKABLE_IN.get(item.phase, frozenset())


def open_items(session: Session, *, plan_id: int, phase: ChecklistPhase) -> list[ChecklistItem]:
    """Required items of `phase` nobody has ticked yet, in checklist order."""
    return list(
        session.exec(
            select(ChecklistItem)
            .where(
                ChecklistItem.plan_id == plan_id,
                ChecklistItem.phase == phase,
                col(ChecklistItem.required).is_(True),
                col(ChecklistItem.ticked_at).is_(None),
            )
            .order_by(col(ChecklistItem.id))
        ).all()
    )


def post_release_open(session: Session, *, plan_id: int) -> list[ChecklistItem]:
    """Required post-release items still open: the plan stays `verifying` while any are."""
    return open_items(session, plan_id=plan_id, phase=ChecklistPhase.POST_RELEASE)


def find_item(items: Sequence[ChecklistItem], text: str, *, plan_ref: str) -> ChecklistItem:
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


def tick(
    session: Session, *, ctx: DomainContext, actor: str, plan_id: int, item: str
) -> ChecklistItem:
    """`/release tick R-<n> <item>`: tick an item by (a unique prefix of) its name."""
    plan = get_plan(session, plan_id=plan_id, for_update=True)
    items = _items(session, plan_id=plan_id)
    return _tick(
        session, ctx=ctx, actor=actor, plan=plan, item=find_item(items, item, plan_ref=plan.ref)
    )


def tick_by_id(
    session: Session, *, ctx: DomainContext, actor: str, plan_id: int, item_id: int
) -> ChecklistItem:
    """The card's tick button: the item by id, which must belong to the plan."""
    plan = get_plan(session, plan_id=plan_id, for_update=True)
    found = session.get(ChecklistItem, item_id)
    if found is None or found.plan_id != plan_id:
        raise InvalidInput("that button does not belong to a checklist item of this plan")
    return _tick(session, ctx=ctx, actor=actor, plan=plan, item=found)


def _tick(
    session: Session, *, ctx: DomainContext, actor: str, plan: ReleasePlan, item: ChecklistItem
) -> ChecklistItem:
    tz = ctx.config.tz
    if item.ticked_at is not None:
        raise InvalidInput(
            md(
                "'{}' on {} is already ticked (by {}, {})",
                item.name,
                plan.ref,
                person(item.ticked_by or ""),
                local_time(item.ticked_at, tz),
            )
        )
    if not (ctx.is_member(actor, [item.assignee]) or ctx.is_admin(actor)):
        raise PermissionDenied(
            md(
                "only the item's assignee ({}) or an admin may tick '{}' on {}",
                person(item.assignee),
                item.name,
                plan.ref,
            ),
            plan_id=plan.id,
        )
    if not tickable(plan.state, item):
        state = state_label(plan.state)
        when = (
            "before the plan starts deploying"
            if item.phase == ChecklistPhase.PRE_DEPLOY
            else "once the plan is deploying"
        )
        raise InvalidInput(f"'{item.name}' is ticked {when}; {plan.ref} is {state}")
    now = ctx.clock.now()
    item.ticked_by, item.ticked_at = actor, now
    session.add(item)
    plan.revision += 1
    plan.updated_at = now
    assert plan.id is not None
    session.flush()
    left = open_items(session, plan_id=plan.id, phase=ChecklistPhase(item.phase))
    if item.phase == ChecklistPhase.POST_RELEASE and plan.state == S.VERIFYING and not left:
        # Nothing held by people any more: let the rollout engine look at the plan at once.
        plan.next_step_at = now
    session.add(plan)
    audit.record(
        session,
        at=now,
        actor_id=actor,
        action="checklist.ticked",
        plan_id=plan.id,
        reason=item.name,
        detail={"item_id": item.id, "item": item.name, "phase": item.phase},
    )
    done = ""
    if not left:
        done = (
            " All required pre-deploy items are ticked."
            if item.phase == ChecklistPhase.PRE_DEPLOY
            else " All required post-release items are ticked."
        )
    channel = ctx.config.channels.releases
    say(
        session,
        ctx=ctx,
        plan=plan,
        text=md(
            ":ballot_box_with_check: {} ticked '{}' on {}.{}",
            person(actor),
            item.name,
            plan.ref,
            done,
        ),
    )
    outbox.owe_card(session, plan_id=plan.id, channel=channel, now=now)
    if item.phase == ChecklistPhase.PRE_DEPLOY and not left:
        holds.recheck_auto_deploys(
            session, ctx=ctx, plans=[plan], reason=f"'{item.name}' is ticked"
        )
    return item


def _items(session: Session, *, plan_id: int) -> list[ChecklistItem]:
    return list(
        session.exec(
            select(ChecklistItem)
            .where(ChecklistItem.plan_id == plan_id)
            .order_by(col(ChecklistItem.id))
        ).all()
    )
