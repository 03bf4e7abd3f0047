"""The freeze sub-commands, declared with their handlers: freeze, unfreeze, unlock, freezes."""

from __future__ import annotations

from sqlmodel import Session

from bot.domain.freeze_windows import local_time
from bot.domain.mrkdwn import Mrkdwn, channel_link, join, md
from bot.notify.outbox import Rendered
from bot.release import freezes
from bot.release.desk import Desk
from bot.store.models import FreezeKind
from commands.grammar import TIMES, Freeze, Freezes, Unfreeze, Unlock
from commands.grammar import parser as grammar
from commands.render import replies
from commands.subcommand import Kind, SubCommand


def freezes_list(cmd: Freezes, *, desk: Desk, user_id: str) -> Rendered:
    """`/release freezes`: active freezes and those starting in the next 7 days."""
    with desk.db.session() as session:
        overview = freezes.freeze_overview(session, ctx=desk.ctx, at=desk.ctx.clock.now())
    return replies.freeze_list(
        overview, tz=desk.ctx.config.tz, horizon_days=freezes.UPCOMING_HORIZON.days
    )


def freeze(cmd: Freeze, *, desk: Desk, user_id: str, request_key: str | None) -> Rendered | None:
    """`/release freeze <env> [until <time>] reason "<text>"`."""

    def work(session: Session) -> Rendered:
        row = freezes.freeze(
            session,
            ctx=desk.ctx,
            actor=user_id,
            environment=cmd.environment,
            until=cmd.until,
            reason=cmd.reason,
        )
        until = (
            f"until {local_time(row.ends_at, desk.ctx.config.tz)}"
            if row.ends_at
            else f"until `/release unfreeze {row.environment}`"
        )
        return replies.notice(
            md(
                ":snowflake: Froze {} {}. It is announced in {}.",
                row.environment,
                Mrkdwn(until),
                channel_link(desk.ctx.config.channels.releases),
            )
        )

    return desk.act(actor=user_id, request_key=request_key, work=work)


def unfreeze(
    cmd: Unfreeze, *, desk: Desk, user_id: str, request_key: str | None
) -> Rendered | None:
    """`/release unfreeze <env>`: lifts ad-hoc freezes (rollback locks stay)."""

    def work(session: Session) -> Rendered:
        lifted = freezes.unfreeze(session, ctx=desk.ctx, actor=user_id, environment=cmd.environment)
        still = freezes.active_freezes(
            session, ctx=desk.ctx, environment=cmd.environment, at=desk.ctx.clock.now()
        )
        tz = desk.ctx.config.tz
        text = md(":sunny: Lifted {} freeze(s) of {}.", len(lifted), cmd.environment)
        if still:
            text = md("{} Still in force: {}.", text, join("; ", (f.describe(tz) for f in still)))
        if any(f.kind == FreezeKind.ROLLBACK_LOCK for f in still):
            text = md("{} `/release unfreeze` does not lift rollback locks.", text)
        return replies.notice(text)

    return desk.act(actor=user_id, request_key=request_key, work=work)


def unlock(cmd: Unlock, *, desk: Desk, user_id: str, request_key: str | None) -> Rendered | None:
    """`/release unlock <service> <env> "<reason>"`: an admin lifts a rollback lock."""

    def work(session: Session) -> Rendered:
        freezes.unlock(
            session,
            ctx=desk.ctx,
            actor=user_id,
            service=cmd.service,
            environment=cmd.environment,
            reason=cmd.reason,
        )
        return replies.notice(
            md(
                ":unlock: Lifted the rollback lock of {} in {}. It is announced in {}.",
                cmd.service,
                cmd.environment,
                channel_link(desk.ctx.config.channels.releases),
            )
        )

    return desk.act(actor=user_id, request_key=request_key, work=work)


SUBCOMMANDS = (
    SubCommand(
        name="freeze",
        command=Freeze,
        parse=grammar.parse_freeze,
        usage=(
            '`/release freeze <env> [until <time>] reason "<text>"`\n'
            "Stops deploys to an environment until the time given or until `unfreeze`.\n"
            'Example: `/release freeze production until +3d reason "Black Friday"`\n' + TIMES
        ),
        synopsis='`/release freeze <env> [until <time>] reason "<text>"`',
        listed=(90, 1),
        kind=Kind.WRITE,
        handler=freeze,
    ),
    SubCommand(
        name="unfreeze",
        command=Unfreeze,
        parse=grammar.parse_unfreeze,
        usage=(
            "`/release unfreeze <env>`\n"
            "Ends an ad-hoc freeze of an environment (not a rollback lock: see `unlock`).\n"
            "Example: `/release unfreeze production`"
        ),
        synopsis="`/release unfreeze <env>`",
        listed=(90, 2),
        kind=Kind.WRITE,
        handler=unfreeze,
    ),
    SubCommand(
        name="freezes",
        command=Freezes,
        parse=grammar.parse_freezes,
        usage="`/release freezes`\nLists active and upcoming freezes.",
        synopsis="`/release freezes`",
        listed=(90, 3),
        kind=Kind.READ,
        handler=freezes_list,
    ),
    SubCommand(
        name="unlock",
        command=Unlock,
        parse=grammar.parse_unlock,
        usage=(
            '`/release unlock <service> <env> "<reason>"`\n'
            "Lifts the lock a rollback leaves on a service in an environment (admins only; audited "
            "and announced). A new plan of another version lifts it too, once it is approved.\n"
            'Example: `/release unlock checkout production "fix verified on staging"`'
        ),
        synopsis='`/release unlock <service> <env> "<reason>"`',
        listed=(100, 1),
        kind=Kind.WRITE,
        handler=unlock,
    ),
)
