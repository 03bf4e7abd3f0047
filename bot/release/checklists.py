"""Checklists (SPEC §2): milestones a named person ticks before deploy or before `released`."""

from __future__ import annotations

from sqlmodel import Session, col, select

from bot.domain.checklists import find_item, tickable
from bot.domain.context import DomainContext
from bot.domain.errors import InvalidInput, PermissionDenied
from bot.domain.freeze_windows import local_time
from bot.domain.mrkdwn import md, person
from bot.domain.states import state_label
from bot.notify import outbox
from bot.notify.thread import say
from bot.release import holds
from bot.release.plans import get_plan
from bot.store import audit
from bot.store.models import ChecklistItem, ChecklistPhase, PlanState, ReleasePlan


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
    if item.phase == ChecklistPhase.POST_RELEASE and plan.state == PlanState.VERIFYING and not left:
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
