"""`/release notes R-<n>`: the changelog since the previous release, only for the caller."""

from __future__ import annotations

from bot.notify.announcements import release_notes
from bot.notify.outbox import Rendered
from bot.release import plans
from bot.release.desk import Desk
from commands.grammar import Notes
from commands.render.announcements import release_notes_reply


def notes(cmd: Notes, *, desk: Desk, user_id: str) -> Rendered:
    """`/release notes R-<n>`."""
    with desk.db.session() as session:
        plan = plans.get_plan(session, plan_id=cmd.plan_id)
        notes = release_notes(session, ctx=desk.ctx, plan=plan, changelogs=desk.changelogs)
        return release_notes_reply(notes, plan)
