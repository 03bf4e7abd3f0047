"""Changelogs from a real git repository made in a temporary folder."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from bot.domain.errors import BackendError
from integrations.changelog import LocalGitChangelog

WEB = "https://github.com/acme/checkout"
ADA = ("Ada Lovelace", "ada@example.com")
GRACE = ("Grace Hopper", "grace@example.com")


def git(repo: Path, *args: str, author: tuple[str, str] = ADA, when: int = 0) -> str:
    env = os.environ | {
        "GIT_AUTHOR_NAME": author[0],
        "GIT_AUTHOR_EMAIL": author[1],
        "GIT_COMMITTER_NAME": "CI",
        "GIT_COMMITTER_EMAIL": "ci@example.com",
        "GIT_AUTHOR_DATE": f"{1_700_000_000 + when} +0000",
        "GIT_COMMITTER_DATE": f"{1_700_000_000 + when} +0000",
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(repo.parent),
    }
    done = subprocess.run(["git", "-C", str(repo), *args], env=env, capture_output=True, check=True)
    return done.stdout.decode().strip()


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """v1.0.0 (2 commits by Ada), then v1.1.0 (3 more, Grace and Ada), then one untagged."""
    path = tmp_path_factory.mktemp("checkout") / "checkout"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    history = [
        (ADA, "Initial checkout service"),
        (ADA, "Add card payments"),
        (GRACE, "Retry card payments once on gateway timeout (#412)\n\nLonger story here."),
        (ADA, "Show the order total with tax"),
        (GRACE, "Bump httpx to 0.28"),
        (ADA, "Unreleased work in progress"),
    ]
    for when, (author, message) in enumerate(history):
        git(path, "commit", "-q", "--allow-empty", "-m", message, author=author, when=when)
        if when == 1:
            git(path, "tag", "v1.0.0")
        if when == 4:
            git(path, "tag", "-a", "v1.1.0", "-m", "release 1.1.0", when=when)
    return path


def test_commits_since_the_previous_release_newest_first(repo: Path) -> None:
    log = LocalGitChangelog(repo, web_url=WEB + "/").changelog("v1.0.0", "v1.1.0")
    assert [(c.subject, c.author) for c in log.commits] == [
        ("Bump httpx to 0.28", "Grace Hopper"),
        ("Show the order total with tax", "Ada Lovelace"),
        ("Retry card payments once on gateway timeout (#412)", "Grace Hopper"),
    ]
    head_sha = git(repo, "rev-parse", "v1.1.0^{commit}")
    assert log.commits[0].sha == head_sha
    assert log.commits[0].url == f"{WEB}/commit/{head_sha}"
    assert log.compare_url == f"{WEB}/compare/v1.0.0...v1.1.0"
    assert (log.base, log.head, log.truncated) == ("v1.0.0", "v1.1.0", False)


def test_without_a_web_url_there_are_no_links(repo: Path) -> None:
    log = LocalGitChangelog(repo).changelog("v1.0.0", "main")
    assert len(log.commits) == 4
    assert all(c.url is None for c in log.commits)
    assert log.compare_url is None


def test_first_release_lists_the_last_commits_up_to_head(repo: Path) -> None:
    log = LocalGitChangelog(repo, limit=3).changelog(None, "v1.1.0")
    assert [c.subject for c in log.commits] == [
        "Bump httpx to 0.28",
        "Show the order total with tax",
        "Retry card payments once on gateway timeout (#412)",
    ]
    assert log.truncated
    assert log.compare_url is None
    assert not LocalGitChangelog(repo, limit=5).changelog(None, "v1.1.0").truncated


def test_a_long_range_is_truncated_to_the_newest(repo: Path) -> None:
    log = LocalGitChangelog(repo, limit=2).changelog("v1.0.0", "main")
    assert [c.subject for c in log.commits] == [
        "Unreleased work in progress",
        "Bump httpx to 0.28",
    ]
    assert log.truncated


def test_same_base_and_head_is_an_empty_changelog(repo: Path) -> None:
    log = LocalGitChangelog(repo).changelog("v1.1.0", "v1.1.0")
    assert log.commits == ()
    assert not log.truncated


def test_a_bare_repository_works(repo: Path, tmp_path: Path) -> None:
    bare = tmp_path / "checkout.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)], check=True)
    log = LocalGitChangelog(bare).changelog("v1.0.0", "v1.1.0")
    assert [c.author for c in log.commits] == ["Grace Hopper", "Ada Lovelace", "Grace Hopper"]


@pytest.mark.parametrize(
    ("base", "head", "unknown"), [("v0.9.0", "v1.1.0", "v0.9.0"), ("v1.0.0", "v9", "v9")]
)
def test_an_unknown_ref_is_named(repo: Path, base: str, head: str, unknown: str) -> None:
    with pytest.raises(BackendError) as caught:
        LocalGitChangelog(repo).changelog(base, head)
    assert caught.value.message == f"git repository {repo} does not know ref '{unknown}'"


def test_a_ref_that_looks_like_an_option_never_reaches_git(repo: Path, tmp_path: Path) -> None:
    target = tmp_path / "written"
    with pytest.raises(BackendError, match="is not a git ref"):
        LocalGitChangelog(repo).changelog(f"--output={target}", "v1.1.0")
    assert not target.exists()


def test_a_missing_repository_is_a_backend_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.git"
    with pytest.raises(BackendError, match=f"git in {missing} failed: fatal: cannot change to"):
        LocalGitChangelog(missing).changelog("v1", "v2")
