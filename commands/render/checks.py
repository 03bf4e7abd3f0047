"""Rollout progress on the card, and the `/release checks` report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from slack_sdk.models.blocks import Block, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.domain.mrkdwn import link, md
from bot.notify.outbox import Rendered
from bot.release.snapshots import PlanSnapshot
from bot.store.models import CheckRun, DeploymentStage, Measurement
from commands.render.text import MAX_BLOCKS, SECTION_LIMIT, clip, escape, when

STAGE_LABELS = {
    "pending": "waiting",
    "starting": "starting",
    "running": "running",
    "pausing": "pausing",
    "analysing": "verifying",
    "at_gate": "waiting for Promote",
    "succeeded": "done",
    "failed": "failed",
    "cancelled": "stopped",
}
VERDICT_ICONS = {
    "running": ":hourglass_flowing_sand:",
    "successful": ":white_check_mark:",
    "failed": ":x:",
    "inconclusive": ":grey_question:",
}


def _current(stages: Sequence[DeploymentStage], phase: str) -> tuple[DeploymentStage | None, int]:
    rows = [s for s in stages if s.phase == phase]
    latest: dict[int, DeploymentStage] = {}
    for row in rows:
        latest[row.stage_index] = row
    for index in sorted(latest):
        if latest[index].status != "succeeded":
            return latest[index], len(latest)
    return (latest[max(latest)] if latest else None), len(latest)


def _runs_line(runs: Sequence[CheckRun]) -> str:
    latest: dict[str, CheckRun] = {}
    for run in runs:
        latest[run.check_name] = run
    return ", ".join(
        f"{VERDICT_ICONS.get(r.verdict, '')} {escape(r.check_name)}"
        + (f" ({escape(r.reason)})" if r.reason else "")
        for r in latest.values()
    )


def progress(snap: PlanSnapshot) -> str | None:
    """`*Rollout:* stage 2 of 3 — canary 50%: waiting for Promote` plus the checks running."""
    if not snap.stages:
        return None
    plan = snap.plan
    phase = "rollback" if plan.state in ("rolling_back", "rolled_back") else "rollout"
    stage, total = _current(snap.stages, phase)
    if stage is None:
        return None
    label = "Rollback" if phase == "rollback" else "Rollout"
    line = (
        f"*{label}:* stage {stage.stage_index + 1} of {total} — {escape(stage.name)}: "
        f"{STAGE_LABELS.get(stage.status, stage.status)}"
    )
    if stage.url:
        line += f" ({link(stage.url, stage.backend)})"
    if stage.status == "failed" and stage.message:
        line += f"\n:x: {escape(stage.message)}"
    stage_runs = [r for r in snap.check_runs if r.stage_id == stage.id]
    verify_runs = [r for r in snap.check_runs if r.phase == "verify"]
    if stage_runs and stage.status in ("analysing", "failed"):
        line += f"\n*Checks:* {_runs_line(stage_runs)}"
    elif verify_runs and plan.state in ("verifying", "released", "rolling_back", "paused"):
        line += f"\n*Verification:* {_runs_line(verify_runs)}"
    return clip(line, SECTION_LIMIT, f"`/release checks {plan.ref}`")


def check_report(snap: PlanSnapshot, measured: Mapping[int, Sequence[Measurement]]) -> Rendered:
    """Every analysis of a plan with its measurements (`/release checks R-<n>`)."""
    plan = snap.plan
    if not snap.check_runs:
        text = md("{} has no check results yet.", plan.ref)
        return Rendered(text, [SectionBlock(text=MarkdownTextObject(text=text)).to_dict()])
    blocks: list[Block] = [HeaderBlock(text=f"Checks of {plan.ref}")]
    stage_names = {s.id: s.name for s in snap.stages}
    for run in snap.check_runs:
        where = stage_names.get(run.stage_id, "verification") if run.stage_id else "verification"
        lines = [
            f"{VERDICT_ICONS.get(run.verdict, '')} *{escape(run.check_name)}* at {escape(where)}: "
            f"{run.verdict}" + (f" — {escape(run.reason)}" if run.reason else "")
        ]
        for m in measured.get(run.id, []) if run.id is not None else []:
            lines.append(
                f"• `{when(m.measured_at, snap.timezone)}` {m.outcome}: {escape(m.detail)}"
            )
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=clip("\n".join(lines), SECTION_LIMIT, "(older measurements kept)")
                )
            )
        )
    blocks = blocks[:MAX_BLOCKS]
    return Rendered(md("Checks of {}", plan.ref), [b.to_dict() for b in blocks])
