"""Before posting again, the outbox looks for the message it may already have posted; when Slack
will not let it look (a scope the installation lacks, a channel the bot was never invited to),
it posts anyway and says so in the log: a rare duplicate beats a lost approval request."""

from __future__ import annotations

import logging

import pytest
from sqlmodel import select

from bot.notify import outbox
from bot.notify.outbox import OutboxDispatcher
from bot.store.models import OutboxMessage, SlackMessage
from commands.slack_port import WebApiSlack, renderer
from console.scopes import MANIFEST_BOT_SCOPES
from console.slack_api import Workspace
from tests.integration.timing.conftest import release_to_staging
from tests.integration.timing.test_outbox_faults import DiesAfterPosting, Killed
from tests.scenario.driver import SlackDriver

APPROVERS = ("U0APPROVER1", "U0APPROVER2", "U0APPROVER3", "U0APPROVER4", "U0ADMIN")
REQUEST = "Approval requested: R-2 · checkout 1.4.2 → production"


def _every_first_post_fails(slack: SlackDriver) -> None:
    """One delivery pass in which Slack answers 500 to every post: each row is tried once."""
    slack.workspace.fail_next("chat.postMessage", 500, times=1_000)
    slack.bot.dispatcher.deliver_due()
    while slack.workspace.take_fault("chat.postMessage") is not None:
        pass  # Slack is back


def _plan_for_production(slack: SlackDriver) -> None:
    release_to_staging(slack)
    slack.settle()
    slack.command("U0REQUESTER", "plan checkout 1.4.2 to production")


def _dm_texts(slack: SlackDriver, user: str) -> list[str]:
    return [m.text for m in slack.dm(user)]


def _lookup_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "bot.notify.outbox"
        and r.levelno == logging.WARNING
        and "look" in r.getMessage()
    ]


def test_approval_requests_whose_first_post_failed_reach_every_approver_once(
    slack: SlackDriver, caplog: pytest.LogCaptureFixture
) -> None:
    _plan_for_production(slack)
    _every_first_post_fails(slack)
    slack.settle()
    for approver in APPROVERS:
        assert _dm_texts(slack, approver) == [REQUEST]
    # Installed from the manifest, the bot may read its DMs: it looked, found nothing, posted.
    assert len(slack.workspace.calls_to("conversations.history")) >= len(APPROVERS)
    assert all(c.status == 200 and c.ok for c in slack.workspace.calls_to("conversations.history"))
    assert _lookup_warnings(caplog) == []


def test_without_im_history_the_request_is_posted_anyway_and_the_log_says_so(
    slack: SlackDriver, workspace: Workspace, caplog: pytest.LogCaptureFixture
) -> None:
    workspace.bot_scopes = MANIFEST_BOT_SCOPES - {"im:history"}  # installed from an old manifest
    _plan_for_production(slack)
    _every_first_post_fails(slack)
    caplog.set_level(logging.WARNING, logger="bot.notify.outbox")
    slack.settle()
    for approver in APPROVERS:
        assert _dm_texts(slack, approver) == [REQUEST]
    warnings = _lookup_warnings(caplog)
    assert len(warnings) == len(APPROVERS)
    assert all("missing_scope" in w and "posting it anyway" in w for w in warnings)


def test_a_card_in_a_channel_the_bot_was_never_invited_to_is_posted_after_a_failure(
    slack: SlackDriver, workspace: Workspace, caplog: pytest.LogCaptureFixture
) -> None:
    workspace.channels["C0RELEASES"].bot_is_member = False  # it posts with chat:write.public
    slack.command("U0REQUESTER", "plan checkout 1.4.2 to staging")
    _every_first_post_fails(slack)
    caplog.set_level(logging.WARNING, logger="bot.notify.outbox")
    slack.settle()
    assert slack.card("R-1").text == "R-1 · checkout 1.4.2 → staging: Approved"
    [warning] = _lookup_warnings(caplog)
    assert "not_in_channel" in warning
    # A thread reply is looked up with conversations.replies: refused the same way.
    workspace.fail_next("chat.postMessage", 500)
    slack.command("U0REQUESTER", "cancel R-1 wrong build")
    slack.settle()
    assert slack.card("R-1").text == "R-1 · checkout 1.4.2 → staging: Cancelled"
    assert slack.thread(slack.card("R-1")) == [
        ":no_entry_sign: <@U0REQUESTER> cancelled R-1: wrong build"
    ]
    assert [c.error for c in workspace.calls_to("conversations.replies")] == ["not_in_channel"]
    assert len(_lookup_warnings(caplog)) == 2


def _dying(slack: SlackDriver) -> OutboxDispatcher:
    return OutboxDispatcher(
        db=slack.bot.db,
        slack=DiesAfterPosting(WebApiSlack(slack.bot.client)),
        render=renderer(slack.bot.desk.ctx),
        clock=slack.clock,
    )


def test_a_card_in_a_private_channel_is_found_after_a_crash_not_posted_twice(
    slack: SlackDriver, workspace: Workspace
) -> None:
    workspace.channels["C0RELEASES"].is_private = True
    slack.command("U0REQUESTER", "plan checkout 1.4.2 to staging")
    with pytest.raises(Killed):
        _dying(slack).deliver_due()
    slack.clock.advance(outbox.SEND_LEASE)
    slack.command("U0REQUESTER", "cancel R-1 wrong build")
    slack.settle()
    assert slack.card("R-1").text == "R-1 · checkout 1.4.2 → staging: Cancelled"
    with slack.bot.db.session() as session:
        assert len(session.exec(select(SlackMessage)).all()) == 1
    assert [c.status for c in workspace.calls_to("conversations.history")] == [200]


def test_a_dm_that_reached_slack_before_a_crash_and_cannot_be_looked_up_comes_twice(
    slack: SlackDriver, workspace: Workspace, caplog: pytest.LogCaptureFixture
) -> None:
    workspace.bot_scopes = MANIFEST_BOT_SCOPES - {"im:history"}
    with slack.bot.db.session() as session:
        outbox.owe_message(
            session,
            channel="U0APPROVER1",
            message=outbox.Rendered("please approve R-9"),
            now=slack.clock.now(),
        )
    with pytest.raises(Killed):
        _dying(slack).deliver_due()
    slack.clock.advance(outbox.SEND_LEASE)
    caplog.set_level(logging.WARNING, logger="bot.notify.outbox")
    slack.settle()
    # The trade-off, on record: the approver sees it twice rather than never.
    assert _dm_texts(slack, "U0APPROVER1") == ["please approve R-9", "please approve R-9"]
    [warning] = _lookup_warnings(caplog)
    assert "a duplicate is possible" in warning
    with slack.bot.db.session() as session:
        [row] = session.exec(select(OutboxMessage)).all()
    assert row.delivered_ts is not None and row.last_error is None
