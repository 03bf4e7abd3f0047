"""The whole bot and the console on a real local port, driven in headless Chromium.

Nothing is faked: the bot is `build_console_stack` (the production composition root plus the
console), on a fresh SQLite file, with a copy of the repository's releasebot.toml whose waits
are shortened, the demo deploy script, and the console's demo health endpoint. Time is real.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from bot.app.bootstrap import Releasebot
from bot.app.console import bind, build_console_stack
from bot.app.migrate import upgrade
from bot.app.settings import Settings
from console.app import DemoHealth
from console.browser import CHROMIUM, shared_chromium
from console.testing import running_server
from console.workspace import Workspace
from tests.e2e.console_page import EXPECT_TIMEOUT_MS, ConsolePage

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"


@dataclass
class Demo:
    """A running console stack: its URL, the bot inside it, and what the console holds."""

    url: str
    bot: Releasebot
    workspace: Workspace
    health: DemoHealth
    config_path: Path


def demo_config_text(port: int) -> str:
    """The repository's releasebot.toml with second-long waits, aimed at this run's console."""
    text = (REPO / "releasebot.toml").read_text()
    replacements = [
        # The test config lives in tmp_path; the deploy script is the repository's own.
        (r'"\./demo/deploy\.sh"', f'"{REPO / "demo" / "deploy.sh"}"'),
        (r'pause = "30s"', 'pause = "1s"'),
        (r'interval = "10s"', 'interval = "1s"'),
        (r"count = 3", "count = 2"),
        (r"failure_limit = 1", "failure_limit = 0"),
        (r"http://127\.0\.0\.1:3000/", f"http://127.0.0.1:{port}/"),
    ]
    for pattern, replacement in replacements:
        text, found = re.subn(pattern, replacement, text)
        # The story depends on each of these: fail loudly when the example config changes.
        assert found, f"releasebot.toml no longer contains {pattern!r}"
    return text


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Debian Chromium for the session (never a downloaded browser)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
    # Shared with tests/integration/console: Playwright's sync API allows one instance per thread.
    with shared_chromium() as launched:
        yield launched


@contextmanager
def started_demo(
    tmp_path: Path, *, edit_config: Callable[[str], str] = lambda text: text
) -> Iterator[Demo]:
    """`releasebot console` as built by run_console, on a free port, with its files in
    `tmp_path` (started again on the same files, it is a restart); `edit_config` may change
    the demo config's text first."""
    listener = bind(0)
    port = listener.getsockname()[1]
    config_path = tmp_path / "releasebot.toml"
    config_path.write_text(edit_config(demo_config_text(port)))
    database_url = f"sqlite:///{tmp_path / 'releasebot.db'}"
    upgrade(database_url)
    settings = Settings(
        DATABASE_URL=database_url,
        RELEASEBOT_CONFIG=config_path,
        RELEASEBOT_STATE_DIR=tmp_path / "var",
        PORT=port,
    )
    app, bot = build_console_stack(settings, port=port)
    try:
        with running_server(app, listener=listener) as url:
            yield Demo(url, bot, app.state.workspace, app.state.health, config_path)
    finally:
        bot.db.engine.dispose()


@pytest.fixture
def demo_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The deploy script runs in a detached runner that inherits this environment."""
    monkeypatch.setenv("DEMO_DEPLOY_SECONDS", "0")
    monkeypatch.setenv("DEMO_STATE_DIR", str(tmp_path / "demo-state"))


@pytest.fixture
def demo(tmp_path: Path, demo_env: None) -> Iterator[Demo]:
    """`releasebot console` as built by run_console, on a free port, with its own files."""
    with started_demo(tmp_path) as running:
        yield running


@pytest.fixture
def console(browser: Browser, demo: Demo) -> Iterator[ConsolePage]:
    """The console page open as Rita, the requester; JavaScript errors fail the test."""
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page: Page = context.new_page()
    page.set_default_timeout(EXPECT_TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: errors.append(f"unexpected browser dialog: {dialog.message}"))
    page.goto(demo.url)
    expect(page.get_by_role("heading", name="#releases")).to_be_visible()
    yield ConsolePage(page)
    context.close()
    assert errors == [], f"errors on the page: {errors}"
