"""`/release show|list` without Bolt's pipeline: the very response Bolt gives, or Bolt's own."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from slack_bolt import BoltRequest, BoltResponse
from sqlmodel import update

from bot.app.bootstrap import Releasebot, SlackCredentials, build
from bot.app.settings import Settings
from bot.domain.lifecycle import Event
from bot.release import plans
from bot.store.async_reads import async_reads
from bot.store.models import OutboxMessage
from commands import read_path
from commands.fast_reads import FastReads
from commands.grammar import UsageError
from commands.registry import parse_command
from console import payloads
from console.slack_api import Workspace, create_slack_api_app
from console.testing import ManualClock, running_server
from tests.helpers import LoopThread

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


@pytest.fixture
def fast(bot: Releasebot) -> Iterator[Callable[[str], BoltResponse | None]]:
    """FastReads as `releasebot serve` wires it, its answers awaited on one event loop."""
    reads = FastReads(bot.desk, async_reads(bot.db))
    reads.learn_workspace(bot.app)
    runner = LoopThread()

    def answer(body: str) -> BoltResponse | None:
        return runner.run(reads.answer(body))

    try:
        yield answer
    finally:
        runner.run(reads.close())
        runner.close()


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
    bot: Releasebot, workspace: Workspace, fast: Callable[[str], BoltResponse | None]
) -> None:
    _plan(bot, "1.4.1", release=True, notes="tell <!channel> & <!here|here>")
    _plan(bot, "1.4.2", release=False)
    # Until Bolt has authorized a request, it answers every one.
    assert fast(_body(workspace, "list")) is None
    _bolt(bot, _body(workspace, "help"))
    texts = ("show R-1", "show R-1", "show r-2", "SHOW  R-2 ", "list", " List ", "list staging")
    for text in (*texts, "list --all", "show R-01"):
        body = _body(workspace, text)
        answered = fast(body)
        assert answered is not None, text
        status, shown = _same(answered, _bolt(bot, body))
        assert status == 200 and "R-" in str(shown)
        assert "<!channel>" not in str(shown)
    # The stored card's broadcast stays defused, in both paths.
    assert "&lt;!channel&gt;" in str(_bolt(bot, _body(workspace, "show R-1")).body)


def test_errors_other_workspaces_and_other_commands_are_left_to_bolt(
    bot: Releasebot, workspace: Workspace, fast: Callable[[str], BoltResponse | None]
) -> None:
    _bolt(bot, _body(workspace, "help"))
    for text in ("show R-99", "show R-0", "show R-2147483648", "show", "list nowhere", "help"):
        assert fast(_body(workspace, text)) is None, text
    for text in ("history checkout", "plan x", "deploy R-1", "show R-1 R-2", "list --none"):
        assert fast(_body(workspace, text)) is None, text
    refused = _body(workspace, "list", team_id="T0ELSEWHERE")
    assert fast(refused) is None
    assert _bolt(bot, refused).body == "This app belongs to another workspace."


def test_the_quick_forms_read_as_the_grammar_reads_them(bot: Releasebot) -> None:
    reads = FastReads(bot.desk, async_reads(bot.db))
    ctx = bot.desk.ctx
    forms = ["show R-1", "show r-12", " SHOW\tR-123456789 ", "Show  R-7", "list", " LIST ", "List"]
    forms += ["show R-01", "show R-0", "show R-1234567890", "show R-1 x", "list staging", "lists"]
    for text in forms:
        full = _or_usage_error(parse_command, text, now=ctx.clock.now(), tz=ctx.config.tz)
        quick = _or_usage_error(reads.parse, text)
        assert quick == (full if text.split()[0].lower() in ("show", "list") else None), text


def _or_usage_error(parse: Callable[..., object], text: str, **kwargs: object) -> object:
    try:
        return parse(text, **kwargs)
    except UsageError as error:
        return str(error)


def test_a_card_stored_by_either_path_answers_the_other(
    bot: Releasebot,
    workspace: Workspace,
    fast: Callable[[str], BoltResponse | None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # On PostgreSQL the two paths read the token with different drivers (psycopg, asyncpg),
    # whose timestamps come back in different time zones: the token must not differ.
    monkeypatch.setenv("PGTZ", "America/New_York")  # libpq's session time zone: psycopg's
    bot.db.engine.dispose()
    _plan(bot, "1.4.1", release=True)
    _plan(bot, "1.4.2", release=True)
    with bot.db.session() as session:  # the dispatcher posted the cards the releases owed
        session.exec(update(OutboxMessage).values(delivered_at=datetime.now(UTC)))  # type: ignore[call-overload]
    _bolt(bot, _body(workspace, "help"))
    by_bolt = _bolt(bot, _body(workspace, "show R-1"))
    by_fast = fast(_body(workspace, "show R-2"))
    assert by_fast is not None

    def not_drawn(*_: object, **__: object) -> None:
        raise AssertionError("the stored card should have answered")

    monkeypatch.setattr(read_path, "snapshot", not_drawn)
    again = fast(_body(workspace, "show R-1"))
    assert again is not None and again.body == by_bolt.body
    assert _bolt(bot, _body(workspace, "show R-2")).body == by_fast.body


def test_a_plan_id_no_plan_can_have_does_not_fail_the_reads_asked_with_it(
    bot: Releasebot, workspace: Workspace
) -> None:
    _plan(bot, "1.4.1", release=True)
    reads = FastReads(bot.desk, async_reads(bot.db))
    reads.learn_workspace(bot.app)
    _bolt(bot, _body(workspace, "help"))
    loop = LoopThread()

    async def together() -> list[BoltResponse | None]:
        # Asked together, so they would share one statement; an id past PostgreSQL's integer
        # range (refused by the grammar, so never read) must not make it fail for the others.
        texts = ("show R-1", "show R-2147483648", "show R-1", "list")
        return list(await asyncio.gather(*(reads.answer(_body(workspace, t)) for t in texts)))

    try:
        first, huge, again, listed = loop.run(together())
    finally:
        loop.run(reads.close())
        loop.close()
    assert huge is None
    assert first is not None and again is not None and listed is not None
    assert first.body == again.body == _bolt(bot, _body(workspace, "show R-1")).body
