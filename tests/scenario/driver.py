"""Acting as Slack toward the bot: signed requests in, a real local Web API stand-in out."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ParamSpec, TypeVar

from slack_bolt import BoltRequest, BoltResponse
from sqlmodel import col, select

from bot.app.bootstrap import Releasebot
from bot.release.plans import get_plan
from bot.store.models import OutboxMessage, ReleasePlan
from console import payloads
from console.models import Message
from console.slack_api import Workspace
from console.testing import ManualClock, click_payload, sender_in

SIGNING_SECRET = "scenario-signing-secret"
P = ParamSpec("P")
T = TypeVar("T")


class InlineExecutor(Executor):
    """Runs lazy listeners at once, so a dispatch returns with its work done."""

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:  # type: ignore[override]
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # noqa: BLE001 - handed to the future like a thread pool
            future.set_exception(error)
        return future


class HeldExecutor(Executor):
    """Keeps lazy listeners until `run_held()`: the moment after the ack, held still, so a test
    can break the database there (or drop them, as a process killed after its ack would)."""

    def __init__(self) -> None:
        self.held: list[Callable[[], object]] = []

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:  # type: ignore[override]
        self.held.append(lambda: fn(*args, **kwargs))
        return Future()

    def run_held(self) -> None:
        """Run what was held, in order (Bolt's wrapper logs a listener's own failure)."""
        held, self.held = self.held, []
        for fn in held:
            fn()

    def drop(self) -> None:
        """Forget what was held: the process that acked died before running it."""
        self.held = []


@dataclass
class SlackDriver:
    """Acts as Slack toward the bot: sends signed requests, settles owed messages."""

    bot: Releasebot
    workspace: Workspace
    api_url: str
    clock: ManualClock
    responses: list[BoltResponse] = field(default_factory=list)

    def sender(self, user_id: str) -> payloads.Sender:
        return sender_in(self.workspace, user_id)

    def dispatch(self, body: str, *, headers: dict[str, str] | None = None) -> BoltResponse:
        signed = payloads.signed_headers(SIGNING_SECRET, body, datetime.now(UTC))
        request = BoltRequest(body=body, headers={**signed, **(headers or {})})
        response = self.bot.app.dispatch(request)
        self.responses.append(response)
        return response

    def command(
        self,
        user_id: str,
        text: str,
        *,
        channel: str = "C0RELEASES",
        trigger_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Type `/release <text>` as `user_id`; return the ack body (ephemeral answer or {})."""
        fields = payloads.slash_command(
            self.sender(user_id),
            channel_id=channel,
            channel_name=self.workspace.channel(channel).name,
            command="/release",
            text=text,
            response_url=self.workspace.issue_response_url(
                base_url=self.api_url, channel_id=channel, user_id=user_id
            ),
            trigger_id=trigger_id or self.workspace.issue_trigger_id(user_id),
        )
        response = self.dispatch(payloads.form_body(fields), headers=headers)
        assert response.status == 200, response.body
        return json.loads(response.body) if response.body else {}

    def click(self, user_id: str, message: Message, action_id: str) -> BoltResponse:
        """Click the button `action_id` on `message` as `user_id`."""
        found = [
            (block_id, element)
            for block_id, element in payloads.iter_elements(message.blocks)
            if element.get("action_id") == action_id
        ]
        if not found:
            raise AssertionError(f"no {action_id} button on the message: {message.text}")
        block_id, element = found[0]
        action = payloads.clicked_action(
            element, block_id=block_id or "", action_ts=f"{datetime.now(UTC).timestamp():.6f}"
        )
        payload = click_payload(
            self.workspace, user_id=user_id, message=message, action=action, api_url=self.api_url
        )
        return self.dispatch(payloads.interaction_body(payload))

    def submit(self, user_id: str, values: dict[str, dict[str, Any]]) -> BoltResponse:
        """Submit the modal `user_id` has open with the given typed values."""
        opened = self.workspace.open_modals(user_id)[-1]
        view = self.workspace.view_json(opened)
        view["state"] = {"values": payloads.state_values(view.get("blocks", []), values)}
        payload = payloads.view_submission(
            self.sender(user_id), view=view, trigger_id=self.workspace.issue_trigger_id(user_id)
        )
        return self.dispatch(payloads.interaction_body(payload))

    def settle(self, *, max_rounds: int = 200) -> None:
        """Deliver every owed message, letting the per-channel pacing pass on the fake clock."""
        for _ in range(max_rounds):
            self.bot.dispatcher.deliver_due()
            with self.bot.db.session() as session:
                pending = session.exec(
                    select(OutboxMessage.id).where(col(OutboxMessage.delivered_at).is_(None))
                ).first()
            if pending is None:
                return
            self.clock.advance(timedelta(seconds=1))
        raise AssertionError("messages still owed after settling")

    def roll(self, until: Callable[[], bool], *, seconds: float = 30) -> None:
        """Run the rollout engine and deliver messages, moving the fake clock to each next
        step, until `until()`; real deploy processes get real time (polled with a deadline)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.bot.engine.run_due()
            self.settle()
            if until():
                return
            with self.bot.db.session() as session:
                due = session.exec(
                    select(ReleasePlan.next_step_at).where(
                        col(ReleasePlan.next_step_at).is_not(None)
                    )
                ).all()
            upcoming = [d for d in due if d is not None and d > self.clock.now()]
            if upcoming:
                self.clock.advance(min(min(upcoming) - self.clock.now(), timedelta(seconds=5)))
            time.sleep(0.02)
        raise AssertionError("the rollout did not get there in time")

    def state(self, plan_id: int) -> str:
        with self.bot.db.session() as session:
            return get_plan(session, plan_id=plan_id).state

    # -- what a user sees ------------------------------------------------------------------

    def channel_messages(self, channel: str = "C0RELEASES") -> list[Message]:
        return self.workspace.history(channel)

    def card(self, plan_ref: str) -> Message:
        cards = [m for m in self.channel_messages() if m.text.startswith(f"{plan_ref} ·")]
        assert len(cards) == 1, [m.text for m in self.channel_messages()]
        return cards[0]

    def thread(self, message: Message) -> list[str]:
        return [m.text for m in self.workspace.replies(message.channel, message.ts)]

    def ephemerals(self, user_id: str) -> list[str]:
        return [e.text for e in self.workspace.ephemerals_for(user_id)]

    def dm(self, user_id: str) -> list[Message]:
        return self.workspace.history(self.workspace.dm_channel(user_id).id)


def card_text(message: Message) -> str:
    """Every text of a card's blocks, joined: what a reader sees."""
    texts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                texts.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message.blocks)
    return "\n".join(texts)


def buttons(message: Message) -> list[str]:
    return [
        e["text"]["text"]
        for _, e in payloads.iter_elements(message.blocks)
        if e.get("type") == "button"
    ]
