"""How a deploy backend module registers itself, and how a configured service's one is built.

A backend module ends with one `register_backend(name, Settings, factory)` call; the registry
itself is the core's (`bot.domain.config.BACKENDS`), so the config loader validates a
service's keys from `Settings` without knowing any backend.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import httpx

from bot.domain.config import BACKENDS, BackendSettings
from bot.domain.errors import InvalidInput
from bot.ports.deploy import DeployBackend

# Finds the deployment a callback token belongs to (the webhook backend's signed callbacks).
CallbackLookup = Callable[[str], Mapping[str, Any] | None]


@dataclass(frozen=True)
class BackendDeps:
    """What every backend may be built with, besides its own settings."""

    http: httpx.Client
    state_dir: Path  # releasebot's state folder
    workdir: Path  # the config's folder: deploy commands run there
    callback_url: str  # the public callback URL, with a `{token}` placeholder
    callback_lookup: CallbackLookup
    environ: Mapping[str, str]


S = TypeVar("S", bound=BackendSettings)
Factory = Callable[[S, BackendDeps], DeployBackend]


def register_backend(name: str, settings: type[S], factory: Factory[S]) -> None:
    """Make `backend = "<name>"` valid in releasebot.toml and buildable by `factory`."""
    BACKENDS.register(name, settings, factory)


def build_backend(name: str, settings: BackendSettings, deps: BackendDeps) -> DeployBackend:
    """The deploy backend registered as `name`, built from a service's settings."""
    backend = BACKENDS.get(name)
    if backend is None:
        raise InvalidInput(f"deploy backend '{name}' is not registered")
    # `register_backend` is the typed way in: its factories build a DeployBackend.
    return cast(DeployBackend, backend.factory(settings, deps))
