"""Card and DM buttons: identity from the signed payload, the plan from the database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import plans
from bot.desk import Desk
from bot.errors import InvalidInput
from bot.outbox import Rendered
from commands import freeze_commands, replan_commands, rollout_commands
from commands.grammar import Approve, Cancel
from commands.ids import ActionId, parse_button_value
from commands.plan_commands import approve, cancel
from commands.render import modals, replies
from commands.replying import answer

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
    ActionId.TICK: freeze_commands.tick_option,
    ActionId.OVERRIDE_APPROVE: freeze_commands.approve_override,
    ActionId.DEPLOY: rollout_commands.act_on_button("deploy"),
    ActionId.PROMOTE: rollout_commands.act_on_button("promote"),
    ActionId.PAUSE: rollout_commands.act_on_button("pause"),
    ActionId.RESUME: rollout_commands.act_on_button("resume"),
    ActionId.ABORT: rollout_commands.act_on_button("abort"),
    ActionId.ROLLBACK: rollout_commands.act_on_button("rollback"),
}


def _delivery_key(body: dict[str, Any], action: dict[str, Any]) -> str:
    # action_ts is unique per click and repeated by a redelivery of the same click.
    return f"action:{body['user']['id']}:{action['action_id']}:{action.get('action_ts', '')}"


def register(app: App, desk: Desk) -> None:
    """Attach the button listeners."""

    def ack_only(ack: Ack) -> None:
        ack()

    def on_button(body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        user = body["user"]["id"]

        def run() -> Rendered | None:
            # A menu (the card's checklist) carries its value in the chosen option.
            chosen = action.get("value") or (action.get("selected_option") or {}).get("value")
            parsed = parse_button_value(chosen or "")
            if parsed is None:
                raise InvalidInput("that button does not belong to a release plan")
            handler = HANDLERS.get(action["action_id"])
            if handler is None:
                return replies.error("that action is not available yet")
            plan_id, round_seen = parsed
            return handler(desk, user, plan_id, round_seen, _delivery_key(body, action))

        answer(respond, run)

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
                view=modals.reject_reason(
                    plan_ref=plan.ref, plan_id=plan_id, approval_round=round_seen
                ),
            )
            return None

        answer(respond, run)

    for action_id in ActionId:
        if action_id == ActionId.REJECT:
            app.action(action_id)(ack=ack_only, lazy=[on_reject])
        else:
            app.action(action_id)(ack=ack_only, lazy=[on_button])
