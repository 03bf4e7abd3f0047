"""Settings pin relative paths once, so child processes and threads see the same files."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app.settings import Settings

DOCUMENTED = ("DATABASE_URL", "RELEASEBOT_STATE_DIR", "RELEASEBOT_CONFIG", "PORT")


@pytest.fixture
def deployment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in DOCUMENTED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_default_state_directory_is_absolute(deployment: Path) -> None:
    assert Settings().state_dir == deployment / "var"


def test_a_relative_state_directory_is_pinned_to_the_start_directory(
    deployment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELEASEBOT_STATE_DIR", "run/state")
    assert Settings().state_dir == deployment / "run" / "state"


def test_the_default_sqlite_file_is_absolute(deployment: Path) -> None:
    assert Settings().database_url == f"sqlite:///{deployment / 'releasebot.db'}"


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:////srv/releasebot/bot.store.db",
        "postgresql+psycopg://bot:pw@db.internal:5432/releases",
    ],
)
def test_other_database_urls_are_left_alone(deployment: Path, url: str) -> None:
    assert Settings(DATABASE_URL=url).database_url == url


def test_heroku_style_postgres_urls_use_psycopg(deployment: Path) -> None:
    url = Settings(DATABASE_URL="postgres://bot:pw@db:5432/releases").database_url
    assert url == "postgresql+psycopg://bot:pw@db:5432/releases"
