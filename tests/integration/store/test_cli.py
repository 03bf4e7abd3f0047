"""The `releasebot` command line: check-config, migrate, and refusals that name what is missing."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect

from bot.app.cli import main
from bot.store.db import make_engine

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def _keep_logging() -> Iterator[None]:
    """main() sets up JSON logging on the root logger; give the next test its own back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RELEASEBOT_CONFIG", str(REPO / "releasebot.toml"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.store.db'}")
    return tmp_path


def test_check_config_accepts_the_example(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config"]) == 0
    assert "releasebot.toml: ok" in capsys.readouterr().out


def test_check_config_names_file_key_and_problem(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = env / "releasebot.toml"
    text = (
        (REPO / "releasebot.toml")
        .read_text()
        .replace('timezone = "UTC"', 'timezone = "Mars/Olympus"')
    )
    bad.write_text(text.replace('on_failure = "rollback"', 'on_failure = "panic"'))
    monkeypatch.setenv("RELEASEBOT_CONFIG", str(bad))
    assert main(["check-config"]) == 1
    out = capsys.readouterr().out
    assert f"{bad}: timezone:" in out and "Mars/Olympus" in out
    assert f"{bad}: services.checkout.on_failure:" in out


def test_serve_refuses_an_invalid_config_before_anything_else(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    monkeypatch.setenv("RELEASEBOT_CONFIG", str(env / "missing.toml"))
    with pytest.raises(SystemExit) as stopped:
        main(["serve"])
    assert stopped.value.code == 2
    assert "missing.toml: file not found" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("command", "missing"),
    [
        ("serve", "SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET"),
        ("socket", "SLACK_BOT_TOKEN, SLACK_APP_TOKEN"),
    ],
)
def test_slack_modes_name_the_tokens_they_need(env: Path, command: str, missing: str) -> None:
    with pytest.raises(SystemExit, match=f"set {missing}"):
        main([command])


def test_serve_refuses_an_unmigrated_database(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    with pytest.raises(SystemExit, match="run `releasebot migrate`"):
        main(["serve"])


def test_migrate_brings_an_empty_database_to_the_newest_schema(env: Path) -> None:
    assert main(["migrate"]) == 0
    engine = make_engine(f"sqlite:///{env / 'bot.store.db'}")
    assert {"release_plan", "audit_event", "scheduled_job"} <= set(
        inspect(engine).get_table_names()
    )
    engine.dispose()
