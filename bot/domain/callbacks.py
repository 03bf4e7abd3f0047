"""The contract of a signed deploy callback: how it is signed, verified, ordered and finished.

A webhook deploy service reports a deployment's state by `POST /hooks/deploy/<token>` (the full
contract a receiver implements is in integrations/deploy/webhook.py). The adapter signs and
derives tokens with these rules; the core (bot/rollout/hooks.py) and the HTTP route
(bot/app/http.py) verify and order callbacks with the same ones.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from bot.domain.deploy import DeployState
from bot.domain.errors import BackendError

SIGNATURE_HEADER = "X-Releasebot-Signature"
TIMESTAMP_HEADER = "X-Releasebot-Timestamp"
MAX_CALLBACK_AGE = timedelta(minutes=5)
CALLBACK_PATH = "/hooks/deploy/{token}"
STATES = {
    "pending": DeployState.PENDING,
    "running": DeployState.RUNNING,
    "succeeded": DeployState.SUCCEEDED,
    "failed": DeployState.FAILED,
    "cancelled": DeployState.CANCELLED,
}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` over `<timestamp>.<body>`."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def callback_token(secret: str, idempotency_key: str) -> str:
    """The unguessable, restart-stable token in a deployment's callback URL."""
    digest = hmac.new(secret.encode(), f"callback:{idempotency_key}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


class CallbackRefused(BackendError):
    """A callback releasebot does not act on; `status` is the HTTP status it answers."""

    def __init__(self, message: str, *, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


def verify_callback(
    secret: str, timestamp: str, body: bytes | str, signature: str, *, now: datetime
) -> dict[str, Any]:
    """Check a callback's signature and age; return its JSON payload or raise CallbackRefused."""
    raw = body.encode() if isinstance(body, str) else body
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        raise CallbackRefused(f"callback rejected: {TIMESTAMP_HEADER} is not a Unix time") from None
    if abs(now.timestamp() - sent) > MAX_CALLBACK_AGE.total_seconds():
        raise CallbackRefused(
            "callback rejected: its timestamp is more than 5 minutes away from now"
        )
    if not hmac.compare_digest(sign(secret, timestamp, raw), signature or ""):
        raise CallbackRefused("callback rejected: the signature does not match")
    try:
        payload = json.loads(raw)
    except ValueError:
        raise CallbackRefused("callback rejected: the body is not JSON", status=400) from None
    if not isinstance(payload, dict) or payload.get("state") not in STATES:
        raise CallbackRefused(
            f"callback rejected: state must be one of {', '.join(STATES)}", status=400
        )
    if sequence_of(payload) is None:
        raise CallbackRefused(
            "callback rejected: `sequence` must be a non-negative integer that grows with every "
            "callback about the deployment",
            status=400,
        )
    return payload


def sequence_of(payload: Mapping[str, Any]) -> int | None:
    """The callback's `sequence`, or None when it has none that can order it."""
    sequence = payload.get("sequence")
    if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 0:
        return None
    return sequence


def is_final(state: object) -> bool:
    """True for a callback state after which a deployment never changes again."""
    found = STATES.get(str(state))
    return found is not None and found.finished
