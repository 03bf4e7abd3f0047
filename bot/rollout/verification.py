"""Check runs: Argo-style analyses of named checks, every measurement stored.

Measuring does I/O, so it happens outside any transaction: the runs due are read in one
transaction, measured, and each result is recorded (and assessed) in another.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session, col, select

from bot.domain.checks.analysis import Verdict, analysis_spec, assess
from bot.domain.checks.measurement import Measurement as Measured
from bot.domain.checks.measurement import Outcome
from bot.domain.context import DomainContext
from bot.ports.probe import Probes
from bot.store.db import Database
from bot.store.models import CheckRun, Measurement


class Overall(StrEnum):
    RUNNING = "running"
    SUCCESSFUL = "successful"
    FAILED = "failed"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class RunsOutcome:
    """Where a group of check runs stands, and the run that decided it."""

    overall: Overall
    deciding: CheckRun | None
    next_due: datetime | None


def start_runs(
    session: Session,
    *,
    ctx: DomainContext,
    plan_id: int,
    names: Sequence[str],
    phase: str,
    stage_id: int | None = None,
) -> list[CheckRun]:
    """Start one analysis per named check; the first measurement waits out `initial_delay`."""
    now = ctx.clock.now()
    runs = [
        CheckRun(
            plan_id=plan_id,
            stage_id=stage_id,
            check_name=name,
            phase=phase,
            verdict=Verdict.RUNNING,
            started_at=now,
            next_due=now + ctx.config.check(name).initial_delay,
        )
        for name in names
    ]
    session.add_all(runs)
    session.flush()
    return runs


def runs_of(
    session: Session, *, plan_id: int, phase: str, stage_id: int | None = None
) -> list[CheckRun]:
    """The check runs of a plan's stage (or its verification), oldest first."""
    statement = select(CheckRun).where(CheckRun.plan_id == plan_id, CheckRun.phase == phase)
    if stage_id is not None:
        statement = statement.where(CheckRun.stage_id == stage_id)
    return list(session.exec(statement.order_by(col(CheckRun.id))).all())


def outcome(runs: Sequence[CheckRun]) -> RunsOutcome:
    """All successful → successful; any failed → failed; any inconclusive → inconclusive."""
    for verdict, overall in (
        (Verdict.FAILED, Overall.FAILED),
        (Verdict.INCONCLUSIVE, Overall.INCONCLUSIVE),
    ):
        for run in runs:
            if run.verdict == verdict:
                return RunsOutcome(overall, run, None)
    running = [r for r in runs if r.verdict == Verdict.RUNNING]
    if running:
        dues = [r.next_due for r in running if r.next_due is not None]
        return RunsOutcome(Overall.RUNNING, None, min(dues) if dues else None)
    return RunsOutcome(Overall.SUCCESSFUL, None, None)


def measure_due(
    db: Database,
    *,
    ctx: DomainContext,
    probes: Probes,
    run_ids: Sequence[int],
    values: Mapping[str, str],
) -> None:
    """Take the measurements that are due for these runs, and assess each run again."""
    now = ctx.clock.now()
    with db.session() as session:
        due = [
            (run.id, run.check_name)
            for run in session.exec(select(CheckRun).where(col(CheckRun.id).in_(run_ids))).all()
            if run.verdict == Verdict.RUNNING and run.next_due is not None and run.next_due <= now
        ]
    for run_id, name in due:
        assert run_id is not None
        measured = probes.probe(name, values=values).measure()
        with db.session() as session:
            record(session, ctx=ctx, run_id=run_id, measured=measured)


def record(session: Session, *, ctx: DomainContext, run_id: int, measured: Measured) -> CheckRun:
    """Store one measurement and re-assess its run."""
    run = session.exec(select(CheckRun).where(CheckRun.id == run_id).with_for_update()).one()
    session.add(
        Measurement(
            check_run_id=run_id,
            outcome=measured.outcome,
            value=measured.value,
            detail=measured.detail,
            measured_at=measured.measured_at,
        )
    )
    session.flush()
    history = [
        Measured(
            outcome=Outcome(m.outcome), value=m.value, detail=m.detail, measured_at=m.measured_at
        )
        for m in measurements_of(session, run_id=run_id)
    ]
    state = assess(analysis_spec(ctx.config.check(run.check_name)), run.started_at, history)
    run.verdict = state.verdict
    run.reason = state.reason
    run.next_due = state.next_due
    if state.verdict != Verdict.RUNNING:
        run.finished_at = ctx.clock.now()
    return run


def measurements_of(session: Session, *, run_id: int) -> Sequence[Measurement]:
    """A run's measurements in the order they were taken."""
    return session.exec(
        select(Measurement)
        .where(Measurement.check_run_id == run_id)
        .order_by(col(Measurement.measured_at), col(Measurement.id))
    ).all()
