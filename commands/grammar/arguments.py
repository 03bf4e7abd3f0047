"""A cursor over the tokens after the sub-command, with typed readers for each kind of value."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from . import values
from .errors import ArgumentError, shown
from .tokens import Token

# macOS/iOS "smart punctuation" turns `--all` into an em or en dash followed by `all`.
_SMART_DASHES = ("\u2013", "\u2014")


def keyword(token: Token) -> str | None:
    """The case-folded keyword an unquoted token spells, or None (quoted text is never one)."""
    if token.quoted:
        return None
    word = values.normal(token.value)
    if word[:1] in _SMART_DASHES:
        word = "--" + word[1:]
    return word.lower() if word.isascii() else None


def either(words: Sequence[str]) -> str:
    """`a`, `b` or `c` — for "expected …" messages."""
    quoted = [f"`{word}`" for word in words]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]


class Arguments:
    """The arguments of one sub-command, read front to back."""

    def __init__(
        self,
        text: str,
        tokens: Sequence[Token],
        *,
        now: datetime,
        tz: ZoneInfo,
        subcommands: frozenset[str] = frozenset(),
    ) -> None:
        self.subcommands = subcommands  # every sub-command name, for `help <name>`
        self._text = text
        self._tokens = tokens
        self._index = 0
        self._now = now
        self._tz = tz

    def peek(self, ahead: int = 0) -> Token | None:
        """The next token (or one further ahead), not consumed."""
        index = self._index + ahead
        return self._tokens[index] if index < len(self._tokens) else None

    def peek_keyword(self) -> str | None:
        """The keyword the next token spells, not consumed."""
        token = self.peek()
        return keyword(token) if token is not None else None

    def remaining(self) -> int:
        """How many tokens are left."""
        return len(self._tokens) - self._index

    def take(self, missing: str) -> Token:
        """The next token, or an error saying what is missing."""
        token = self.peek()
        if token is None:
            raise ArgumentError(missing)
        self._index += 1
        return token

    def skip(self) -> None:
        """Consume the next token (a keyword already recognised by peeking)."""
        self._index += 1

    def plan_id(self) -> int:
        """A plan id like R-12."""
        return values.plan_id(self.take("missing the plan id, like R-12").value)

    def plan_ids(self) -> tuple[int, ...]:
        """One or more plan ids, separated by spaces or commas (`R-3 R-4`, `R-3,R-4`)."""
        ids = self._plan_id_list(self.take("missing the plan id after `after`, like R-11"))
        while (token := self.peek()) is not None and _looks_like_plan_ids(token):
            self.skip()
            ids += self._plan_id_list(token)
        return tuple(dict.fromkeys(ids))

    @staticmethod
    def _plan_id_list(token: Token) -> list[int]:
        pieces = [piece for piece in token.value.split(",") if piece]
        if not pieces:
            raise ArgumentError(f"expected a plan id like R-12, got {shown(token.value)}")
        return [values.plan_id(piece) for piece in pieces]

    def name(self, what: str, *, stop: frozenset[str] = frozenset()) -> str:
        """A service/environment name; a keyword from `stop` in its place means it is missing."""
        return values.name(self._value(f"missing the {what} name", stop), what)

    def strategy(self) -> str:
        """A strategy name."""
        return values.strategy(self._value("missing the strategy name", frozenset()))

    def version(self, *, stop: frozenset[str] = frozenset()) -> str:
        """A version (tag, sha, artifact version)."""
        return values.version(self._value("missing the version", stop))

    def _value(self, missing: str, stop: frozenset[str]) -> str:
        token = self.peek()
        if token is None or keyword(token) in stop:
            raise ArgumentError(missing)
        self.skip()
        return token.value

    def time(self, after: str) -> datetime:
        """A time; an unquoted `2026-11-24 15:00` written as two words is read as one."""
        token = self.take(f"missing the time after `{after}`")
        value = token.value
        following = self.peek()
        if (
            not token.quoted
            and following is not None
            and not following.quoted
            and values.DATE_ONLY.fullmatch(values.normal(value))
            and values.CLOCK_ONLY.fullmatch(values.normal(following.value))
        ):
            self.skip()
            value = f"{value} {following.value}"
        return values.parse_time(value, now=self._now, tz=self._tz)

    def text(self, what: str, *, options: Sequence[str] = ()) -> str:
        """A quoted string; unquoted, the text runs to the end of the line.

        `options` are those that may still follow: one of them inside unquoted text with a
        value that fits it is ambiguous, so it is refused rather than silently swallowed.
        """
        token = self.take(f"missing the {what}")
        if token.quoted:
            return values.free_text(token.value, what)
        self._refuse_swallowed_options(what, options)
        self._index = len(self._tokens)
        return values.free_text(self._text[token.start :], what)

    def _refuse_swallowed_options(self, what: str, options: Sequence[str]) -> None:
        for index in range(self._index, len(self._tokens) - 1):
            word = keyword(self._tokens[index])
            following = self._tokens[index + 1]
            if word is not None and word in options and self._fits(word, following):
                raise ArgumentError(
                    f"quote the {what} when options follow it: "
                    f"`{word} {following.value[:40]}` would be read as part of the {what}"
                )

    def _fits(self, option: str, token: Token) -> bool:
        value = values.normal(token.value)
        if option == "after":
            return values.looks_like_plan_id(value.split(",")[0])
        if option == "strategy":
            return values.is_name(value)
        if values.DATE_ONLY.fullmatch(value):
            return True
        try:
            values.parse_time(value, now=self._now, tz=self._tz)
        except ArgumentError:
            return False
        return True

    def rest(self, what: str) -> str:
        """Everything left as free text (a single quoted string loses its quotes); may be ''."""
        token = self.peek()
        if token is None:
            return ""
        if self.remaining() == 1 and token.quoted:
            self.skip()
            return values.free_text(token.value, what)
        self._index = len(self._tokens)
        return values.free_text(self._text[token.start :], what)

    def option(self, allowed: Sequence[str], seen: set[str]) -> str | None:
        """The next option keyword (each at most once), None at the end, else an error."""
        token = self.peek()
        if token is None:
            return None
        word = keyword(token)
        if word is not None and word in allowed:
            if word in seen:
                raise ArgumentError(f"`{word}` is given twice; give each option once")
            seen.add(word)
            self.skip()
            return word
        expected = [option for option in allowed if option not in seen]
        hint = f"; expected {either(expected)}" if expected else ""
        raise ArgumentError(f"unexpected {shown(token.value)}{hint}")

    def end(self, hint: str = "") -> None:
        """Fail if anything is left over."""
        token = self.peek()
        if token is not None:
            raise ArgumentError(f"unexpected {shown(token.value)}{hint}")


def _looks_like_plan_ids(token: Token) -> bool:
    if token.quoted:
        return False
    pieces = [piece for piece in values.normal(token.value).split(",") if piece]
    return any(values.looks_like_plan_id(piece) for piece in pieces)
