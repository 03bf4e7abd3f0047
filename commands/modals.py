"""Modal listeners: `/release new` submits a plan; the reject modal records a rejection."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.domain.errors import ReleasebotError
from bot.domain.mrkdwn import channel_link, md
from bot.release import plans
from bot.release.desk import Desk
from bot.store import journal
from commands.grammar import Reject
from commands.grammar import values as grammar_values
from commands.grammar.errors import ArgumentError
from commands.ids import BlockId, ViewId, parse_button_value
from commands.plan_commands import approve
from commands.render.text import form_error
from commands.replying import guard_ephemeral

log = logging.getLogger(__name__)


def _value(values: dict[str, Any], block: BlockId) -> Any:
    element = values.get(block, {}).get("value", {})
    for key in ("value", "selected_option", "selected_date_time", "selected_users"):
        if key in element and element[key] is not None:
            found = element[key]
            return found.get("value") if key == "selected_option" else found
    return None


def _when(values: dict[str, Any], block: BlockId) -> datetime | None:
    epoch = _value(values, block)
    return datetime.fromtimestamp(int(epoch), UTC) if epoch is not None else None


def new_plan_from(values: dict[str, Any]) -> tuple[plans.NewPlan | None, dict[str, str]]:
    """The plan a submitted form asks for, or the errors to show under its fields."""
    errors: dict[str, str] = {}
    after: list[int] = []
    for part in (_value(values, BlockId.AFTER) or "").replace(",", " ").split():
        try:
            after.append(plans.parse_ref(part))
        except ReleasebotError as problem:
            errors[BlockId.AFTER] = form_error(problem.message)
    # Every field's mistake at once, under the field, in the form's words (Slack shows them
    # together); the domain's own checks come after, for what only it can know.
    if not _value(values, BlockId.SERVICE):
        errors[BlockId.SERVICE] = "choose the service to release"
    typed = (_value(values, BlockId.VERSION) or "").strip()
    version = ""
    try:
        # The same rule as `/release plan`: the version is handed to the deploy command.
        version = grammar_values.version(typed)
    except ArgumentError as problem:
        errors[BlockId.VERSION] = form_error(problem.message)
    if not _value(values, BlockId.ENVIRONMENT):
        errors[BlockId.ENVIRONMENT] = "choose where it goes"
    opens, closes = _when(values, BlockId.WINDOW_START), _when(values, BlockId.WINDOW_END)
    if opens is not None and closes is not None and closes <= opens:
        errors[BlockId.WINDOW_END] = "the window must close after it opens"
    if errors:
        return None, errors
    risks = tuple(
        r.strip() for r in (_value(values, BlockId.RISKS) or "").splitlines() if r.strip()
    )
    return (
        plans.NewPlan(
            service=_value(values, BlockId.SERVICE) or "",
            version=version,
            environment=_value(values, BlockId.ENVIRONMENT) or "",
            window_start=_when(values, BlockId.WINDOW_START),
            window_end=_when(values, BlockId.WINDOW_END),
            strategy=_value(values, BlockId.STRATEGY),
            after=tuple(after),
            notes=_value(values, BlockId.NOTES),
            risks=risks,
            stakeholders=tuple(_value(values, BlockId.STAKEHOLDERS) or ()),
        ),
        {},
    )


def _field_for(message: str) -> str:
    """Which form field a domain refusal is about, so the error shows next to it."""
    lowered = message.lower()
    for words, block in (
        (("`after`",), BlockId.AFTER),
        (("window",), BlockId.WINDOW_END),
        (("strategy",), BlockId.STRATEGY),
        (("environment", "requires", " to "), BlockId.ENVIRONMENT),
        (("service",), BlockId.SERVICE),
        (("plan r-", "no plan"), BlockId.AFTER),
    ):
        if any(w in lowered for w in words):
            return block
    return BlockId.VERSION


def _not_done(failure: BaseException) -> str:
    """A submission the database could not take: the form stays open and says why."""
    reason = journal.fault_words(failure)
    log.warning("a form submission was not saved (%s): %s", reason, failure)
    return journal.NOT_DONE.format(reason=reason)


def register(app: App, desk: Desk) -> None:
    """Attach the modal listeners; a submission is saved before its ack (nothing to lose)."""

    def submit_new_plan(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
    ) -> None:
        new, errors = new_plan_from(view["state"]["values"])
        if new is None:
            ack(response_action="errors", errors=errors)
            return
        user_id = body["user"]["id"]
        try:
            created = desk.act(
                actor=user_id,
                request_key=f"view:{view['id']}:{view.get('hash', '')}",
                work=lambda session: plans.create_plan(
                    session, ctx=desk.ctx, actor=user_id, new=new
                ),
            )
        except ReleasebotError as problem:
            ack(
                response_action="errors",
                errors={_field_for(problem.message): form_error(problem.message)},
            )
            return
        except journal.OUTAGES as failure:
            ack(response_action="errors", errors={BlockId.SERVICE: _not_done(failure)})
            return
        ack()
        context["created_ref"] = created.ref if created is not None else None

    def confirm_new_plan(
        body: dict[str, Any], view: dict[str, Any], context: BoltContext, client: WebClient
    ) -> None:
        ref = context.get("created_ref")
        releases = desk.ctx.config.channels.releases
        channel = view.get("private_metadata") or ""
        if ref and channel:
            client.chat_postEphemeral(
                channel=channel,
                user=body["user"]["id"],
                **guard_ephemeral(
                    md(":memo: Planned *{}*. The card is in {}.", ref, channel_link(releases))
                ),
            )

    def submit_reject(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        parsed = parse_button_value(view.get("private_metadata", ""))
        reason = (_value(view["state"]["values"], BlockId.REASON) or "").strip()
        if parsed is None:
            ack(response_action="errors", errors={BlockId.REASON: "this form is not one we opened"})
            return
        if not reason:
            ack(
                response_action="errors",
                errors={BlockId.REASON: "say why, so the requester can fix it"},
            )
            return
        plan_id, round_seen = parsed
        try:
            approve(
                Reject(plan_id=plan_id, reason=reason),
                desk=desk,
                user_id=body["user"]["id"],
                request_key=f"view:{view['id']}:{view.get('hash', '')}",
                round_seen=round_seen,
            )
        except ReleasebotError as problem:
            ack(response_action="errors", errors={BlockId.REASON: form_error(problem.message)})
            return
        except journal.OUTAGES as failure:
            ack(response_action="errors", errors={BlockId.REASON: _not_done(failure)})
            return
        ack()

    app.view(ViewId.NEW_PLAN)(ack=submit_new_plan, lazy=[confirm_new_plan])
    app.view(ViewId.REJECT_REASON)(submit_reject)
