"""Headless Chromium for browser tests: Debian's /usr/bin/chromium, never a downloaded one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, Playwright, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def launch_chromium(playwright: Playwright, *, headless: bool = True) -> Browser:
    """Launch the system Chromium with flags that keep it offline and quiet."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=headless
    )


class _SharedChromium:
    """Counts the users of the one Playwright and Chromium this process may run."""

    def __init__(self) -> None:
        self.users = 0
        self.playwright: Playwright | None = None
        self.browser: Browser | None = None


_shared = _SharedChromium()


@contextmanager
def shared_chromium() -> Iterator[Browser]:
    """The process's headless Chromium, started by the first user and closed by the last.

    Playwright's sync API runs one instance per thread, so test folders that each want a
    session-wide browser must share it rather than start their own.
    """
    if _shared.users == 0:
        _shared.playwright = sync_playwright().start()
        _shared.browser = launch_chromium(_shared.playwright)
    _shared.users += 1
    try:
        assert _shared.browser is not None
        yield _shared.browser
    finally:
        _shared.users -= 1
        if _shared.users == 0 and _shared.playwright is not None:
            if _shared.browser is not None:
                _shared.browser.close()
            _shared.playwright.stop()
            _shared.playwright = _shared.browser = None
