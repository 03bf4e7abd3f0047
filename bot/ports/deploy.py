"""The contract between the rollout engine and every deployment backend.

The values a backend is asked and answers with live in the domain (bot/domain/deploy.py) and
are re-exported here, so an adapter needs only this module.
"""

from __future__ import annotations

from typing import Protocol

from bot.domain.deploy import DeployHandle, DeployRequest, DeployState, DeployStatus

__all__ = [
    "DeployBackend",
    "DeployHandle",
    "DeployRequest",
    "DeployState",
    "DeployStatus",
    "TrafficControl",
]


class DeployBackend(Protocol):
    name: str

    def start(self, request: DeployRequest) -> DeployHandle: ...

    def find(self, request: DeployRequest) -> DeployHandle | None:
        """After a crash: the handle of a start with this idempotency_key that happened, or None."""
        ...

    def status(self, handle: DeployHandle) -> DeployStatus: ...

    def cancel(self, handle: DeployHandle) -> None: ...


class TrafficControl(Protocol):
    """Backends that can move a canary along (argocd with an Argo Rollout)."""

    def promote(self, handle: DeployHandle) -> None: ...

    def abort(self, handle: DeployHandle) -> None: ...
