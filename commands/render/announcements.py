"""Announcements, reminders, the weekly digest and release notes, as Block Kit.

`TEMPLATES` are the outbox templates rendered at delivery time: each gathers what it shows from
the database as it then is, and hands it to a pure builder below.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from sqlmodel import Session

from bot.domain.config import ADMINS, ANYONE
from bot.domain.context import DomainContext
from bot.domain.durations import spoken_duration
from bot.domain.mrkdwn import Mrkdwn, join, link, md, person
from bot.domain.states import state_label
from bot.notify.announcements import ReleaseNotes, release_notes
from bot.notify.outbox import Rendered
from bot.ports.changelog import ChangelogSources
from bot.release.gates import DeployHolds, deploy_holds
from bot.release.snapshots import PlanSnapshot, snapshot
from bot.store.models import OutboxMessage, ReleasePlan
from bot.timing import reminders
from commands.ids import ActionId, button_value
from commands.render.card import approvals_line, buttons_for, hold_lines, title
from commands.render.kit import Json
from commands.render.replies import plan_line
from commands.render.text import (
    BUTTON_LIMIT,
    CONTEXT_LIMIT,
    HEADER_LIMIT,
    MAX_BLOCKS,
    SECTION_LIMIT,
    clip,
    escape,
    when,
    window,
)

Template = Callable[[Session, DomainContext, OutboxMessage], Rendered]
# Commits shown in an announcement; the rest are one `/release notes R-<n>` away.
ANNOUNCED_COMMITS = 30


def _section(text: str, pointer: str = "") -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=clip(text, SECTION_LIMIT, pointer)))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=clip(text, CONTEXT_LIMIT))])


def _rendered(text: str, blocks: Sequence[Block]) -> Rendered:
    # Plain fallback text is escaped; text built as mrkdwn (Mrkdwn) is kept as it is.
    return Rendered(text=escape(text), blocks=[b.to_dict() for b in blocks[:MAX_BLOCKS]])


def _only(snap: PlanSnapshot, *action_ids: str, holds: DeployHolds | None = None) -> list[Json]:
    return [b for b in buttons_for(snap, holds) if b["action_id"] in action_ids]


# -- changelog ----------------------------------------------------------------------------


def commit_line(sha: str, subject: str, author: str, url: str | None) -> str:
    """`• <url|abc1234> Fix the cart — Ada` (the subject escaped, the sha linked when we can)."""
    short = f"`{sha[:7]}`"
    linked = link(url, sha[:7]) if url else short
    return f"• {linked} {escape(subject)} — {escape(author)}"


def changelog_sections(notes: ReleaseNotes, *, max_commits: int, max_sections: int) -> list[Block]:
    """The changelog as sections within Slack's limits, ending with a pointer when cut."""
    pointer = f"`/release notes {notes.plan_ref}` lists them all."
    since = f"since `{escape(notes.base)}`" if notes.base else "(first release here)"
    if notes.changelog is None:
        return [_context(f"No changelog {since}: {escape(notes.problem or 'none available')}")]
    log = notes.changelog
    if not log.commits:
        return [_context(f"No commits {since}.")]
    plural = "" if len(log.commits) == 1 and not log.truncated else "s"
    count = f"{len(log.commits)}{'+' if log.truncated else ''} commit{plural}"
    compare = f" · {link(log.compare_url, 'compare')}" if log.compare_url else ""
    blocks: list[Block] = [_section(f"*Changes {since}* ({count}{compare})")]
    lines = [clip(commit_line(c.sha, c.subject, c.author, c.url), 500) for c in log.commits]
    chunks: list[list[str]] = [[]]
    for line in lines[:max_commits]:
        if sum(len(x) + 1 for x in chunks[-1]) + len(line) > SECTION_LIMIT - 200:
            chunks.append([])
        chunks[-1].append(line)
    kept = chunks[:max_sections]
    blocks += [_section("\n".join(chunk)) for chunk in kept]
    shown = sum(len(chunk) for chunk in kept)
    if shown < len(lines) or log.truncated:
        rest = len(lines) - shown
        more = f"{rest}{'+' if log.truncated else ''} more" if rest else "older commits"
        blocks.append(_context(f"… and {more}. {pointer}"))
    return blocks


def release_announcement(snap: PlanSnapshot, notes: ReleaseNotes) -> Rendered:
    """The stakeholder announcement: version, environment, who, the changelog, Roll back."""
    plan = snap.plan
    approvers = ", ".join(person(a.approver_id) for a in snap.approvals.approvals)
    who = f"requested by {person(plan.requester_id)}" + (
        f", approved by {approvers}" if approvers else ""
    )
    blocks: list[Block] = [
        HeaderBlock(
            text=clip(f"{plan.service} {plan.version} released to {plan.environment}", HEADER_LIMIT)
        ),
        _section(
            f":tada: *{escape(plan.service)}* `{escape(plan.version)}` is live in "
            f"*{escape(plan.environment)}* ({plan.ref}, {who})."
        ),
        *changelog_sections(notes, max_commits=ANNOUNCED_COMMITS, max_sections=3),
    ]
    rollback = _only(snap, ActionId.ROLLBACK)
    if rollback:
        blocks.append(ActionsBlock(elements=rollback))
    return _rendered(f"{plan.service} {plan.version} released to {plan.environment}", blocks)


def release_notes_reply(notes: ReleaseNotes, plan: ReleasePlan) -> Rendered:
    """`/release notes R-<n>`: the whole changelog, as far as Slack's 50 blocks allow."""
    header = HeaderBlock(
        text=clip(f"Release notes of {plan.ref}: {plan.service} {plan.version}", HEADER_LIMIT)
    )
    body = changelog_sections(notes, max_commits=10_000, max_sections=MAX_BLOCKS - 3)
    return _rendered(f"Release notes of {plan.ref}", [header, *body])


# -- reminders ----------------------------------------------------------------------------


def approval_reminder(snap: PlanSnapshot) -> Rendered:
    """A nudge to an approver who has not decided, with the same buttons as the card."""
    plan = snap.plan
    blocks: list[Block] = [
        _section(
            f":bell: Reminder: {person(plan.requester_id)} is waiting for your decision on "
            f"*{escape(title(snap))}*\n"
            f"Window: {window(plan.window_start, plan.window_end, snap.timezone, snap.today)}"
        ),
        _section(approvals_line(snap)),
    ]
    buttons = _only(snap, ActionId.APPROVE, ActionId.REJECT)
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    return _rendered(f"Reminder: approval requested for {title(snap)}", blocks)


def window_soon(snap: PlanSnapshot, lead: timedelta) -> Rendered:
    """T-24h/T-1h/T-15m: what opens when, and what is still missing."""
    plan = snap.plan
    opens = when(plan.window_start, snap.timezone, snap.today)
    lines = [f":alarm_clock: *{escape(title(snap))}*: its window opens in {_span(lead)} ({opens})."]
    if plan.state == "awaiting_approval":
        lines.append(f"It still needs approval: {approvals_line(snap)}")
    if snap.open_pre_deploy_items:
        items = ", ".join(
            f"{escape(i.name)} ({person(i.assignee)})" for i in snap.open_pre_deploy_items
        )
        lines.append(f"Not ticked yet: {items}.")
    lines.append(f"Deploy with `/release deploy {plan.ref}` or the Deploy button on the card.")
    return _rendered(f"{plan.ref}'s window opens in {_span(lead)}", [_section("\n".join(lines))])


def deploy_nudge(snap: PlanSnapshot, holds: DeployHolds) -> Rendered:
    """The window is open and nothing was deployed."""
    plan = snap.plan
    if plan.state == "approved" and holds.held:
        line = "\n".join(
            [
                f":hourglass: The window of *{escape(title(snap))}* is open, but it can't "
                "deploy yet:",
                *hold_lines(snap, holds),
            ]
        )
    elif plan.state == "approved":
        line = (
            f":hourglass: The window of *{escape(title(snap))}* is open and it has not been "
            f"deployed. Deploy it with `/release deploy {plan.ref}` or the button below."
        )
    else:
        line = (
            f":hourglass: The window of *{escape(title(snap))}* is open, but it is still "
            f"{state_label(plan.state)}. {approvals_line(snap)}"
        )
    if plan.window_end is not None:
        closes = when(plan.window_end, snap.timezone, snap.today)
        line += f"\nThe window closes {closes}; then it expires."
    blocks: list[Block] = [_section(line)]
    buttons = _only(snap, ActionId.DEPLOY, holds=holds)
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    return _rendered(f"{plan.ref}'s window is open", blocks)


def plan_expired(snap: PlanSnapshot) -> Rendered:
    """The plan's window ended before it started; one click plans it again."""
    plan = snap.plan
    assert plan.id is not None
    again = ButtonElement(
        text=clip("Plan again", BUTTON_LIMIT),
        action_id=ActionId.REPLAN,
        value=button_value(plan.id, plan.approval_round),
        style="primary",
    )
    return _rendered(
        f"{plan.ref} expired",
        [
            _section(
                f":alarm_clock: *{escape(title(snap))}* expired: its window ended "
                f"({when(plan.window_end, snap.timezone, snap.today)}) before it was deployed."
            ),
            _context(
                "Plan again creates a new plan with the same service, version, strategy and "
                "notes, in the same time slot on the next day it can still happen."
            ),
            ActionsBlock(elements=[again]),
        ],
    )


def gate_nudge(
    snap: PlanSnapshot, *, stage: str, waited: timedelta, promoters: Sequence[str]
) -> Rendered:
    """A rollout has waited at a manual gate: who can Promote it (or Abort)."""
    plan = snap.plan
    if ANYONE in promoters:
        who = md("{} or anyone else here", person(plan.requester_id))
    else:
        who = join(", ", (person(p) for p in promoters)) if promoters else md("nobody")
    text = md(
        ":hourglass_flowing_sand: {} has waited {} at {} for someone to Promote (or Abort): "
        "{} can.",
        plan.ref,
        _span(waited),
        stage,
        who,
    )
    blocks: list[Block] = [_section(text)]
    buttons = _only(snap, ActionId.PROMOTE, ActionId.ABORT)
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    return _rendered(text, blocks)


def freeze_notice(
    *,
    starting: bool,
    environment: str,
    service: str | None,
    reason: str,
    ends_at: datetime | None,
    tz: ZoneInfo,
) -> Rendered:
    """A freeze starts or ends."""
    what = md("*{}*", environment) + (md(" ({})", service) if service else "")
    if starting:
        until = f" until {when(ends_at, tz)}" if ends_at else ""
        text = md(
            ":snowflake: {} is frozen{}: {}. Deploys there need "
            '`--override "&lt;reason&gt;"` and an admin\'s approval.',
            Mrkdwn(what),
            until,
            reason,
        )
    else:
        text = md(
            ":sunny: The freeze of {} ({}) has ended; deploys are open.", Mrkdwn(what), reason
        )
    return _rendered(text, [_section(text)])


def weekly_digest(
    plans: Sequence[ReleasePlan], *, since: datetime, until: datetime, tz: ZoneInfo
) -> Rendered:
    """Upcoming and active releases for the week ahead."""
    heading = f"Releases {when(since, tz)} → {when(until, tz)}"
    if not plans:
        return _rendered(
            "No releases planned this week",
            [_section(f":calendar: *{escape(heading)}*\nNo releases are planned this week.")],
        )
    blocks: list[Block] = [HeaderBlock(text=clip(":calendar: Releases this week", HEADER_LIMIT))]
    blocks.append(_context(heading))
    lines = [plan_line(p, tz) for p in plans]
    for start in range(0, len(lines), 10):
        if len(blocks) >= MAX_BLOCKS - 1:
            blocks.append(_context(f"… and more: `/release list` shows them all ({len(lines)})."))
            break
        blocks.append(_section("\n".join(lines[start : start + 10]), "`/release list`"))
    return _rendered(f"{len(plans)} releases planned this week", blocks)


# -- templates: gather, then build ----------------------------------------------------------


def _snap(session: Session, ctx: DomainContext, row: OutboxMessage) -> PlanSnapshot:
    assert row.plan_id is not None
    return snapshot(session, ctx=ctx, plan_id=row.plan_id)


def _release_announcement(
    session: Session,
    ctx: DomainContext,
    row: OutboxMessage,
    changelogs: ChangelogSources | None = None,
) -> Rendered:
    snap = _snap(session, ctx, row)
    notes = release_notes(session, ctx=ctx, plan=snap.plan, changelogs=changelogs)
    return release_announcement(snap, notes)


def _window_soon(session: Session, ctx: DomainContext, row: OutboxMessage) -> Rendered:
    lead = timedelta(seconds=int(row.payload.get("lead_seconds", 0)))
    return window_soon(_snap(session, ctx, row), lead)


def _deploy_nudge(session: Session, ctx: DomainContext, row: OutboxMessage) -> Rendered:
    snap = _snap(session, ctx, row)
    return deploy_nudge(snap, deploy_holds(session, ctx=ctx, snap=snap))


def _gate_nudge(session: Session, ctx: DomainContext, row: OutboxMessage) -> Rendered:
    snap = _snap(session, ctx, row)
    stage_id = int(row.payload["stage_id"])
    stage = next((s.name for s in snap.stages if s.id == stage_id), "its gate")
    since = datetime.fromisoformat(str(row.payload["since"]))
    granted = ctx.config.environment(snap.plan.environment).permissions.granted("deploy")
    # "admins" is who the config lists as admins: name them, like any other grantee.
    promoters = [
        admin
        for principal in granted
        for admin in (ctx.config.admins if principal == ADMINS else [principal])
    ]
    return gate_nudge(
        snap,
        stage=stage,
        waited=ctx.clock.now() - since,
        promoters=list(dict.fromkeys(promoters)),
    )


def _freeze_notice(session: Session, ctx: DomainContext, row: OutboxMessage) -> Rendered:
    ends = row.payload.get("ends_at")
    return freeze_notice(
        starting=bool(row.payload.get("starting")),
        environment=str(row.payload.get("environment", "")),
        service=row.payload.get("service"),
        reason=str(row.payload.get("reason", "")),
        ends_at=datetime.fromisoformat(ends) if isinstance(ends, str) else None,
        tz=ctx.config.tz,
    )


def _weekly_digest(session: Session, ctx: DomainContext, row: OutboxMessage) -> Rendered:
    since = datetime.fromisoformat(str(row.payload["since"]))
    until = datetime.fromisoformat(str(row.payload["until"]))
    found = reminders.upcoming(session, since=since, until=until)
    return weekly_digest(found, since=since, until=until, tz=ctx.config.tz)


TEMPLATES: dict[str, Template] = {
    "release_announcement": _release_announcement,
    "approval_reminder": lambda s, c, r: approval_reminder(_snap(s, c, r)),
    "window_soon": _window_soon,
    "deploy_nudge": _deploy_nudge,
    "plan_expired": lambda s, c, r: plan_expired(_snap(s, c, r)),
    "freeze_notice": _freeze_notice,
    "weekly_digest": _weekly_digest,
    "gate_nudge": _gate_nudge,
}


def templates(changelogs: ChangelogSources | None) -> dict[str, Template]:
    """`TEMPLATES`, the release announcement reading its changelog through `changelogs`."""
    return TEMPLATES | {
        "release_announcement": lambda s, c, r: _release_announcement(s, c, r, changelogs)
    }


def _span(delta: timedelta) -> str:
    return spoken_duration(delta)
