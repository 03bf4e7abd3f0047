"""The changelog heading counts commits the way a person writes it."""

from __future__ import annotations

from bot.notify.announcements import ReleaseNotes
from bot.ports.changelog import Changelog, Commit
from commands.render.announcements import changelog_sections


def _heading(commits: int, *, truncated: bool = False) -> str:
    log = Changelog(
        commits=tuple(
            Commit(sha=f"{n:040x}", subject=f"Change {n}", author="Ada", url=None)
            for n in range(commits)
        ),
        compare_url=None,
        truncated=truncated,
        base="1.4.1",
        head="1.4.2",
    )
    notes = ReleaseNotes(plan_ref="R-3", base="1.4.1", head="1.4.2", changelog=log)
    return str(changelog_sections(notes, max_commits=10, max_sections=2)[0].to_dict())


def test_one_commit_is_one_commit_and_more_are_commits() -> None:
    assert "*Changes since `1.4.1`* (1 commit)" in _heading(1)
    assert "*Changes since `1.4.1`* (3 commits)" in _heading(3)
    assert "*Changes since `1.4.1`* (1+ commits)" in _heading(1, truncated=True)
