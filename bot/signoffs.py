"""A sign-off belongs to the version it was given for: QA of 1.4.2 says nothing of 1.4.3.

Checklist items are `per_version` from config (by default every pre-deploy item). When a plan's
version is edited, its ticked per-version items are open again: the thread names them and their
assignees are asked again by DM. A new window does not re-open them: it changes when, not what.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from bot import audit, outbox
from bot.context import DomainContext
from bot.models import ChecklistItem, ReleasePlan

ACTOR = "releasebot"


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
    listed = ", ".join(f"'{i.name}' ({_who(i.assignee)})" for i in items)
    outbox.owe_thread_reply(
        session,
        plan_id=plan.id,
        channel=ctx.config.channels.releases,
        message=outbox.Rendered(
            f":leftwards_arrow_with_hook: {plan.ref} now releases `{plan.version}` instead of "
            f"`{previous}`, so what was signed off for `{previous}` is open again: {listed}. "
            f"Please check `{plan.version}` and tick it again."
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
        for person in people:
            outbox.owe_message(
                session,
                channel=person,
                message=outbox.Rendered(
                    f":leftwards_arrow_with_hook: {plan.ref} ({plan.service} → "
                    f"{plan.environment}) now releases `{plan.version}` instead of `{previous}`, "
                    f"so '{item.name}' for `{previous}` no longer counts. Check "
                    f"`{plan.version}` and tick it again: `/release tick {plan.ref} {item.name}`."
                ),
                plan_id=plan.id,
                now=now,
                dedupe_key=f"reopened-dm:{plan.id}:{plan.revision}:{item.id}:{person}",
            )
    return items


def _who(assignee: str) -> str:
    return assignee if assignee.startswith("@") else f"<@{assignee}>"
