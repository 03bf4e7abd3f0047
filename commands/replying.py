"""Turning domain outcomes and errors into what the caller sees — one place for all listeners."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Respond

from bot.domain.errors import ReleasebotError
from bot.domain.mrkdwn import guard_outgoing
from bot.notify.outbox import Rendered
from commands.render import replies

log = logging.getLogger(__name__)


def ephemeral(message: Rendered) -> dict[str, Any]:
    """The body of an ephemeral answer (in an ack, or through response_url).

    Every ephemeral passes here, so this is where a broadcast a render path let through is
    defused (bot/domain/mrkdwn.py `guard_outgoing`).
    """
    text, blocks = guard_outgoing(message.text, message.blocks, where="ephemeral")
    return {"response_type": "ephemeral", "text": text, "blocks": blocks}


def guard_ephemeral(text: str) -> dict[str, Any]:
    """`text=` for chat.postEphemeral, with any broadcast in it defused."""
    safe, _ = guard_outgoing(text, [], where="chat.postEphemeral")
    return {"text": safe}


def guard_view(view: dict[str, Any]) -> dict[str, Any]:
    """A modal view with any broadcast in its texts defused."""
    _, safe = guard_outgoing(None, view, where="views.open")
    return dict(safe)


def answer(respond: Respond, produce: Callable[[], Rendered | None]) -> None:
    """Run `produce` and send its reply; a domain error becomes an ephemeral that says why."""
    try:
        message = produce()
    except ReleasebotError as problem:
        usage = getattr(problem, "usage", None)
        message = replies.error(problem.message, usage)
    if message is not None:
        # A reply to a button must not replace the card the button sits on.
        respond(**ephemeral(message), replace_original=False)
