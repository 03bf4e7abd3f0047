"""Killing the process mid-rollout loses nothing and repeats nothing."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

from sqlmodel import select

from bot.domain.clock import SystemClock
from bot.domain.config import load_config
from bot.domain.context import DomainContext, StaticDirectory
from bot.release import plans
from bot.rollout import rollouts
from bot.store.db import Database
from bot.store.models import DeploymentStage, PlanState
from tests.integration.rollout.engine_process import build

SCRIPT = """#!/bin/sh
echo "$RELEASE_IDEMPOTENCY_KEY $RELEASE_WEIGHT" >> "$(dirname "$0")/calls.log"
sleep 0.4
"""
CONFIG = """
timezone = "UTC"
[channels]
releases = "C0RELEASES"
[environments.staging]
approvals = { required = 0 }
[services.checkout]
command = ["./deploy.sh", "{service}", "{version}"]
strategy = "phased"
[strategies.phased]
steps = [{ weight = 25 }, { weight = 50 }, { weight = 75 }, { weight = 100 }]
"""


def _wait_for(predicate, seconds: float = 60, state=None):  # type: ignore[no-untyped-def]
    # 60 s, not 20: under six test workers on two CPUs a resumed rollout once took longer.
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting; {state() if state else ''}")


def test_a_killed_engine_process_resumes_every_step_exactly_once(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    script = tmp_path / "deploy.sh"
    script.write_text(SCRIPT)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    (tmp_path / "releasebot.toml").write_text(CONFIG)
    config = load_config(tmp_path / "releasebot.toml")
    ctx = DomainContext(config=config, clock=SystemClock(), directory=StaticDirectory())
    with db.session() as session:
        plans.create_plan(
            session,
            ctx=ctx,
            actor="U1",
            new=plans.NewPlan(service="checkout", version="2.0", environment="staging"),
        )
    with db.session() as session:
        rollouts.deploy(session, ctx=ctx, actor="U1", plan_id=1)

    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.integration.rollout.engine_process",
            database_url,
            str(tmp_path / "releasebot.toml"),
            str(tmp_path / "state"),
        ],
        cwd=Path(__file__).resolve().parents[3],
    )

    def second_stage_running() -> bool:
        with db.session() as session:
            rows = session.exec(
                select(DeploymentStage).where(DeploymentStage.stage_index == 1)
            ).all()
            return any(r.status in ("starting", "running") for r in rows)

    try:
        _wait_for(second_stage_running)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    # A new process picks the rollout up (the killed one's lease is skipped by making it due).
    with db.session() as session:
        plans.get_plan(session, plan_id=1, for_update=True).next_step_at = ctx.clock.now()
    engine, engine_db = build(database_url, tmp_path / "releasebot.toml", tmp_path / "state")

    def released() -> bool:
        engine.run_due()
        with db.session() as session:
            return plans.get_plan(session, plan_id=1).state == PlanState.RELEASED

    def where() -> str:
        with db.session() as session:
            plan = plans.get_plan(session, plan_id=1)
            stages = session.exec(select(DeploymentStage)).all()
            shown = [(s.stage_index, s.status, s.message) for s in stages]
            return f"plan {plan.state} next step {plan.next_step_at}, stages {shown}"

    try:
        _wait_for(released, state=where)
    finally:
        engine_db.engine.dispose()
    calls = (tmp_path / "calls.log").read_text().split("\n")
    calls = [c for c in calls if c]
    assert [c.split()[1] for c in calls] == ["25", "50", "75", "100"]
    assert len({c.split()[0] for c in calls}) == 4  # each stage ran exactly once
