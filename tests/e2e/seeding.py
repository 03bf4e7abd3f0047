"""History a story starts from, written through the domain API (not through the page)."""

from __future__ import annotations

from bot.app.bootstrap import Releasebot
from bot.release.plans import NewPlan, create_plan
from tests.helpers import walk_to_released

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
        walk_to_released(session, ctx=ctx, plan=plan, actor=REQUESTER)
        ref = plan.ref
    bot.dispatcher.kick()
    return ref
