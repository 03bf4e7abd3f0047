"""Reminder kinds and message templates: the declarations, the job runner and the renderer agree."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from bot.domain.config import load_config
from bot.domain.context import DomainContext
from bot.notify.outbox_queue import CORE_TEMPLATES, MessageTemplate, Priority
from bot.store.models import ScheduledJob
from bot.timing import reminders
from bot.timing.kinds import ReminderKind, UnknownKind, check_kinds, kind_problems
from bot.timing.scheduler import JobResult, done
from commands.slack_port import template_names
from tests.unit.test_config import SPEC_EXAMPLE, config_error, load_text

REPO = Path(__file__).resolve().parents[2]


def _nothing(
    session: Session, *, ctx: DomainContext, job: ScheduledJob, now: datetime
) -> JobResult:
    return done()


DECLARED_JOBS = frozenset(kind.job for kind in reminders.KINDS)


def test_every_owed_template_is_drawn_and_every_drawn_template_is_owed() -> None:
    owed = {t.name for t in CORE_TEMPLATES} | {
        t.name for kind in reminders.KINDS for t in kind.templates
    }
    assert owed == template_names()
    assert (
        kind_problems(
            reminders.KINDS,
            core_templates=CORE_TEMPLATES,
            handled=DECLARED_JOBS,
            rendered=template_names(),
        )
        == []
    )


def test_each_job_kind_the_bot_schedules_is_declared_once() -> None:
    assert len(DECLARED_JOBS) == len(reminders.KINDS)
    assert {
        "window.soon",
        "window.open",
        "window.opened",
        "window.nudge",
        "approval.nudge",
        "plan.expire",
        "freeze.start",
        "freeze.end",
        "freeze.holds",
        "digest.weekly",
        "window.recheck",
        "gate.nudge",
    } == DECLARED_JOBS


def test_templates_keep_the_priority_a_channel_sends_them_in() -> None:
    declared = {t.name: t.priority for t in CORE_TEMPLATES} | {
        t.name: t.priority for kind in reminders.KINDS for t in kind.templates
    }
    assert declared == {
        "rollback_alert": Priority.URGENT,
        "approval_request": Priority.URGENT,
        "override_request": Priority.URGENT,
        "release_announcement": Priority.NORMAL,
        "decision_to_requester": Priority.NORMAL,
        "plan_expired": Priority.NORMAL,
        "window_soon": Priority.LOW,
        "approval_reminder": Priority.LOW,
        "deploy_nudge": Priority.LOW,
        "freeze_notice": Priority.LOW,
        "weekly_digest": Priority.LOW,
        "gate_nudge": Priority.LOW,
    }


def test_a_kind_owing_a_template_nobody_draws_is_named_in_one_line() -> None:
    typo = ReminderKind("gate.nudge2", _nothing, (MessageTemplate("gate_nuge", Priority.LOW),))
    with pytest.raises(UnknownKind) as refused:
        check_kinds(
            [*reminders.KINDS, typo],
            core_templates=CORE_TEMPLATES,
            handled=DECLARED_JOBS | {"gate.nudge2"},
            rendered=template_names(),
        )
    assert str(refused.value) == (
        "reminder kind gate.nudge2 owes message template 'gate_nuge', which has no renderer"
    )


def test_a_kind_without_a_handler_or_declared_twice_is_refused() -> None:
    twice = [*reminders.KINDS, ReminderKind("digest.weekly", _nothing)]
    assert kind_problems(
        twice,
        core_templates=CORE_TEMPLATES,
        handled=DECLARED_JOBS - {"freeze.holds"},
        rendered=template_names(),
    ) == [
        "reminder kind digest.weekly is declared 2 times",
        "reminder kind freeze.holds has no handler in the job runner",
    ]


def test_several_problems_are_still_one_line() -> None:
    with pytest.raises(UnknownKind) as refused:
        check_kinds(
            reminders.KINDS,
            core_templates=CORE_TEMPLATES,
            handled=DECLARED_JOBS,
            rendered=template_names() - {"weekly_digest", "rollback_alert"},
        )
    assert str(refused.value) == (
        "reminder kind digest.weekly owes message template 'weekly_digest', which has no "
        "renderer (and 1 more)"
    )
    assert "\n" not in str(refused.value)


def test_one_template_name_with_two_priorities_is_refused() -> None:
    louder = ReminderKind("gate.loud", _nothing, (MessageTemplate("gate_nudge", Priority.URGENT),))
    assert kind_problems(
        [*reminders.KINDS, louder],
        core_templates=CORE_TEMPLATES,
        handled=DECLARED_JOBS | {"gate.loud"},
        rendered=template_names(),
    ) == ["message template 'gate_nudge' is declared with two priorities"]


def test_gate_nudge_after_defaults_to_half_an_hour_and_must_be_positive(tmp_path: Path) -> None:
    assert load_text(tmp_path, SPEC_EXAMPLE).reminders.gate_nudge_after == timedelta(minutes=30)
    shipped = load_config(REPO / "releasebot.toml")
    assert shipped.reminders.gate_nudge_after == timedelta(minutes=30)
    later = load_text(tmp_path, SPEC_EXAMPLE + '\n[reminders]\ngate_nudge_after = "2h"\n')
    assert later.reminders.gate_nudge_after == timedelta(hours=2)
    _, problem = config_error(tmp_path, SPEC_EXAMPLE + '\n[reminders]\ngate_nudge_after = "0m"\n')
    assert "reminders.gate_nudge_after" in str(problem)
