"""The demo's changelog source: a small bare git repository of the `checkout` service.

`releasebot console` builds it on first start (the example config's `repo_path` is
`./demo/checkout.git`), so announcements have real commit subjects and authors to show.
Git runs with argument lists only, and ignores the user's own git config so the history is
the same on every machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

GIT_TIMEOUT_SECONDS = 30
# The example config and its deploy script, shipped in the package (links to the repository's
# own releasebot.toml and demo/deploy.sh, so there is one copy of each).
DEMO_KIT = Path(__file__).parent / "demo_kit"


@dataclass(frozen=True)
class DemoCommit:
    """One commit of the demo history, and the tag it gets (if any)."""

    subject: str
    author: str
    email: str
    date: str
    tag: str | None = None


PRIYA = ("Priya Patel", "priya@checkout.example")
MARCO = ("Marco Rossi", "marco@checkout.example")

HISTORY: tuple[DemoCommit, ...] = (
    DemoCommit("Checkout service skeleton", *PRIYA, "2026-10-01T09:12:00+00:00"),
    DemoCommit("Add card payment step", *MARCO, "2026-10-08T14:03:00+00:00", tag="1.4.1"),
    DemoCommit("Retry payment provider timeouts", *PRIYA, "2026-10-20T10:41:00+00:00"),
    DemoCommit(
        "Show the delivery estimate on the summary page", *MARCO, "2026-11-02T16:27:00+00:00"
    ),
    DemoCommit(
        "Fix rounding of discounted totals", *PRIYA, "2026-11-12T11:05:00+00:00", tag="1.4.2"
    ),
    DemoCommit(
        "Cache shipping rates for five minutes", *MARCO, "2026-11-19T15:50:00+00:00", tag="1.4.3"
    ),
)


class DemoRepoError(Exception):
    """Git could not build the demo repository; `message` says which step failed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def is_demo_repo_path(path: Path) -> bool:
    """True for the path the example config names (`…/demo/checkout.git`)."""
    return path.name == "checkout.git" and path.parent.name == "demo"


def _git(args: list[str], *, cwd: Path, env: dict[str, str]) -> None:
    try:
        subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_SECONDS,
        )
    except FileNotFoundError as missing:
        raise DemoRepoError("git is not installed, so the demo changelog is empty") from missing
    except subprocess.CalledProcessError as failure:
        detail = (failure.stderr or failure.stdout or "").strip()
        raise DemoRepoError(f"git {args[0]} failed: {detail}") from failure
    except subprocess.TimeoutExpired as failure:
        raise DemoRepoError(f"git {args[0]} took longer than {GIT_TIMEOUT_SECONDS} s") from failure


def _quiet_git_env() -> dict[str, str]:
    """The environment without the user's git config (signing, hooks, default branch)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_TERMINAL_PROMPT="0")
    return env


def build_demo_repo(target: Path, history: tuple[DemoCommit, ...] = HISTORY) -> Path:
    """Create the bare repository `target` with `history`; nothing when it already exists."""
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    base_env = _quiet_git_env()
    with tempfile.TemporaryDirectory(prefix="releasebot-demo-") as scratch:
        work = Path(scratch) / "checkout"
        work.mkdir()
        _git(["init", "--quiet", "--initial-branch=main"], cwd=work, env=base_env)
        changes = work / "CHANGES.md"
        for commit in history:
            with changes.open("a", encoding="utf-8") as notes:
                notes.write(f"- {commit.subject}\n")
            env = {
                **base_env,
                "GIT_AUTHOR_NAME": commit.author,
                "GIT_AUTHOR_EMAIL": commit.email,
                "GIT_AUTHOR_DATE": commit.date,
                "GIT_COMMITTER_NAME": commit.author,
                "GIT_COMMITTER_EMAIL": commit.email,
                "GIT_COMMITTER_DATE": commit.date,
            }
            _git(["add", "CHANGES.md"], cwd=work, env=env)
            _git(["commit", "--quiet", "--no-verify", "-m", commit.subject], cwd=work, env=env)
            if commit.tag is not None:
                _git(["tag", commit.tag], cwd=work, env=env)
        # Clone next to the target and rename, so a half-built repository is never seen.
        staging = target.with_name(f".{target.name}.building")
        shutil.rmtree(staging, ignore_errors=True)
        _git(
            ["clone", "--quiet", "--bare", "--", str(work), str(staging)],
            cwd=target.parent,
            env=base_env,
        )
        staging.rename(target)
    return target


def copy_demo_kit(target: Path) -> Path:
    """Write the bundled example config and demo deploy script into `target`; the config path.

    Rewritten on every start, so it is always the bundled one; a person who wants to change it
    copies it to where `RELEASEBOT_CONFIG` (default `./releasebot.toml`) points.
    """
    (target / "demo").mkdir(parents=True, exist_ok=True)
    config = target / "releasebot.toml"
    shutil.copyfile(DEMO_KIT / "releasebot.toml", config)
    script = target / "demo" / "deploy.sh"
    shutil.copyfile(DEMO_KIT / "demo" / "deploy.sh", script)
    script.chmod(0o755)
    return config
