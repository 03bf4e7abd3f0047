"""`/release show` and `/release list` answered without Bolt's request pipeline (issue 13).

For these two reads Bolt's dispatch (body parsed again, five built-in middlewares, listener
matching, argument injection for the middleware, the matcher and the listener) cost more CPU
than the read itself. What it does for them is done here, or left to it:

- the signature: checked by bot/app/request_guard.py before either path (Bolt checks it again);
- authorization: the workspace Bolt's single-team authorization found (auth.test, once) is
  learnt from Bolt itself (`learn_workspace`, a middleware); until then, and for a request
  from any other workspace or an Enterprise Grid install, Bolt answers as before;
- ssl_check, url_verification, ignoring the bot's own events: not slash commands;
- the listener: parse, read, answer the body Bolt's own `Ack` wrote for `ephemeral(...)`
  (stored with the card, or drawn now), so the body and headers are Bolt's, byte for byte;
- anything else (a usage error, an unknown environment, a failure): `answer` returns None and
  Bolt answers as before (the read has no effect but a stored card, so it may run twice).

The reads are awaited on the event loop (commands/read_path.py `EventLoopReads`: asyncpg on
PostgreSQL, reads asked together answered by one statement), so a read costs no thread hop.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote_plus

from slack_bolt import App, BoltResponse

from bot.release.desk import Desk
from bot.store.async_reads import AsyncReads
from commands import read_path
from commands.grammar import Command, ListPlans, Show
from commands.registry import parse_command

log = logging.getLogger(__name__)

FAST_WORDS = frozenset({"show", "list"})
# The two forms people type most, read without the grammar (it gives the same command for
# them: tests/integration/release/test_fast_reads.py); anything else goes through it.
_SHOW = re.compile(r"\s*show\s+R-([1-9][0-9]{0,8})\s*", re.IGNORECASE)
_LIST = re.compile(r"\s*list\s*", re.IGNORECASE)


class FastReads:
    """Answers `/release show|list` for the installed workspace, or says it cannot (None)."""

    def __init__(self, desk: Desk, reads: AsyncReads) -> None:
        self._desk = desk
        self._reads = read_path.EventLoopReads(desk, reads)
        self._team_id: str | None = None

    def learn_workspace(self, app: App) -> None:
        """Learn the installed workspace from Bolt's authorization of the requests it serves."""

        @app.middleware
        def remember_workspace(context: Any, next: Any) -> BoltResponse | None:
            result = context.authorize_result
            if self._team_id is None and result is not None and result.team_id:
                self._team_id = result.team_id
            return next()  # type: ignore[no-any-return]

    async def close(self) -> None:
        """Release the reads' connections."""
        await self._reads.close()

    async def answer(self, body: str) -> BoltResponse | None:
        """The ack of a `/release show|list` slash command, or None to let Bolt answer (any
        other command, workspace or failure). Reads the form once, decoding only what it needs:
        every verified slash command is offered here first."""
        if self._team_id is None or "command=%2Frelease" not in body:
            return None
        fields = form_fields(body)
        if fields.get("command") != "/release" or "ssl_check" in fields:
            return None
        if fields.get("team_id") != self._team_id or fields.get("enterprise_id"):
            return None
        try:
            parsed = self.parse(fields.get("text") or "")
            if isinstance(parsed, Show):
                answer = await self._reads.card(parsed.plan_id)
            elif isinstance(parsed, ListPlans):
                if parsed.environment is not None:
                    self._desk.ctx.config.environment(parsed.environment)
                answer = await self._reads.plans(parsed.environment, parsed.include_all)
            else:
                return None
        except Exception:  # Bolt answers it as before, errors included
            log.debug("fast read left to Bolt", exc_info=True)
            return None
        # A JSON body gets the content type Bolt's `Ack` sends (slack_bolt's BoltResponse).
        return BoltResponse(status=200, body=answer)

    def parse(self, text: str) -> Command | None:
        """The command in `text` when it is a `show` or `list`, else None."""
        if (show := _SHOW.fullmatch(text)) is not None:
            return Show(plan_id=int(show.group(1)))
        if _LIST.fullmatch(text) is not None:
            return ListPlans(environment=None, include_all=False)
        words = text.split(maxsplit=1)
        if not words or words[0].lower() not in FAST_WORDS:
            return None
        ctx = self._desk.ctx
        return parse_command(text, now=ctx.clock.now(), tz=ctx.config.tz)


_FIELDS = frozenset({"command", "team_id", "enterprise_id", "text", "ssl_check"})


def form_fields(body: str) -> dict[str, str]:
    """The fields of a slash command's form this path reads, each the first value given, as
    `urllib.parse.parse_qs` reads them (tests/integration/release/test_fast_reads.py), without
    decoding the fields it does not read (response_url, trigger_id, …)."""
    found: dict[str, str] = {}
    for pair in body.split("&"):
        name, _, value = pair.partition("=")
        if "%" in name or "+" in name:
            name = unquote_plus(name)
        if name in _FIELDS and name not in found:
            found[name] = unquote_plus(value)
    return found
