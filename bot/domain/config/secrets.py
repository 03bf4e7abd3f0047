"""The secrets configured services read from the environment, and which of them are unset.

Derived, not listed: every setting whose name ends in `_env` names an environment variable
(the file may hold only such names, never the secret), so each backend's settings, with their
defaults filled, and each flag say what they read. A new backend key called `..._env` is
covered without touching this module. No check reads a secret today (http and prometheus
checks send no credentials).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from bot.domain.config.model import ReleasebotConfig


@dataclass(frozen=True)
class NeededSecret:
    """An environment variable a configured service reads, and the key that names it."""

    owner: str  # "service 'payments'"
    purpose: str  # "its github_actions backend"
    key: str  # "services.payments.token_env"
    variable: str  # "GITHUB_TOKEN"


def needed_secrets(config: ReleasebotConfig) -> list[NeededSecret]:
    """Every variable the configured backends and flags read, in file order."""
    return list(_needed(config))


def unset_secrets(config: ReleasebotConfig, environ: Mapping[str, str]) -> list[NeededSecret]:
    """The needed variables that are missing or empty in `environ`."""
    return [secret for secret in needed_secrets(config) if not environ.get(secret.variable)]


def problem_lines(missing: list[NeededSecret]) -> list[str]:
    """`key: VARIABLE is not set ...`, one per key, for check-config."""
    return [
        f"{s.key}: {s.variable} is not set in the environment; {s.owner} needs it for {s.purpose}"
        for s in missing
    ]


def refusal_lines(missing: list[NeededSecret]) -> list[str]:
    """One line per missing variable, naming every service and key that needs it."""
    by_variable: dict[str, list[NeededSecret]] = {}
    for secret in missing:
        by_variable.setdefault(secret.variable, []).append(secret)
    return [
        f"{variable} is not set; "
        + "; ".join(f"{s.owner} needs it for {s.purpose} ({s.key})" for s in needing)
        for variable, needing in by_variable.items()
    ]


def unset_pass_env(config: ReleasebotConfig, environ: Mapping[str, str]) -> list[str]:
    """`key: VARIABLE is not set ...` for each `pass_env` name missing from `environ`.

    check-config warns of these without failing: a script may treat the variable as optional
    (the demo's DEMO_STATE_DIR), and the deploy command simply runs without it.
    """
    lines = []
    for name, service in config.services.items():
        for variable in service.backend_settings().passed_through():
            if variable not in environ:
                lines.append(
                    f"services.{name}.pass_env: {variable} is not set in the environment; "
                    f"the deploy command of service '{name}' runs without it"
                )
    return lines


def _needed(config: ReleasebotConfig) -> Iterator[NeededSecret]:
    for name, service in config.services.items():
        owner = f"service '{name}'"
        for key, variable in service.backend_settings().secret_keys().items():
            yield NeededSecret(
                owner, f"its {service.backend} backend", f"services.{name}.{key}", variable
            )
        if service.flag is not None:
            yield NeededSecret(
                owner,
                f"its {service.flag.provider} feature flag",
                f"services.{name}.flag.token_env",
                service.flag.token_env_name,
            )
