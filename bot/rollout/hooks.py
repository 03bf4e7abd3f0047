"""Signed callbacks from webhook deploy services: `POST /hooks/deploy/<token>`.

A deployment's callbacks are ordered by their signed `sequence` and its final state is final
(the contract is in integrations/deploy/webhook.py, its rules in bot/domain/callbacks.py): a
replayed or late callback is refused with 409 and audited on the plan, so it can never rewrite
what the engine acts on.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from bot.domain.callbacks import (
    CallbackRefused,
    callback_token,
    is_final,
    sequence_of,
    verify_callback,
)
from bot.store import audit
from bot.store.db import Database
from bot.store.models import DeployCallback, DeploymentStage, ReleasePlan, StageStatus

SecretOf = Callable[[str], str | None]
log = logging.getLogger(__name__)
ACTOR = "webhook"
WAITING = (StageStatus.STARTING, StageStatus.RUNNING)


def accept_callback(
    db: Database,
    *,
    token: str,
    timestamp: str,
    signature: str,
    body: bytes,
    now: datetime,
    secret_of: SecretOf,
    redact: Callable[[str], str] | None = None,
) -> dict[str, Any]:
    """Verify a callback for a stage that is waiting on it, and store it for the engine.

    Raises CallbackRefused: 401 for an unknown token, a bad signature or a stale timestamp,
    400 for a body without a state or a sequence, 409 for a replay, a late callback, anything
    after a final state, or a deployment that has ended.
    """
    stage, service = _stage_of(db, token=token, secret_of=secret_of)
    secret = secret_of(service)
    assert secret is not None
    payload = verify_callback(secret, timestamp, body, signature, now=now)
    if redact is not None:
        # The service's words are stored and later posted: no configured secret in them.
        payload = {k: redact(v) if isinstance(v, str) else v for k, v in payload.items()}
    with db.session() as session:
        refusal = _store(
            session, plan_id=stage.plan_id, stage_id=stage.id, token=token, payload=payload, now=now
        )
    if refusal is not None:
        log.warning("deploy callback refused for stage %s: %s", stage.id, refusal)
        raise CallbackRefused(refusal, status=409)
    return payload


def _stage_of(db: Database, *, token: str, secret_of: SecretOf) -> tuple[DeploymentStage, str]:
    """The webhook stage `token` belongs to, with its service; CallbackRefused (401) if none."""
    with db.session() as session:
        waiting = session.exec(
            select(DeploymentStage, ReleasePlan.service)
            .join(ReleasePlan, col(ReleasePlan.id) == DeploymentStage.plan_id)
            .where(DeploymentStage.backend == "webhook", col(DeploymentStage.status).in_(WAITING))
        ).all()
        for stage, service in waiting:
            secret = secret_of(service)
            # A stage still starting has no handle yet, so its token is derived here.
            if secret and hmac.compare_digest(callback_token(secret, stage.idempotency_key), token):
                return stage, service
        # A stage that has ended keeps its token in its handle: a late callback finds it.
        ended = session.exec(
            select(DeploymentStage, ReleasePlan.service)
            .join(ReleasePlan, col(ReleasePlan.id) == DeploymentStage.plan_id)
            .where(
                DeploymentStage.backend == "webhook",
                col(DeploymentStage.handle)["token"].as_string() == token,
            )
        ).first()
    if ended is not None and secret_of(ended[1]):
        return ended
    raise CallbackRefused("callback rejected: no deployment is waiting for this token")


def _store(
    session: Session,
    *,
    plan_id: int,
    stage_id: int | None,
    token: str,
    payload: dict[str, Any],
    now: datetime,
) -> str | None:
    """Keep the callback if it is news; otherwise audit it and return why it is refused."""
    # The plan first, then its stage: the engine's order. The other way round, a callback
    # holding the stage waited for the plan (the audit row's foreign key, or next_step_at)
    # while the engine, holding the plan, waited for the stage: PostgreSQL ended one of the two
    # as a deadlock, and a refused replay answered 500 instead of 409.
    session.exec(select(ReleasePlan).where(ReleasePlan.id == plan_id).with_for_update()).one()
    statement = select(DeploymentStage).where(DeploymentStage.id == stage_id)
    stage = session.exec(statement.with_for_update()).one()  # one callback of a stage at a time
    last = session.get(DeployCallback, token)
    sequence = sequence_of(payload)
    before = dict(last.payload) if last is not None else {}
    last_sequence = sequence_of(before)
    refusal = None
    if stage.status not in WAITING:
        refusal = f"the deployment has ended ({stage.name}: {stage.status})"
    elif is_final(before.get("state")):
        refusal = (
            f"the deployment already reported {before.get('state')}, and a final state is final"
        )
    elif last_sequence is not None and sequence is not None and sequence <= last_sequence:
        refusal = (
            f"sequence {sequence} is not after {last_sequence}, the last one accepted "
            "(a replay or a late delivery)"
        )
    if refusal is not None:
        audit.record(
            session,
            at=now,
            actor_id=ACTOR,
            action="callback.refused",
            plan_id=stage.plan_id,
            reason=f"callback refused: {refusal}",
            detail={
                "stage": stage.name,
                "state": payload.get("state"),
                "sequence": sequence,
                "last_state": before.get("state"),
                "last_sequence": last_sequence,
            },
        )
        return f"callback refused: {refusal}"
    if last is None:
        session.add(DeployCallback(token=token, payload=payload, received_at=now))
    else:
        last.payload, last.received_at = payload, now
    plan = session.get(ReleasePlan, stage.plan_id)
    if plan is not None:
        plan.next_step_at = now  # the engine reads the news at once
    return None
