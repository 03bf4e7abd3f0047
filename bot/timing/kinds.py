"""Reminder kinds: each timed job declared once, with its handler and the messages it owes.

A `ReminderKind` ties a `ScheduledJob.kind` to the handler that runs it and to the message
templates (name and priority) the handler may owe. The runner learns its handlers from the
declarations (`register_kinds`), and the composition root checks them against the Slack
renderer at start-up (`check_kinds`): a template nobody draws, or a job kind nobody runs, stops
the process with one line instead of being dropped at the fifth delivery.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlmodel import Session

from bot.domain.context import DomainContext
from bot.notify.outbox_queue import MessageTemplate
from bot.store.models import ScheduledJob
from bot.timing.scheduler import JobHandler, JobResult, JobRunner


class KindHandler(Protocol):
    """Runs one due job of a kind inside the job's transaction."""

    def __call__(
        self, session: Session, *, ctx: DomainContext, job: ScheduledJob, now: datetime
    ) -> JobResult: ...


@dataclass(frozen=True)
class ReminderKind:
    """One kind of timed job: what runs it, what it may owe, how late it is still useful."""

    job: str  # ScheduledJob.kind
    handler: KindHandler
    templates: tuple[MessageTemplate, ...] = ()
    stale_after: timedelta | None = None  # None: run however late


class UnknownKind(Exception):
    """A declared kind the bot could not honour (no renderer, no handler): refuse to start."""


def _bound(kind: ReminderKind, ctx: DomainContext) -> JobHandler:
    handler = kind.handler

    def run(session: Session, job: ScheduledJob, now: datetime) -> JobResult:
        return handler(session, ctx=ctx, job=job, now=now)

    return run


def register_kinds(runner: JobRunner, kinds: Iterable[ReminderKind], *, ctx: DomainContext) -> None:
    """Teach `runner` every declared kind."""
    for kind in kinds:
        runner.register(kind.job, _bound(kind, ctx), stale_after=kind.stale_after)


def kind_problems(
    kinds: Sequence[ReminderKind],
    *,
    core_templates: Iterable[MessageTemplate],
    handled: Iterable[str],
    rendered: Iterable[str],
) -> list[str]:
    """What does not add up between the declarations, the runner and the renderer."""
    problems: list[str] = []
    core = list(core_templates)
    drawn = set(rendered)
    runs = set(handled)
    for job, count in Counter(kind.job for kind in kinds).items():
        if count > 1:
            problems.append(f"reminder kind {job} is declared {count} times")
    for kind in kinds:
        if kind.job not in runs:
            problems.append(f"reminder kind {kind.job} has no handler in the job runner")
        for template in kind.templates:
            if template.name not in drawn:
                problems.append(
                    f"reminder kind {kind.job} owes message template {template.name!r}, "
                    "which has no renderer"
                )
    for template in core:
        if template.name not in drawn:
            problems.append(f"message template {template.name!r} has no renderer")
    declared: dict[str, MessageTemplate] = {}
    for template in [*core, *(t for kind in kinds for t in kind.templates)]:
        other = declared.setdefault(template.name, template)
        if other.priority != template.priority:
            problems.append(f"message template {template.name!r} is declared with two priorities")
    return problems


def check_kinds(
    kinds: Sequence[ReminderKind],
    *,
    core_templates: Iterable[MessageTemplate],
    handled: Iterable[str],
    rendered: Iterable[str],
) -> None:
    """Raise UnknownKind (one line) unless every owed template is drawn and every kind runs."""
    problems = kind_problems(
        kinds, core_templates=core_templates, handled=handled, rendered=rendered
    )
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise UnknownKind(problems[0] + more)
