"""Changelogs from a local git repository (bare or not), read with `git log`, never a shell."""

from __future__ import annotations

import os
import subprocess
from datetime import timedelta
from pathlib import Path

from bot.domain.errors import BackendError
from bot.ports.changelog import Changelog, Commit, subject_of

# Unit and record separators cannot appear in a name or a subject line.
_FIELD, _RECORD = "\x1f", "\x1e"
_FORMAT = "--format=%H%x1f%an%x1f%s%x1e"


class LocalGitChangelog:
    """`git log base..head` in `repo_path`; commit links when the repository has a web URL."""

    def __init__(
        self,
        repo_path: Path,
        *,
        web_url: str | None = None,
        limit: int = 200,
        timeout: timedelta = timedelta(seconds=30),
    ) -> None:
        self.repo_path = Path(repo_path)
        self.web_url = web_url.rstrip("/") if web_url else None
        self.limit = limit
        self.timeout = timeout

    def changelog(self, base: str | None, head: str) -> Changelog:
        """The commits in head that are not in base, newest first."""
        head_sha = self._resolve(head)
        revisions = f"{self._resolve(base)}..{head_sha}" if base else head_sha
        output = self._git(
            "log", "--no-color", f"--max-count={self.limit + 1}", _FORMAT, revisions, "--"
        )
        commits = [self._commit(record) for record in output.split(_RECORD) if record.strip()]
        compare_url = f"{self.web_url}/compare/{base}...{head}" if self.web_url and base else None
        return Changelog(
            commits=tuple(commits[: self.limit]),
            compare_url=compare_url,
            truncated=len(commits) > self.limit,
            base=base,
            head=head,
        )

    def _commit(self, record: str) -> Commit:
        sha, author, subject = record.strip("\n").split(_FIELD, 2)
        url = f"{self.web_url}/commit/{sha}" if self.web_url else None
        return Commit(sha=sha, subject=subject_of(subject), author=author, url=url)

    def _resolve(self, ref: str) -> str:
        """The commit a ref names; a ref that looks like an option never reaches git as one."""
        if not ref.strip() or ref.startswith("-") or any(ord(c) < 32 for c in ref):
            raise BackendError(f"{ref!r} is not a git ref")
        args = ("rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
        code, out, err = self._run(*args)
        if code == 1 and not err:  # --quiet: an unknown ref is exit 1 with nothing said
            raise BackendError(f"git repository {self.repo_path} does not know ref '{ref}'")
        return self._checked(code, out, err).strip()

    def _git(self, *args: str) -> str:
        return self._checked(*self._run(*args))

    def _checked(self, code: int, out: str, err: str) -> str:
        if code != 0:
            raise BackendError(f"git in {self.repo_path} failed: {err or 'no reason given'}")
        return out

    def _run(self, *args: str) -> tuple[int, str, str]:
        # No prompts for credentials and no pager: this runs unattended.
        env = os.environ | {"GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat", "LC_ALL": "C"}
        try:
            done = subprocess.run(
                ["git", "-C", str(self.repo_path), *args],
                capture_output=True,
                timeout=self.timeout.total_seconds(),
                env=env,
                check=False,
            )
        except FileNotFoundError:
            raise BackendError("git is not installed on the releasebot host") from None
        except subprocess.TimeoutExpired:
            raise BackendError(
                f"git in {self.repo_path} took longer than {self.timeout.total_seconds():g}s"
            ) from None
        out = done.stdout.decode("utf-8", errors="replace")
        return done.returncode, out, done.stderr.decode("utf-8", errors="replace").strip()
