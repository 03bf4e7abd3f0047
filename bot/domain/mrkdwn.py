"""Slack mrkdwn that is safe by construction: text a member typed never becomes markup.

Slack reads `<…>` as a mention, a link or a broadcast (`<!channel>`), and `&`, `<`, `>` must be
escaped to be shown as themselves. Everything the bot posts is a template we wrote with values
put in: `md()` escapes every value unless it is `Mrkdwn` already (a mention the bot means, a
code block it built), so a reason, a comment or a deploy service's output is shown as typed and
never pings anyone. `guard_outgoing()` is the last net at the Slack sink: the bot never means a
broadcast, so one that reaches it is neutralised and logged.
"""

from __future__ import annotations

import logging
import re
import string
from collections.abc import Iterable, Mapping
from typing import Any

log = logging.getLogger(__name__)

# Slack user ids: U… for people, W… for Enterprise Grid users; B… for bots.
_USER_ID = re.compile(r"[UWB][A-Z0-9]+")
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]+")
# Three backticks open or close a code block wherever they are; so does the pair at an end.
_BACKTICK_RUN = re.compile(r"`(?=`)")
# Broadcasts and group mentions the bot never sends on purpose (docs.slack.dev, "Formatting
# text for app surfaces": <!here>, <!channel>, <!everyone>, <!subteam^ID>; <!group> is the
# old name of <!channel>). The optional `|label` is what Slack shows instead.
_BROADCAST = re.compile(
    r"<!(?P<name>channel|here|everyone|group|subteam\^[^|>]*)(?:\|(?P<label>[^>]*))?>",
    re.IGNORECASE,
)
_ZERO_WIDTH_SPACE = "\u200b"


class Mrkdwn(str):
    """Text that is already safe mrkdwn: escaped values in a template the bot wrote."""

    __slots__ = ()


def escape(value: str) -> Mrkdwn:
    """Escape the three characters Slack mrkdwn treats as control characters.

    `Mrkdwn` is returned unchanged, so escaping twice never shows `&amp;lt;`.
    """
    if isinstance(value, Mrkdwn):
        return value
    return Mrkdwn(str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


class _SafeFormatter(string.Formatter):
    """str.format where every value that is not Mrkdwn is escaped after formatting."""

    def format_field(self, value: Any, format_spec: str) -> str:
        formatted = format(value, format_spec)
        # Padding safe text keeps it safe; `!r`/`!s` make a new plain str, escaped like the rest.
        return formatted if isinstance(value, Mrkdwn) else escape(formatted)


_FORMATTER = _SafeFormatter()


def md(template: str, *args: Any, **kwargs: Any) -> Mrkdwn:
    """Format `template` (mrkdwn the bot wrote) with every non-Mrkdwn value escaped."""
    return Mrkdwn(_FORMATTER.vformat(template, args, kwargs))


def join(separator: str, parts: Iterable[str]) -> Mrkdwn:
    """Join parts with a separator the bot wrote; parts that are not Mrkdwn are escaped."""
    return Mrkdwn(separator.join(escape(part) for part in parts))


def is_user_id(value: str) -> bool:
    """Whether `value` is a Slack user id (U…, W…, B…) rather than a name or a handle."""
    return bool(_USER_ID.fullmatch(value))


def mention(user_id: str) -> Mrkdwn:
    """`<@U123>`: a mention the bot means; anything that is not a Slack user id is refused."""
    if not is_user_id(user_id):
        raise ValueError(f"not a Slack user id: {user_id!r}")
    return Mrkdwn(f"<@{user_id}>")


def channel_link(channel_id: str) -> Mrkdwn:
    """`<#C123>` for a channel id; a channel name is shown as `#name`."""
    if _CHANNEL_ID.fullmatch(channel_id):
        return Mrkdwn(f"<#{channel_id}>")
    return escape(channel_id if channel_id.startswith("#") else f"#{channel_id}")


def person(principal: str) -> Mrkdwn:
    """A user id as a mention; a `@group` handle, or anything else, as the text it is."""
    if is_user_id(principal):
        return mention(principal)
    return escape(principal)


def link(url: str, label: str) -> Mrkdwn:
    """`<url|label>` for a URL the bot built (a permalink); the label is escaped."""
    if not url.startswith(("https://", "http://")) or any(c in url for c in "<>| \n"):
        return escape(label)
    return Mrkdwn(f"<{url}|{_no_pipe(escape(label))}>")


def code_block(text: str) -> Mrkdwn:
    """Text (a deploy's output) in a ``` block that nothing inside it can close early."""
    body = _break_backticks(escape(text)).strip("\n") or " "
    return Mrkdwn(f"```{body}```")


def inline_code(text: str) -> Mrkdwn:
    """Text in `inline code`; its own backticks and line breaks cannot end it."""
    body = escape(text).replace("`", "\u02cb").replace("\n", " ") or " "
    return Mrkdwn(f"`{body}`")


def quote(text: str) -> Mrkdwn:
    """Text as a block quote, every line of it."""
    return Mrkdwn("\n".join(f"&gt; {line}" for line in escape(text).split("\n")))


def _break_backticks(text: str) -> str:
    # A zero-width space between two backticks keeps them visible and apart.
    return _BACKTICK_RUN.sub("`" + _ZERO_WIDTH_SPACE, text)


def _no_pipe(text: str) -> str:
    return text.replace("|", "\u2223")


# -- the last net, at the Slack sink ---------------------------------------------------------


def defuse_broadcasts(text: str, *, plain: bool = False) -> str:
    """`text` with every `<!channel>`-like token made inert (shown, never a ping).

    In mrkdwn the token is escaped so it reads as typed; in plain_text, which Slack does not
    parse, it becomes its label (`@channel`) so no `&lt;` shows.
    """

    def replace(match: re.Match[str]) -> str:
        if plain:
            name = match.group("name").split("^", 1)[0]
            return match.group("label") or f"@{name}"
        return escape(match.group(0))

    return _BROADCAST.sub(replace, text)


def has_broadcast(text: str) -> bool:
    """Whether `text` holds a broadcast or group mention Slack would act on."""
    return _BROADCAST.search(text) is not None


def guard_outgoing(text: str | None, blocks: Any, *, where: str) -> tuple[str | None, Any]:
    """`(text, blocks)` with broadcasts defused; a warning names `where` a render path missed one.

    The bot never intends a broadcast, so any that arrives here came from text a render path
    forgot to escape.
    """
    found: list[str] = []
    safe_text = _guard_text(text, plain=False, found=found) if text is not None else None
    safe_blocks = _guard_node(blocks, found)
    if found:
        log.warning(
            "defused %d broadcast(s) in a message to Slack (%s); a render path did not escape "
            "user text: %s",
            len(found),
            where,
            ", ".join(sorted(set(found))),
            extra={"event": "slack.broadcast_defused"},
        )
    return safe_text, safe_blocks


def _guard_text(text: str, *, plain: bool, found: list[str]) -> str:
    matches = [m.group(0) for m in _BROADCAST.finditer(text)]
    if not matches:
        return text
    found.extend(matches)
    return defuse_broadcasts(text, plain=plain)


def _guard_node(node: Any, found: list[str]) -> Any:
    if isinstance(node, Mapping):
        kind = node.get("type")
        copied: dict[str, Any] = {}
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                copied[key] = _guard_text(value, plain=kind == "plain_text", found=found)
            else:
                copied[key] = _guard_node(value, found)
        return copied
    if isinstance(node, list):
        return [_guard_node(item, found) for item in node]
    return node
