"""Who may do what, per environment (SPEC §5); refusals name the rule that refused."""

from __future__ import annotations

from typing import Literal

from bot.context import DomainContext
from bot.errors import PermissionDenied

Action = Literal["plan", "deploy", "rollback", "freeze", "override"]


def _describe(principals: list[str]) -> str:
    shown = [
        "anyone" if p == "anyone" else p if p.startswith("@") or p == "admins" else f"<@{p}>"
        for p in principals
    ]
    return ", ".join(shown) if shown else "nobody"


def ensure_allowed(ctx: DomainContext, *, actor: str, action: Action, environment: str) -> None:
    """Raise PermissionDenied unless `actor` may `action` in `environment`."""
    permitted = ctx.config.environment(environment).permissions.granted(action)
    if ctx.is_member(actor, permitted):
        return
    raise PermissionDenied(
        f"you may not {action} in {environment}: "
        f"environments.{environment}.permissions.{action} allows {_describe(permitted)}"
    )


def requires_approval(ctx: DomainContext, *, environment: str) -> bool:
    """True when plans to `environment` need at least one approval."""
    return ctx.config.environment(environment).approvals.required > 0
