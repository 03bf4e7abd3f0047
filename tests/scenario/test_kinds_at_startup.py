"""A reminder kind whose message nobody can draw stops the bot at start, in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app.bootstrap import SlackCredentials, build
from bot.app.settings import Settings
from bot.domain.config import ReleasebotConfig
from bot.notify.outbox_queue import MessageTemplate, Priority
from bot.timing import reminders
from bot.timing.kinds import ReminderKind
from commands.render import announcements
from console.testing import ManualClock
from tests.scenario.driver import SIGNING_SECRET, InlineExecutor


def _build(database_url: str, config: ReleasebotConfig, clock: ManualClock, tmp: Path) -> None:
    build(
        Settings(DATABASE_URL=database_url, RELEASEBOT_STATE_DIR=str(tmp / "state")),
        credentials=SlackCredentials(
            bot_token="xoxb-scenario",
            signing_secret=SIGNING_SECRET,
            api_url="http://127.0.0.1:9/api/",
        ),
        config=config,
        clock=clock,
        executor=InlineExecutor(),
    ).close()


def test_a_reminder_whose_template_has_no_renderer_stops_the_build(
    database_url: str,
    config: ReleasebotConfig,
    clock: ManualClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(announcements.TEMPLATES, "gate_nudge")
    with pytest.raises(SystemExit) as stopped:
        _build(database_url, config, clock, tmp_path)
    assert stopped.value.code == (
        "releasebot: refusing to start: reminder kind gate.nudge owes message template "
        "'gate_nudge', which has no renderer"
    )


def test_a_new_kind_with_a_misspelt_template_stops_the_build(
    database_url: str,
    config: ReleasebotConfig,
    clock: ManualClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    late = ReminderKind(
        "rollout.late", reminders.gate_nudge, (MessageTemplate("rollout_lat", Priority.LOW),)
    )
    monkeypatch.setattr(reminders, "KINDS", (*reminders.KINDS, late))
    with pytest.raises(SystemExit) as stopped:
        _build(database_url, config, clock, tmp_path)
    assert stopped.value.code == (
        "releasebot: refusing to start: reminder kind rollout.late owes message template "
        "'rollout_lat', which has no renderer"
    )


def test_the_bot_as_shipped_builds(
    database_url: str, config: ReleasebotConfig, clock: ManualClock, tmp_path: Path
) -> None:
    _build(database_url, config, clock, tmp_path)
