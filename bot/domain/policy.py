"""Who may do what, per environment (SPEC §5); refusals name the rule that refused."""

from __future__ import annotations

from typing import Literal

from bot.domain.context import DomainContext
from bot.domain.errors import PermissionDenied
from bot.domain.mrkdwn import Mrkdwn, join, md, person

Action = Literal["plan", "deploy", "rollback", "freeze", "override"]


def _describe(principals: list[str]) -> Mrkdwn:
    # People are named as mentions so Slack shows their names (issue 9.3).
    return join(", ", (person(p) for p in principals)) if principals else md("nobody")


def ensure_allowed(ctx: DomainContext, *, actor: str, action: Action, environment: str) -> None:
    """Raise PermissionDenied unless `actor` may `action` in `environment`."""
    permitted = ctx.config.environment(environment).permissions.granted(action)
    if ctx.is_member(actor, permitted):
        return
    raise PermissionDenied(
        md(
            "you may not {} in {}: environments.{}.permissions.{} allows {}",
            action,
            environment,
            environment,
            action,
            _describe(permitted),
        )
    )


def requires_approval(ctx: DomainContext, *, environment: str) -> bool:
    """True when plans to `environment` need at least one approval."""
    return ctx.config.environment(environment).approvals.required > 0
