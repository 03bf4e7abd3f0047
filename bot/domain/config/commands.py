"""Command argument lists and templated values, checked against the placeholders they get.

What each may use comes from the one declaration in `bot.domain.placeholders`:
deploy commands, workflow inputs, Jenkins parameters and status URLs get every placeholder,
command checks only the plan's identity.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated

from pydantic import AfterValidator

from bot.domain.config.base import raise_problems
from bot.domain.config.values import toml_repr
from bot.domain.placeholders import (
    CHECK_PLACEHOLDERS,
    DEPLOY_PLACEHOLDERS,
    describe,
    unknown_placeholders,
)


def _unknown(argument: str, known: Sequence[str]) -> list[str]:
    return [
        f"unknown placeholder {{{name}}} in {toml_repr(argument)}; known: {describe(known)}"
        for name in unknown_placeholders(argument, known)
    ]


def _argv_of(known: Sequence[str]) -> Callable[[list[str]], list[str]]:
    def check(argv: list[str]) -> list[str]:
        if not argv:
            raise ValueError(
                'must list the program and its arguments, e.g. ["./deploy.sh", "{version}"]'
            )
        if not argv[0].strip():
            raise ValueError("the program (the first item) must not be empty")
        raise_problems(
            "command",
            [
                ((index,), message)
                for index, argument in enumerate(argv)
                for message in _unknown(argument, known)
            ],
        )
        return argv

    return check


def check_template(text: str) -> str:
    """Refuse placeholders no deploy stage supplies."""
    problems = _unknown(text, DEPLOY_PLACEHOLDERS)
    if problems:
        raise ValueError("; ".join(problems))
    return text


# A deploy command's arguments: every placeholder a stage of any strategy supplies.
DeployArgv = Annotated[list[str], AfterValidator(_argv_of(DEPLOY_PLACEHOLDERS))]
# A command check's arguments: checks measure a plan, not a stage.
CheckArgv = Annotated[list[str], AfterValidator(_argv_of(CHECK_PLACEHOLDERS))]
# One value sent to a deploy service (workflow input, Jenkins parameter, status URL).
DeployTemplate = Annotated[str, AfterValidator(check_template)]
