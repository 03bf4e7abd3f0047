"""The contract between the rollout engine and every deployment backend.

The values a backend is asked and answers with live in the domain (bot/domain/deploy.py) and
are re-exported here, so an adapter needs only this module.
"""

from __future__ import annotations

from typing import Protocol

from bot.domain.deploy import DeployHandle, DeployRequest, DeployState, DeployStatus
from bot.ports.flags import FlagClient

__all__ = [
    "Backends",
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


class Backends(Protocol):
    """Resolves the deployment backend and the flag client of a service (the engine's view of
    integrations.deploy.registry.ConfiguredBackends)."""

    def deployer(self, service: str) -> DeployBackend:
        """The service's deployment backend."""
        ...

    def flags(self, service: str, environment: str) -> tuple[FlagClient, str]:
        """The service's flag client for a release to `environment`, and the flag's key."""
        ...
