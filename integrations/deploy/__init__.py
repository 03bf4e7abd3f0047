"""Deployment backends: one small module each, all behind `DeployBackend`.

Importing this package registers every built-in backend (each module ends with its
`register_backend` call), so every entry point that loads releasebot.toml imports it first.
"""

from importlib import import_module

from bot.ports.deploy import (
    DeployBackend,
    DeployHandle,
    DeployRequest,
    DeployState,
    DeployStatus,
    TrafficControl,
)

# Each module registers the backend of its name; config errors list them in this order.
BUILT_IN = ("command", "github_actions", "argocd", "jenkins", "webhook", "noop")
for _module in BUILT_IN:
    import_module(f"{__name__}.{_module}")

__all__ = [
    "BUILT_IN",
    "DeployBackend",
    "DeployHandle",
    "DeployRequest",
    "DeployState",
    "DeployStatus",
    "TrafficControl",
]
