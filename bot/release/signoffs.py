"""A sign-off belongs to the version it was given for: QA of 1.4.2 says nothing of 1.4.3.

Checklist items are `per_version` from config (by default every pre-deploy item). When a plan's
version is edited, its ticked per-version items are open again: the thread names them and their
assignees are asked again by DM. A new window does not re-open them: it changes when, not what.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from bot.domain.context import BOT_ACTOR, DomainContext
from bot.domain.mrkdwn import inline_code, join, md, person
from bot.notify import outbox
from bot.store import audit
from bot.store.models import ChecklistItem, ReleasePlan

ACTOR = BOT_ACTOR


def reopen_for_version(
    session: Session, *, ctx: DomainContext, plan: ReleasePlan, previous: str
) -> list[ChecklistItem]:
    """The plan now releases another version: its per-version sign-offs are open again.

    Each re-opened item is named in the thread and its assignee (a group's members) asked by
    DM to check the new version; returns the re-opened items.
    """
    assert plan.id is not None
    items = list(
        session.exec(
            select(ChecklistItem)
            .where(
                ChecklistItem.plan_id == plan.id,
                col(ChecklistItem.per_version).is_(True),
                col(ChecklistItem.ticked_at).is_not(None),
            )
            .order_by(col(ChecklistItem.id))
        ).all()
    )
    if not items:
        return []
    now = ctx.clock.now()
    stale = {item.name: item.ticked_by for item in items}
    for item in items:
        item.ticked_by, item.ticked_at = None, None
        session.add(item)
    audit.record(
        session,
        at=now,
        actor_id=ACTOR,
        action="checklist.reopened",
        plan_id=plan.id,
        reason=f"the version changed from {previous} to {plan.version}",
        detail={"items": [i.name for i in items], "ticked_by": stale},
    )
    listed = join(", ", (md("'{}' ({})", i.name, person(i.assignee)) for i in items))
    outbox.owe_thread_reply(
        session,
        plan_id=plan.id,
        channel=ctx.config.channels.releases,
        message=outbox.Rendered(
            md(
                ":leftwards_arrow_with_hook: {} now releases {} instead of {}, so what was signed "
                "off for {} is open again: {}. Please check {} and tick it again.",
                plan.ref,
                inline_code(plan.version),
                inline_code(previous),
                inline_code(previous),
                listed,
                inline_code(plan.version),
            )
        ),
        now=now,
        dedupe_key=f"reopened:{plan.id}:{plan.revision}",
    )
    for item in items:
        people = (
            sorted(ctx.directory.members(item.assignee))
            if item.assignee.startswith("@")
            else [item.assignee]
        )
        for someone in people:
            outbox.owe_message(
                session,
                channel=someone,
                message=outbox.Rendered(
                    md(
                        ":leftwards_arrow_with_hook: {} ({} → {}) now releases {} instead of {}, "
                        "so '{}' for {} no longer counts. Check {} and tick it again: {}.",
                        plan.ref,
                        plan.service,
                        plan.environment,
                        inline_code(plan.version),
                        inline_code(previous),
                        item.name,
                        inline_code(previous),
                        inline_code(plan.version),
                        inline_code(f"/release tick {plan.ref} {item.name}"),
                    )
                ),
                plan_id=plan.id,
                now=now,
                dedupe_key=f"reopened-dm:{plan.id}:{plan.revision}:{item.id}:{someone}",
            )
    return items
