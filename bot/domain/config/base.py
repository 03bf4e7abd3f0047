"""The base of every config table and the way rules report located problems."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

Loc = tuple[str | int, ...]

# Error type of problems raised by our own rules; the humanizer shows their text as is.
RULE_ERROR = "releasebot_config"


class ConfigModel(BaseModel):
    """A table of releasebot.toml: unknown keys are typos, TOML types are taken literally."""

    # strict: TOML is typed, so `required = "2"` is a mistake worth naming, not coercing.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def raise_problems(title: str, problems: Sequence[tuple[Loc, str]]) -> None:
    """Raise every problem at its own key (pydantic prefixes the table's location)."""
    if not problems:
        return
    raise ValidationError.from_exception_data(
        title,
        [
            InitErrorDetails(type=PydanticCustomError(RULE_ERROR, message), loc=loc, input=None)
            for loc, message in problems
        ],
    )
