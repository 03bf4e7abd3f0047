"""The deploy-backend registry: one declaration per backend, and no way to forget them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.domain.config import BACKENDS, BackendRegistry, BackendSettings, UnregisteredBackends
from integrations.deploy import BUILT_IN
from integrations.deploy.command import CommandSettings
from tests.unit.test_config import MINIMAL, REPO_ROOT


def test_every_built_in_backend_is_registered_in_order() -> None:
    assert BACKENDS.names() == BUILT_IN
    assert BUILT_IN[:5] == ("command", "github_actions", "argocd", "jenkins", "webhook")


def test_a_registry_with_nothing_registered_refuses_to_answer() -> None:
    with pytest.raises(UnregisteredBackends, match=r"import integrations\.deploy"):
        BackendRegistry().names()


def test_a_name_cannot_be_taken_twice() -> None:
    registry = BackendRegistry()
    registry.register("command", CommandSettings, lambda settings, deps: object())

    class Other(BackendSettings):
        pass

    with pytest.raises(ValueError, match="'command' is already registered"):
        registry.register("command", Other, lambda settings, deps: object())


def test_loading_a_config_without_the_backends_fails_loudly(tmp_path: Path) -> None:
    # An entry point that forgot `import integrations.deploy` must not pass or blame the file.
    path = tmp_path / "releasebot.toml"
    path.write_text(MINIMAL)
    probe = f"from bot.domain.config import load_config\nload_config({str(path)!r})\n"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO_ROOT
    )
    assert result.returncode != 0
    assert "UnregisteredBackends: no deploy backends are registered" in result.stderr
