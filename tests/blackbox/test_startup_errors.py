"""A database the bot cannot use at start-up is one line naming it and what to check, never
a traceback (issue 9.4): for `migrate`, `serve` and the bare `releasebot` console."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.blackbox.harness import (
    Deployment,
    FakeSlack,
    Finished,
    ShippedBot,
    free_port,
    read_only_file,
    read_only_postgres,
    shipped_bot,
)
from tests.conftest import create_postgres_database, drop_postgres_database

SLACK = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
# (how to run it, variables left out): the console is the bare command without tokens.
COMMANDS = {"migrate": (("migrate",), ()), "serve": (("serve",), ()), "console": ((), SLACK)}


def _one_line(finished: Finished) -> str:
    """The single line a refusal prints (stdout may hold the console's own banner)."""
    assert finished.code != 0, finished.stdout + finished.stderr
    assert "Traceback" not in finished.stderr, finished.stderr
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1, finished.stderr
    assert lines[0].startswith("releasebot: "), lines[0]
    return lines[0]


@pytest.fixture
def bot(deployment: Deployment, slack: FakeSlack) -> Iterator[ShippedBot]:
    with shipped_bot(deployment.root, slack) as shipped:
        yield shipped


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unreachable_database(bot: ShippedBot, command: str) -> None:
    args, unset = COMMANDS[command]
    bot.env["DATABASE_URL"] = f"postgresql://releasebot:s3cret@127.0.0.1:{free_port()}/releases"
    line = _one_line(bot.run(*args, unset=unset))
    assert "cannot use the database" in line and "127.0.0.1" in line, line
    assert "check DATABASE_URL" in line, line
    assert "s3cret" not in line  # the password is never printed


@pytest.mark.parametrize("command", ["serve", "console"])
def test_a_read_only_sqlite_file(bot: ShippedBot, deployment: Deployment, command: str) -> None:
    args, unset = COMMANDS[command]
    assert bot.run("migrate").code == 0
    with read_only_file(deployment.root / "releasebot.db"):
        line = _one_line(bot.run(*args, unset=unset))
    assert "is read-only" in line and "releasebot.db" in line, line


def test_migrate_into_a_read_only_sqlite_file(bot: ShippedBot, deployment: Deployment) -> None:
    (deployment.root / "releasebot.db").touch()
    with read_only_file(deployment.root / "releasebot.db"):
        line = _one_line(bot.run("migrate"))
    assert "is read-only" in line, line


@pytest.mark.parametrize("command", ["serve", "console"])
def test_a_read_only_postgres(bot: ShippedBot, command: str) -> None:
    args, unset = COMMANDS[command]
    url = create_postgres_database()
    try:
        bot.env["DATABASE_URL"] = url
        assert bot.run("migrate").code == 0
        with read_only_postgres(url):
            line = _one_line(bot.run(*args, unset=unset))
        assert "is read-only" in line, line
    finally:
        drop_postgres_database(url)


def test_nothing_is_left_behind_by_a_refusal(bot: ShippedBot, deployment: Deployment) -> None:
    bot.env["DATABASE_URL"] = f"postgresql://releasebot@127.0.0.1:{free_port()}/releases"
    _one_line(bot.run("serve"))
    assert not (deployment.root / "releasebot.db").exists()
    assert not Path(deployment.root / "var").exists()
