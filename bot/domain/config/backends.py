"""The one deploy-backend registry: each backend's `[services.<name>]` keys and its factory.

A backend module in `integrations/deploy/` declares a `BackendSettings` model (the keys a
service table may or must have: a field without a default is required, its description is the
hint in config errors) and registers it under its `backend = "..."` name with the factory that
builds it. The config loader validates a service's keys from that model, so a new backend is
one module. The domain never sees the built object: the factory's product is typed where the
deploy port is known (`integrations.deploy.registration`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Self, TypeVar

from bot.domain.config.base import ConfigModel


class BackendSettings(ConfigModel):
    """A backend's keys in a service table, with their defaults filled in."""

    def anchored(self, base_dir: Path) -> Self:
        """These settings with paths made absolute against the config's folder."""
        return self

    def passed_through(self) -> tuple[str, ...]:
        """Names of releasebot's own environment variables the backend hands to what it runs."""
        return ()

    def secret_keys(self) -> dict[str, str]:
        """`{key: variable}` for each key naming one environment variable (`..._env`)."""
        return {
            key: value
            for key in type(self).model_fields
            if key.endswith("_env") and isinstance(value := getattr(self, key), str)
        }


S = TypeVar("S", bound=BackendSettings)


@dataclass(frozen=True)
class Backend(Generic[S]):
    """One registered backend: its name in `backend = "..."`, its keys and its factory."""

    name: str
    settings: type[S]
    # (settings, shared dependencies) -> the deploy backend; typed by the adapter layer.
    factory: Callable[[S, Any], object]


class UnregisteredBackends(RuntimeError):
    """Config was validated before any backend registered: an entry point forgot the import."""


class BackendRegistry:
    """Backends by name, in registration order (the order config errors list them in)."""

    def __init__(self) -> None:
        self._backends: dict[str, Backend[Any]] = {}

    def register(self, name: str, settings: type[S], factory: Callable[[S, Any], object]) -> None:
        """Add a backend; registering the same name twice is a mistake unless it is identical."""
        known = self._backends.get(name)
        if known is not None and (known.settings, known.factory) != (settings, factory):
            raise ValueError(f"deploy backend '{name}' is already registered")
        self._backends[name] = Backend(name, settings, factory)

    def names(self) -> tuple[str, ...]:
        """Every registered name; refuses to answer before anything registered."""
        if not self._backends:
            raise UnregisteredBackends(
                "no deploy backends are registered: import integrations.deploy before "
                "loading releasebot.toml"
            )
        return tuple(self._backends)

    def get(self, name: str) -> Backend[Any] | None:
        """The backend called `name`, or None."""
        return self._backends.get(name)

    def keys(self) -> list[str]:
        """Every key some backend declares, in registration then field order."""
        return list(
            dict.fromkeys(key for backend in self._backends.values() for key in _keys(backend))
        )

    def owners(self, key: str) -> Sequence[str]:
        """The backends that declare `key`."""
        return [name for name, backend in self._backends.items() if key in _keys(backend)]


def _keys(backend: Backend[Any]) -> list[str]:
    return list(backend.settings.model_fields)


def anchored_command(base_dir: Path, command: Sequence[str]) -> list[str]:
    """The argument list with a `./` or `../` program made absolute against `base_dir`."""
    program, *arguments = command
    if program.startswith(("./", "../")):
        program = str((base_dir / Path(program).expanduser()).resolve())
    return [program, *arguments]


# The process-wide registry: built-in backends register when `integrations.deploy` is imported.
BACKENDS = BackendRegistry()
