"""The one error the grammar raises, and the internal one it is built from."""

from __future__ import annotations

from bot.domain.errors import ReleasebotError

from .tokens import Token


class UsageError(ReleasebotError):
    """Malformed `/release` text: what was wrong and the usage of the sub-command involved."""

    def __init__(self, message: str, subcommand: str | None, usage: str) -> None:
        super().__init__(message)
        self.subcommand = subcommand
        self.usage = usage


class ArgumentError(Exception):
    """A bad argument, before the parser knows which sub-command's usage to attach."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnknownWord(Exception):
    """`help <word>` names no sub-command; the grammar answers with the overview."""

    def __init__(self, token: Token) -> None:
        super().__init__(token.value)
        self.token = token


def shown(text: str, limit: int = 40) -> str:
    """Quote user text for an error message, shortened so a huge argument stays readable."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"'{text}'"
