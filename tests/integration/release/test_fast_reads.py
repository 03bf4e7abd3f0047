"""`/release show|list` without Bolt's pipeline: the very response Bolt gives, or Bolt's own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from slack_bolt import BoltRequest, BoltResponse

from bot.app.bootstrap import Releasebot, SlackCredentials, build
from bot.app.settings import Settings
from bot.domain.lifecycle import Event
from bot.release import plans
from commands.fast_reads import FastReads
from console import payloads
from console.slack_api import Workspace, create_slack_api_app
from console.testing import ManualClock, running_server

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SECRET = "fast-reads-secret"


@pytest.fixture
def workspace() -> Workspace:
    return Workspace(bot_token="xoxb-fast-reads")


@pytest.fixture
def bot(database_url: str, workspace: Workspace) -> Iterator[Releasebot]:
    settings = Settings(
        DATABASE_URL=database_url, RELEASEBOT_CONFIG=str(FIXTURES / "releasebot.toml")
    )
    with running_server(create_slack_api_app(workspace)) as api_url:
        credentials = SlackCredentials(
            bot_token="xoxb-fast-reads", signing_secret=SECRET, api_url=api_url + "/api/"
        )
        built = build(settings, credentials=credentials, clock=ManualClock())
        try:
            yield built
        finally:
            built.close()


def _body(workspace: Workspace, text: str, *, team_id: str | None = None) -> str:
    sender = payloads.Sender(
        user_id="U0REQUESTER",
        user_name="requester",
        team_id=team_id or workspace.team_id,
        team_domain=workspace.team_domain,
        api_app_id=workspace.app_id,
    )
    fields = payloads.slash_command(
        sender,
        channel_id="C0RELEASES",
        channel_name="releases",
        command="/release",
        text=text,
        response_url="http://127.0.0.1:9/response",
        trigger_id="1.2.fast",
    )
    return payloads.form_body(fields)


def _bolt(bot: Releasebot, body: str) -> BoltResponse:
    headers = payloads.signed_headers(SECRET, body, datetime.now(UTC))
    return bot.app.dispatch(BoltRequest(body=body, headers=headers))


def _same(left: BoltResponse, right: BoltResponse) -> tuple[object, ...]:
    assert (left.status, left.body, left.headers) == (right.status, right.body, right.headers)
    return (left.status, left.body)


def _plan(bot: Releasebot, version: str, *, release: bool, notes: str | None = None) -> None:
    new = plans.NewPlan(service="checkout", version=version, environment="staging", notes=notes)
    with bot.db.session() as session:
        plan = plans.create_plan(session, ctx=bot.desk.ctx, actor="U0REQUESTER", new=new)
        if release:
            for event in (Event.DEPLOY, Event.STAGES_DONE, Event.CHECKS_PASSED):
                plans.transition(
                    session, ctx=bot.desk.ctx, plan=plan, event=event, actor="U0REQUESTER"
                )


def test_reads_answer_byte_for_byte_what_bolt_answers(
    bot: Releasebot, workspace: Workspace
) -> None:
    _plan(bot, "1.4.1", release=True, notes="tell <!channel> & <!here|here>")
    _plan(bot, "1.4.2", release=False)
    fast = FastReads(bot.desk)
    fast.learn_workspace(bot.app)
    # Until Bolt has authorized a request, it answers every one.
    assert fast.answer(_body(workspace, "list")) is None
    _bolt(bot, _body(workspace, "help"))
    for text in ("show R-1", "show R-1", "show r-2", "list", "list staging", "list --all"):
        body = _body(workspace, text)
        assert fast.claims(body), text
        answered = fast.answer(body)
        assert answered is not None, text
        status, shown = _same(answered, _bolt(bot, body))
        assert status == 200 and "R-" in str(shown)
        assert "<!channel>" not in str(shown)
    # The stored card's broadcast stays defused, in both paths.
    assert "&lt;!channel&gt;" in str(_bolt(bot, _body(workspace, "show R-1")).body)


def test_errors_other_workspaces_and_other_commands_are_left_to_bolt(
    bot: Releasebot, workspace: Workspace
) -> None:
    fast = FastReads(bot.desk)
    fast.learn_workspace(bot.app)
    _bolt(bot, _body(workspace, "help"))
    for text in ("help", "history checkout", "plan x", "deploy R-1"):
        assert not fast.claims(_body(workspace, text)), text
    for text in ("show R-99", "show", "list nowhere", "help", "history checkout", "plan x"):
        assert fast.answer(_body(workspace, text)) is None, text
    refused = _body(workspace, "list", team_id="T0ELSEWHERE")
    assert fast.answer(refused) is None
    assert _bolt(bot, refused).body == "This app belongs to another workspace."
