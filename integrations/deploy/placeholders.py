"""`{placeholder}` substitution inside one argument or value at a time — never a shell."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from bot.errors import InvalidInput
from integrations.deploy.base import DeployRequest

PLACEHOLDERS = (
    "service",
    "version",
    "environment",
    "weight",
    "release_id",
    "action",
    "stage",
    "colour",
    "idempotency_key",
    "previous_version",
)
_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def check_template(template: str, *, where: str) -> None:
    """Refuse unknown placeholders when the backend is built, not halfway through a rollout."""
    for name in _FIELD.findall(template):
        if name not in PLACEHOLDERS:
            known = ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
            raise InvalidInput(f"unknown placeholder {{{name}}} in {where}; use one of {known}")


def check_templates(templates: Iterable[str], *, where: str) -> None:
    """`check_template` for every entry."""
    for template in templates:
        check_template(template, where=where)


def values_for(request: DeployRequest) -> dict[str, str]:
    """Placeholder values; `weight`/`colour` are empty when the stage has none."""
    return {
        "service": request.service,
        "version": request.version,
        "environment": request.environment,
        "weight": "" if request.weight is None else str(request.weight),
        "release_id": request.release_id,
        "action": request.action,
        "stage": request.stage_name,
        "colour": request.colour or "",
        "idempotency_key": request.idempotency_key,
        "previous_version": request.previous_version or "",
    }


def render(template: str, values: Mapping[str, str]) -> str:
    """Substitute known placeholders; the result stays one value whatever it contains."""
    return _FIELD.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def release_environment(request: DeployRequest) -> dict[str, str]:
    """The RELEASE_* variables every command and hook sees (SPEC §10)."""
    values = values_for(request)
    return {
        "RELEASE_ID": request.release_id,
        "RELEASE_SERVICE": request.service,
        "RELEASE_VERSION": request.version,
        "RELEASE_ENVIRONMENT": request.environment,
        "RELEASE_WEIGHT": values["weight"],
        "RELEASE_ACTION": request.action,
        "RELEASE_STAGE": request.stage_name,
        "RELEASE_STAGE_INDEX": str(request.stage_index),
        "RELEASE_COLOUR": values["colour"],
        "RELEASE_IDEMPOTENCY_KEY": request.idempotency_key,
        # Empty on a rollback: nothing was released before, so undo RELEASE_VERSION.
        "RELEASE_PREVIOUS_VERSION": values["previous_version"],
    }
