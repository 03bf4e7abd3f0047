"""scripts/bootstrap.sh (behind ./run and ./test): one line per step, the noise only on failure."""

from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _checkout(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir(parents=True)
    shutil.copy(REPO / "scripts" / "bootstrap.sh", tmp_path / "scripts" / "bootstrap.sh")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    return tmp_path


def _fake_python(tmp_path: Path, body: str) -> Path:
    python = tmp_path / "python"
    python.write_text("#!/bin/sh\n" + body)
    python.chmod(python.stat().st_mode | stat.S_IEXEC)
    return python


def _bootstrap(checkout: Path, python: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["scripts/bootstrap.sh"],
        cwd=checkout,
        env={"PATH": "/usr/bin:/bin", "PYTHON": str(python)},
        capture_output=True,
        text=True,
    )


def test_a_failing_step_shows_its_output_and_says_which_step(tmp_path: Path) -> None:
    checkout = _checkout(tmp_path / "checkout")
    python = _fake_python(tmp_path, "echo 'Error: no space left on device' >&2\nexit 1\n")
    done = _bootstrap(checkout, python)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "releasebot: creating the virtual environment in .venv…",
        "Error: no space left on device",
        "releasebot: creating the virtual environment in .venv failed "
        "(full output above, also in .venv-setup.log)",
    ]


def test_a_set_up_that_works_prints_one_line_per_step_and_no_installer_output(
    tmp_path: Path,
) -> None:
    checkout = _checkout(tmp_path / "checkout")
    # A stand-in interpreter: `-m venv .venv` makes a venv whose python chatters like pip.
    chatty = "echo 'WARNING: Location ... is ignored'; echo 'BuildBackendWarning: license'\n"
    python = _fake_python(
        tmp_path,
        'if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then\n'
        '  mkdir -p "$3/bin"; cp "$0" "$3/bin/python"; fi\n' + chatty,
    )
    done = _bootstrap(checkout, python)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "releasebot: creating the virtual environment in .venv…",
        "releasebot: updating pip…",
        "releasebot: installing releasebot and its dependencies (a minute on first use)…",
    ]
    # Set up once: a second run says nothing at all.
    again = _bootstrap(checkout, python)
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")
