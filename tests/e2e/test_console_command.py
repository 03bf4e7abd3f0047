"""`releasebot` with no arguments, as the README tells a newcomer to run it, and its pieces."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from bot.app.console import (
    bind,
    demo_channels,
    demo_check_urls,
    demo_people,
    demo_usergroups,
    follow_console_port,
    run_console,
)
from bot.domain.config import load_config
from console.demo import build_demo_repo
from tests.e2e.conftest import REPO

STARTUP_DEADLINE_SECONDS = 30.0


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    )
    return done.stdout


def _free_port() -> int:
    listener = bind(0)
    port = int(listener.getsockname()[1])
    listener.close()
    return port


def test_releasebot_starts_the_whole_bot_and_the_console_from_a_fresh_checkout(
    tmp_path: Path,
) -> None:
    # A fresh machine: the example config and the demo script, nothing built yet.
    shutil.copy(REPO / "releasebot.toml", tmp_path / "releasebot.toml")
    (tmp_path / "demo").mkdir()
    shutil.copy(REPO / "demo" / "deploy.sh", tmp_path / "demo" / "deploy.sh")
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DATABASE_", "RELEASEBOT_", "PORT"))
    }
    env.update(PORT=str(port), PYTHONPATH=str(REPO))
    output = tmp_path / "output.log"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.app.cli"],
            cwd=tmp_path,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + STARTUP_DEADLINE_SECONDS
        while True:
            assert process.poll() is None, output.read_text()
            try:
                health = httpx.get(url + "/healthz", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"no console after 30 s:\n{output.read_text()}") from None
                threading.Event().wait(0.1)  # the server is still starting; nothing to await
        assert health.json() == {"status": "ok", "database": "ok"}
        page = httpx.get(url + "/")
        assert "Releasebot console" in page.text
        state = httpx.get(url + "/console/state").json()
        assert state["me"] == "U0REQUESTER"
        assert [c["name"] for c in state["channels"] if not c["is_im"]] == [
            "releases",
            "announcements",
            "oncall",
        ]
        assert httpx.get(url + "/demo/checkout/healthz").text == "ok"
        # A console tab open: its live-update stream is connected when Ctrl-C comes.
        streaming = threading.Event()

        def listen() -> None:
            with httpx.stream("GET", url + "/console/events", timeout=60) as events:
                for _ in events.iter_lines():
                    streaming.set()

        tab = threading.Thread(target=listen, daemon=True)
        tab.start()
        assert streaming.wait(10)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    printed = output.read_text()
    assert process.returncode == 0, printed  # Ctrl-C is a normal way to stop it
    assert "Traceback" not in printed and "CancelledError" not in printed
    assert " error " not in printed and '"level": "error"' not in printed, printed
    assert f"Releasebot console: open http://127.0.0.1:{port}" in printed
    # The example config's check names port 3000; the console on another port needs no fixing.
    assert "warning" not in printed and "checks.checkout-health" not in printed
    assert (tmp_path / "releasebot.db").exists()
    assert _git(tmp_path / "demo" / "checkout.git", "tag").split() == ["1.4.1", "1.4.2", "1.4.3"]


def test_a_taken_port_is_refused_with_a_hint_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.app.settings import Settings

    taken = bind(0)
    try:
        port = taken.getsockname()[1]
        taken.listen()
        settings = Settings(PORT=port, RELEASEBOT_CONFIG=REPO / "releasebot.toml")
        assert run_console(settings) == 1
    finally:
        taken.close()
    assert "Set PORT to use another port" in capsys.readouterr().err


def test_the_workspace_has_everyone_the_example_config_names() -> None:
    config = load_config(REPO / "releasebot.toml")
    ordered = demo_people(config)
    people = {p.id: p for p in ordered}
    # The switcher starts as the requester and ends with someone who may do little.
    assert (ordered[0].id, ordered[-1].id) == ("U0REQUESTER", "U0STRANGER")
    for user_id in ("U0ADMIN", "U0APPROVER1", "U0APPROVER2", "U0APPROVER3", "U0QA"):
        assert user_id in people
    assert people["U0APPROVER1"].name == "alice"
    assert people["U0ADMIN"].is_admin and not people["U0APPROVER1"].is_admin
    assert demo_usergroups(config) == [("S0SRE", "sre", ["U0APPROVER2", "U0ADMIN"])]
    assert demo_channels(config) == [
        ("C0RELEASES", "releases"),
        ("C0ANNOUNCE", "announcements"),
        ("C0ONCALL", "oncall"),
    ]
    assert demo_check_urls(config, port=3000) == {}
    # On another port the demo check follows the console by itself (PORT=3150 ./run).
    moved = follow_console_port(config, port=3150)
    assert moved.checks["checkout-health"].url == "http://127.0.0.1:3150/demo/checkout/healthz"
    assert config.checks["checkout-health"].url == "http://127.0.0.1:3000/demo/checkout/healthz"


def test_the_demo_changelog_repository_has_two_authors_and_the_release_tags(
    tmp_path: Path,
) -> None:
    repo = build_demo_repo(tmp_path / "demo" / "checkout.git")
    assert _git(repo, "rev-parse", "--is-bare-repository").strip() == "true"
    between = _git(repo, "log", "--format=%an|%s", "1.4.1..1.4.2").splitlines()
    assert between == [
        "Priya Patel|Fix rounding of discounted totals",
        "Marco Rossi|Show the delivery estimate on the summary page",
        "Priya Patel|Retry payment provider timeouts",
    ]
    # Built once: a second start keeps what is there.
    head = _git(repo, "rev-parse", "HEAD")
    assert build_demo_repo(repo) == repo
    assert _git(repo, "rev-parse", "HEAD") == head
