"""The checklist sub-command `tick`, declared with its handler; the card's checklist menu."""

from __future__ import annotations

from sqlmodel import Session

from bot.notify.outbox import Rendered
from bot.release import checklists
from bot.release.desk import Desk
from commands.grammar import Tick
from commands.grammar import parser as grammar
from commands.render import replies
from commands.subcommand import Kind, SubCommand


def tick(cmd: Tick, *, desk: Desk, user_id: str, request_key: str | None) -> Rendered | None:
    """`/release tick R-<n> <item>`."""

    def work(session: Session) -> Rendered:
        item = checklists.tick(
            session, ctx=desk.ctx, actor=user_id, plan_id=cmd.plan_id, item=cmd.item
        )
        return replies.notice(f":ballot_box_with_check: Ticked '{item.name}' on R-{cmd.plan_id}.")

    return desk.act(actor=user_id, request_key=request_key, work=work)


def tick_option(desk: Desk, user: str, plan_id: int, item_id: int, key: str) -> Rendered | None:
    """The card's checklist menu: its option carries the item id where buttons carry a round."""

    def work(session: Session) -> Rendered:
        item = checklists.tick_by_id(
            session, ctx=desk.ctx, actor=user, plan_id=plan_id, item_id=item_id
        )
        return replies.notice(f":ballot_box_with_check: Ticked '{item.name}' on R-{plan_id}.")

    return desk.act(actor=user, request_key=key, work=work)


SUBCOMMANDS = (
    SubCommand(
        name="tick",
        command=Tick,
        parse=grammar.parse_tick,
        usage=(
            "`/release tick R-<n> <item>`\n"
            "Ticks a checklist item of the plan.\n"
            "Example: `/release tick R-12 QA sign-off`"
        ),
        synopsis="`/release tick R-<n> <item>`",
        listed=(110, 1),
        kind=Kind.WRITE,
        handler=tick,
    ),
)
