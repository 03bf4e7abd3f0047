"""Freezes, ticks and break-glass overrides as people use them: signed requests in, Slack out."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, col, select

from bot.notify.outbox import Rendered
from bot.release import plans
from bot.release.approvals import decide
from bot.release.desk import Desk
from bot.rollout import rollouts
from bot.store.models import AuditEvent, ChecklistItem, Decision
from commands import registry
from commands.grammar import Deploy
from commands.ids import ActionId
from commands.render import replies
from commands.rollout_commands import with_override
from console import payloads
from console.models import Message
from tests.helpers import walk_to_released
from tests.scenario.driver import SlackDriver, buttons, card_text


def _deploy(cmd: Deploy, *, desk: Desk, user_id: str, request_key: str | None) -> Rendered | None:
    """The deploy writer as the rollout engine's handler does it (registered by the lead)."""

    def work(session: Session) -> Rendered:
        plan = rollouts.deploy(
            session,
            ctx=desk.ctx,
            actor=user_id,
            plan_id=cmd.plan_id,
            override_reason=cmd.override_reason,
        )
        return replies.notice(f":rocket: Deploying {plan.ref}.")

    return desk.act(actor=user_id, request_key=request_key, work=work)


@pytest.fixture
def deploys(monkeypatch: pytest.MonkeyPatch) -> None:
    declared = replace(registry.BY_COMMAND[Deploy], handler=with_override(_deploy))
    monkeypatch.setitem(registry.BY_COMMAND, Deploy, declared)


@pytest.fixture
def production(slack: SlackDriver) -> None:
    """R-2: checkout 1.4.2 to production after R-1 released it to staging; approved twice."""
    ctx = slack.bot.desk.ctx
    slack.command("U0REQUESTER", "plan checkout 1.4.2 to staging")
    with slack.bot.db.session() as session:
        staging = plans.get_plan(session, plan_id=1, for_update=True)
        walk_to_released(session, ctx=ctx, plan=staging)
    slack.command("U0REQUESTER", "plan checkout 1.4.2 to production")
    for approver in ("U0APPROVER1", "U0APPROVER2"):
        with slack.bot.db.session() as session:
            decide(
                session,
                ctx=ctx,
                actor=approver,
                plan_id=2,
                decision=Decision.APPROVE,
                comment=None,
            )
    slack.settle()


def choose(slack: SlackDriver, user: str, message: Message, action_id: str, text: str) -> None:
    """Pick the option labelled `text` in the menu `action_id` of `message`."""
    element = payloads.find_element(message.blocks, None, action_id)
    assert element is not None, f"no {action_id} menu on {message.text}"
    [value] = [o["value"] for o in element["options"] if o["text"]["text"] == text]
    action = payloads.clicked_action(
        element, block_id="", action_ts=f"{datetime.now(UTC).timestamp():.6f}", value=value
    )
    payload = payloads.block_actions(
        slack.sender(user),
        action=action,
        trigger_id=slack.workspace.issue_trigger_id(user),
        channel=(message.channel, slack.workspace.channel(message.channel).name),
        message={
            "type": "message",
            "ts": message.ts,
            "text": message.text,
            "blocks": message.blocks,
        },
        response_url=slack.workspace.issue_response_url(
            base_url=slack.api_url, channel_id=message.channel, user_id=user, source_ts=message.ts
        ),
    )
    slack.dispatch(payloads.interaction_body(payload))
    slack.settle()


def _state(slack: SlackDriver) -> str:
    with slack.bot.db.session() as session:
        return plans.get_plan(session, plan_id=2).state


def _menu(message: Message) -> list[str]:
    element = payloads.find_element(message.blocks, None, ActionId.TICK)
    return [o["text"]["text"] for o in element["options"]] if element else []


def test_only_admins_freeze_and_everyone_sees_it(slack: SlackDriver, production: None) -> None:
    slack.command("U0STRANGER", 'freeze production reason "Black Friday"')
    assert slack.ephemerals("U0STRANGER")[-1] == (
        "you may not freeze in production: environments.production.permissions.freeze allows admins"
    )

    slack.command("U0ADMIN", 'freeze production until +2h reason "Black Friday"')
    slack.settle()
    assert slack.ephemerals("U0ADMIN")[-1] == (
        ":snowflake: Froze production until Tue 24 Nov 17:00 UTC. It is announced in <#C0RELEASES>."
    )
    assert slack.channel_messages()[-1].text.startswith(
        ":snowflake: <@U0ADMIN> froze *production* until Tue 24 Nov 17:00 UTC: Black Friday."
    )
    assert (
        ":snowflake: *production* frozen by <@U0ADMIN>: Black Friday (until Tue 24 Nov 17:00 UTC)"
        in card_text(slack.card("R-2"))
    )

    listing = slack.command("U0STRANGER", "freezes")
    shown = "\n".join(b["text"]["text"] for b in listing["blocks"] if b["type"] == "section")
    assert shown == (
        "*staging*\nnot frozen; no freeze in the next 7 days\n"
        "*production*\n"
        ":snowflake: *production* frozen by <@U0ADMIN>: Black Friday (until Tue 24 Nov 17:00 UTC)\n"
        ":calendar: next: Weekend freeze, Fri 27 Nov 17:00 UTC → Mon 30 Nov 08:00 UTC "
        "(environments.production.freezes[0])"
    )

    slack.command("U0ADMIN", "unfreeze production")
    slack.settle()
    assert slack.ephemerals("U0ADMIN")[-1] == ":sunny: Lifted 1 freeze(s) of production."
    assert "frozen" not in card_text(slack.card("R-2"))
    with slack.bot.db.session() as session:
        unplanned = select(AuditEvent).where(col(AuditEvent.plan_id).is_(None))
        trail = [e.action for e in session.exec(unplanned.order_by(col(AuditEvent.id)))]
    assert trail == ["permission.refused", "freeze.started", "freeze.lifted"]


def test_ticking_from_the_card_and_by_command(slack: SlackDriver, production: None) -> None:
    card = slack.card("R-2")
    assert _menu(card) == ["QA sign-off"]  # the post-release item waits for the rollout
    assert buttons(card) == ["Cancel"]  # no Deploy before QA signs off

    choose(slack, "U0STRANGER", card, ActionId.TICK, "QA sign-off")
    assert slack.ephemerals("U0STRANGER")[-1] == (
        "only the item's assignee (<@U0QA>) or an admin may tick 'QA sign-off' on R-2"
    )

    choose(slack, "U0QA", slack.card("R-2"), ActionId.TICK, "QA sign-off")
    card = slack.card("R-2")
    assert ":ballot_box_with_check: QA sign-off — <@U0QA>" in card_text(card)
    assert _menu(card) == []
    assert buttons(card) == ["Deploy", "Cancel"]
    assert slack.thread(card)[-1] == (
        ":ballot_box_with_check: <@U0QA> ticked 'QA sign-off' on R-2. "
        "All required pre-deploy items are ticked."
    )

    slack.command("U0ADMIN", "tick R-2 qa")
    assert slack.ephemerals("U0ADMIN")[-1].startswith(
        "'QA sign-off' on R-2 is already ticked (by <@U0QA>"
    )
    slack.command("U0ADMIN", "tick R-2 smoke")
    assert slack.ephemerals("U0ADMIN")[-1] == (
        "'Smoke tests reviewed' is ticked once the plan is deploying; R-2 is approved"
    )
    with slack.bot.db.session() as session:
        ticked = session.exec(
            select(ChecklistItem).where(col(ChecklistItem.ticked_by).is_not(None))
        ).all()
    assert [(i.name, i.ticked_by) for i in ticked] == [("QA sign-off", "U0QA")]


def test_a_deploy_into_a_freeze_needs_an_admins_override(
    slack: SlackDriver, production: None, deploys: None
) -> None:
    slack.command("U0QA", "tick R-2 QA sign-off")
    slack.command("U0ADMIN", 'freeze production reason "Black Friday"')
    slack.settle()

    slack.command("U0REQUESTER", "deploy R-2")
    assert slack.ephemerals("U0REQUESTER")[-1] == (
        "production is frozen: Black Friday (ad-hoc freeze by <@U0ADMIN>, until `/release "
        'unfreeze production`). To deploy anyway, deploy with `/release deploy R-2 --override "'
        '&lt;reason&gt;"`: an admin must approve the override'
    )

    slack.command("U0REQUESTER", 'deploy R-2 --override "checkout is down without this fix"')
    slack.settle()
    assert slack.ephemerals("U0REQUESTER")[-1].startswith(
        ":rotating_light: R-2 is waiting for an admin to approve the override (asked: <@U0ADMIN>)."
    )
    assert _state(slack) == "approved"
    card = slack.card("R-2")
    assert (
        ":rotating_light: Override requested by <@U0REQUESTER>: checkout is down without this "
        "fix. Waiting for an admin." in card_text(card)
    )
    request = slack.dm("U0ADMIN")[-1]  # after the approval request the admin got as one of @sre
    assert request.text == "Override requested: R-2 · checkout 1.4.2 → production"
    assert buttons(request) == ["Approve override"]

    slack.click("U0APPROVER1", request, ActionId.OVERRIDE_APPROVE)
    assert slack.ephemerals("U0APPROVER1")[-1] == (
        "you may not override in production: "
        "environments.production.permissions.override allows admins"
    )

    slack.click("U0ADMIN", request, ActionId.OVERRIDE_APPROVE)
    slack.settle()
    assert slack.ephemerals("U0ADMIN")[-1] == (
        ":unlock: You approved the override of R-2; <@U0REQUESTER> is told to deploy it."
    )
    announced = (
        ":rotating_light: Break-glass: <@U0ADMIN> approved deploying checkout `1.4.2` to "
        "production (R-2) through a freeze, as <@U0REQUESTER> asked: checkout is down without "
        "this fix"
    )
    assert [m.text for m in slack.channel_messages("C0ANNOUNCE")] == [announced]
    assert announced in [m.text for m in slack.channel_messages()]
    assert "approved your override of R-2" in slack.dm("U0REQUESTER")[-1].text
    assert ":unlock: Override approved by <@U0ADMIN>" in card_text(slack.card("R-2"))

    slack.command("U0REQUESTER", "deploy R-2")
    assert _state(slack) == "deploying"
    with slack.bot.db.session() as session:
        trail = [e.action for e in session.exec(select(AuditEvent).where(AuditEvent.plan_id == 2))]
    assert [a for a in trail if a.startswith(("override", "plan.deploy", "permission"))] == [
        "permission.refused",
        "override.requested",
        "permission.refused",
        "override.approved",
        "plan.deploy",
    ]
