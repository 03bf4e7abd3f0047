"""Problems found in releasebot.toml, located by key path and worded for the admin."""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from bot.domain.config.base import RULE_ERROR, Loc
from bot.domain.config.values import toml_repr
from bot.domain.errors import ReleasebotError


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong with the file: where (a key path, or a line for syntax) and what."""

    location: str
    message: str
    line: int | None = None
    column: int | None = None

    @property
    def where(self) -> str:
        """The key path, else `line L, column C` for syntax errors."""
        if self.location:
            return self.location
        if self.line is not None:
            return f"line {self.line}, column {self.column or 1}"
        return ""


class ConfigError(ReleasebotError):
    """releasebot.toml cannot be used; lists every problem found, one per line."""

    def __init__(self, path: Path, problems: Sequence[ConfigProblem]) -> None:
        self.path = path
        self.problems = list(problems)
        lines = [
            f"{path}: {problem.where}: {problem.message}"
            if problem.where
            else f"{path}: {problem.message}"
            for problem in self.problems
        ]
        super().__init__("\n".join(lines))

    def __str__(self) -> str:
        return self.message


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def format_location(loc: Loc) -> str:
    """`environments.production.freezes[0].cron`, quoting keys the way TOML would."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            key = part if _BARE_KEY.match(part) else toml_repr(part)
            text += f".{key}" if text else key
    return text


def humanize(root: type[BaseModel], error: ErrorDetails) -> tuple[Loc, str]:
    """A pydantic error as (clean key path, message a person can act on)."""
    loc, holder = _resolve(root, error["loc"])
    kind, ctx, value = error["type"], error.get("ctx", {}), error.get("input")
    got = f", got {toml_repr(value)}"
    last = loc[-1] if loc else ""
    if kind in (RULE_ERROR, "value_error", "assertion_error"):
        message = str(ctx["error"]) if "error" in ctx else error["msg"]
    elif kind == "missing":
        field = holder.model_fields.get(str(last)) if holder else None
        detail = f" ({field.description})" if field and field.description else ""
        message = f"'{last}' is required but missing{detail}"
    elif kind == "extra_forbidden":
        message = _unknown_key(str(last), holder)
    elif kind == "union_tag_not_found":
        key = str(ctx.get("discriminator", "type")).strip("'")
        loc = (*loc, key)
        message = f"'{key}' is required but missing"
    elif kind == "union_tag_invalid":
        key = str(ctx.get("discriminator", "type")).strip("'")
        expected = ctx.get("expected_tags", "")
        loc = (*loc, key)
        message = f"unknown {key} {toml_repr(ctx.get('tag'))}; expected one of {expected}"
    elif kind in _EXPECTED:
        message = f"expected {_EXPECTED[kind]}{got}"
    elif kind == "literal_error":
        message = f"expected {ctx['expected']}{got}"
    elif kind in _BOUNDS:
        bound = next(iter(ctx.values()), "")
        message = f"must be {_BOUNDS[kind]} {bound}{got}"
    elif kind == "too_short" and ctx.get("min_length") == 1:
        field = holder.model_fields.get(str(last)) if holder else None
        detail = f"; {field.description}" if field and field.description else ""
        message = f"must not be empty{detail}"
    else:
        message = error["msg"]
    return loc, message


_EXPECTED = {
    "string_type": "text in quotes",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "list_type": "a list like [...]",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
}
_BOUNDS = {
    "greater_than_equal": "at least",
    "greater_than": "more than",
    "less_than_equal": "at most",
    "less_than": "less than",
}


def _unknown_key(key: str, holder: type[BaseModel] | None) -> str:
    return unknown_key(key, list(holder.model_fields) if holder else [])


def unknown_key(key: str, known: Sequence[str]) -> str:
    """`unknown key 'x'`, with the closest of the `known` keys or the list of them."""
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return f"unknown key '{key}'; did you mean '{close[0]}'?"
    if known:
        return f"unknown key '{key}'; expected one of: {', '.join(known)}"
    return f"unknown key '{key}'"


def _resolve(
    root: type[BaseModel], loc: tuple[int | str, ...]
) -> tuple[Loc, type[BaseModel] | None]:
    """Drop pydantic's union tags and `[key]` markers; find the model holding the last key."""
    clean: list[str | int] = []
    node: Any = root
    holder: type[BaseModel] | None = None
    for part in loc:
        node = _unwrap(node)
        if part == "[key]":
            continue
        if isinstance(node, type) and issubclass(node, BaseModel):
            holder = node
            clean.append(part)
            field = node.model_fields.get(part) if isinstance(part, str) else None
            node = field.annotation if field else None
            continue
        holder = None
        origin = get_origin(node)
        if origin is dict:
            node = get_args(node)[1]
        elif origin is list:
            node = get_args(node)[0]
        elif isinstance(part, str) and part in (tagged := _tagged_models(node)):
            node = tagged[part]
            continue  # a discriminator tag is pydantic's bookkeeping, not a key in the file
        else:
            node = None
        clean.append(part)
    return tuple(clean), holder


def _unwrap(node: Any) -> Any:
    """Strip Annotated[...] and `| None` until a plain type remains."""
    while True:
        origin = get_origin(node)
        if origin is Annotated:
            node = get_args(node)[0]
        elif origin in (Union, types.UnionType):
            members = [arg for arg in get_args(node) if arg is not type(None)]
            if len(members) != 1:
                return node
            node = members[0]
        else:
            return node


def _tagged_models(node: Any) -> dict[str, type[BaseModel]]:
    """For a union of models told apart by a Literal `type`, map each tag to its model."""
    if get_origin(node) not in (Union, types.UnionType):
        return {}
    tagged: dict[str, type[BaseModel]] = {}
    for member in get_args(node):
        is_model = isinstance(member, type) and issubclass(member, BaseModel)
        field = member.model_fields.get("type") if is_model else None
        if field is not None and get_origin(field.annotation) is Literal:
            tagged.update({str(tag): member for tag in get_args(field.annotation)})
    return tagged
