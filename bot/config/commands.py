"""Command argument lists and the `{placeholder}`s substituted into each argument."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

from bot.config.base import raise_problems
from bot.config.values import toml_repr

# Substituted per argument by the command backend and command checks, never through a shell.
PLACEHOLDERS: frozenset[str] = frozenset(
    {"service", "version", "environment", "weight", "release_id", "action", "stage"}
)
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def _check_argv(argv: list[str]) -> list[str]:
    if not argv:
        raise ValueError(
            'must list the program and its arguments, e.g. ["./deploy.sh", "{version}"]'
        )
    if not argv[0].strip():
        raise ValueError("the program (the first item) must not be empty")
    known = ", ".join(f"{{{p}}}" for p in sorted(PLACEHOLDERS))
    raise_problems(
        "command",
        [
            ((index,), f"unknown placeholder {{{name}}} in {toml_repr(argument)}; known: {known}")
            for index, argument in enumerate(argv)
            for name in _PLACEHOLDER.findall(argument)
            if name not in PLACEHOLDERS
        ],
    )
    return argv


Argv = Annotated[list[str], AfterValidator(_check_argv)]
