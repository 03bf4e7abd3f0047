"""A release planned in Slack: the signed command in, the card, the replies and the rows out."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.store.models import AuditEvent, ReleasePlan
from tests.helpers import walk_to_released
from tests.scenario.driver import SlackDriver, buttons, card_text


def _plans(slack: SlackDriver) -> list[ReleasePlan]:
    with slack.bot.db.session() as session:
        return list(session.exec(select(ReleasePlan)).all())


def test_plan_posts_one_card_and_tells_the_requester(slack: SlackDriver) -> None:
    ack = slack.command("U0REQUESTER", 'plan checkout 1.4.2 to staging notes "first canary"')
    assert ack == {}
    slack.settle()

    assert slack.ephemerals("U0REQUESTER") == [
        ":memo: Planned *R-1*: checkout `1.4.2` → staging (approved). The card is in <#C0RELEASES>."
    ]
    card = slack.card("R-1")
    assert card.text == "R-1 · checkout 1.4.2 → staging: Approved"
    shown = card_text(card)
    for expected in (
        "*Version*\n`1.4.2`",
        "*Strategy*\ncanary",
        "No approval needed for staging.",
        "first canary",
    ):
        assert expected in shown
    assert buttons(card) == ["Deploy", "Cancel"]
    [plan] = _plans(slack)
    assert (plan.service, plan.version, plan.environment, plan.requester_id) == (
        "checkout",
        "1.4.2",
        "staging",
        "U0REQUESTER",
    )


def test_a_production_plan_asks_approvers_by_dm_and_shows_who_is_missing(
    slack: SlackDriver,
) -> None:
    slack.command("U0REQUESTER", "plan checkout 1.4.2 to staging")
    with slack.bot.db.session() as session:
        from bot.release import plans

        staging = plans.get_plan(session, plan_id=1, for_update=True)
        walk_to_released(session, ctx=slack.bot.desk.ctx, plan=staging)
    slack.command("U0REQUESTER", "plan checkout 1.4.2 to production")
    slack.settle()

    card = slack.card("R-2")
    assert (
        "*0 of 2 approvals*. Waiting on <@U0APPROVER1> or <@U0APPROVER2> or <@U0APPROVER3> or @sre."
        in card_text(card)
    )
    assert buttons(card) == ["Approve", "Reject", "Cancel"]
    # @sre is resolved through usergroups.list / usergroups.users.list on the Slack stand-in.
    for approver in ("U0APPROVER1", "U0APPROVER4", "U0ADMIN"):
        [dm] = slack.dm(approver)
        assert "asks for your approval of *R-2 · checkout 1.4.2 → production*" in card_text(dm)
        assert buttons(dm) == ["Approve", "Reject"]
    assert slack.dm("U0REQUESTER") == []


def test_the_card_is_edited_in_place_and_the_thread_fills(slack: SlackDriver) -> None:
    slack.command("U0REQUESTER", "plan checkout 1.4.2 to staging")
    slack.settle()
    slack.command("U0REQUESTER", "cancel R-1 wrong build")
    slack.settle()

    card = slack.card("R-1")
    assert card.text == "R-1 · checkout 1.4.2 → staging: Cancelled"
    assert buttons(card) == []
    assert card.edited_ts is not None
    assert slack.thread(card) == [":no_entry_sign: <@U0REQUESTER> cancelled R-1: wrong build"]
    assert len(slack.workspace.calls_to("chat.postMessage")) == 2  # the card, then its reply
    assert len(slack.workspace.calls_to("chat.update")) == 1


@pytest.mark.parametrize(
    ("text", "message", "usage"),
    [
        ("plan checkout 1.4.2 to prod", "unknown environment 'prod'", None),
        ("plan cart 1.0 to staging", "unknown service 'cart'", None),
        # Usage placeholders are escaped in mrkdwn (Slack shows `<env>`; raw it reads a link).
        (
            "plan checkout 1.4.2 staging",
            None,
            "/release plan &lt;service&gt; &lt;version&gt; to &lt;env&gt;",
        ),
        ("plan checkout 1.4.2 to staging at tomorrow", None, "/release plan"),
        ("show R-42", "there is no plan R-42", None),
        ("deplyo R-1", "unknown sub-command 'deplyo'", None),
        ("cancel R-1", "there is no plan R-1", None),
        ("plan checkout " + "9" * 5000 + " to staging", "too long", None),
        (
            'plan checkout 1.4.2 to staging notes "✨ ünïcode 🚀" '
            "at 2026-11-24T14:00 until 2026-11-24T13:00",
            "ends before it starts",
            None,
        ),
    ],
)
def test_bad_input_gets_one_clear_ephemeral_and_changes_nothing(
    slack: SlackDriver, text: str, message: str | None, usage: str | None
) -> None:
    ack = slack.command("U0REQUESTER", text)
    slack.settle()
    answers = [ack.get("text", ""), *slack.ephemerals("U0REQUESTER")]
    answers = [a for a in answers if a]
    assert len(answers) == 1, answers
    blocks_text = " ".join(str(b) for b in ack.get("blocks", []))
    if message:
        assert message in answers[0] or message in blocks_text
    if usage:
        assert usage in blocks_text
    assert _plans(slack) == []
    assert slack.channel_messages() == []


def test_a_retried_slash_command_creates_one_plan(slack: SlackDriver) -> None:
    trigger = slack.workspace.issue_trigger_id("U0REQUESTER")
    slack.command("U0REQUESTER", "plan checkout 1.4.2 to staging", trigger_id=trigger)
    slack.command(
        "U0REQUESTER",
        "plan checkout 1.4.2 to staging",
        trigger_id=trigger,
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    slack.settle()
    assert len(_plans(slack)) == 1
    assert len(slack.channel_messages()) == 1


def test_list_show_history_and_audit_answer_in_the_ack(slack: SlackDriver) -> None:
    slack.command("U0REQUESTER", "plan checkout 1.4.2 to staging")
    slack.command("U0REQUESTER", "plan payments 2.0.0 to staging")
    slack.command("U0ADMIN", "cancel R-2 not this week")

    listed = slack.command("U0QA", "list")
    assert listed["response_type"] == "ephemeral"
    assert "*R-1* checkout `1.4.2` → staging" in str(listed["blocks"])
    assert "R-2" not in str(listed["blocks"])
    assert "*R-2* payments" in str(slack.command("U0QA", "list --all")["blocks"])

    shown = slack.command("U0QA", "show R-1")
    assert shown["text"] == "R-1 · checkout 1.4.2 → staging: Approved"

    history = slack.command("U0QA", "history payments")
    assert "Cancelled" in str(history["blocks"])

    trail = slack.command("U0QA", "audit R-2")
    assert "*plan.created*" in str(trail["blocks"]) and "*plan.cancel*" in str(trail["blocks"])
    assert "not this week" in str(trail["blocks"])
    # States read as words, as everywhere else: "awaiting approval", not awaiting_approval.
    assert "*plan.cancel* approved → cancelled" in str(trail["blocks"])
    with slack.bot.db.session() as session:
        actions = session.exec(select(AuditEvent.action).where(AuditEvent.plan_id == 2)).all()
    assert actions == ["plan.created", "plan.cancel"]


def test_help_shows_every_sub_command(slack: SlackDriver) -> None:
    answer = slack.command("U0QA", "help")
    for sub in ("plan", "list", "show", "edit", "approve", "deploy", "rollback", "freeze", "audit"):
        assert f"/release {sub}" in str(answer["blocks"])
    assert "/release plan &lt;service&gt; &lt;version&gt; to &lt;env&gt;" in str(
        slack.command("U0QA", "help plan")["blocks"]
    )


def test_a_window_in_the_past_is_refused_and_nothing_is_planned(slack: SlackDriver) -> None:
    # The scenario clock stands at Tue 24 Nov 2026 15:00 UTC; the year was typed wrong.
    slack.command("U0REQUESTER", "plan checkout 1.4.2 to staging at 2025-11-24T16:00")
    slack.settle()
    [answer] = slack.ephemerals("U0REQUESTER")
    assert answer == (
        "the window would start in the past (2025-11-24 16:00 UTC); "
        "give `at now` to open it now, or a later time"
    )
    assert _plans(slack) == []
    assert slack.channel_messages("C0RELEASES") == []


def test_a_window_in_another_year_shows_its_year(slack: SlackDriver) -> None:
    # The scenario clock stands at Tue 24 Nov 2026: this year's dates stay short.
    slack.command("U0REQUESTER", "plan checkout 1.4.2 to staging at 2026-12-01T09:00")
    slack.command("U0REQUESTER", "plan payments 2.0.0 to staging at 2027-01-05T09:00")
    slack.settle()
    assert "*Window*\nfrom Tue 01 Dec 09:00 UTC" in card_text(slack.card("R-1"))
    assert "*Window*\nfrom Tue 05 Jan 2027 09:00 UTC" in card_text(slack.card("R-2"))
