"""Approving in Slack: buttons on the card and in DMs, confirmations, the reject modal."""

from __future__ import annotations

import copy

import pytest
from sqlmodel import select

from bot.release import plans
from bot.store.models import Approval, AuditEvent, PlanState, ReleasePlan
from commands.ids import ActionId
from console import payloads
from tests.helpers import walk_to_released
from tests.scenario.driver import SlackDriver, buttons, card_text


@pytest.fixture
def production_plan(slack: SlackDriver) -> ReleasePlan:
    """R-2: checkout 1.4.2 to production, after R-1 released it to staging."""
    slack.command("U0REQUESTER", "plan checkout 1.4.2 to staging")
    with slack.bot.db.session() as session:
        staging = plans.get_plan(session, plan_id=1, for_update=True)
        walk_to_released(session, ctx=slack.bot.desk.ctx, plan=staging)
    slack.command("U0REQUESTER", "plan checkout 1.4.2 to production")
    slack.settle()
    with slack.bot.db.session() as session:
        return plans.get_plan(session, plan_id=2)


def _state(slack: SlackDriver, plan_id: int = 2) -> str:
    with slack.bot.db.session() as session:
        return plans.get_plan(session, plan_id=plan_id).state


def test_approve_asks_for_confirmation(slack: SlackDriver, production_plan: ReleasePlan) -> None:
    approve = payloads.find_element(slack.card("R-2").blocks, None, ActionId.APPROVE)
    assert approve is not None
    assert approve["confirm"]["title"]["text"] == "Approve R-2?"
    assert approve["confirm"]["confirm"]["text"] == "Approve"


def test_two_approvers_click_and_the_card_updates_in_place(
    slack: SlackDriver, production_plan: ReleasePlan
) -> None:
    slack.click("U0APPROVER1", slack.card("R-2"), ActionId.APPROVE)
    slack.settle()
    card = slack.card("R-2")
    assert "*1 of 2 approvals*: <@U0APPROVER1> :white_check_mark:" in card_text(card)
    assert _state(slack) == PlanState.AWAITING_APPROVAL

    # The second approval comes from a DM, through the @sre group.
    [dm] = slack.dm("U0APPROVER4")
    slack.click("U0APPROVER4", dm, ActionId.APPROVE)
    slack.settle()
    card = slack.card("R-2")
    assert card.text == "R-2 · checkout 1.4.2 → production: Approved"
    # Approved, but QA has not signed off: the card says so instead of offering Deploy.
    assert buttons(card) == ["Cancel"]
    assert (
        "*Before R-2 can deploy:*\n:white_large_square: QA sign-off must be ticked by <@U0QA>"
        in card_text(card)
    )
    assert slack.thread(card) == [
        ":white_check_mark: <@U0APPROVER1> approved R-2 (1 of 2)",
        ":white_check_mark: <@U0APPROVER4> approved R-2 (2 of 2) — R-2 is approved.",
    ]
    assert (
        slack.ephemerals("U0APPROVER4")[-1]
        == "You approved R-2. 2 of 2 approvals; it is now approved."
    )
    assert "Approved" in card_text(slack.dm("U0REQUESTER")[-1])


@pytest.mark.parametrize(
    ("user", "refusal"),
    [
        ("U0STRANGER", "you are not an approver for production"),
        ("U0QA", "you are not an approver for production"),
    ],
)
def test_a_click_the_policy_does_not_count_is_refused_and_audited(
    slack: SlackDriver, production_plan: ReleasePlan, user: str, refusal: str
) -> None:
    slack.click(user, slack.card("R-2"), ActionId.APPROVE)
    slack.settle()
    assert refusal in slack.ephemerals(user)[-1]
    assert _state(slack) == PlanState.AWAITING_APPROVAL
    with slack.bot.db.session() as session:
        assert session.exec(select(Approval)).all() == []
        refused = session.exec(
            select(AuditEvent).where(AuditEvent.action == "permission.refused")
        ).all()
    assert [(e.actor_id, e.plan_id) for e in refused] == [(user, 2)]


def test_a_self_approval_is_refused(slack: SlackDriver) -> None:
    slack.command("U0APPROVER1", "plan checkout 1.4.2 to staging")
    with slack.bot.db.session() as session:
        staging = plans.get_plan(session, plan_id=1, for_update=True)
        walk_to_released(session, ctx=slack.bot.desk.ctx, plan=staging, actor="U0APPROVER1")
    slack.command("U0APPROVER1", "plan checkout 1.4.2 to production")
    slack.settle()
    slack.click("U0APPROVER1", slack.card("R-2"), ActionId.APPROVE)
    assert "does not count a requester's own approval" in slack.ephemerals("U0APPROVER1")[-1]


def test_a_redelivered_click_counts_once(slack: SlackDriver, production_plan: ReleasePlan) -> None:
    card = slack.card("R-2")
    element = payloads.find_element(card.blocks, None, ActionId.APPROVE)
    assert element is not None
    action = payloads.clicked_action(
        element, block_id="plan_actions", action_ts="1764000000.000001"
    )
    payload = payloads.block_actions(
        slack.sender("U0APPROVER1"),
        action=action,
        trigger_id=slack.workspace.issue_trigger_id("U0APPROVER1"),
        channel=("C0RELEASES", "releases"),
        message={"type": "message", "ts": card.ts, "text": card.text, "blocks": card.blocks},
        response_url=slack.workspace.issue_response_url(
            base_url=slack.api_url, channel_id="C0RELEASES", user_id="U0APPROVER1"
        ),
    )
    body = payloads.interaction_body(payload)
    slack.dispatch(body)
    slack.dispatch(body, headers={"X-Slack-Retry-Num": "1"})
    slack.settle()
    with slack.bot.db.session() as session:
        assert len(session.exec(select(Approval)).all()) == 1
    assert len(slack.thread(slack.card("R-2"))) == 1


def test_a_forged_button_value_changes_nothing(
    slack: SlackDriver, production_plan: ReleasePlan
) -> None:
    card = slack.card("R-2")
    forged = payloads.clicked_action(
        {
            "type": "button",
            "action_id": ActionId.APPROVE,
            "value": "2:1; DROP TABLE",
            "text": {"type": "plain_text", "text": "Approve"},
        },
        block_id="plan_actions",
        action_ts="1764000000.000002",
    )
    payload = payloads.block_actions(
        slack.sender("U0APPROVER1"),
        action=forged,
        trigger_id=slack.workspace.issue_trigger_id("U0APPROVER1"),
        channel=("C0RELEASES", "releases"),
        message={"type": "message", "ts": card.ts, "text": card.text, "blocks": card.blocks},
        response_url=slack.workspace.issue_response_url(
            base_url=slack.api_url, channel_id="C0RELEASES", user_id="U0APPROVER1"
        ),
    )
    slack.dispatch(payloads.interaction_body(payload))
    assert "does not belong to a release plan" in slack.ephemerals("U0APPROVER1")[-1]
    with slack.bot.db.session() as session:
        assert session.exec(select(Approval)).all() == []


def test_a_click_from_another_workspace_changes_nothing(
    slack: SlackDriver, production_plan: ReleasePlan
) -> None:
    card = slack.card("R-2")
    element = payloads.find_element(card.blocks, None, ActionId.APPROVE)
    assert element is not None
    outsider = payloads.Sender(
        user_id="U0APPROVER1",
        user_name="mallory",
        team_id="T0OTHER",
        team_domain="other",
        api_app_id="A0RELEASEBOT",
    )
    payload = payloads.block_actions(
        outsider,
        action=payloads.clicked_action(
            element, block_id="plan_actions", action_ts="1764000000.000003"
        ),
        trigger_id="t",
        channel=("C0RELEASES", "releases"),
        message={"type": "message", "ts": card.ts, "text": card.text, "blocks": card.blocks},
        response_url=slack.workspace.issue_response_url(
            base_url=slack.api_url, channel_id="C0RELEASES", user_id="U0APPROVER1"
        ),
    )
    slack.dispatch(payloads.interaction_body(payload))
    with slack.bot.db.session() as session:
        assert session.exec(select(Approval)).all() == []


def test_reject_opens_a_modal_and_the_reason_goes_in_the_thread(
    slack: SlackDriver, production_plan: ReleasePlan
) -> None:
    slack.click("U0APPROVER1", slack.card("R-2"), ActionId.REJECT)
    [modal] = slack.workspace.open_modals("U0APPROVER1")
    assert modal.view["title"]["text"] == "Reject R-2"
    empty = slack.submit("U0APPROVER1", {"reject_reason": {"value": "   "}})
    assert "say why" in str(empty.body)
    assert _state(slack) == PlanState.AWAITING_APPROVAL

    slack.submit("U0APPROVER1", {"reject_reason": {"value": "error budget is spent"}})
    slack.settle()
    card = slack.card("R-2")
    assert card.text == "R-2 · checkout 1.4.2 → production: Rejected"
    assert slack.thread(card)[-1] == ":x: <@U0APPROVER1> rejected R-2: error budget is spent"
    assert buttons(card) == []


def test_approve_and_reject_by_command(slack: SlackDriver, production_plan: ReleasePlan) -> None:
    slack.command("U0APPROVER1", "approve R-2 looks good")
    refused = slack.command("U0APPROVER2", "reject R-2")
    # The wire form: `<` is escaped in mrkdwn, and Slack shows it as typed.
    assert refused["text"] == "a reason is required: /release reject R-&lt;n&gt; &lt;reason&gt;"
    assert _state(slack) == PlanState.AWAITING_APPROVAL
    slack.command("U0APPROVER2", 'reject R-2 "canary first please"')
    slack.settle()
    assert _state(slack) == PlanState.REJECTED
    assert (
        slack.thread(slack.card("R-2"))[0]
        == ":white_check_mark: <@U0APPROVER1> approved R-2 (1 of 2): looks good"
    )


def test_a_stale_card_click_after_an_edit_is_refused(
    slack: SlackDriver, production_plan: ReleasePlan
) -> None:
    stale = copy.deepcopy(slack.card("R-2"))
    slack.command("U0REQUESTER", "edit R-2 window +1h until +3h")
    slack.settle()
    slack.click("U0APPROVER1", stale, ActionId.APPROVE)
    assert "changed after this card was drawn" in slack.ephemerals("U0APPROVER1")[-1]
    assert "earlier approvals no longer count" in slack.thread(slack.card("R-2"))[-1]
    with slack.bot.db.session() as session:
        assert session.exec(select(Approval)).all() == []


def test_editing_the_version_to_one_not_on_staging_is_refused(
    slack: SlackDriver, production_plan: ReleasePlan
) -> None:
    slack.command("U0REQUESTER", "edit R-2 version 1.4.3")
    assert "requires it to be released to staging first" in slack.ephemerals("U0REQUESTER")[-1]
    with slack.bot.db.session() as session:
        assert plans.get_plan(session, plan_id=2).version == "1.4.2"


def test_a_new_version_drops_the_qa_sign_off_of_the_old_one(
    slack: SlackDriver, production_plan: ReleasePlan
) -> None:
    slack.command("U0REQUESTER", "plan checkout 1.4.3 to staging")
    with slack.bot.db.session() as session:
        staging = plans.get_plan(session, plan_id=3, for_update=True)
        walk_to_released(session, ctx=slack.bot.desk.ctx, plan=staging)
    slack.command("U0QA", "tick R-2 QA sign-off")
    slack.command("U0REQUESTER", "edit R-2 version 1.4.3")
    slack.settle()

    card = slack.card("R-2")
    assert ":white_large_square: QA sign-off — <@U0QA>" in card_text(card)
    assert "QA sign-off must be ticked by <@U0QA>" in card_text(card)
    assert "'QA sign-off' (<@U0QA>)" in slack.thread(card)[-1]
