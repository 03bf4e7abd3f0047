"""Card and DM buttons: identity from the signed payload, the plan from the database; each
click that changes something is journalled before the ack and carried out once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.domain.errors import InvalidInput
from bot.domain.mrkdwn import Mrkdwn, escape, md
from bot.notify.outbox import Rendered
from bot.release import plans
from bot.release.desk import Desk
from bot.store.journal import Asked, JournalUnavailable
from commands import checklist_commands, replan_commands, rollout_commands
from commands.grammar import Approve, Cancel
from commands.ids import ActionId, parse_button_value
from commands.journal_runner import JournalRunner
from commands.plan_commands import approve, cancel
from commands.render import modals, replies
from commands.replying import answer, ephemeral, guard_view

Handler = Callable[[Desk, str, int, int, str], Rendered | None]


def _approve(desk: Desk, user: str, plan_id: int, round_seen: int, key: str) -> Rendered | None:
    return approve(
        Approve(plan_id=plan_id), desk=desk, user_id=user, request_key=key, round_seen=round_seen
    )


def _cancel(desk: Desk, user: str, plan_id: int, round_seen: int, key: str) -> Rendered | None:
    return cancel(Cancel(plan_id=plan_id, reason=None), desk=desk, user_id=user, request_key=key)


HANDLERS: dict[str, Handler] = {
    ActionId.APPROVE: _approve,
    ActionId.CANCEL: _cancel,
    ActionId.REPLAN: replan_commands.plan_again,
    ActionId.TICK: checklist_commands.tick_option,
    ActionId.OVERRIDE_APPROVE: rollout_commands.approve_override,
    ActionId.DEPLOY: rollout_commands.act_on_button("deploy"),
    ActionId.PROMOTE: rollout_commands.act_on_button("promote"),
    ActionId.PAUSE: rollout_commands.act_on_button("pause"),
    ActionId.RESUME: rollout_commands.act_on_button("resume"),
    ActionId.ABORT: rollout_commands.act_on_button("abort"),
    ActionId.ROLLBACK: rollout_commands.act_on_button("rollback"),
}


# What each button is called on the card, for an answer that arrives late or by DM.
LABELS: dict[str, str] = {
    ActionId.APPROVE: "the Approve button",
    ActionId.CANCEL: "the Cancel button",
    ActionId.REPLAN: "the Plan again button",
    ActionId.TICK: "the checklist menu",
    ActionId.OVERRIDE_APPROVE: "the Approve override button",
    ActionId.DEPLOY: "the Deploy button",
    ActionId.PROMOTE: "the Promote button",
    ActionId.PAUSE: "the Pause button",
    ActionId.RESUME: "the Resume button",
    ActionId.ABORT: "the Abort button",
    ActionId.ROLLBACK: "the Roll back button",
}
JOURNAL_KIND = "action"


def _delivery_key(body: dict[str, Any], action: dict[str, Any]) -> str:
    # action_ts is unique per click and repeated by a redelivery of the same click.
    return f"action:{body['user']['id']}:{action['action_id']}:{action.get('action_ts', '')}"


def _chosen(action: dict[str, Any]) -> str:
    # A menu (the card's checklist) carries its value in the chosen option.
    return str(action.get("value") or (action.get("selected_option") or {}).get("value") or "")


def carry_out(desk: Desk, asked: Asked) -> Rendered | None:
    """Carry out a journalled click."""
    parsed = parse_button_value(str(asked.request.get("value", "")))
    handler = HANDLERS.get(str(asked.request.get("action_id", "")))
    if parsed is None or handler is None:
        raise InvalidInput("that button does not belong to a release plan")
    plan_id, round_seen = parsed
    return handler(desk, asked.user_id, plan_id, round_seen, asked.delivery_key)


def describe(asked: Asked) -> Mrkdwn:
    """The click as the person would name it: "the Deploy button of R-3"."""
    label = LABELS.get(str(asked.request.get("action_id", "")), "a button")
    parsed = parse_button_value(str(asked.request.get("value", "")))
    return md("{} of R-{}", label, parsed[0]) if parsed is not None else escape(label)


def register(app: App, desk: Desk, journal: JournalRunner) -> None:
    """Attach the button listeners."""
    journal.register(JOURNAL_KIND, execute=carry_out, describe=describe)

    def ack_only(ack: Ack) -> None:
        ack()

    def ack_click(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext
    ) -> None:
        chosen = _chosen(action)
        if parse_button_value(chosen) is None or action["action_id"] not in HANDLERS:
            ack()  # refused after the ack: a click we cannot act on changes nothing
            return
        try:
            context["journal_entry"] = journal.record(
                kind=JOURNAL_KIND,
                delivery_key=_delivery_key(body, action),
                user_id=body["user"]["id"],
                request={"action_id": action["action_id"], "value": chosen},
                response_url=body.get("response_url"),
            )
        except JournalUnavailable as fault:
            context["not_done"] = fault.not_done
        # Slack ignores the body of a click's ack, so even "not done" goes by response_url.
        ack()

    def on_button(
        body: dict[str, Any], action: dict[str, Any], respond: Respond, context: BoltContext
    ) -> None:
        entry_id = context.get("journal_entry")
        if entry_id is not None:
            journal.carry_out(int(entry_id), response_url=body.get("response_url"))
            return
        not_done = context.get("not_done")
        if not_done:
            respond(**ephemeral(replies.error(str(not_done))), replace_original=False)
            return

        def refuse() -> Rendered | None:
            if parse_button_value(_chosen(action)) is None:
                raise InvalidInput("that button does not belong to a release plan")
            return replies.error("that action is not available yet")

        answer(respond, refuse)

    def on_reject(
        body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        def run() -> Rendered | None:
            parsed = parse_button_value(action.get("value", ""))
            if parsed is None:
                raise InvalidInput("that button does not belong to a release plan")
            plan_id, round_seen = parsed
            with desk.db.session() as session:
                plan = plans.get_plan(session, plan_id=plan_id)
            client.views_open(
                trigger_id=body["trigger_id"],
                view=guard_view(
                    modals.reject_reason(
                        plan_ref=plan.ref, plan_id=plan_id, approval_round=round_seen
                    )
                ),
            )
            return None

        answer(respond, run)

    for action_id in ActionId:
        if action_id == ActionId.REJECT:
            app.action(action_id)(ack=ack_only, lazy=[on_reject])
        else:
            app.action(action_id)(ack=ack_click, lazy=[on_button])
