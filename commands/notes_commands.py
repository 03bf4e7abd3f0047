"""`/release notes R-<n>`: the changelog since the previous release, only for the caller."""

from __future__ import annotations

from bot.notify.announcements import release_notes
from bot.notify.outbox import Rendered
from bot.release import plans
from bot.release.desk import Desk
from commands.grammar import Notes
from commands.grammar import parser as grammar
from commands.render.announcements import release_notes_reply
from commands.subcommand import Kind, SubCommand


def notes(cmd: Notes, *, desk: Desk, user_id: str) -> Rendered:
    """`/release notes R-<n>`."""
    with desk.db.session() as session:
        plan = plans.get_plan(session, plan_id=cmd.plan_id)
        notes = release_notes(session, ctx=desk.ctx, plan=plan, changelogs=desk.changelogs)
        return release_notes_reply(notes, plan)


SUBCOMMANDS = (
    SubCommand(
        name="notes",
        command=Notes,
        parse=grammar.parse_notes,
        usage=(
            "`/release notes R-<n>`\n"
            "Shows the release notes: changelog, notes and known issues.\n"
            "Example: `/release notes R-12`"
        ),
        synopsis="`/release notes R-<n>`",
        listed=(120, 2),
        kind=Kind.SLOW_READ,
        handler=notes,
    ),
)
