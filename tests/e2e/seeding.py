"""History a story starts from, written through the domain API (not through the page)."""

from __future__ import annotations

from bot.app.bootstrap import Releasebot
from bot.domain.lifecycle import Event
from bot.release.plans import NewPlan, create_plan, transition

REQUESTER = "U0REQUESTER"


def released_to_staging(bot: Releasebot, version: str) -> str:
    """A checkout `version` released to staging earlier (production requires one); its ref."""
    ctx = bot.desk.ctx
    with bot.db.session() as session:
        plan = create_plan(
            session,
            ctx=ctx,
            actor=REQUESTER,
            new=NewPlan(service="checkout", version=version, environment="staging"),
        )
        for event in (Event.DEPLOY, Event.STAGES_DONE, Event.CHECKS_PASSED):
            transition(session, ctx=ctx, plan=plan, event=event, actor=REQUESTER)
        ref = plan.ref
    bot.dispatcher.kick()
    return ref
