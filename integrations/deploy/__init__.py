"""Deployment backends: one small module each, all behind `DeployBackend`."""

from bot.ports.deploy import (
    DeployBackend,
    DeployHandle,
    DeployRequest,
    DeployState,
    DeployStatus,
    TrafficControl,
)

__all__ = [
    "DeployBackend",
    "DeployHandle",
    "DeployRequest",
    "DeployState",
    "DeployStatus",
    "TrafficControl",
]
