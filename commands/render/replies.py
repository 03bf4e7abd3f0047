"""Ephemeral replies and DMs: lists, trails, usage, refusals, approval requests."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from bot.domain.context import BOT_ACTOR
from bot.domain.freeze_windows import EnvironmentFreezes
from bot.domain.mrkdwn import Mrkdwn, link
from bot.domain.states import state_label
from bot.domain.strategies import rollback_words
from bot.notify.outbox import Rendered
from bot.release.snapshots import PlanSnapshot
from bot.store.models import AuditEvent, ReleasePlan
from commands.ids import ActionId, button_value
from commands.render import kit
from commands.render.card import approvals_line, buttons_for, freeze_text, title
from commands.render.kit import Json
from commands.render.text import (
    MAX_BLOCKS,
    SECTION_LIMIT,
    STATE_LABELS,
    clip,
    escape,
    md,
    person,
    when,
    window,
)


def _section(text: str, pointer: str = "") -> Json:
    return kit.section(clip(text, SECTION_LIMIT, pointer))


def _rendered(text: str, blocks: Sequence[Json]) -> Rendered:
    # The fallback text is mrkdwn too: plain text is escaped, Mrkdwn kept as built.
    return Rendered(text=escape(text), blocks=list(blocks[:MAX_BLOCKS]))


def error(message: str, usage: str | None = None) -> Rendered:
    """A refusal or a mistake, with the usage that shows the right form.

    A plain message is escaped (it may quote what the user typed); one built with `md()` is
    shown as built, so the people it names stay mentions (issue 9.3).
    """
    blocks: list[Json] = [_section(md(":warning: {}", message))]
    if usage:
        blocks.append(kit.context(clip(escape(usage), 2000)))
    return _rendered(message, blocks)


def notice(message: str) -> Rendered:
    """A short confirmation only the caller sees (plain text escaped, Mrkdwn as built)."""
    return _rendered(message, [_section(escape(message))])


def usage(text: str) -> Rendered:
    """Help text: mrkdwn formatting (`code`, *bold*) whose `<service>` placeholders are escaped."""
    return _rendered(text, [_section(escape(text))])


def plan_line(plan: ReleasePlan, tz: ZoneInfo) -> str:
    """One plan in a list: `*R-12* checkout `1.4.2` → production · Approved · window`."""
    return (
        f"*{plan.ref}* {escape(plan.service)} `{escape(plan.version)}` → "
        f"{escape(plan.environment)} · {STATE_LABELS[plan.state]} · "
        f"{window(plan.window_start, plan.window_end, tz)}"
    )


def plan_list(
    plans: Sequence[ReleasePlan], *, total: int, heading: str, tz: ZoneInfo, more_hint: str
) -> Rendered:
    """A list of plans in one section per ten, with a pointer when there are more."""
    if not plans:
        return notice(f"{heading}: none.")
    blocks: list[Json] = [kit.header(clip(heading, 150))]
    lines = [plan_line(p, tz) for p in plans]
    for start in range(0, len(lines), 10):
        blocks.append(_section("\n".join(lines[start : start + 10]), more_hint))
    if total > len(plans):
        blocks.append(kit.context(f"Showing {len(plans)} of {total}. {more_hint}"))
    return _rendered(f"{heading}: {len(plans)} of {total}", blocks)


def audit_trail(plan: ReleasePlan, events: Sequence[AuditEvent], tz: ZoneInfo) -> Rendered:
    """The plan's full trail, oldest first, split across sections."""
    lines = []
    for event in events:
        move = (
            f" {state_label(event.from_state or '∅')} → {state_label(event.to_state)}"
            if event.to_state
            else ""
        )
        why = f" — {escape(event.reason)}" if event.reason else ""
        lines.append(
            f"`{when(event.at, tz)}` {person(event.actor_id)} *{escape(event.action)}*"
            f"{escape(move)}{why}"
        )
    blocks: list[Json] = [kit.header(clip(f"Audit trail of {plan.ref}", 150))]
    chunk: list[str] = []
    for line in lines:
        if sum(len(x) + 1 for x in chunk) + len(line) > SECTION_LIMIT - 100:
            blocks.append(_section("\n".join(chunk)))
            chunk = []
        chunk.append(clip(line, 500))
    if chunk:
        blocks.append(_section("\n".join(chunk)))
    if len(blocks) > MAX_BLOCKS:
        blocks = [*blocks[: MAX_BLOCKS - 1], _section("… the trail continues; it is kept in full.")]
    return _rendered(f"Audit trail of {plan.ref}: {len(events)} events", blocks)


def approval_request(snap: PlanSnapshot) -> Rendered:
    """The DM an approver gets: the plan in short, and the same Approve/Reject buttons."""
    plan = snap.plan
    blocks: list[Json] = [
        _section(
            f":wave: {person(plan.requester_id)} asks for your approval of "
            f"*{escape(title(snap))}*\n"
            f"Window: {window(plan.window_start, plan.window_end, snap.timezone, snap.today)} · "
            f"strategy {escape(plan.strategy)}"
        ),
        _section(approvals_line(snap)),
    ]
    buttons = [
        b for b in buttons_for(snap, None) if b["action_id"] in (ActionId.APPROVE, ActionId.REJECT)
    ]
    if buttons:
        blocks.append(kit.actions(buttons))
    elif plan.state != "awaiting_approval":
        # Redrawn once decided: the outcome where the buttons were.
        blocks.append(_section(f"{STATE_LABELS[plan.state]} — nothing more to decide here."))
    return _rendered(f"Approval requested: {title(snap)}", blocks)


def decision_to_requester(snap: PlanSnapshot) -> Rendered:
    """The DM a requester gets when the approvers have decided."""
    plan = snap.plan
    outcome = STATE_LABELS[plan.state]
    return _rendered(
        f"{plan.ref} is {plan.state}",
        [_section(f"{outcome}: *{escape(title(snap))}*\n{approvals_line(snap)}")],
    )


def override_request(snap: PlanSnapshot) -> Rendered:
    """The DM an admin gets when someone asks to deploy through a freeze."""
    plan = snap.plan
    assert plan.id is not None
    reason = escape(plan.override_reason or "")
    blocks: list[Json] = [
        _section(
            f":rotating_light: Break-glass request: deploy *{escape(title(snap))}* "
            f"(planned by {person(plan.requester_id)}) through a freeze.\nReason: {reason}\n"
            "Who asked is in the card's thread. An override never counts toward the approvals."
        ),
        kit.actions(
            [
                kit.button(
                    "Approve override",
                    ActionId.OVERRIDE_APPROVE,
                    button_value(plan.id, plan.approval_round),
                    style="danger",
                    confirm=(
                        f"Override the freeze for {plan.ref}?",
                        f"{plan.service} {plan.version} may then deploy to "
                        f"{plan.environment} during the freeze.",
                        "Approve override",
                    ),
                )
            ]
        ),
    ]
    return _rendered(f"Override requested: {title(snap)}", blocks)


def freeze_list(
    overview: Sequence[EnvironmentFreezes], *, tz: ZoneInfo, horizon_days: int
) -> Rendered:
    """`/release freezes`: what is frozen now and what freezes start soon, per environment."""
    blocks: list[Json] = [kit.header("Freezes")]
    frozen = 0
    for entry in overview:
        lines = [freeze_text(f, tz) for f in entry.active]
        lines += [
            f":calendar: next: {escape(f.reason)}, {window(f.starts_at, f.ends_at, tz)} "
            f"({escape(f.rule)})"
            for f in entry.upcoming
        ]
        if not lines:
            lines = [f"not frozen; no freeze in the next {horizon_days} days"]
        frozen += bool(entry.active)
        blocks.append(_section(f"*{escape(entry.environment)}*\n" + "\n".join(lines)))
    blocks = blocks[: MAX_BLOCKS - 1]
    blocks.append(
        kit.context(
            'Freeze: `/release freeze <env> [until <time>] reason "<text>"` · '
            "lift: `/release unfreeze <env>` · deploy anyway: "
            '`/release deploy R-<n> --override "<reason>"` (an admin approves)'
        )
    )
    return _rendered(f"Freezes: {frozen} environment(s) frozen now", blocks)


def rollback_alert(
    snap: PlanSnapshot, *, reason: str, actor: str, card_link: str | None
) -> Rendered:
    """The alert when a release rolls back: what, to what, why, by whom, and where the card is."""
    plan = snap.plan
    by = "automatically" if actor == BOT_ACTOR else f"by {person(actor)}"
    words = rollback_words(plan.version, plan.rollback_version)
    text = (
        f":rotating_light: *{plan.ref}* {escape(plan.service)} `{escape(plan.version)}` in "
        f"{escape(plan.environment)}: {escape(words)} ({by})"
        + (f": {escape(reason)}" if reason else ".")
    )
    where = (
        link(card_link, f"the card of {plan.ref}") if card_link else f"`/release show {plan.ref}`"
    )
    return _rendered(
        Mrkdwn(text),
        [_section(text), kit.context(f"Details: {where}")],
    )
