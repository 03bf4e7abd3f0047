"""Slack text clean-up and the tokenizer: words and quoted strings with their positions."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Slack sends `&`, `<`, `>` escaped and wraps mentions and links in <…>; one pass handles
# both so `&amp;lt;` becomes the literal `&lt;` the user typed, not `<`.
_SLACK_MARKUP = re.compile(r"<([^<>]*)>|&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}
_USER_OR_CHANNEL = re.compile(r"([@#])([A-Z0-9]+)(?:\|.*)?", re.DOTALL)
_BROADCASTS = {"here", "channel", "everyone"}
_SCHEME = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|mailto:|tel:)", re.IGNORECASE)

# Control characters cannot be typed in Slack and break storage (Postgres refuses NUL);
# lone surrogates cannot be encoded at all. Tab and newline stay.
_UNWANTED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_NEWLINES = re.compile(r"\r\n?")

# Zero-width spaces arrive from copy-paste; they separate words like a space does.
_INVISIBLE_SPACES = frozenset("\u200b\u2060\ufeff")

# Opening quote -> the quotes that may close it. Slack and macOS autocorrect straight quotes
# into curly ones, and not always into the matching pair, so any quote of the family closes.
_DOUBLE = frozenset('"\u201c\u201d')
_SINGLE = frozenset("'\u2018\u2019")
_CLOSERS: dict[str, frozenset[str]] = {
    '"': _DOUBLE,
    "\u201c": _DOUBLE,
    "\u201e": _DOUBLE,
    "'": _SINGLE,
    "\u2018": _SINGLE,
}
_ESCAPABLE = _DOUBLE | _SINGLE | {"\\", "\u201e"}


@dataclass(frozen=True, slots=True)
class Token:
    """One word or quoted string and where it sits in the cleaned text."""

    value: str
    quoted: bool
    start: int
    end: int


class UnterminatedQuote(Exception):
    """An opening quote that is never closed; carries the tokens read before it."""

    def __init__(self, quote: str, position: int, before: list[Token]) -> None:
        super().__init__(f"unterminated {quote} at {position}")
        self.quote = quote
        self.position = position
        self.before = before


def unescape_slack(text: str) -> str:
    """Undo Slack's escaping; mentions stay `<@U123>` / `<#C123>`, links become their text."""
    return _SLACK_MARKUP.sub(_replace_markup, text)


def _replace_markup(match: re.Match[str]) -> str:
    entity = match.group(2)
    if entity is not None:
        return _ENTITIES[entity]
    inner = _SLACK_MARKUP.sub(_replace_markup, match.group(1))
    person = _USER_OR_CHANNEL.fullmatch(inner)
    if person:
        # The label is a display name that may be stale; Slack renders the id freshly.
        return f"<{person.group(1)}{person.group(2)}>"
    target, _, label = inner.partition("|")
    if target.startswith("!"):
        # Broadcasts are defanged to plain text so a stored note never pings a channel.
        name = target[1:].split("^", 1)[0]
        if label:
            return label
        return f"@{name}" if name in _BROADCASTS else name
    # Slack links what the user typed and adds a scheme; keep the URL when the label hides it.
    if not label or label in (target, _SCHEME.sub("", target)):
        return label or target
    return f"{label} ({target})"


def clean(text: str) -> str:
    """Normalise newlines and drop characters that no person typed on purpose."""
    return _UNWANTED.sub("", _NEWLINES.sub("\n", text))


def is_space(char: str) -> bool:
    """Whether the character separates words (any Unicode space, or a zero-width one)."""
    return char.isspace() or char in _INVISIBLE_SPACES


def tokenize(text: str) -> list[Token]:
    """Split into words and quoted strings; raise UnterminatedQuote for an unclosed quote.

    A quote opens only at the start of a word and closes only before a space or the end,
    so apostrophes inside words ("it's") are plain letters.
    """
    tokens: list[Token] = []
    position, length = 0, len(text)
    while position < length:
        char = text[position]
        if is_space(char):
            position += 1
        elif char in _CLOSERS:
            token = _quoted(text, position, tokens)
            tokens.append(token)
            position = token.end
        else:
            end = position
            while end < length and not is_space(text[end]):
                end += 1
            tokens.append(Token(text[position:end], False, position, end))
            position = end
    return tokens


def _quoted(text: str, start: int, before: list[Token]) -> Token:
    closers = _CLOSERS[text[start]]
    length = len(text)
    parts: list[str] = []
    position = start + 1
    while position < length:
        char = text[position]
        if char == "\\" and position + 1 < length and text[position + 1] in _ESCAPABLE:
            parts.append(text[position + 1])
            position += 2
            continue
        if char in closers and (position + 1 == length or is_space(text[position + 1])):
            return Token("".join(parts), True, start, position + 1)
        parts.append(char)
        position += 1
    raise UnterminatedQuote(text[start], start, before)
