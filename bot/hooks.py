"""Signed callbacks from webhook deploy services: `POST /hooks/deploy/<token>`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from bot.db import Database
from bot.errors import BackendError
from bot.models import DeployCallback, DeploymentStage, ReleasePlan, StageStatus
from integrations.deploy.webhook import callback_token, verify_callback

SecretOf = Callable[[str], str | None]


def accept_callback(
    db: Database,
    *,
    token: str,
    timestamp: str,
    signature: str,
    body: bytes,
    now: datetime,
    secret_of: SecretOf,
) -> dict[str, Any]:
    """Verify a callback for a stage that is waiting on it, and store it for the engine.

    Raises BackendError (→ 401) for an unknown token, a bad signature or a stale timestamp.
    """
    with db.session() as session:
        waiting = session.exec(
            select(DeploymentStage, ReleasePlan.service)
            .join(ReleasePlan, col(ReleasePlan.id) == DeploymentStage.plan_id)
            .where(
                DeploymentStage.backend == "webhook",
                col(DeploymentStage.status).in_([StageStatus.STARTING, StageStatus.RUNNING]),
            )
        ).all()
    for stage, service in waiting:
        secret = secret_of(service)
        if secret and callback_token(secret, stage.idempotency_key) == token:
            payload = verify_callback(secret, timestamp, body, signature, now=now)
            with db.session() as session:
                row = session.get(DeployCallback, token)
                if row is None:
                    session.add(DeployCallback(token=token, payload=payload, received_at=now))
                else:
                    row.payload, row.received_at = payload, now
                plan = session.get(ReleasePlan, stage.plan_id)
                if plan is not None:
                    plan.next_step_at = now  # the engine reads the news at once
            return payload
    raise BackendError("callback rejected: no deployment is waiting for this token")
