"""The rollout engine: follows every in-flight plan to its end, one persisted step at a time.

Every backend call happens between two transactions: the stage is marked STARTING (with its
idempotency key) and committed before the call, and the answer is recorded after it. A
process killed in between finds the STARTING stage on restart and asks the backend (`find`)
whether the start happened, so no step runs twice and none is forgotten. Plans are claimed
by pushing `next_step_at` forward by a lease, so several processes never drive one plan.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.domain.context import DomainContext
from bot.domain.errors import ReleasebotError
from bot.domain.lifecycle import IN_FLIGHT, Event
from bot.domain.mrkdwn import code_block, link, md
from bot.domain.strategies import StagePlan, rollout_stages
from bot.notify import announcements, outbox
from bot.notify.thread import say
from bot.ports.deploy import (
    Backends,
    DeployHandle,
    DeployRequest,
    DeployState,
    DeployStatus,
)
from bot.ports.probe import Probes
from bot.release.checklists import post_release_open
from bot.release.freezes import lock_after_rollback
from bot.release.plans import get_plan, transition
from bot.rollout.stages import (
    ENGINE,
    ROLLBACK,
    ROLLOUT,
    current_stage,
    fail_rollout,
    rollback_cause,
    stage_count,
    stages_of,
)
from bot.rollout.verification import Overall, measure_due, outcome, runs_of, start_runs
from bot.store.db import Database
from bot.store.leases import process_owner
from bot.store.models import (
    CheckRun,
    DeploymentStage,
    PlanState,
    ReleasePlan,
    StageStatus,
)

log = logging.getLogger(__name__)

POLL_INTERVAL = timedelta(seconds=5)
LEASE = timedelta(minutes=2)
MAX_STEPS = 50
# I/O done after a step commits; True when the plan's next step is due at once (no waiting).
Work = Callable[[], bool]


def released_handle(
    session: Session, plan: ReleasePlan, stage: DeploymentStage
) -> dict[str, str | int] | None:
    """On a rollback: the handle of the last stage that released its version here, if any."""
    if stage.action != "rollback" or stage.kind != "deploy":
        return None
    rows = session.exec(
        select(DeploymentStage)
        .join(ReleasePlan, col(ReleasePlan.id) == col(DeploymentStage.plan_id))
        .where(
            ReleasePlan.service == plan.service,
            ReleasePlan.environment == plan.environment,
            DeploymentStage.version == stage.version,
            DeploymentStage.status == StageStatus.SUCCEEDED,
            DeploymentStage.kind == "deploy",
        )
        .order_by(col(DeploymentStage.id).desc())
        .limit(20)
    ).all()
    for row in rows:
        if row.handle.get("history_id"):
            return dict(row.handle)
    return None


def request_for(
    plan: ReleasePlan, stage: DeploymentStage, released: dict[str, str | int] | None = None
) -> DeployRequest:
    """What the backend is asked to do for one stage."""
    return DeployRequest(
        release_id=plan.ref,
        service=plan.service,
        version=stage.version,
        environment=plan.environment,
        action="rollback" if stage.action == "rollback" else "deploy",
        stage_index=stage.stage_index,
        stage_name=stage.name,
        weight=stage.weight,
        colour=stage.colour,
        idempotency_key=stage.idempotency_key,
        previous_version=plan.rollback_version,
        released=released,
    )


def _handle(stage: DeploymentStage) -> DeployHandle:
    ref = {k: v for k, v in stage.handle.items() if k != "cancel_pending"}
    return DeployHandle(backend=stage.backend, ref=ref, url=stage.url)


class RolloutEngine:
    """Advances plans whose next step is due; safe to run in several processes."""

    def __init__(
        self,
        *,
        db: Database,
        ctx: DomainContext,
        backends: Backends,
        probes: Probes,
        poll_interval: timedelta = POLL_INTERVAL,
        workers: int = 16,
        owner: str | None = None,
    ) -> None:
        self._db = db
        self.owner = owner or process_owner()
        self._ctx = ctx
        self._backends = backends
        self._probes = probes
        self._poll = poll_interval
        self._workers = workers
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- driving --------------------------------------------------------------------------

    def kick(self) -> None:
        """Something changed: look for due work now."""
        self._wake.set()

    def start(self) -> None:
        """Take back this slot's plans, then run the engine loop in a daemon thread."""
        self.take_back()
        self._thread = threading.Thread(target=self._loop, name="rollouts", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the loop; in-flight stages are resumed by the next start."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        with ThreadPoolExecutor(self._workers, thread_name_prefix="rollout") as pool:
            busy: set[Future[None]] = set()
            while not self._stop.is_set():
                busy = {f for f in busy if not f.done()}
                # Claim only what idle workers start now, and never wait for a whole batch:
                # one slow backend call must not hold up the plans due behind it.
                idle = self._workers - len(busy)
                try:
                    for plan_id in self.claim_due(limit=idle) if idle > 0 else []:
                        future = pool.submit(self.advance, plan_id)
                        future.add_done_callback(self._worker_done)
                        busy.add(future)
                except Exception:
                    log.exception("rollout pass failed")
                self._wake.wait(timeout=1.0)
                self._wake.clear()

    def _worker_done(self, future: Future[None]) -> None:
        """A worker is free again: say what went wrong, and look for due work at once."""
        failure = future.exception()
        if failure is not None:
            log.error("advancing a plan failed", exc_info=failure)
        self._wake.set()

    def run_due(self) -> int:
        """Advance every plan that is due now, in this thread; return how many."""
        claimed = self.claim_due()
        for plan_id in claimed:
            self.advance(plan_id)
        return len(claimed)

    def take_back(self) -> int:
        """Make plans leased by this slot's previous process due now; how many there were."""
        now = self._ctx.clock.now()
        with self._db.session() as session:
            taken = session.connection().execute(
                update(ReleasePlan)
                .where(
                    col(ReleasePlan.lease_owner) == self.owner,
                    col(ReleasePlan.next_step_at) > now,
                    col(ReleasePlan.state).in_([s.value for s in IN_FLIGHT]),
                )
                .values(next_step_at=now)
            )
        if taken.rowcount:
            log.info("took back %d plan(s) leased before a restart", taken.rowcount)
        return int(taken.rowcount)

    def claim_due(self, limit: int = 50) -> list[int]:
        """Take the plans whose next step is due, leasing them to this process."""
        now = self._ctx.clock.now()
        with self._db.session() as session:
            statement = (
                select(ReleasePlan)
                .where(
                    col(ReleasePlan.next_step_at).is_not(None),
                    col(ReleasePlan.next_step_at) <= now,
                    col(ReleasePlan.state).in_([s.value for s in IN_FLIGHT]),
                )
                .order_by(col(ReleasePlan.next_step_at))
                .limit(limit)
            )
            if session.get_bind().dialect.name == "postgresql":
                statement = statement.with_for_update(skip_locked=True)
            plans = session.exec(statement).all()
            for plan in plans:
                plan.next_step_at = now + LEASE
                plan.lease_owner = self.owner
            return [p.id for p in plans if p.id is not None]

    def advance(self, plan_id: int) -> None:
        """Take a plan as far as it can go right now; give it back once its next step waits."""
        for _ in range(MAX_STEPS):
            with self._db.session() as session:
                plan = get_plan(session, plan_id=plan_id, for_update=True)
                work = self._step(session, plan)
                if work is not None and work is not self._again:
                    # The I/O runs outside the transaction; a step may have made the plan due
                    # now (a check to measure), so re-lease it or another process takes it too.
                    plan.next_step_at = self._ctx.clock.now() + LEASE
                    plan.lease_owner = self.owner
            if work is None or not work():
                return

    # -- one step ---------------------------------------------------------------------------

    def _step(self, session: Session, plan: ReleasePlan) -> Work | None:
        """Decide (and persist) the next step; return the I/O to do after the commit."""
        now = self._ctx.clock.now()
        assert plan.id is not None
        if plan.state not in IN_FLIGHT:
            plan.next_step_at = None
            return None
        cancels = [s for s in stages_of(session, plan_id=plan.id) if s.handle.get("cancel_pending")]
        if cancels:
            return self._cancel_work(plan, cancels[0])
        if plan.state == PlanState.VERIFYING:
            return self._verify(session, plan)
        phase = ROLLBACK if plan.state == PlanState.ROLLING_BACK else ROLLOUT
        rows = stages_of(session, plan_id=plan.id, phase=phase)
        stage = current_stage(rows)
        if stage is None:
            return self._phase_done(session, plan, phase)
        holding = plan.state == PlanState.PAUSED and stage.status not in (
            StageStatus.STARTING,
            StageStatus.RUNNING,
        )
        if holding or stage.status in (StageStatus.FAILED, StageStatus.CANCELLED):
            plan.next_step_at = None
            return None
        if stage.status == StageStatus.PENDING:
            stage.status = StageStatus.STARTING
            stage.attempts += 1
            stage.started_at = now
        if stage.status == StageStatus.STARTING:
            released = released_handle(session, plan, stage)
            return self._start_work(plan, stage, total=stage_count(rows), released=released)
        if stage.status == StageStatus.RUNNING:
            return self._poll_work(plan, stage, total=stage_count(rows))
        if stage.status == StageStatus.PAUSED_FOR:
            if stage.wait_until is not None and stage.wait_until > now:
                plan.next_step_at = stage.wait_until
                return None
            self._after_pause(session, plan, stage)
            return self._again
        if stage.status == StageStatus.ANALYSING:
            return self._analyse(session, plan, stage)
        plan.next_step_at = None  # AT_GATE: a person promotes
        return None

    @staticmethod
    def _again() -> bool:
        """No I/O: just take the next step."""
        return True

    def _phase_done(self, session: Session, plan: ReleasePlan, phase: str) -> Work | None:
        ctx = self._ctx
        assert plan.id is not None
        if phase == ROLLOUT:
            transition(session, ctx=ctx, plan=plan, event=Event.STAGES_DONE, actor=ENGINE)
            checks = ctx.config.service(plan.service).checks
            start_runs(session, ctx=ctx, plan_id=plan.id, names=checks, phase="verify")
            say(
                session,
                ctx=ctx,
                plan=plan,
                text=md(":mag: {}: all stages done; verifying.", plan.ref),
            )
            plan.next_step_at = ctx.clock.now()
            return self._again
        transition(session, ctx=ctx, plan=plan, event=Event.ROLLBACK_DONE, actor=ENGINE)
        done = (
            f"rolled back to {plan.rollback_version}"
            if plan.rollback_version
            else f"rolled back: nothing was released before, and {plan.version} is undone"
        )
        say(
            session,
            ctx=ctx,
            plan=plan,
            text=md(":leftwards_arrow_with_hook: {} {}.", plan.ref, done),
        )
        why, rolled_back_by = rollback_cause(session, plan=plan)
        lock_after_rollback(
            session, ctx=ctx, plan=plan, actor=ENGINE, reason=why, rolled_back_by=rolled_back_by
        )
        plan.next_step_at = None
        return None

    def _verify(self, session: Session, plan: ReleasePlan) -> Work | None:
        ctx = self._ctx
        assert plan.id is not None
        runs = _latest_per_check(runs_of(session, plan_id=plan.id, phase="verify"))
        result = outcome(runs)
        if result.overall == Overall.RUNNING:
            return self._measure_or_wait(
                plan, [r.id for r in runs if r.id is not None], result.next_due
            )
        if result.overall == Overall.SUCCESSFUL:
            if post_release_open(session, plan_id=plan.id):
                plan.next_step_at = None
                return None
            transition(session, ctx=ctx, plan=plan, event=Event.CHECKS_PASSED, actor=ENGINE)
            plan.next_step_at = None
            say(
                session, ctx=ctx, plan=plan, text=md(":white_check_mark: {} is released.", plan.ref)
            )
            announcements.owe_release_announcement(session, ctx=ctx, plan=plan)
            return None
        run = result.deciding
        assert run is not None
        reason = f"check {run.check_name} {run.verdict}: {run.reason}"
        if result.overall == Overall.INCONCLUSIVE:
            transition(session, ctx=ctx, plan=plan, event=Event.PAUSE, actor=ENGINE, reason=reason)
            plan.next_step_at = None
            say(
                session,
                ctx=ctx,
                plan=plan,
                text=md(":grey_question: {} paused: {}.", plan.ref, reason),
            )
            return None
        fail_rollout(session, ctx=ctx, plan=plan, reason=reason)
        return self._again

    def _analyse(self, session: Session, plan: ReleasePlan, stage: DeploymentStage) -> Work | None:
        assert plan.id is not None
        runs = _latest_per_check(
            runs_of(session, plan_id=plan.id, phase="stage", stage_id=stage.id)
        )
        result = outcome(runs)
        if result.overall == Overall.RUNNING:
            return self._measure_or_wait(
                plan, [r.id for r in runs if r.id is not None], result.next_due
            )
        if result.overall == Overall.SUCCESSFUL:
            self._after_analysis(session, plan, stage)
            return self._again
        run = result.deciding
        assert run is not None
        reason = f"check {run.check_name} {run.verdict} at {stage.name}: {run.reason}"
        stage.status = StageStatus.FAILED
        stage.message = reason
        if result.overall == Overall.INCONCLUSIVE:
            transition(
                session, ctx=self._ctx, plan=plan, event=Event.PAUSE, actor=ENGINE, reason=reason
            )
            plan.next_step_at = None
            say(
                session,
                ctx=self._ctx,
                plan=plan,
                text=md(":grey_question: {} paused: {}.", plan.ref, reason),
            )
            return None
        fail_rollout(session, ctx=self._ctx, plan=plan, reason=reason)
        return self._again

    def _measure_or_wait(
        self, plan: ReleasePlan, run_ids: list[int], next_due: datetime | None
    ) -> Work | None:
        now = self._ctx.clock.now()
        if next_due is not None and next_due > now:
            plan.next_step_at = next_due
            return None
        values = {
            "service": plan.service,
            "version": plan.version,
            "environment": plan.environment,
            "release_id": plan.ref,
        }

        def measure() -> bool:
            measure_due(
                self._db, ctx=self._ctx, probes=self._probes, run_ids=run_ids, values=values
            )
            return True  # the next step reads the results and schedules the next measurement

        return measure

    # -- stage transitions without I/O ----------------------------------------------------------

    def _planned(self, plan: ReleasePlan, stage: DeploymentStage) -> StagePlan:
        """The strategy's description of a rollout stage (pause, analysis, gate)."""
        if stage.phase == ROLLOUT:
            for planned in rollout_stages(self._ctx, plan=plan):
                if planned.index == stage.stage_index:
                    return planned
        return StagePlan(stage.stage_index, stage.name, stage.kind, stage.weight)

    def _after_backend(self, session: Session, plan: ReleasePlan, stage: DeploymentStage) -> None:
        pause = self._planned(plan, stage).pause
        if pause is not None:
            stage.status = StageStatus.PAUSED_FOR
            stage.wait_until = self._ctx.clock.now() + pause
            plan.next_step_at = stage.wait_until
            return
        self._after_pause(session, plan, stage)

    def _after_pause(self, session: Session, plan: ReleasePlan, stage: DeploymentStage) -> None:
        analysis = self._planned(plan, stage).analysis
        if analysis:
            assert plan.id is not None
            stage.status = StageStatus.ANALYSING
            start_runs(
                session,
                ctx=self._ctx,
                plan_id=plan.id,
                names=list(analysis),
                phase="stage",
                stage_id=stage.id,
            )
            plan.next_step_at = self._ctx.clock.now()
            return
        self._after_analysis(session, plan, stage)

    def _after_analysis(self, session: Session, plan: ReleasePlan, stage: DeploymentStage) -> None:
        if self._planned(plan, stage).gate:
            stage.status = StageStatus.AT_GATE
            plan.revision += 1
            plan.next_step_at = None
            say(
                session,
                ctx=self._ctx,
                plan=plan,
                text=md(
                    ":vertical_traffic_light: {} is at {}, waiting for someone to Promote "
                    "(or Abort).",
                    plan.ref,
                    stage.name,
                ),
            )
            assert plan.id is not None
            outbox.owe_card(
                session,
                plan_id=plan.id,
                channel=self._ctx.config.channels.releases,
                now=self._ctx.clock.now(),
            )
            return
        stage.status = StageStatus.SUCCEEDED
        stage.finished_at = self._ctx.clock.now()
        plan.next_step_at = self._ctx.clock.now()

    # -- I/O --------------------------------------------------------------------------------

    def _start_work(
        self,
        plan: ReleasePlan,
        stage: DeploymentStage,
        *,
        total: int,
        released: dict[str, str | int] | None = None,
    ) -> Work:
        plan_id, stage_id = plan.id, stage.id
        assert plan_id is not None and stage_id is not None
        request = request_for(plan, stage, released)
        kind = stage.kind

        def start() -> bool:
            try:
                if kind == "flag":
                    client, key = self._backends.flags(request.service, request.environment)
                    if request.weight:
                        client.set_rollout(key, request.weight)
                    else:
                        client.turn_off(key)
                    handle = DeployHandle(backend="flag", ref={"flag": key}, url=None)
                    finished: DeployStatus | None = DeployStatus(
                        DeployState.SUCCEEDED, f"flag {key} at {request.weight or 0}%"
                    )
                else:
                    backend = self._backends.deployer(request.service)
                    handle = backend.find(request) or backend.start(request)
                    finished = None
            except ReleasebotError as failure:
                return self._record(
                    plan_id,
                    stage_id,
                    total,
                    None,
                    DeployStatus(DeployState.FAILED, failure.message),
                )
            return self._record(plan_id, stage_id, total, handle, finished)

        return start

    def _poll_work(self, plan: ReleasePlan, stage: DeploymentStage, *, total: int) -> Work:
        plan_id, stage_id = plan.id, stage.id
        assert plan_id is not None and stage_id is not None
        service, handle = plan.service, _handle(stage)

        def poll() -> bool:
            try:
                status = self._backends.deployer(service).status(handle)
            except ReleasebotError as failure:
                status = DeployStatus(DeployState.FAILED, failure.message)
            return self._record(plan_id, stage_id, total, None, status)

        return poll

    def _cancel_work(self, plan: ReleasePlan, stage: DeploymentStage) -> Work:
        service, handle, stage_id = plan.service, _handle(stage), stage.id

        def cancel() -> bool:
            try:
                if stage.kind != "flag":
                    self._backends.deployer(service).cancel(handle)
            except ReleasebotError as failure:
                log.warning("cancelling stage %s failed: %s", stage_id, failure.message)
            with self._db.session() as session:
                row = session.get(DeploymentStage, stage_id)
                if row is not None:
                    row.handle = {k: v for k, v in row.handle.items() if k != "cancel_pending"}
            return True

        return cancel

    def _record(
        self,
        plan_id: int,
        stage_id: int,
        total: int,
        handle: DeployHandle | None,
        status: DeployStatus | None,
    ) -> bool:
        """Persist what the backend answered, decide what follows; True if that is due now."""
        ctx = self._ctx
        now = ctx.clock.now()
        with self._db.session() as session:
            plan = get_plan(session, plan_id=plan_id, for_update=True)
            stage = session.get(DeploymentStage, stage_id)
            assert stage is not None
            label = f"Stage {stage.stage_index + 1} of {total} — {stage.name}"
            if stage.phase == ROLLBACK:
                label = f"Rollback — {stage.name}"
            if handle is not None:
                stage.handle = dict(handle.ref)
                stage.url = handle.url
                if stage.status == StageStatus.STARTING:
                    stage.status = StageStatus.RUNNING
                    where = md(" {}", link(handle.url, stage.backend)) if handle.url else ""
                    say(
                        session,
                        ctx=ctx,
                        plan=plan,
                        text=md(":arrow_forward: {}: started.{}", label, where),
                    )
                elif stage.status == StageStatus.CANCELLED:
                    # Aborted while the start was in flight: stop what we just started.
                    stage.handle = {**stage.handle, "cancel_pending": True}
            if status is not None and status.ref:
                stage.handle = {**stage.handle, **status.ref}
            if status is None or stage.status not in (StageStatus.RUNNING, StageStatus.STARTING):
                plan.next_step_at = now + self._poll if status is None else now
                return status is not None
            stage.message = status.message
            stage.output_tail = status.output_tail
            if status.url:
                stage.url = status.url
            if not status.state.finished:
                plan.next_step_at = now + self._poll
                return False
            stage.finished_at = now
            plan.updated_at = now
            if status.state == DeployState.SUCCEEDED:
                stage.status = StageStatus.SUCCEEDED
                say(
                    session,
                    ctx=ctx,
                    plan=plan,
                    text=md(":white_check_mark: {}: done ({}).", label, status.message),
                )
                if stage.phase == ROLLOUT:
                    self._after_backend(session, plan, stage)
                else:
                    plan.next_step_at = now
                plan.revision += 1
                outbox.owe_card(
                    session, plan_id=plan_id, channel=ctx.config.channels.releases, now=now
                )
                return plan.next_step_at is None or plan.next_step_at <= now
            stage.status = StageStatus.FAILED
            # The service's own output: shown as typed, and unable to close its code block.
            tail = md("\n{}", code_block(status.output_tail[-2500:])) if status.output_tail else ""
            say(
                session,
                ctx=ctx,
                plan=plan,
                text=md(":x: {}: failed: {}{}", label, status.message, tail),
            )
            fail_rollout(
                session, ctx=ctx, plan=plan, reason=f"{stage.name} failed: {status.message}"
            )
            return True


def _latest_per_check(runs: list[CheckRun]) -> list[CheckRun]:
    """A retried analysis supersedes the earlier run of the same check."""
    latest: dict[str, CheckRun] = {}
    for run in runs:
        latest[run.check_name] = run
    return list(latest.values())
