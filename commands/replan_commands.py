"""The "Plan again" button of an expired plan's DM."""

from __future__ import annotations

from sqlmodel import Session

from bot.domain.mrkdwn import channel_link, md
from bot.domain.states import state_label
from bot.notify.outbox import Rendered
from bot.release.desk import Desk
from bot.release.expiry import replan
from commands.render import replies
from commands.render.text import window


def plan_again(
    desk: Desk, user: str, plan_id: int, round_seen: int, request_key: str
) -> Rendered | None:
    """Re-create an expired plan in its next slot (once: a second click answers with that plan)."""

    def work(session: Session) -> Rendered:
        created, fresh = replan(session, ctx=desk.ctx, actor=user, plan_id=plan_id)
        if not fresh:
            return replies.notice(
                md(
                    ":repeat: R-{} was already planned again as *{}* ({}); its card is in {}.",
                    plan_id,
                    created.ref,
                    state_label(created.state),
                    channel_link(desk.ctx.config.channels.releases),
                )
            )
        slot = window(created.window_start, created.window_end, desk.ctx.config.tz)
        return replies.notice(
            f":repeat: Planned *{created.ref}* again from R-{plan_id}: {created.service} "
            f"`{created.version}` → {created.environment}, {slot}. Edit it with "
            f"`/release edit {created.ref} window …` if that slot does not suit."
        )

    return desk.act(actor=user, request_key=request_key, work=work)
