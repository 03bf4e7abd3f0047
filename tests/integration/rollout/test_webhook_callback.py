"""A webhook deploy service calls back through `POST /hooks/deploy/<token>`, signed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from bot.app.http import hook_routes
from bot.domain.config import load_config
from bot.domain.context import DomainContext, StaticDirectory
from bot.release import plans
from bot.rollout import rollouts
from bot.rollout.engine import RolloutEngine
from bot.store.db import Database
from bot.store.models import DeployCallback, PlanState
from console.testing import ManualClock, running_server
from integrations.checks.registry import ProbeFactory
from integrations.deploy.registry import ConfiguredBackends
from integrations.deploy.webhook import sign

SECRET = "webhook-secret-for-tests"
CONFIG = """
timezone = "UTC"
[channels]
releases = "C0RELEASES"
[environments.staging]
approvals = { required = 0 }
[services.api]
backend = "webhook"
url = "https://deployer.internal/deploy"
"""


@pytest.fixture
def setup(
    db: Database, clock: ManualClock, tmp_path: Path
) -> Iterator[tuple[RolloutEngine, DomainContext, list[dict[str, object]], str]]:
    (tmp_path / "releasebot.toml").write_text(CONFIG)
    config = load_config(tmp_path / "releasebot.toml")
    ctx = DomainContext(config=config, clock=clock, directory=StaticDirectory())
    received: list[dict[str, object]] = []

    def deployer(request: httpx.Request) -> httpx.Response:
        received.append(json.loads(request.content))
        return httpx.Response(202, json={"url": "https://deployer.internal/runs/7"})

    http = httpx.Client(transport=httpx.MockTransport(deployer))

    def lookup(token: str) -> dict[str, object] | None:
        with db.session() as session:
            row = session.get(DeployCallback, token)
            return dict(row.payload) if row else None

    backends = ConfiguredBackends(
        config=config,
        http=http,
        state_dir=tmp_path,
        public_url="http://releasebot.internal",
        callback_lookup=lookup,
        environ={"RELEASEBOT_WEBHOOK_SECRET": SECRET},
    )
    engine = RolloutEngine(
        db=db,
        ctx=ctx,
        backends=backends,
        probes=ProbeFactory(config=config, http=http, clock=clock),
    )
    app = Starlette(
        routes=hook_routes(
            db, clock=clock, secret_of=backends.webhook_secret, on_callback=engine.kick
        )
    )
    with running_server(app) as url:
        yield engine, ctx, received, url
    http.close()


def test_a_signed_callback_finishes_the_stage_and_a_forged_one_is_refused(
    db: Database, setup
) -> None:  # type: ignore[no-untyped-def]
    engine, ctx, received, url = setup
    with db.session() as session:
        plans.create_plan(
            session,
            ctx=ctx,
            actor="U1",
            new=plans.NewPlan(service="api", version="2.0", environment="staging"),
        )
    with db.session() as session:
        rollouts.deploy(session, ctx=ctx, actor="U1", plan_id=1)
    engine.run_due()
    [sent] = received
    callback = str(sent["callback_url"])
    assert callback.startswith("http://releasebot.internal/hooks/deploy/")
    path = callback.removeprefix("http://releasebot.internal")

    body = json.dumps(
        {"state": "succeeded", "message": "rolled out 3/3 pods", "sequence": 1}
    ).encode()
    timestamp = str(int(ctx.clock.now().timestamp()))
    forged = httpx.post(
        url + path,
        content=body,
        headers={
            "X-Releasebot-Timestamp": timestamp,
            "X-Releasebot-Signature": "sha256=" + "0" * 64,
        },
    )
    assert forged.status_code == 401
    unknown = httpx.post(
        url + "/hooks/deploy/" + "f" * 32,
        content=body,
        headers={
            "X-Releasebot-Timestamp": timestamp,
            "X-Releasebot-Signature": sign(SECRET, timestamp, body),
        },
    )
    assert unknown.status_code == 401

    accepted = httpx.post(
        url + path,
        content=body,
        headers={
            "X-Releasebot-Timestamp": timestamp,
            "X-Releasebot-Signature": sign(SECRET, timestamp, body),
        },
    )
    assert accepted.status_code == 200
    for _ in range(5):
        engine.run_due()
    with db.session() as session:
        assert plans.get_plan(session, plan_id=1).state == PlanState.RELEASED
