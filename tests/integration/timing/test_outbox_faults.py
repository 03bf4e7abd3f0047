"""The outbox against a Slack stand-in that answers 429/500/timeouts, and a dispatcher killed
between Slack's answer and its commit: messages arrive late, in order, once."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.notify import outbox
from bot.notify.outbox import OutboxDispatcher, Rendered
from bot.store.models import OutboxMessage, SlackMessage
from commands.slack_port import WebApiSlack, renderer
from console.slack_api import Workspace
from tests.scenario.driver import SlackDriver


class Killed(BaseException):
    """The process died right after Slack answered (nothing after it runs)."""


class DiesAfterPosting:
    """A SlackPort that posts for real, then dies before the dispatcher can record it."""

    def __init__(self, real: WebApiSlack) -> None:
        self.real = real

    def post(self, **kwargs: Any) -> tuple[str, str]:
        self.real.post(**kwargs)
        raise Killed

    def update(self, **kwargs: Any) -> None:
        self.real.update(**kwargs)

    def find(self, **kwargs: Any) -> tuple[str, str] | None:
        return self.real.find(**kwargs)


def _owe(slack: SlackDriver, channel: str, text: str) -> None:
    with slack.bot.db.session() as session:
        outbox.owe_message(session, channel=channel, message=Rendered(text), now=slack.clock.now())


def _pending(slack: SlackDriver) -> list[OutboxMessage]:
    with slack.bot.db.session() as session:
        return list(
            session.exec(select(OutboxMessage).where(OutboxMessage.delivered_at == None)).all()  # noqa: E711
        )


def _texts(slack: SlackDriver, channel: str) -> list[str]:
    return [m.text for m in slack.channel_messages(channel)]


def _statuses(workspace: Workspace, method: str) -> list[int]:
    return [call.status for call in workspace.calls_to(method)]


def test_a_429_is_retried_after_retry_after_and_posted_once(
    slack: SlackDriver, workspace: Workspace
) -> None:
    _owe(slack, "C0RELEASES", "hello")
    workspace.fail_next("chat.postMessage", 429)
    assert slack.bot.dispatcher.deliver_due() == 0
    [row] = _pending(slack)
    assert row.due_at == slack.clock.now() + timedelta(seconds=1)  # Retry-After: 1
    slack.clock.advance(timedelta(seconds=1))
    assert slack.bot.dispatcher.deliver_due() == 1
    assert _texts(slack, "C0RELEASES") == ["hello"]
    assert _statuses(workspace, "chat.postMessage") == [429, 200]


@pytest.mark.parametrize("fault", [500, "timeout"])
def test_a_5xx_or_timeout_is_retried_with_backoff(
    slack: SlackDriver, workspace: Workspace, fault: Any
) -> None:
    workspace.fault_timeout_seconds = 0.2  # the stand-in gives up holding the request soon
    _owe(slack, "C0RELEASES", "hello")
    workspace.fail_next("chat.postMessage", fault, times=2)
    slack.bot.dispatcher.deliver_due()
    slack.clock.advance(timedelta(seconds=2))
    slack.bot.dispatcher.deliver_due()
    slack.clock.advance(timedelta(seconds=3))
    assert slack.bot.dispatcher.deliver_due() == 0  # second backoff is 4 s
    slack.clock.advance(timedelta(seconds=1))
    assert slack.bot.dispatcher.deliver_due() == 1
    assert _texts(slack, "C0RELEASES") == ["hello"]


def test_slack_down_for_ten_minutes_delays_messages_and_loses_none(
    slack: SlackDriver, workspace: Workspace
) -> None:
    workspace.fail_next("chat.postMessage", 503, times=10_000)
    for index in range(3):
        _owe(slack, "C0RELEASES", f"releases {index}")
        _owe(slack, "C0ANNOUNCE", f"announce {index}")
    for _ in range(120):  # ten minutes in 5 s steps
        slack.bot.dispatcher.deliver_due()
        slack.clock.advance(timedelta(seconds=5))
    assert _texts(slack, "C0RELEASES") == []
    while workspace.take_fault("chat.postMessage") is not None:
        pass  # Slack is back
    slack.settle(max_rounds=400)
    assert _texts(slack, "C0RELEASES") == ["releases 0", "releases 1", "releases 2"]
    assert _texts(slack, "C0ANNOUNCE") == ["announce 0", "announce 1", "announce 2"]


def test_one_message_per_second_per_channel_and_no_429(clock: Any, slack: SlackDriver) -> None:
    slack.workspace.rate_limit_per_channel_per_second = 1
    for index in range(4):
        _owe(slack, "C0RELEASES", f"r{index}")
        _owe(slack, "C0ONCALL", f"o{index}")
    slack.settle()
    posts = slack.workspace.calls_to("chat.postMessage")
    assert [c.status for c in posts] == [200] * 8
    for channel in ("C0RELEASES", "C0ONCALL"):
        times = [c.at for c in posts if c.args["channel"] == channel]
        assert all(b - a >= timedelta(seconds=1) for a, b in itertools.pairwise(times))
    assert _texts(slack, "C0RELEASES") == ["r0", "r1", "r2", "r3"]


def _dying(slack: SlackDriver) -> OutboxDispatcher:
    return OutboxDispatcher(
        db=slack.bot.db,
        slack=DiesAfterPosting(WebApiSlack(slack.bot.client)),
        render=renderer(slack.bot.desk.ctx),
        clock=slack.clock,
    )


@pytest.mark.parametrize("channel", ["C0RELEASES", "U0REQUESTER"])
def test_a_dispatcher_killed_after_posting_never_posts_twice(
    slack: SlackDriver, channel: str
) -> None:
    _owe(slack, channel, "exactly once")
    with pytest.raises(Killed):
        _dying(slack).deliver_due()
    [row] = _pending(slack)
    assert row.attempts == 1
    slack.bot.dispatcher.deliver_due()
    assert _pending(slack) != []  # leased to the dead process for a while
    slack.clock.advance(outbox.SEND_LEASE)
    slack.bot.dispatcher.deliver_due()
    assert _pending(slack) == []
    target = channel if channel.startswith("C") else slack.workspace.dm_channel(channel).id
    assert [m.text for m in slack.workspace.history(target)] == ["exactly once"]
    assert len(slack.workspace.calls_to("chat.postMessage")) == 1


def test_a_dispatcher_killed_after_posting_a_card_never_posts_a_second_card(
    slack: SlackDriver,
) -> None:
    slack.command("U0REQUESTER", "plan checkout 1.4.2 to staging")
    with pytest.raises(Killed):
        _dying(slack).deliver_due()
    # Meanwhile the plan changes: the recovered card must show it.
    slack.command("U0REQUESTER", "cancel R-1 wrong build")
    slack.clock.advance(outbox.SEND_LEASE)
    slack.settle()
    assert slack.card("R-1").text == "R-1 · checkout 1.4.2 → staging: Cancelled"
    with slack.bot.db.session() as session:
        assert len(session.exec(select(SlackMessage)).all()) == 1
    assert slack.thread(slack.card("R-1")) == [
        ":no_entry_sign: <@U0REQUESTER> cancelled R-1: wrong build"
    ]


def test_a_card_changed_while_it_was_being_sent_is_drawn_again(slack: SlackDriver) -> None:
    slack.command("U0REQUESTER", "plan checkout 1.4.2 to staging")
    real = WebApiSlack(slack.bot.client)

    class ChangesDuringSend:
        def post(self, **kwargs: Any) -> tuple[str, str]:
            answer = real.post(**kwargs)
            slack.command("U0REQUESTER", "cancel R-1 mid-flight")
            return answer

        def update(self, **kwargs: Any) -> None:
            real.update(**kwargs)

        def find(self, **kwargs: Any) -> tuple[str, str] | None:
            return real.find(**kwargs)

    racing = OutboxDispatcher(
        db=slack.bot.db,
        slack=ChangesDuringSend(),
        render=renderer(slack.bot.desk.ctx),
        clock=slack.clock,
    )
    racing.deliver_due()
    slack.clock.advance(timedelta(seconds=1))
    slack.settle()
    assert slack.card("R-1").text == "R-1 · checkout 1.4.2 → staging: Cancelled"


def test_a_message_slack_refuses_for_good_is_not_retried(slack: SlackDriver) -> None:
    _owe(slack, "C0NOSUCH", "nowhere")
    assert slack.bot.dispatcher.deliver_due() == 1
    with slack.bot.db.session() as session:
        [row] = session.exec(select(OutboxMessage)).all()
    assert row.delivered_ts is None and row.last_error == "slack refused: channel_not_found"
    assert isinstance(row.delivered_at, datetime)


# Slack's method pages describe these as passing (rate limits, "a transient issue on our end",
# "temporarily unavailable", an Enterprise migration, POST data that arrived truncated).
PASSING = [
    "ratelimited",
    "rate_limited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
    "team_added_to_org",
    "org_login_required",
]
# About the request, the channel or the token: asking again gets the same answer.
FOR_GOOD = ["is_archived", "restricted_action", "not_in_channel", "missing_scope", "token_revoked"]


@pytest.mark.parametrize("error", PASSING)
def test_a_post_slack_answers_with_a_passing_error_is_retried_and_arrives_once(
    slack: SlackDriver, workspace: Workspace, error: str
) -> None:
    _owe(slack, "C0RELEASES", "hello")
    workspace.fail_next("chat.postMessage", error)
    assert slack.bot.dispatcher.deliver_due() == 0
    slack.settle()
    assert _texts(slack, "C0RELEASES") == ["hello"]
    assert [c.error for c in workspace.calls_to("chat.postMessage")] == [error, None]


@pytest.mark.parametrize("error", FOR_GOOD)
def test_a_post_slack_refuses_for_good_is_kept_with_its_error_not_retried(
    slack: SlackDriver, workspace: Workspace, error: str
) -> None:
    _owe(slack, "C0RELEASES", "hello")
    workspace.fail_next("chat.postMessage", error)
    assert slack.bot.dispatcher.deliver_due() == 1
    slack.settle()
    [row] = _all(slack)
    assert row.delivered_ts is None and row.last_error == f"slack refused: {error}"
    assert [c.error for c in workspace.calls_to("chat.postMessage")] == [error]


def test_a_card_update_answered_service_unavailable_is_retried(
    slack: SlackDriver, workspace: Workspace
) -> None:
    slack.command("U0REQUESTER", "plan checkout 1.4.2 to staging")
    slack.settle()
    workspace.fail_next("chat.update", "service_unavailable")
    slack.command("U0REQUESTER", "cancel R-1 wrong build")
    slack.settle()
    assert slack.card("R-1").text == "R-1 · checkout 1.4.2 → staging: Cancelled"
    assert [c.error for c in workspace.calls_to("chat.update")] == ["service_unavailable", None]


def test_a_lookup_answered_with_a_passing_error_waits_rather_than_posting_blind(
    slack: SlackDriver, workspace: Workspace, caplog: pytest.LogCaptureFixture
) -> None:
    _owe(slack, "C0RELEASES", "exactly once")
    with pytest.raises(Killed):
        _dying(slack).deliver_due()
    slack.clock.advance(outbox.SEND_LEASE)
    workspace.fail_next("conversations.history", "service_unavailable")
    slack.settle()
    assert _texts(slack, "C0RELEASES") == ["exactly once"]
    assert [c.error for c in workspace.calls_to("conversations.history")] == [
        "service_unavailable",
        None,
    ]
    assert not [r for r in caplog.records if "cannot be looked up" in r.getMessage()]


def _all(slack: SlackDriver) -> list[OutboxMessage]:
    with slack.bot.db.session() as session:
        return list(session.exec(select(OutboxMessage)).all())
