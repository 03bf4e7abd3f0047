"""Replies in the thread of a plan's card: what every rule says about the plan it acted on."""

from __future__ import annotations

from sqlmodel import Session

from bot.domain.context import DomainContext
from bot.domain.mrkdwn import Mrkdwn
from bot.notify import outbox
from bot.store.models import ReleasePlan


def say(
    session: Session,
    *,
    ctx: DomainContext,
    plan: ReleasePlan,
    text: Mrkdwn,
    dedupe_key: str | None = None,
) -> None:
    """Owe a reply in the thread of the plan's card (cards live in the releases channel).

    `text` is mrkdwn built with `md()`: reasons and comments people typed are escaped in it.
    """
    assert plan.id is not None
    outbox.owe_thread_reply(
        session,
        plan_id=plan.id,
        channel=ctx.config.channels.releases,
        message=outbox.Rendered(text),
        now=ctx.clock.now(),
        dedupe_key=dedupe_key,
    )
