"""`{placeholder}` substitution inside one argument or value at a time — never a shell.

`PLACEHOLDERS` is the one declaration: each entry is a `{name}` usable in a deploy command,
workflow input, Jenkins parameter or status URL, the `RELEASE_*` variable that carries the same
value, and whether command checks get it too. Config validation, substitution and the deploy
command's environment all read it, so a new placeholder is one line here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from bot.domain.deploy import DeployRequest
from bot.domain.errors import InvalidInput


@dataclass(frozen=True)
class Placeholder:
    """A `{name}` filled from the deploy request, and the variable that carries it."""

    name: str
    variable: str
    value: Callable[[DeployRequest], str]
    # Command checks run after a stage with only the plan's identity, not a stage's details.
    in_checks: bool = False


PLACEHOLDERS: tuple[Placeholder, ...] = (
    Placeholder("release_id", "RELEASE_ID", lambda r: r.release_id, in_checks=True),
    Placeholder("service", "RELEASE_SERVICE", lambda r: r.service, in_checks=True),
    Placeholder("version", "RELEASE_VERSION", lambda r: r.version, in_checks=True),
    Placeholder("environment", "RELEASE_ENVIRONMENT", lambda r: r.environment, in_checks=True),
    Placeholder("action", "RELEASE_ACTION", lambda r: r.action),
    Placeholder("stage", "RELEASE_STAGE", lambda r: r.stage_name),
    Placeholder("stage_index", "RELEASE_STAGE_INDEX", lambda r: str(r.stage_index)),
    Placeholder("weight", "RELEASE_WEIGHT", lambda r: "" if r.weight is None else str(r.weight)),
    Placeholder("colour", "RELEASE_COLOUR", lambda r: r.colour or ""),
    Placeholder("idempotency_key", "RELEASE_IDEMPOTENCY_KEY", lambda r: r.idempotency_key),
    # The version live when the rollout started; empty on a rollback means nothing was
    # released before: undo RELEASE_VERSION (weight 0) and deploy nothing else.
    Placeholder("previous_version", "RELEASE_PREVIOUS_VERSION", lambda r: r.previous_version or ""),
)
DEPLOY_PLACEHOLDERS: tuple[str, ...] = tuple(p.name for p in PLACEHOLDERS)
CHECK_PLACEHOLDERS: tuple[str, ...] = tuple(p.name for p in PLACEHOLDERS if p.in_checks)

# Only identifier-like names are placeholders, so JSON such as {"a": 1} in an input stays text.
_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def unknown_placeholders(template: str, known: Iterable[str]) -> list[str]:
    """The `{names}` in `template` that are not in `known`, in order of appearance."""
    allowed = set(known)
    return [name for name in _FIELD.findall(template) if name not in allowed]


def describe(names: Iterable[str]) -> str:
    """`{a}, {b}, ...` for messages."""
    return ", ".join(f"{{{name}}}" for name in names)


def check_template(template: str, *, where: str) -> None:
    """Refuse unknown placeholders when the backend is built, not halfway through a rollout."""
    for name in unknown_placeholders(template, DEPLOY_PLACEHOLDERS):
        raise InvalidInput(
            f"unknown placeholder {{{name}}} in {where}; use one of {describe(DEPLOY_PLACEHOLDERS)}"
        )


def check_templates(templates: Iterable[str], *, where: str) -> None:
    """`check_template` for every entry."""
    for template in templates:
        check_template(template, where=where)


def values_for(request: DeployRequest) -> dict[str, str]:
    """Placeholder values; `weight`/`colour` are empty when the stage has none."""
    return {p.name: p.value(request) for p in PLACEHOLDERS}


def render(template: str, values: Mapping[str, str]) -> str:
    """Substitute known placeholders; the result stays one value whatever it contains."""
    return _FIELD.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def release_environment(request: DeployRequest) -> dict[str, str]:
    """The RELEASE_* variables every command and hook sees (SPEC §10)."""
    return {p.variable: p.value(request) for p in PLACEHOLDERS}
