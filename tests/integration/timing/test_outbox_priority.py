"""Within Slack's 1 message/s per channel, alerts and requests for a decision go first, then
cards and their threads, then reminders; what must stay in order stays in order."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from itertools import pairwise

from bot.notify import outbox
from bot.notify.outbox import Priority, Rendered
from bot.notify.thread import say
from bot.release import plans
from console.models import ApiCall
from console.slack_api import Workspace
from tests.integration.timing.conftest import release_to_staging
from tests.scenario.driver import SlackDriver

ALERT = ":rotating_light: *R-1* checkout `1.4.2` in staging: "


def _deliver_at_slacks_pace(
    slack: SlackDriver, until: Callable[[], bool], *, seconds: int = 120
) -> None:
    """What the server's loop does, on the fake clock: a delivery pass, then the next second."""
    for _ in range(seconds):
        slack.bot.dispatcher.deliver_due()
        if until():
            return
        slack.clock.advance(timedelta(seconds=1))
    raise AssertionError(f"not delivered within {seconds} s")


def _posted(workspace: Workspace, channel: str) -> list[ApiCall]:
    return [
        c
        for c in workspace.calls_to("chat.postMessage")
        if c.ok and c.response["channel"] == channel and "thread_ts" not in c.args
    ]


def _alerts(workspace: Workspace) -> list[ApiCall]:
    return [c for c in _posted(workspace, "C0RELEASES") if c.args["text"].startswith(ALERT)]


def test_a_rollback_alert_is_not_queued_behind_forty_new_plans(
    slack: SlackDriver, workspace: Workspace
) -> None:
    workspace.rate_limit_per_channel_per_second = 1  # Slack's pace, enforced by the stand-in
    release_to_staging(slack)
    slack.settle()
    for n in range(40):
        slack.command("U0REQUESTER", f"plan payments 2.0.{n} to staging")
    slack.command("U0QA", "rollback R-1 error rate is up")
    owed_at = slack.clock.now()

    _deliver_at_slacks_pace(slack, lambda: bool(_alerts(workspace)))
    [alert] = _alerts(workspace)
    assert alert.at - owed_at <= timedelta(seconds=2)
    assert "by <@U0QA>" in alert.args["text"]

    # The forty cards follow, in the order the plans were made, at no more than 1/s.
    slack.settle()
    cards = [c.args["text"] for c in _posted(workspace, "C0RELEASES") if c.at >= owed_at]
    plans = [t for t in cards if "payments" in t]
    assert plans == [f"R-{n + 2} · payments 2.0.{n} → staging: Approved" for n in range(40)]
    assert all(c.status == 200 for c in workspace.calls_to("chat.postMessage"))


def _owe(slack: SlackDriver, text: str, priority: Priority | None = None) -> None:
    with slack.bot.db.session() as session:
        outbox.owe_message(
            session,
            channel="C0RELEASES",
            message=Rendered(text),
            now=slack.clock.now(),
            priority=priority,
        )


def test_urgent_then_normal_then_low_and_first_come_first_served_within_each(
    slack: SlackDriver, workspace: Workspace
) -> None:
    _owe(slack, "digest", Priority.LOW)
    _owe(slack, "card one")
    _owe(slack, "alert one", Priority.URGENT)
    _owe(slack, "card two")
    _owe(slack, "alert two", Priority.URGENT)
    slack.settle()
    assert [m.text for m in slack.channel_messages()] == [
        "alert one",
        "alert two",
        "card one",
        "card two",
        "digest",
    ]
    times = [c.at for c in workspace.calls_to("chat.postMessage")]
    assert all(b - a >= timedelta(seconds=1) for a, b in pairwise(times))


def test_about_one_plan_in_one_conversation_only_an_urgent_message_overtakes(
    slack: SlackDriver,
) -> None:
    slack.command("U0REQUESTER", "plan payments 2.0.0 to staging")
    slack.settle()
    owed = [
        ("R-1's window is open", 1, Priority.LOW),
        ("weekly digest", None, Priority.LOW),
        ("R-1 expired", 1, Priority.NORMAL),
        ("R-1 needs you", 1, Priority.URGENT),
    ]
    with slack.bot.db.session() as session:
        for text, plan_id, priority in owed:
            outbox.owe_message(
                session,
                channel="U0REQUESTER",
                message=Rendered(text),
                plan_id=plan_id,
                now=slack.clock.now(),
                priority=priority,
            )
    slack.settle()
    # The reminder is not left to arrive after the news that made it stale.
    assert [m.text for m in slack.dm("U0REQUESTER")] == [
        "R-1 needs you",
        "R-1's window is open",
        "R-1 expired",
        "weekly digest",
    ]


def test_an_urgent_message_about_a_plan_waits_for_that_plans_first_card(
    slack: SlackDriver, workspace: Workspace
) -> None:
    for n in range(5):
        slack.command("U0REQUESTER", f"plan payments 2.0.{n} to staging")
    with slack.bot.db.session() as session:
        outbox.owe_message(
            session,
            channel="C0RELEASES",
            template="rollback_alert",
            context={"reason": "error rate is up", "actor": "U0QA"},
            plan_id=5,
            now=slack.clock.now(),
        )
    slack.settle()
    texts = [m.text for m in slack.channel_messages()]
    # R-5's card jumps the queue with its alert, so the alert can link to it.
    assert texts[:2] == ["R-5 · payments 2.0.4 → staging: Approved", texts[1]]
    assert texts[1].startswith(":rotating_light: *R-5*")
    assert workspace.permalink("C0RELEASES", slack.card("R-5").ts) in str(
        slack.channel_messages()[1].blocks
    )
    assert texts[2:] == [f"R-{n + 1} · payments 2.0.{n} → staging: Approved" for n in range(4)]


def test_a_thread_reply_never_overtakes_its_card_or_an_earlier_reply(slack: SlackDriver) -> None:
    slack.command("U0REQUESTER", "plan payments 2.0.0 to staging")
    slack.command("U0REQUESTER", "cancel R-1 first reason")
    with slack.bot.db.session() as session:
        outbox.owe_message(
            session,
            channel="C0RELEASES",
            message=Rendered("an urgent notice"),
            now=slack.clock.now(),
            priority=Priority.URGENT,
        )
    slack.settle()
    card = slack.card("R-1")
    assert card.text == "R-1 · payments 2.0.0 → staging: Cancelled"
    assert slack.thread(card) == [":no_entry_sign: <@U0REQUESTER> cancelled R-1: first reason"]
    first, second = slack.channel_messages()
    assert (first.text, second.text) == ("an urgent notice", card.text)


def test_a_reply_owed_before_its_plans_first_card_does_not_hold_up_the_channel(
    slack: SlackDriver, workspace: Workspace
) -> None:
    workspace.fail_next("chat.postMessage", "restricted_action")  # the first card, for good
    slack.command("U0REQUESTER", "plan payments 2.0.0 to staging")
    slack.settle()
    assert slack.channel_messages() == []
    with slack.bot.db.session() as session:
        plan = plans.get_plan(session, plan_id=1)
        # The order the override request owes them in: the reply, then the card.
        say(session, ctx=slack.bot.desk.ctx, plan=plan, text="a reply")
        outbox.owe_card(session, plan_id=1, channel="C0RELEASES", now=slack.clock.now())
    _owe(slack, "news for the channel")
    slack.settle()
    card = slack.card("R-1")
    assert slack.thread(card) == ["a reply"]
    assert [m.text for m in slack.channel_messages()] == [card.text, "news for the channel"]
