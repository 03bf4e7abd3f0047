"""The plan card: one message per plan in the releases channel, edited in place."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.domain.checklists import tickable
from bot.domain.context import BOT_ACTOR
from bot.domain.freeze_windows import FreezeWindow
from bot.domain.lifecycle import Event, can
from bot.domain.states import state_label
from bot.domain.strategies import rollback_words
from bot.notify.outbox import Rendered
from bot.release.gates import DeployHolds
from bot.release.holds import Dependency
from bot.release.snapshots import PlanSnapshot
from bot.store.models import FreezeKind
from commands.ids import ActionId, BlockId, button_value, tick_value
from commands.render import kit
from commands.render.checks import progress
from commands.render.kit import Json
from commands.render.text import (
    BUTTON_LIMIT,
    FIELD_LIMIT,
    HEADER_LIMIT,
    SECTION_LIMIT,
    STATE_LABELS,
    clip,
    escape,
    md,
    person,
    when,
    window,
)


def title(snap: PlanSnapshot) -> str:
    """`R-12 · checkout 1.4.2 → production`."""
    plan = snap.plan
    return clip(f"{plan.ref} · {plan.service} {plan.version} → {plan.environment}", HEADER_LIMIT)


def approvals_line(snap: PlanSnapshot) -> str:
    """`1 of 2 approvals: <@U1> ✓. Waiting on @sre or <@U3>` (or why none are needed)."""
    status = snap.approvals
    if not snap.approvals_needed:
        return f"No approval needed for {snap.plan.environment}."
    given = ", ".join(
        f"{person(a.approver_id)} :white_check_mark: {when(a.decided_at, snap.timezone)}"
        for a in status.approvals
    )
    line = f"*{len(status.approvals)} of {status.required} approvals*"
    if given:
        line += f": {given}"
    for rejection in status.rejections:
        line += f"\n:x: {person(rejection.approver_id)}: {escape(rejection.comment or '')}"
    if snap.plan.state == "awaiting_approval" and status.missing:
        waiting = " or ".join(person(p) for p in status.waiting_on) or "nobody listed"
        line += f". Waiting on {waiting}."
    return line


def freeze_text(freeze: FreezeWindow, tz: ZoneInfo) -> str:
    """`:snowflake: *production* frozen: Weekend freeze (environments…, until …)`."""
    until = freeze.until(tz)
    reason = freeze.why()
    if freeze.kind == FreezeKind.ROLLBACK_LOCK:
        return md(
            ":lock: *{}* locked in {}: {} ({})",
            freeze.service or "",
            freeze.environment,
            reason,
            until,
        )
    if freeze.kind == FreezeKind.MANUAL:
        by = person(freeze.created_by or "")
        return md(":snowflake: *{}* frozen by {}: {} ({})", freeze.environment, by, reason, until)
    return md(
        ":snowflake: *{}* frozen: {} ({}, {})", freeze.environment, reason, freeze.rule, until
    )


def rollback_line(snap: PlanSnapshot) -> str:
    """Why a plan rolled back (check, measured value, limit) and what it went back to."""
    started = snap.rollback
    if started is None:
        return ""
    plan = snap.plan
    label = {"rolling_back": "Rolling back", "failed": "Rollback failed"}.get(
        plan.state, "Rolled back"
    )
    by = "automatically" if started.actor_id == BOT_ACTOR else f"by {person(started.actor_id)}"
    words = rollback_words(plan.version, plan.rollback_version)
    line = f":rewind: *{label}* ({by}): {escape(words)}"
    return line + (f"\n*Why:* {escape(started.reason)}" if started.reason else "")


def superseded_line(snap: PlanSnapshot) -> str:
    """A release a later one replaced: it is history, and says how to go back to it."""
    later = snap.superseded_by
    if later is None:
        return ""
    plan = snap.plan
    return (
        f":arrow_heading_up: Superseded by {later.ref} (`{escape(later.version)}`), now live in "
        f"{escape(plan.environment)}. To go back to `{escape(plan.version)}`, plan that version."
    )


def dependency_text(dependency: Dependency, plan_ref: str) -> str:
    """`:link: R-3 (payments 2.0.0 → staging) must be released first; it is deploying`."""
    what = (
        f"{dependency.ref} ({escape(dependency.service)} {escape(dependency.version)} → "
        f"{escape(dependency.environment)})"
    )
    if dependency.dead:
        return (
            f":no_entry: {what} {dependency.fate()}, so {plan_ref} can never deploy after it: "
            f"`/release edit {plan_ref} after none` (or after another plan)"
        )
    return f":link: {what} must be released first; it {dependency.fate()}"


def hold_lines(snap: PlanSnapshot, holds: DeployHolds) -> list[str]:
    """One line per hold on a plan that has not started, and where an override stands."""
    plan = snap.plan
    lines = [dependency_text(d, plan.ref) for d in holds.dependencies]
    lines += [freeze_text(f, snap.timezone) for f in holds.freezes]
    if holds.window_opens is not None:
        if not holds.starts_by_itself:
            then = "can deploy from then"
        elif plan.state == "approved":
            then = "starts by itself then"
        else:
            then = "starts by itself once approved, from then"
        lines.append(
            f":clock3: The window opens {when(holds.window_opens, snap.timezone, snap.today)}: "
            f"{plan.ref} {then}."
        )
    busy = holds.in_flight
    if busy is not None:
        lines.append(
            f":construction: {busy.ref} (`{escape(busy.version)}`) is "
            f"{state_label(busy.state)} in {escape(busy.environment)}: {plan.ref} can "
            f"deploy once it has ended (one rollout per service and environment)."
        )
    if holds.queued:
        waiting = ", ".join(f"{p.ref} (`{escape(p.version)}`)" for p in holds.queued)
        lines.append(f":hourglass_flowing_sand: Waiting for this rollout to end: {waiting}.")
    override = holds.override
    if override is not None and override.approved:
        lines.append(
            f":unlock: Override approved by {person(override.approved_by or '')}: "
            f"{escape(override.reason)}"
        )
    elif override is not None:
        lines.append(
            f":rotating_light: Override requested by {person(override.requested_by)}: "
            f"{escape(override.reason)}. Waiting for an admin."
        )
    elif holds.frozen and not holds.locked and can(plan.state, Event.DEPLOY):
        lines.append(
            f'To deploy anyway: `/release deploy {plan.ref} --override "&lt;reason&gt;"` '
            "and an admin's approval."
        )
    lines += [
        f":white_large_square: {escape(i.name)} must be ticked by {person(i.assignee)}"
        for i in holds.open_items
    ]
    if holds.approvals_missing:
        more = holds.approvals_missing
        lines.append(f":hourglass_flowing_sand: {more} more approval{'s' if more > 1 else ''}")
    return lines


def holds_line(snap: PlanSnapshot, holds: DeployHolds) -> str:
    """The card's holds: under a heading while they keep the plan from deploying.

    Slack buttons cannot be disabled (a button element has no such field), and a live button
    whose confirm dialog explains would still send a click that can only be refused; so a
    held plan shows no Deploy button, and this says what it waits for instead.
    """
    lines = hold_lines(snap, holds)
    if lines and holds.held:
        lines.insert(0, f"*Before {snap.plan.ref} can deploy:*")
    return "\n".join(lines)


def tick_menu(snap: PlanSnapshot) -> Json | None:
    """A menu of the checklist items that may be ticked now (identity is checked on the click)."""
    plan = snap.plan
    assert plan.id is not None
    options = [
        (clip(i.name, BUTTON_LIMIT), tick_value(plan.id, i.id))
        for i in snap.checklist
        if i.id is not None and tickable(plan.state, i)
    ]
    if not options:
        return None
    return kit.static_select(ActionId.TICK, "Tick an item", options[:100])


def card(snap: PlanSnapshot, holds: DeployHolds | None = None) -> Rendered:
    """The card's text fallback and blocks for the plan as it is now."""
    plan = snap.plan
    tz = snap.timezone
    fields = [
        f"*Service*\n{escape(plan.service)}",
        f"*Version*\n`{escape(plan.version)}`",
        f"*Environment*\n{escape(plan.environment)}",
        f"*Window*\n{window(plan.window_start, plan.window_end, tz, snap.today)}",
        f"*Strategy*\n{escape(plan.strategy)}",
        f"*Requester*\n{person(plan.requester_id)}",
        f"*Rolls back to*\n{escape(snap.rolls_back_to or rollback_words(plan.version, None))}",
    ]
    if plan.depends_on:
        fields.append("*After*\n" + ", ".join(f"R-{d}" for d in plan.depends_on))
    blocks: list[Json] = [
        kit.header(title(snap)),
        kit.section(STATE_LABELS[plan.state], fields=fields),
        kit.section(clip(approvals_line(snap), SECTION_LIMIT)),
    ]
    held = holds_line(snap, holds) if holds is not None else ""
    if held:
        blocks.insert(2, kit.section(clip(held, SECTION_LIMIT)))
    if snap.checklist:
        lines = [
            f"{':ballot_box_with_check:' if i.ticked_at else ':white_large_square:'} "
            f"{escape(i.name)} — {person(i.assignee)}"
            f"{'' if i.required else ' (optional)'}"
            f"{' _after release_' if i.phase == 'post_release' else ''}"
            for i in snap.checklist
        ]
        checklist = clip(
            "*Checklist*\n" + "\n".join(lines), SECTION_LIMIT, f"`/release show {plan.ref}`"
        )
        blocks.append(kit.section(checklist, block_id=BlockId.CHECKLIST, accessory=tick_menu(snap)))
    rollout = progress(snap)
    if rollout:
        blocks.append(kit.section(rollout))
    history = rollback_line(snap) or superseded_line(snap)
    if history:
        blocks.append(kit.section(clip(history, SECTION_LIMIT, f"`/release audit {plan.ref}`")))
    extra = _notes_and_risks(snap)
    if extra:
        blocks.append(kit.section(extra))
    buttons = buttons_for(snap, holds)
    if buttons:
        blocks.append(kit.divider())
        blocks.append(kit.actions(buttons, block_id=BlockId.ACTIONS))
    blocks.append(
        kit.context(
            f"Updated {when(plan.updated_at, tz)} · details in the thread · "
            f"`/release audit {plan.ref}`"
        )
    )
    text = md("{}: {}", title(snap), STATE_LABELS[plan.state].split(" ", 1)[1])
    return Rendered(text=text, blocks=blocks)


def _notes_and_risks(snap: PlanSnapshot) -> str:
    plan = snap.plan
    parts = []
    if plan.risks:
        parts.append("*Risks*\n" + "\n".join(f"• {escape(r)}" for r in plan.risks))
    if plan.notes:
        parts.append(f"*Notes*\n{escape(plan.notes)}")
    return clip("\n".join(parts), FIELD_LIMIT, f"full text: `/release show {plan.ref}`")


_button = kit.button


def buttons_for(snap: PlanSnapshot, holds: DeployHolds | None) -> list[Json]:
    """The buttons that apply to the plan's current state; the rest disappear.

    Deploy is offered only when `holds` are known and none holds the plan back.
    """
    plan = snap.plan
    assert plan.id is not None
    value = button_value(plan.id, plan.approval_round)
    target = f"{plan.service} {plan.version} to {plan.environment}"
    buttons: list[Json] = []
    if can(plan.state, Event.APPROVE):
        buttons.append(
            _button(
                "Approve",
                ActionId.APPROVE,
                value,
                style="primary",
                confirm=(f"Approve {plan.ref}?", f"You approve releasing {target}.", "Approve"),
            )
        )
        buttons.append(_button("Reject", ActionId.REJECT, value, style="danger"))
    if can(plan.state, Event.DEPLOY) and holds is not None and not holds.held:
        buttons.append(
            _button(
                "Deploy",
                ActionId.DEPLOY,
                value,
                style="primary",
                confirm=(f"Deploy {plan.ref} now?", f"This starts releasing {target}.", "Deploy"),
            )
        )
    waiting = [
        s for s in snap.stages if s.phase == "rollout" and s.status in ("at_gate", "pausing")
    ]
    if plan.state == "deploying" and waiting:
        buttons.append(_button("Promote", ActionId.PROMOTE, value, style="primary"))
    if can(plan.state, Event.PAUSE):
        buttons.append(_button("Pause", ActionId.PAUSE, value))
    if can(plan.state, Event.RESUME):
        buttons.append(_button("Resume", ActionId.RESUME, value, style="primary"))
    if can(plan.state, Event.ABORT):
        buttons.append(
            _button(
                "Abort",
                ActionId.ABORT,
                value,
                style="danger",
                confirm=(f"Abort {plan.ref}?", f"This stops and rolls back {target}.", "Abort"),
            )
        )
    if can(plan.state, Event.ROLLBACK) and snap.superseded_by is None:
        words = rollback_words(plan.version, plan.rollback_version)
        buttons.append(
            _button(
                "Roll back",
                ActionId.ROLLBACK,
                value,
                style="danger",
                confirm=(
                    f"Roll back {plan.ref}?",
                    f"{plan.service} in {plan.environment}: {words}.",
                    "Roll back",
                ),
            )
        )
    if can(plan.state, Event.CANCEL):
        buttons.append(
            _button(
                "Cancel",
                ActionId.CANCEL,
                value,
                confirm=(
                    f"Cancel {plan.ref}?",
                    f"The plan to release {target} ends.",
                    "Cancel plan",
                ),
            )
        )
    return buttons
