"""The domain never imports Slack: only the wiring (bootstrap, http, cli) may."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import bot

WIRING = {"bot.app.bootstrap", "bot.app.http", "bot.app.cli"}


def test_no_domain_module_pulls_in_slack() -> None:
    modules = sorted(
        f"bot.{m.name}"
        for m in pkgutil.walk_packages(bot.__path__)
        if f"bot.{m.name}" not in WIRING and not m.name.startswith("config.")
    )
    assert "bot.release.plans" in modules and "bot.rollout.engine" in modules
    probe = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "slack = [m for m in sys.modules if m.split('.')[0] in ('slack_bolt', 'slack_sdk')]\n"
        "print(json.dumps(sorted(slack)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert json.loads(result.stdout) == []
