"""An acked command is never lost: journalled before the ack, carried out once, always answered.

Issue 9 §2 item 4 and SPEC §9: a database that is down or read-only at ack time gets "not done"
and why, at once; a process that dies right after its ack, or a database that fails right after
it, leaves the command in the journal, and it is done once — late, and saying so — when a
process (this one or the next) can.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from bot.app.bootstrap import SlackCredentials, build
from bot.app.settings import Settings
from bot.domain.config import ReleasebotConfig
from bot.store.journal import LEASE
from bot.store.models import AuditEvent, ReleasePlan
from commands.ids import ActionId
from console import payloads
from console.slack_api import Workspace, create_slack_api_app
from console.testing import ManualClock, running_server
from tests.scenario.driver import (
    SIGNING_SECRET,
    HeldExecutor,
    InlineExecutor,
    SlackDriver,
    card_text,
)
from tests.scenario.outage import DatabaseOutage

PLAN = "plan checkout 1.4.2 to staging"
PLANNED = (
    ":memo: Planned *R-1*: checkout `1.4.2` → staging (approved). The card is in <#C0RELEASES>."
)
REASONS = {
    ("sqlite", "down"): "the database file cannot be opened",
    ("postgresql", "down"): "the database is unreachable",
    ("sqlite", "read-only"): "the database is read-only",
    ("postgresql", "read-only"): "the database is read-only",
}


def not_done(reason: str) -> str:
    return (
        f"Not done: releasebot can't write to its database right now ({reason}). "
        "Nothing changed; try again in a minute."
    )


def retrying(reason: str) -> str:
    return (
        f":hourglass: Recorded, not done yet: releasebot hit a problem carrying it out "
        f"({reason}). It retries by itself and answers here when it is done."
    )


BotFactory = Callable[[Executor], SlackDriver]


@pytest.fixture
def bots(
    workspace: Workspace,
    database_url: str,
    config: ReleasebotConfig,
    clock: ManualClock,
    tmp_path: Path,
) -> Iterator[BotFactory]:
    """Bots built as in production on one database and one Slack: a process, and the next."""
    built: list[SlackDriver] = []
    with running_server(create_slack_api_app(workspace)) as url:

        def make(executor: Executor) -> SlackDriver:
            bot = build(
                Settings(DATABASE_URL=database_url, RELEASEBOT_STATE_DIR=str(tmp_path / "state")),
                http=httpx.Client(transport=httpx.MockTransport(lambda _: httpx.Response(200))),
                credentials=SlackCredentials(
                    bot_token=workspace.bot_token,
                    signing_secret=SIGNING_SECRET,
                    api_url=url + "/api/",
                ),
                config=config,
                clock=clock,
                executor=executor,
            )
            driver = SlackDriver(bot=bot, workspace=workspace, api_url=url, clock=clock)
            built.append(driver)
            return driver

        yield make
        for driver in built:
            driver.bot.close()


def _plans(slack: SlackDriver) -> list[ReleasePlan]:
    with slack.bot.db.session() as session:
        return list(session.exec(select(ReleasePlan)).all())


def _eventually(found: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def _redelivered_command(slack: SlackDriver, user_id: str, text: str) -> str:
    """One signed-able slash command body, to deliver more than once as Slack may."""
    return payloads.form_body(
        payloads.slash_command(
            slack.sender(user_id),
            channel_id="C0RELEASES",
            channel_name="releases",
            command="/release",
            text=text,
            response_url=slack.workspace.issue_response_url(
                base_url=slack.api_url, channel_id="C0RELEASES", user_id=user_id
            ),
            trigger_id=slack.workspace.issue_trigger_id(user_id),
        )
    )


# -- the database cannot take the command at ack time ---------------------------------------


@pytest.mark.parametrize("mode", ["down", "read-only"])
def test_a_command_the_database_cannot_take_is_answered_not_done_in_the_ack(
    slack: SlackDriver, database_url: str, mode: str
) -> None:
    outage = DatabaseOutage(database_url, slack.bot.db.engine)
    with outage.during(mode):  # type: ignore[arg-type]
        ack = slack.command("U0REQUESTER", PLAN)
    slack.settle()

    assert ack["response_type"] == "ephemeral"
    assert ack["text"] == not_done(REASONS[(outage.dialect, mode)])
    assert "Traceback" not in str(ack) and "127.0.0.1" not in str(ack)
    assert _plans(slack) == []
    assert slack.ephemerals("U0REQUESTER") == []  # nothing follows the ack: it said it all
    assert slack.workspace.calls_to("chat.postMessage") == []


def test_a_command_while_the_database_is_busy_is_answered_not_done_before_slack_gives_up(
    slack: SlackDriver, database_url: str
) -> None:
    outage = DatabaseOutage(database_url, slack.bot.db.engine)
    with outage.during("busy"):
        started = time.monotonic()
        ack = slack.command("U0REQUESTER", PLAN)
        elapsed = time.monotonic() - started
    slack.settle()

    assert ack["text"] == not_done("the database is busy")
    assert elapsed < 3.0  # Slack shows "operation_timeout" to a person after 3 s
    assert _plans(slack) == []
    assert slack.ephemerals("U0REQUESTER") == []


def test_a_click_while_the_database_is_down_is_answered_not_done(
    slack: SlackDriver, database_url: str
) -> None:
    slack.command("U0REQUESTER", PLAN)
    slack.settle()
    card = slack.card("R-1")
    outage = DatabaseOutage(database_url, slack.bot.db.engine)

    with outage.during():
        assert slack.click("U0REQUESTER", card, ActionId.CANCEL).status == 200
    slack.settle()

    assert slack.ephemerals("U0REQUESTER") == [PLANNED, not_done(REASONS[(outage.dialect, "down")])]
    assert slack.state(1) == "approved"
    with slack.bot.db.session() as session:
        actions = [e.action for e in session.exec(select(AuditEvent)).all()]
    assert "plan.cancel" not in actions
    assert slack.card("R-1").text == "R-1 · checkout 1.4.2 → staging: Approved"


def test_a_form_submitted_while_the_database_is_down_stays_open_and_says_why(
    slack: SlackDriver, database_url: str
) -> None:
    assert slack.command("U0REQUESTER", "new") == {}
    outage = DatabaseOutage(database_url, slack.bot.db.engine)
    with outage.during():
        response = slack.submit(
            "U0REQUESTER",
            {
                "new_service": {"value": "checkout"},
                "new_version": {"value": "1.4.2"},
                "new_environment": {"value": "staging"},
            },
        )

    assert response.status == 200
    assert json.loads(response.body) == {
        "response_action": "errors",
        "errors": {"new_service": not_done(REASONS[(outage.dialect, "down")])},
    }
    assert _plans(slack) == []


# -- acked, then the process or the database fails ------------------------------------------


def test_a_command_acked_just_before_a_crash_is_done_once_by_the_next_process(
    bots: BotFactory, clock: ManualClock, workspace: Workspace
) -> None:
    held = HeldExecutor()
    first = bots(held)
    assert first.command("U0REQUESTER", PLAN) == {}
    held.drop()  # killed right after its ack: the after-ack part never ran
    first.bot.close()
    assert _plans(first) == []

    clock.advance(LEASE + timedelta(seconds=1))
    second = bots(InlineExecutor())
    second.bot.start_background()  # the journal's recovery pass runs at start-up
    try:
        _eventually(
            lambda: (
                bool(second.ephemerals("U0REQUESTER"))
                and bool(workspace.calls_to("chat.postMessage"))
            )
        )
    finally:
        second.bot.stop()

    [answer] = second.ephemerals("U0REQUESTER")
    assert answer == f"Done late: {PLANNED}"
    [late] = workspace.ephemerals_for("U0REQUESTER")
    assert "you asked for `/release plan checkout 1.4.2 to staging` at" in str(late.blocks)
    assert [(p.service, p.version) for p in _plans(second)] == [("checkout", "1.4.2")]
    assert second.card("R-1").text == "R-1 · checkout 1.4.2 → staging: Approved"
    assert second.bot.journal.recover() == 0  # done and answered: nothing left, nothing twice
    assert len(_plans(second)) == 1
    assert len(second.ephemerals("U0REQUESTER")) == 1


@pytest.mark.parametrize("mode", ["down", "read-only"])
def test_an_outage_right_after_the_ack_is_retried_and_done_once(
    bots: BotFactory, clock: ManualClock, database_url: str, mode: str
) -> None:
    held = HeldExecutor()
    slack = bots(held)
    outage = DatabaseOutage(database_url, slack.bot.db.engine)
    assert slack.command("U0REQUESTER", PLAN) == {}

    with outage.during(mode):  # type: ignore[arg-type]
        held.run_held()  # the after-ack part meets the outage
        clock.advance(LEASE + timedelta(seconds=1))
        assert slack.bot.journal.recover() == 0  # the recovery pass waits for the database too
    assert slack.ephemerals("U0REQUESTER") == [retrying(REASONS[(outage.dialect, mode)])]
    assert _plans(slack) == []

    assert slack.bot.journal.recover() == 1
    slack.settle()
    assert slack.ephemerals("U0REQUESTER")[1:] == [f"Done late: {PLANNED}"]
    assert len(_plans(slack)) == 1
    assert slack.card("R-1").text == "R-1 · checkout 1.4.2 → staging: Approved"
    clock.advance(timedelta(minutes=5))
    assert slack.bot.journal.recover() == 0
    assert len(_plans(slack)) == 1
    assert len(slack.workspace.calls_to("chat.postMessage")) == 1


def test_an_answer_after_the_response_url_expired_comes_by_dm(
    bots: BotFactory, clock: ManualClock
) -> None:
    held = HeldExecutor()
    first = bots(held)
    first.command("U0REQUESTER", PLAN)
    held.drop()
    first.bot.close()

    clock.advance(timedelta(minutes=31))  # past Slack's 30 minutes for a response_url
    second = bots(InlineExecutor())
    assert second.bot.journal.recover() == 1
    second.settle()

    [dm] = second.dm("U0REQUESTER")
    assert dm.text == f"Done late: {PLANNED}"
    assert "you asked for `/release plan checkout 1.4.2 to staging` at" in card_text(dm)
    assert second.ephemerals("U0REQUESTER") == []
    assert len(_plans(second)) == 1


def test_an_answer_slack_refuses_on_the_response_url_comes_by_dm(
    bots: BotFactory, clock: ManualClock, workspace: Workspace
) -> None:
    held = HeldExecutor()
    first = bots(held)
    first.command("U0REQUESTER", PLAN)
    held.drop()
    first.bot.close()
    # Slack takes five posts per response_url; these used them up (it now answers used_url).
    [url] = [f"{first.api_url}/response/{token}" for token in list(workspace.response_urls)[-1:]]
    for _ in range(5):
        assert httpx.post(url, json={"text": "elsewhere"}).status_code == 200
    assert httpx.post(url, json={"text": "one more"}).status_code == 404

    clock.advance(LEASE + timedelta(seconds=1))
    second = bots(InlineExecutor())
    assert second.bot.journal.recover() == 1
    second.settle()

    [dm] = second.dm("U0REQUESTER")
    assert dm.text == f"Done late: {PLANNED}"
    assert len(_plans(second)) == 1


def test_two_processes_recovering_at_once_do_the_command_once(
    bots: BotFactory, clock: ManualClock
) -> None:
    held = HeldExecutor()
    first = bots(held)
    first.command("U0REQUESTER", PLAN)
    held.drop()
    first.bot.close()
    clock.advance(LEASE + timedelta(seconds=1))
    survivors = [bots(InlineExecutor()), bots(InlineExecutor())]
    start = threading.Barrier(2)
    taken: list[int] = []

    def recover(driver: SlackDriver) -> None:
        start.wait()
        taken.append(driver.bot.journal.recover())

    threads = [threading.Thread(target=recover, args=(d,)) for d in survivors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(taken) == [0, 1]
    survivors[0].settle()
    assert len(_plans(survivors[0])) == 1
    assert survivors[0].ephemerals("U0REQUESTER") == [f"Done late: {PLANNED}"]


# -- the same command delivered twice ------------------------------------------------------


def test_a_command_delivered_twice_is_done_once_and_answered_once(slack: SlackDriver) -> None:
    body = _redelivered_command(slack, "U0REQUESTER", PLAN)
    assert slack.dispatch(body).status == 200
    assert slack.dispatch(body, headers={"X-Slack-Retry-Num": "1"}).status == 200
    slack.settle()

    assert len(_plans(slack)) == 1
    assert slack.ephemerals("U0REQUESTER") == [PLANNED]


def test_a_redelivery_before_the_first_was_carried_out_is_done_once(
    bots: BotFactory,
) -> None:
    held = HeldExecutor()
    slack = bots(held)
    body = _redelivered_command(slack, "U0REQUESTER", PLAN)
    slack.dispatch(body)
    slack.dispatch(body, headers={"X-Slack-Retry-Num": "1"})
    held.run_held()  # both after-ack parts run, one after the other
    slack.settle()

    assert len(_plans(slack)) == 1
    assert slack.ephemerals("U0REQUESTER") == [PLANNED]


def test_a_click_delivered_twice_cancels_once(slack: SlackDriver) -> None:
    slack.command("U0REQUESTER", PLAN)
    slack.settle()
    card = slack.card("R-1")
    [(block_id, element)] = [
        (b, e) for b, e in payloads.iter_elements(card.blocks) if e["action_id"] == "plan_cancel"
    ]
    click = payloads.interaction_body(
        payloads.block_actions(
            slack.sender("U0REQUESTER"),
            action=payloads.clicked_action(element, block_id=block_id or "", action_ts="1.000001"),
            trigger_id=slack.workspace.issue_trigger_id("U0REQUESTER"),
            channel=("C0RELEASES", "releases"),
            message={"type": "message", "ts": card.ts, "text": card.text, "blocks": card.blocks},
            response_url=slack.workspace.issue_response_url(
                base_url=slack.api_url,
                channel_id="C0RELEASES",
                user_id="U0REQUESTER",
                source_ts=card.ts,
            ),
        )
    )
    slack.dispatch(click)
    slack.dispatch(click)
    slack.settle()

    assert slack.state(1) == "cancelled"
    assert slack.ephemerals("U0REQUESTER") == [PLANNED, ":no_entry_sign: Cancelled R-1."]
    with slack.bot.db.session() as session:
        actions = [e.action for e in session.exec(select(AuditEvent)).all()]
    assert actions.count("plan.cancel") == 1


def test_a_command_refused_when_it_is_finally_carried_out_says_so_and_is_not_retried(
    bots: BotFactory, clock: ManualClock
) -> None:
    held = HeldExecutor()
    first = bots(held)
    first.command("U0REQUESTER", PLAN)
    held.run_held()
    first.settle()
    first.command("U0REQUESTER", "deploy R-1")
    held.drop()  # killed after acking the deploy
    first.bot.close()

    second = bots(InlineExecutor())
    second.command("U0REQUESTER", "cancel R-1 wrong build")  # meanwhile, from another process
    clock.advance(LEASE + timedelta(seconds=1))
    assert second.bot.journal.recover() == 1
    second.settle()

    late = second.ephemerals("U0REQUESTER")[-1]
    assert late == (
        "Checked late: can't deploy R-1: it is cancelled (a plan deploys once it is approved)"
    )
    assert second.state(1) == "cancelled"
    clock.advance(timedelta(minutes=5))
    assert second.bot.journal.recover() == 0
    assert second.ephemerals("U0REQUESTER")[-1] == late
