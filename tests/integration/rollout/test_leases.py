"""Rollout leases: a plan is one process's while its I/O runs, and a restarted process takes
its own plans back at once while leases of live others are respected (issue 9.11)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from bot.domain.config import ReleasebotConfig
from bot.domain.context import DomainContext, StaticDirectory
from bot.release import plans
from bot.release.plans import get_plan
from bot.rollout import rollouts
from bot.rollout.engine import LEASE, RolloutEngine
from bot.store.db import Database
from bot.store.models import PlanState
from console.testing import ManualClock
from integrations.checks.registry import ProbeFactory
from integrations.deploy.registry import ConfiguredBackends


@dataclass
class HeldCheck:
    """The check target: answers at once, or holds each request until released."""

    hold: threading.Event
    release: threading.Event
    arrived: threading.Event

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.hold.is_set():
            self.arrived.set()
            self.release.wait(20)
        return httpx.Response(200, text="ok")


@dataclass
class Engines:
    """Engines as separate processes would build them, over one database and clock."""

    db: Database
    ctx: DomainContext
    clock: ManualClock
    config: ReleasebotConfig
    state: Path
    http: httpx.Client

    def engine(self, **owner: str) -> RolloutEngine:
        backends = ConfiguredBackends(
            config=self.config,
            http=self.http,
            state_dir=self.state,
            public_url="http://127.0.0.1:3000",
            callback_lookup=lambda token: None,
        )
        return RolloutEngine(
            db=self.db,
            ctx=self.ctx,
            backends=backends,
            probes=ProbeFactory(config=self.config, http=self.http, clock=self.clock),
            poll_interval=timedelta(seconds=1),
            **owner,  # type: ignore[arg-type]
        )

    def state_of(self, plan_id: int = 1) -> str:
        with self.db.session() as session:
            return get_plan(session, plan_id=plan_id).state


@pytest.fixture
def check() -> HeldCheck:
    return HeldCheck(threading.Event(), threading.Event(), threading.Event())


@pytest.fixture
def engines(
    db: Database,
    rig_config: ReleasebotConfig,
    clock: ManualClock,
    tmp_path: Path,
    check: HeldCheck,
) -> Iterator[Engines]:
    http = httpx.Client(transport=httpx.MockTransport(check.handler))
    ctx = DomainContext(config=rig_config, clock=clock, directory=StaticDirectory())
    with db.session() as session:
        plans.create_plan(
            session,
            ctx=ctx,
            actor="U0REQUESTER",
            new=plans.NewPlan(service="checkout", version="1.4.2", environment="staging"),
        )
    with db.session() as session:
        rollouts.deploy(session, ctx=ctx, actor="U0REQUESTER", plan_id=1)
    yield Engines(db, ctx, clock, rig_config, tmp_path / "state", http)
    check.release.set()
    http.close()


def _measuring(engines: Engines, check: HeldCheck, engine: RolloutEngine) -> threading.Thread:
    """Drive `engine` until it sits in the canary's check measurement (held there)."""
    check.hold.set()
    worker = threading.Thread(target=_drive_until_held, args=(engines, engine, check))
    worker.start()
    assert check.arrived.wait(20), "the canary's check was never measured"
    return worker


def _drive_until_held(engines: Engines, engine: RolloutEngine, check: HeldCheck) -> None:
    while not check.arrived.is_set():
        engine.run_due()
        with engines.db.session() as session:
            plan = get_plan(session, plan_id=1)
        now = engines.clock.now()
        if plan.next_step_at is not None and plan.next_step_at > now:
            engines.clock.advance(min(plan.next_step_at - now, timedelta(seconds=5)))
        check.arrived.wait(0.02)  # the deploy command is a real process: poll it


def test_a_plan_stays_leased_while_its_check_is_measured(
    engines: Engines, check: HeldCheck
) -> None:
    worker = _measuring(engines, check, engines.engine())
    try:
        # Another process looking for due work must not take the plan mid-measurement.
        assert engines.engine().claim_due() == []
    finally:
        check.release.set()
        worker.join(20)


def _killed_after_claiming(engines: Engines, owner: str) -> None:
    """A process of slot `owner` claims the plan and dies before it does anything with it."""
    assert engines.engine(owner=owner).claim_due() == [1]


def test_a_restarted_process_takes_back_its_own_plan_at_once(engines: Engines) -> None:
    _killed_after_claiming(engines, "deploy-host:3000")
    restarted = engines.engine(owner="deploy-host:3000")
    assert restarted.claim_due() == []  # leased for two minutes...
    assert restarted.take_back() == 1  # ...unless the lease is our own from before a restart
    assert restarted.claim_due() == [1]
    restarted.advance(1)
    assert engines.state_of() == PlanState.DEPLOYING


def test_a_live_other_process_keeps_its_plan(engines: Engines) -> None:
    _killed_after_claiming(engines, "deploy-host:3000")
    other = engines.engine(owner="deploy-host:3001")
    assert other.take_back() == 0
    assert other.claim_due() == []
    engines.clock.advance(LEASE)
    assert other.claim_due() == [1]  # a lease that ran out is anyone's
