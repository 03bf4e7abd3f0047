"""The command check: real child processes, started from an argument list."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain.errors import InvalidInput
from console.testing import ManualClock
from integrations.checks.probes import CommandProbe, Outcome

PY = sys.executable
QUICK = timedelta(seconds=20)


def python(code: str, *, timeout: timedelta = QUICK, **kwargs: object) -> CommandProbe:
    return CommandProbe("smoke", [PY, "-c", code], timeout=timeout, clock=ManualClock(), **kwargs)  # type: ignore[arg-type]


def test_exit_zero_passes() -> None:
    measurement = python("print('all good')").measure()
    assert measurement.outcome is Outcome.SUCCESS
    assert measurement.detail == f"{PY} exited 0 in 0 ms"
    assert measurement.value == 0.0


def test_non_zero_exit_fails_with_the_tail_of_the_output() -> None:
    code = (
        "import sys\n"
        "for i in range(100): print(f'line {i}')\n"
        "sys.stdout.flush()\n"
        "print('checkout returned 500', file=sys.stderr)\n"
        "sys.exit(3)"
    )
    measurement = python(code).measure()
    assert measurement.outcome is Outcome.FAILURE
    assert measurement.value == 3.0
    head, _, tail = measurement.detail.partition("; output:\n")
    assert head == f"{PY} exited 3 in 0 ms"
    lines = tail.splitlines()
    assert lines[-1] == "checkout returned 500"
    assert lines[0] == "line 81"  # only the last 20 lines
    assert len(lines) == 20


def test_a_command_killed_by_a_signal_says_so() -> None:
    measurement = python("import os, signal; os.kill(os.getpid(), signal.SIGTERM)").measure()
    assert measurement.outcome is Outcome.FAILURE
    assert measurement.detail.startswith(f"{PY} was killed by signal 15")


def test_timeout_is_an_error_and_kills_the_whole_process_group(tmp_path: Path) -> None:
    # The child starts a grandchild that would hold the output pipe open for a minute.
    code = (
        "import subprocess, sys\n"
        f"subprocess.Popen([{PY!r}, '-c', 'import time; time.sleep(60)'])\n"
        "print('started', flush=True)\n"
        "import time; time.sleep(60)"
    )
    measurement = python(code, timeout=timedelta(milliseconds=500)).measure()
    assert measurement.outcome is Outcome.ERROR
    assert measurement.value is None
    assert measurement.detail == f"{PY} timed out after 500 ms; output:\nstarted"


def test_a_missing_program_is_an_error() -> None:
    probe = CommandProbe("smoke", ["./no-such-smoke-test.sh"], timeout=QUICK, clock=ManualClock())
    measurement = probe.measure()
    assert measurement.outcome is Outcome.ERROR
    assert measurement.detail == "cannot run './no-such-smoke-test.sh': No such file or directory"


def test_arguments_are_never_interpreted_by_a_shell(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    code = "import sys; print(sys.argv[1])"
    probe = CommandProbe(
        "smoke", [PY, "-c", code, f"v1; touch {marker}"], timeout=QUICK, clock=ManualClock()
    )
    measurement = probe.measure()
    assert measurement.outcome is Outcome.SUCCESS
    assert not marker.exists()


def test_env_is_passed_but_the_bots_secrets_are_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-secret")
    code = (
        "import os, sys\n"
        "print(os.environ.get('SMOKE_TARGET'), os.environ.get('SLACK_BOT_TOKEN'))\n"
        "sys.exit(1)"
    )
    measurement = python(code, env={"SMOKE_TARGET": "https://staging"}).measure()
    assert measurement.detail.endswith("output:\nhttps://staging None")


def test_an_empty_command_is_refused_naming_the_key() -> None:
    with pytest.raises(InvalidInput, match=r"^checks.smoke.command: the command is empty"):
        CommandProbe("smoke", [], timeout=QUICK, clock=ManualClock())
