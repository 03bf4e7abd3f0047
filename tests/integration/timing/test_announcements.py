"""Release announcements with the changelog (a real local git repository, GitHub's compare in its
published shape), cut to Block Kit's limits with a pointer to `/release notes R-<n>`."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from bot.domain.config import ReleasebotConfig, load_config
from bot.notify.announcements import owe_release_announcement, release_notes
from bot.release.plans import get_plan
from bot.release.snapshots import snapshot
from bot.store.models import ReleasePlan
from commands.render.announcements import release_announcement
from integrations.changelog import ConfiguredChangelogs
from tests.helpers import walk_to_released
from tests.scenario.driver import SlackDriver, buttons, card_text

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
COMPARE = Path(__file__).resolve().parents[1] / "adapters/changelog/fixtures/github_compare.json"


def _git(repo: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "Ada Lovelace",
        "GIT_AUTHOR_EMAIL": "ada@example.com",
        "GIT_COMMITTER_NAME": "Ada Lovelace",
        "GIT_COMMITTER_EMAIL": "ada@example.com",
        "HOME": str(repo),
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        ["git", "-C", str(repo), *args], env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """checkout's repository: 1.4.1, then three commits, tagged 1.4.2."""
    path = tmp_path / "checkout"
    path.mkdir()
    _git(path, "init", "-q", "-b", "main")
    _git(path, "commit", "-q", "--allow-empty", "-m", "Initial cart")
    _git(path, "tag", "1.4.1")
    for subject in ("Fix <rounding> in totals", "Faster checkout page", "Retry payment timeouts"):
        _git(path, "commit", "-q", "--allow-empty", "-m", subject)
    _git(path, "tag", "1.4.2")
    return path


@pytest.fixture
def config(tmp_path: Path, repo: Path) -> ReleasebotConfig:
    text = (FIXTURES / "releasebot.toml").read_text()
    text = text.replace('repo_path = "./demo/checkout.git"', f'repo_path = "{repo}"')
    path = tmp_path / "releasebot.toml"
    path.write_text(text)
    return load_config(path)


def _release(slack: SlackDriver, version: str, *, announce: bool) -> None:
    slack.command("U0REQUESTER", f"plan checkout {version} to staging")
    with slack.bot.db.session() as session:
        plan_id = session.exec(select(ReleasePlan.id).where(ReleasePlan.version == version)).one()
        assert plan_id is not None
        plan = get_plan(session, plan_id=plan_id, for_update=True)
        ctx = slack.bot.desk.ctx
        walk_to_released(session, ctx=ctx, plan=plan)
        if announce:
            owe_release_announcement(session, ctx=ctx, plan=plan)
            owe_release_announcement(session, ctx=ctx, plan=plan)  # owed twice, sent once


def test_the_announcement_carries_the_changelog_since_the_last_release(
    slack: SlackDriver,
) -> None:
    _release(slack, "1.4.1", announce=False)
    _release(slack, "1.4.2", announce=True)
    slack.settle()

    [announcement] = slack.channel_messages("C0ANNOUNCE")
    assert announcement.text == "checkout 1.4.2 released to staging"
    shown = card_text(announcement)
    assert "*checkout* `1.4.2` is live in *staging* (R-2, requested by <@U0REQUESTER>)." in shown
    assert "*Changes since `1.4.1`* (3 commits)" in shown
    assert "Fix &lt;rounding&gt; in totals — Ada Lovelace" in shown
    assert shown.index("Retry payment timeouts") < shown.index("Faster checkout page")
    assert "Initial cart" not in shown
    assert buttons(announcement) == ["Roll back"]


def test_release_notes_answer_only_the_caller(slack: SlackDriver) -> None:
    _release(slack, "1.4.1", announce=False)
    _release(slack, "1.4.2", announce=False)
    # Reading git (or GitHub) may be slow: the ack is empty and the notes follow, ephemeral.
    assert slack.command("U0STRANGER", "notes R-2") == {}
    [answer] = slack.workspace.ephemerals_for("U0STRANGER")
    text = json.dumps(answer.blocks)
    assert "Release notes of R-2: checkout 1.4.2" in text
    assert "Faster checkout page" in text


def test_a_long_changelog_is_cut_to_slacks_limits_with_a_pointer(
    slack: SlackDriver, repo: Path
) -> None:
    _release(slack, "1.4.1", announce=False)
    for index in range(40):
        _git(repo, "commit", "-q", "--allow-empty", "-m", f"Change number {index} " + "x" * 400)
    _git(repo, "tag", "2.0.0")
    _release(slack, "2.0.0", announce=True)
    slack.settle()  # the stand-in refuses anything over Block Kit's limits

    [announcement] = slack.channel_messages("C0ANNOUNCE")
    assert len(announcement.blocks) <= 50
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in announcement.blocks)
    shown = card_text(announcement)
    assert "Change number 39" in shown  # newest first; 43 commits since 1.4.1 in all
    listed = shown.count("Change number")
    pointer = re.search(r"… and (\d+) more\. `/release notes R-2` lists them all\.", shown)
    assert pointer is not None and listed + int(pointer.group(1)) == 43 and listed < 40


def test_a_github_changelog_links_commits_and_the_comparison(
    slack: SlackDriver, config: ReleasebotConfig
) -> None:
    _release(slack, "1.4.1", announce=False)
    _release(slack, "1.4.2", announce=False)
    ctx = slack.bot.desk.ctx
    service = ctx.config.services["checkout"]
    object.__setattr__(service, "repo_path", None)
    object.__setattr__(service, "repo", "acme/checkout")
    seen: list[str] = []

    def github(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json=json.loads(COMPARE.read_text()))

    with (
        slack.bot.db.session() as session,
        httpx.Client(transport=httpx.MockTransport(github)) as http,
    ):
        plan = get_plan(session, plan_id=2)
        changelogs = ConfiguredChangelogs(ctx.config, environ={}, http=http)
        notes = release_notes(session, ctx=ctx, plan=plan, changelogs=changelogs)
        rendered = release_announcement(snapshot(session, ctx=ctx, plan_id=2), notes)
    assert seen == ["/repos/acme/checkout/compare/1.4.1...1.4.2"]
    shown = json.dumps(rendered.blocks, ensure_ascii=False)
    assert (
        "<https://github.com/acme/checkout/commit/6dcb09b5b57875f334f61aebed695e2e4193db5e|6dcb09b>"
        in shown
    )
    assert "Fix all the bugs — Monalisa Octocat" in shown
    assert "<https://github.com/acme/checkout/compare/v1.4.0...v1.5.0|compare>" in shown


def test_an_unreachable_changelog_still_announces_and_says_why(slack: SlackDriver) -> None:
    _release(slack, "1.4.1", announce=False)
    slack.command("U0REQUESTER", "plan checkout 9.9.9 to staging")
    with slack.bot.db.session() as session:
        plan = get_plan(session, plan_id=2)
        notes = release_notes(
            session, ctx=slack.bot.desk.ctx, plan=plan, changelogs=slack.bot.desk.changelogs
        )
    assert notes.changelog is None
    assert notes.problem is not None and "does not know ref '9.9.9'" in notes.problem
